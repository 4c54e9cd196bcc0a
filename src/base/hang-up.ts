/**
 * How ckpty ends when its own terminal hangs up (the window closed): by SIGHUP, as any
 * program whose terminal went away, once its session's job has ended.
 */

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
