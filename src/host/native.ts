/**
 * The typed contract of tty/bin/ckpty_native.node: terminal and socket facts that Node
 * has no API for. The addon only reports facts; what they mean is decided by callers.
 */
import { createRequire } from 'node:module';
import { closeSync, constants, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { KERNEL_NCCS, type Termios } from '../termios/termios.js';

/** struct termios2 as TCGETS2 returns it: the model's fields without ckpty's ckpt, speeds included. */
export interface KernelTermios extends Omit<Termios, 'ckpt'> {
  ispeed: number;
  ospeed: number;
}

interface NativeAddon {
  getTermios(fd: number): KernelTermios;
  setTermios(fd: number, termios: KernelTermios, drain: boolean): void;
  getForegroundPgrp(fd: number): number;
  flush(fd: number, queue: number): void;
  flow(fd: number, action: number): void;
  queuedInput(fd: number): number;
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
  closeOnExecFrom(fd: number): void;
  coreLimitToHard(): number;
  setCoreLimit(soft: number): void;
}

/** TCIFLUSH, TCOOFF and TCOON from <asm-generic/termbits.h>. */
const TCIFLUSH = 0;
const TCOOFF = 0;
const TCOON = 1;

const addon = createRequire(import.meta.url)(
  new URL('../../tty/bin/ckpty_native.node', import.meta.url).pathname,
) as NativeAddon;

/**
 * The slave's termios, read through the master (the kernel answers TCGETS2 on a pty
 * master with its slave's settings). `ckpt` is not the kernel's: the caller fills it in.
 */
export function slaveTermios(masterFd: number, ckpt: number): Termios {
  const k = addon.getTermios(masterFd);
  return { iflag: k.iflag, oflag: k.oflag, cflag: k.cflag, lflag: k.lflag, line: k.line, cc: k.cc.slice(0, KERNEL_NCCS), ckpt };
}

/** A terminal's settings, exactly (for putting them back later). */
export function readTerminalSettings(fd: number): KernelTermios {
  return addon.getTermios(fd);
}

/** Set a terminal's settings; with `drain`, after the output written so far has gone out. */
export function writeTerminalSettings(fd: number, termios: KernelTermios, drain: boolean): void {
  addon.setTermios(fd, termios, drain);
}

/** The slave's foreground process group (tcgetpgrp on the master). */
export function foregroundPgrp(masterFd: number): number {
  return addon.getForegroundPgrp(masterFd);
}

/**
 * Discard what the program on the slave has typed-ahead but not read yet, as the
 * kernel does for ^C. Flushing the master would only drop the master's own queue, so
 * this opens the slave itself.
 */
export function flushSlaveInput(slavePath: string): void {
  withSlave(slavePath, (fd) => addon.flush(fd, TCIFLUSH));
}

/**
 * Stop the program's output (its writes wait, as after ^S), or start it again. Stopped,
 * whatever it wrote before is all there is: the master can read it to the end.
 */
export function stopSlaveOutput(slavePath: string, stop: boolean): void {
  withSlave(slavePath, (fd) => addon.flow(fd, stop ? TCOOFF : TCOON));
}

/** Output the program wrote that the master has not read yet, bytes on their way included (TIOCINQ on the master). */
export function unreadOutput(masterFd: number): number {
  return addon.queuedInput(masterFd);
}

/** How many typed bytes the program on the slave could read, bytes on their way included (TIOCINQ). */
export function slaveQueuedInput(slavePath: string): number {
  return withSlave(slavePath, (fd) => addon.queuedInput(fd));
}

/** Open the slave for an ioctl, without making it anyone's controlling terminal. */
function withSlave<T>(slavePath: string, use: (fd: number) => T): T {
  const fd = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Mark every descriptor from 3 up close-on-exec, so that programs started from now on
 * get only stdin, stdout and stderr (and whatever a spawn maps explicitly).
 */
export function closeDescriptorsOnExec(): void {
  addon.closeOnExecFrom(3);
}

/** The uid of the process at the other end of a connected Unix socket (SO_PEERCRED). */
export function peerUid(socket: Socket): number {
  // net.Socket keeps its descriptor on the libuv handle; Node has no public accessor.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) throw new Error('socket has no file descriptor');
  return addon.peerCredentials(fd).uid;
}

/**
 * Run `start` (which starts a program) with RLIMIT_CORE's soft limit raised to the hard
 * one, so that the program inherits it; ours is set back right after. The checkpoint key,
 * like DragonFly, refuses processes whose core limit is 0 — Debian's default soft limit —
 * and a user who starts a ckpty session asks for its jobs to be checkpointable. `ulimit -c 0`
 * inside the session still opts a job out.
 */
export function withCoreFilesAllowed<T>(start: () => T): T {
  const previous = addon.coreLimitToHard();
  try {
    return start();
  } finally {
    addon.setCoreLimit(previous);
  }
}
