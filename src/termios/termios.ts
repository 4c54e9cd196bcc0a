/**
 * The termios model: Linux's flag bits and control characters (values from
 * include/uapi/asm-generic/termbits.h, x86_64), plus ckpty's `ckpt` character.
 *
 * This module is part of the core: it must not import node-pty, blessed,
 * child_process or anything that touches a real terminal.
 */

/** Input modes (c_iflag). */
export const IGNBRK = 0o1;
export const BRKINT = 0o2;
export const IGNPAR = 0o4;
export const PARMRK = 0o10;
export const INPCK = 0o20;
export const ISTRIP = 0o40;
export const INLCR = 0o100;
export const IGNCR = 0o200;
export const ICRNL = 0o400;
export const IUCLC = 0o1000;
export const IXON = 0o2000;
export const IXANY = 0o4000;
export const IXOFF = 0o10000;
export const IMAXBEL = 0o20000;
export const IUTF8 = 0o40000;

/** Output modes (c_oflag). */
export const OPOST = 0o1;
export const OLCUC = 0o2;
export const ONLCR = 0o4;
export const OCRNL = 0o10;
export const ONOCR = 0o20;
export const ONLRET = 0o40;
export const OFILL = 0o100;
export const OFDEL = 0o200;
export const NLDLY = 0o400;
export const NL0 = 0;
export const NL1 = 0o400;
export const CRDLY = 0o3000;
export const CR0 = 0;
export const CR1 = 0o1000;
export const CR2 = 0o2000;
export const CR3 = 0o3000;
export const TABDLY = 0o14000;
export const TAB0 = 0;
export const TAB1 = 0o4000;
export const TAB2 = 0o10000;
export const TAB3 = 0o14000;
export const BSDLY = 0o20000;
export const BS0 = 0;
export const BS1 = 0o20000;
export const VTDLY = 0o40000;
export const VT0 = 0;
export const VT1 = 0o40000;
export const FFDLY = 0o100000;
export const FF0 = 0;
export const FF1 = 0o100000;

/** Control modes (c_cflag). The line speed lives in CBAUD (output) and CIBAUD (input). */
export const CBAUD = 0o10017;
export const B0 = 0;
export const B38400 = 0o17;
export const CIBAUD = 0o2003600000;
/** CIBAUD holds a speed code shifted left by this much. */
export const IBSHIFT = 16;
export const CSIZE = 0o60;
export const CS5 = 0;
export const CS6 = 0o20;
export const CS7 = 0o40;
export const CS8 = 0o60;
export const CSTOPB = 0o100;
export const CREAD = 0o200;
export const PARENB = 0o400;
export const PARODD = 0o1000;
export const HUPCL = 0o2000;
export const CLOCAL = 0o4000;
export const CBAUDEX = 0o10000;
/** RS-485 address bit; the tty core clears it for drivers without support (ptys). */
export const ADDRB = 0o4000000000;
export const CMSPAR = 0o10000000000;
export const CRTSCTS = 0o20000000000;

/** Local modes (c_lflag). */
export const ISIG = 0o1;
export const ICANON = 0o2;
export const XCASE = 0o4;
export const ECHO = 0o10;
export const ECHOE = 0o20;
export const ECHOK = 0o40;
export const ECHONL = 0o100;
export const NOFLSH = 0o200;
export const TOSTOP = 0o400;
export const ECHOCTL = 0o1000;
export const ECHOPRT = 0o2000;
export const ECHOKE = 0o4000;
export const FLUSHO = 0o10000;
export const PENDIN = 0o40000;
export const IEXTEN = 0o100000;
export const EXTPROC = 0o200000;

/** Indices into c_cc (the kernel's struct termios has NCCS = 19 slots). */
export const VINTR = 0;
export const VQUIT = 1;
export const VERASE = 2;
export const VKILL = 3;
export const VEOF = 4;
export const VTIME = 5;
export const VMIN = 6;
export const VSWTC = 7;
export const VSTART = 8;
export const VSTOP = 9;
export const VSUSP = 10;
export const VEOL = 11;
export const VREPRINT = 12;
export const VDISCARD = 13;
export const VWERASE = 14;
export const VLNEXT = 15;
export const VEOL2 = 16;
export const KERNEL_NCCS = 19;
/** glibc's struct termios has 32 c_cc slots; GNU `stty -g` prints all of them. */
export const GLIBC_NCCS = 32;

/** Linux's _POSIX_VDISABLE: a control character set to 0 is disabled. */
export const VDISABLE = 0;

/** ckpty's checkpoint character; DragonFly's VCHECKPT default. */
export const CKPT_DEFAULT = 0x05; // ^E

export interface Termios {
  iflag: number;
  oflag: number;
  cflag: number;
  lflag: number;
  line: number;
  /** KERNEL_NCCS control characters, indexed by the V* constants. */
  cc: number[];
  /** The checkpoint character, or VDISABLE. Not known to the kernel. */
  ckpt: number;
}
// The line speeds are not separate fields: as in the kernel they are the CBAUD and
// CIBAUD bits of cflag (see speed.ts), so they can never disagree with cflag.

export interface WindowSize {
  rows: number;
  cols: number;
}

/** The kernel's INIT_C_CC (include/linux/tty.h). */
const INIT_CC = [0o3, 0o34, 0o177, 0o25, 0o4, 0, 1, 0, 0o21, 0o23, 0o32, 0, 0o22, 0o17, 0o27, 0o26, 0, 0, 0];

/**
 * What a fresh Unix98 pty slave holds (drivers/tty/pty.c: tty_std_termios with
 * c_cflag = B38400 | CS8 | CREAD), i.e. what openpty() leaves before anyone runs stty.
 */
export function newPtyTermios(): Termios {
  return {
    iflag: ICRNL | IXON,
    oflag: OPOST | ONLCR,
    cflag: B38400 | CS8 | CREAD,
    lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
    line: 0,
    cc: [...INIT_CC],
    ckpt: CKPT_DEFAULT,
  };
}

export function cloneTermios(t: Termios): Termios {
  return { ...t, cc: [...t.cc] };
}

export function termiosEqual(a: Termios, b: Termios): boolean {
  return (
    a.iflag === b.iflag &&
    a.oflag === b.oflag &&
    a.cflag === b.cflag &&
    a.lflag === b.lflag &&
    a.line === b.line &&
    a.ckpt === b.ckpt &&
    a.cc.length === b.cc.length &&
    a.cc.every((value, index) => value === b.cc[index])
  );
}

/**
 * What a pty keeps of a requested termios: the kernel's pty_set_termios() forces
 * 8-bit characters, no parity and the receiver on (drivers/tty/pty.c), and the tty
 * core drops ADDRB, which ptys do not support.
 */
export function ptyTermios(requested: Termios): Termios {
  const t = cloneTermios(requested);
  t.cflag = ((t.cflag & ~(CSIZE | PARENB | ADDRB)) | CS8 | CREAD) >>> 0;
  return t;
}
