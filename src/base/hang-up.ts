/**
 * How ckpty ends when its own terminal hangs up (the window closed): by SIGHUP, as any
 * program whose terminal went away, once its session's job has ended. And when it is
 * told to end (SIGTERM, SIGINT): its session's program is hung up in the same way.
 */
import { isatty } from 'node:tty';

/**
 * Dies of SIGHUP. Exiting normally would not do: Node restores the terminal's modes at
 * exit and aborts (with a core dump) when the terminal is gone (tcsetattr fails with EIO).
 */
export function dieOfHangUp(): never {
  process.removeAllListeners('SIGHUP');
  process.kill(process.pid, 'SIGHUP');
  // Another thread may take the signal: wait here (not in the event loop) for it to end us.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
  throw new Error('SIGHUP did not end the process');
}

/**
 * From now on, an exit while a terminal of ckpty's (stdin, stdout, stderr) has hung up
 * ends by SIGHUP instead: the front ends' own paths do so, this catches the hang-up that
 * comes as the session ends. Called after the session's own exit work is registered
 * (its socket's directory), which runs first. isatty() is false on a hung-up terminal.
 */
export function dieOfHangUpAtExit(): void {
  const terminals = [0, 1, 2].filter((fd) => isatty(fd));
  process.once('exit', () => {
    if (terminals.some((fd) => !isatty(fd))) dieOfHangUp();
  });
}

/** Signals that tell ckpty to end; its exit status is then 128 + the number, as a shell reports a death by them. */
const ENDING_SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;

/**
 * Calls `end` with ckpty's exit status whenever SIGINT or SIGTERM comes; returns the
 * function that stops listening.
 */
export function onEndingSignal(end: (status: number) => void): () => void {
  const handlers = Object.entries(ENDING_SIGNALS).map(([name, number]) => [name as NodeJS.Signals, (): void => end(128 + number)] as const);
  for (const [name, handler] of handlers) process.on(name, handler);
  return () => {
    for (const [name, handler] of handlers) process.off(name, handler);
  };
}
