/**
 * The stty vocabulary: GNU coreutils 9.1's mode_info[] and control_info[] tables as
 * they are compiled on Linux, plus ckpty's `ckpt` character. The order of each table
 * is the order GNU prints in, so it must not be sorted.
 */
import * as T from './termios.js';

export type FlagField = 'cflag' | 'iflag' | 'oflag' | 'lflag';

export interface FlagWord {
  name: string;
  field: FlagField;
  /** Value the word stores in the bits of `mask` (or sets, when mask is 0). */
  bits: number;
  /** Other bits the word clears (the group of a multi-bit field such as CSIZE). */
  mask: number;
  /** Accepted with a leading `-`. */
  reversible: boolean;
  /** Not printed (a synonym of another word). */
  omit: boolean;
  /** What `sane` does with the word, if anything. */
  sane?: 'set' | 'unset';
}

function word(
  name: string,
  field: FlagField,
  bits: number,
  options: { mask?: number; rev?: boolean; omit?: boolean; sane?: 'set' | 'unset' } = {},
): FlagWord {
  return {
    name,
    field,
    bits,
    mask: options.mask ?? 0,
    reversible: options.rev ?? false,
    omit: options.omit ?? false,
    ...(options.sane ? { sane: options.sane } : {}),
  };
}

const rev = { rev: true };
const saneSet = { rev: true, sane: 'set' } as const;
const saneUnset = { rev: true, sane: 'unset' } as const;
const synonym = { rev: true, omit: true };

export const FLAG_WORDS: readonly FlagWord[] = [
  word('parenb', 'cflag', T.PARENB, rev),
  word('parodd', 'cflag', T.PARODD, rev),
  word('cmspar', 'cflag', T.CMSPAR, rev),
  word('cs5', 'cflag', T.CS5, { mask: T.CSIZE }),
  word('cs6', 'cflag', T.CS6, { mask: T.CSIZE }),
  word('cs7', 'cflag', T.CS7, { mask: T.CSIZE }),
  word('cs8', 'cflag', T.CS8, { mask: T.CSIZE }),
  word('hupcl', 'cflag', T.HUPCL, rev),
  word('hup', 'cflag', T.HUPCL, synonym),
  word('cstopb', 'cflag', T.CSTOPB, rev),
  word('cread', 'cflag', T.CREAD, saneSet),
  word('clocal', 'cflag', T.CLOCAL, rev),
  word('crtscts', 'cflag', T.CRTSCTS, rev),

  word('ignbrk', 'iflag', T.IGNBRK, saneUnset),
  word('brkint', 'iflag', T.BRKINT, saneSet),
  word('ignpar', 'iflag', T.IGNPAR, rev),
  word('parmrk', 'iflag', T.PARMRK, rev),
  word('inpck', 'iflag', T.INPCK, rev),
  word('istrip', 'iflag', T.ISTRIP, rev),
  word('inlcr', 'iflag', T.INLCR, saneUnset),
  word('igncr', 'iflag', T.IGNCR, saneUnset),
  word('icrnl', 'iflag', T.ICRNL, saneSet),
  word('ixon', 'iflag', T.IXON, rev),
  word('ixoff', 'iflag', T.IXOFF, saneUnset),
  word('tandem', 'iflag', T.IXOFF, synonym),
  word('iuclc', 'iflag', T.IUCLC, saneUnset),
  word('ixany', 'iflag', T.IXANY, saneUnset),
  word('imaxbel', 'iflag', T.IMAXBEL, saneSet),
  word('iutf8', 'iflag', T.IUTF8, saneUnset),

  word('opost', 'oflag', T.OPOST, saneSet),
  word('olcuc', 'oflag', T.OLCUC, saneUnset),
  word('ocrnl', 'oflag', T.OCRNL, saneUnset),
  word('onlcr', 'oflag', T.ONLCR, saneSet),
  word('onocr', 'oflag', T.ONOCR, saneUnset),
  word('onlret', 'oflag', T.ONLRET, saneUnset),
  word('ofill', 'oflag', T.OFILL, saneUnset),
  word('ofdel', 'oflag', T.OFDEL, saneUnset),
  word('nl1', 'oflag', T.NL1, { mask: T.NLDLY, sane: 'unset' }),
  word('nl0', 'oflag', T.NL0, { mask: T.NLDLY, sane: 'set' }),
  word('cr3', 'oflag', T.CR3, { mask: T.CRDLY, sane: 'unset' }),
  word('cr2', 'oflag', T.CR2, { mask: T.CRDLY, sane: 'unset' }),
  word('cr1', 'oflag', T.CR1, { mask: T.CRDLY, sane: 'unset' }),
  word('cr0', 'oflag', T.CR0, { mask: T.CRDLY, sane: 'set' }),
  word('tab3', 'oflag', T.TAB3, { mask: T.TABDLY, sane: 'unset' }),
  word('tab2', 'oflag', T.TAB2, { mask: T.TABDLY, sane: 'unset' }),
  word('tab1', 'oflag', T.TAB1, { mask: T.TABDLY, sane: 'unset' }),
  word('tab0', 'oflag', T.TAB0, { mask: T.TABDLY, sane: 'set' }),
  word('bs1', 'oflag', T.BS1, { mask: T.BSDLY, sane: 'unset' }),
  word('bs0', 'oflag', T.BS0, { mask: T.BSDLY, sane: 'set' }),
  word('vt1', 'oflag', T.VT1, { mask: T.VTDLY, sane: 'unset' }),
  word('vt0', 'oflag', T.VT0, { mask: T.VTDLY, sane: 'set' }),
  word('ff1', 'oflag', T.FF1, { mask: T.FFDLY, sane: 'unset' }),
  word('ff0', 'oflag', T.FF0, { mask: T.FFDLY, sane: 'set' }),

  word('isig', 'lflag', T.ISIG, saneSet),
  word('icanon', 'lflag', T.ICANON, saneSet),
  word('iexten', 'lflag', T.IEXTEN, saneSet),
  word('echo', 'lflag', T.ECHO, saneSet),
  word('echoe', 'lflag', T.ECHOE, saneSet),
  word('crterase', 'lflag', T.ECHOE, synonym),
  word('echok', 'lflag', T.ECHOK, saneSet),
  word('echonl', 'lflag', T.ECHONL, saneUnset),
  word('noflsh', 'lflag', T.NOFLSH, saneUnset),
  word('xcase', 'lflag', T.XCASE, saneUnset),
  word('tostop', 'lflag', T.TOSTOP, saneUnset),
  word('echoprt', 'lflag', T.ECHOPRT, saneUnset),
  word('prterase', 'lflag', T.ECHOPRT, synonym),
  word('echoctl', 'lflag', T.ECHOCTL, saneSet),
  word('ctlecho', 'lflag', T.ECHOCTL, synonym),
  word('echoke', 'lflag', T.ECHOKE, saneSet),
  word('crtkill', 'lflag', T.ECHOKE, synonym),
  word('flusho', 'lflag', T.FLUSHO, saneUnset),
  word('extproc', 'lflag', T.EXTPROC, saneUnset),
];

/** Combination words; `reversible` ones also exist with a leading `-`. */
export const COMBINATION_WORDS: readonly { name: string; reversible: boolean }[] = [
  { name: 'evenp', reversible: true },
  { name: 'parity', reversible: true },
  { name: 'oddp', reversible: true },
  { name: 'nl', reversible: true },
  { name: 'ek', reversible: false },
  { name: 'sane', reversible: false },
  { name: 'cooked', reversible: true },
  { name: 'raw', reversible: true },
  { name: 'pass8', reversible: true },
  { name: 'litout', reversible: true },
  { name: 'cbreak', reversible: true },
  { name: 'decctlq', reversible: true },
  { name: 'tabs', reversible: true },
  { name: 'lcase', reversible: true },
  { name: 'LCASE', reversible: true },
  { name: 'crt', reversible: false },
  { name: 'dec', reversible: false },
];

/** Where a control character lives: a c_cc index, or ckpty's own slot. */
export type CharSlot = number | 'ckpt';

export interface ControlCharWord {
  name: string;
  slot: CharSlot;
  /** The value `sane` gives it. */
  sane: number;
  /** Accepted but never printed (GNU's deprecated `flush`, same slot as `discard`). */
  hidden: boolean;
}

function cchar(name: string, slot: CharSlot, sane: number, hidden = false): ControlCharWord {
  return { name, slot, sane, hidden };
}

const ctrl = (letter: string): number => letter.charCodeAt(0) & 0x1f;

/**
 * The control characters in GNU's print order, with `ckpt` placed after `discard`:
 * the last of the characters, just before `min`/`time` (which GNU prints together).
 */
export const CONTROL_CHARS: readonly ControlCharWord[] = [
  cchar('intr', T.VINTR, ctrl('c')),
  cchar('quit', T.VQUIT, 0o34),
  cchar('erase', T.VERASE, 0o177),
  cchar('kill', T.VKILL, ctrl('u')),
  cchar('eof', T.VEOF, ctrl('d')),
  cchar('eol', T.VEOL, T.VDISABLE),
  cchar('eol2', T.VEOL2, T.VDISABLE),
  cchar('swtch', T.VSWTC, T.VDISABLE),
  cchar('start', T.VSTART, ctrl('q')),
  cchar('stop', T.VSTOP, ctrl('s')),
  cchar('susp', T.VSUSP, ctrl('z')),
  cchar('rprnt', T.VREPRINT, ctrl('r')),
  cchar('werase', T.VWERASE, ctrl('w')),
  cchar('lnext', T.VLNEXT, ctrl('v')),
  cchar('flush', T.VDISCARD, ctrl('o'), true),
  cchar('discard', T.VDISCARD, ctrl('o')),
  cchar('ckpt', 'ckpt', T.CKPT_DEFAULT),
];

/** `min` and `time`: numbers in c_cc, set with `min N` / `time N`. */
export const COUNT_CHARS: readonly ControlCharWord[] = [cchar('min', T.VMIN, 1), cchar('time', T.VTIME, 0)];

export function readSlot(t: T.Termios, slot: CharSlot): number {
  return slot === 'ckpt' ? t.ckpt : (t.cc[slot] ?? 0);
}

export function writeSlot(t: T.Termios, slot: CharSlot, value: number): void {
  if (slot === 'ckpt') t.ckpt = value;
  else t.cc[slot] = value;
}

/** Whether the flag word is on: its bits are what the word stores. */
export function flagIsOn(t: T.Termios, flag: FlagWord): boolean {
  const mask = flag.mask || flag.bits;
  return ((t[flag.field] & mask) >>> 0) === flag.bits;
}

/** Turn a flag word on, or (reversed) off, as GNU's set_mode does. */
export function setFlag(t: T.Termios, flag: FlagWord, reversed: boolean): void {
  const kept = t[flag.field] & ~flag.mask;
  t[flag.field] = (reversed ? kept & ~flag.bits : kept | flag.bits) >>> 0;
}
