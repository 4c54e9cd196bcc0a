/**
 * The one place that touches node-pty: spawn a program on a new pty and expose the
 * master's descriptor and the slave's path, which node-pty has but does not type.
 */
import * as nodePty from 'node-pty';
import { CkptyError, ExitCode } from '../base/errors.js';
import { findProgram } from '../base/find-program.js';

export interface PtySpawnOptions {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  cols: number;
  rows: number;
}

export interface PtyExit {
  exitCode: number;
  /** The signal that ended the program, if one did. */
  signal?: number;
}

export interface Pty {
  readonly pid: number;
  /** The master side, for ioctls (termios, foreground group). */
  readonly masterFd: number;
  /** The slave's path, e.g. /dev/pts/3. */
  readonly slavePath: string;
  onData(listener: (data: Buffer) => void): void;
  /**
   * The master has given its last output and is being closed (the program's side has
   * gone; onExit follows): masterFd must not be used from then on, as the process may
   * soon give its number to another file.
   */
  onClose(listener: () => void): void;
  onExit(listener: (exit: PtyExit) => void): void;
  write(data: Buffer): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}

/** node-pty's UnixTerminal has these accessors; its public typings omit them. */
interface UnixTerminalInternals {
  readonly fd: number;
  readonly ptsName: string;
  /** 'end' is its socket's, 'close' its own. */
  on(event: 'end' | 'close', listener: () => void): void;
}

export function spawnPty(options: PtySpawnOptions): Pty {
  // node-pty would only report a failed exec from the child, as its exit status 1.
  if (findProgram(options.file, options.env.PATH ?? '') === undefined) {
    throw new CkptyError(`cannot run '${options.file}': no such program`, ExitCode.notFound);
  }
  const term = nodePty.spawn(options.file, options.args, {
    name: options.env.TERM ?? 'xterm-256color',
    cols: options.cols,
    rows: options.rows,
    cwd: options.cwd,
    env: options.env,
    // Bytes, not strings: the line discipline works on bytes, and output must reach
    // the terminal unchanged even when a program writes invalid UTF-8.
    encoding: null,
  });
  const internals = term as unknown as UnixTerminalInternals;
  return {
    pid: term.pid,
    masterFd: internals.fd,
    slavePath: internals.ptsName,
    onData: (listener) => term.onData((data) => listener(data as unknown as Buffer)),
    onClose: (listener) => {
      // node-pty says 'close' once its socket has closed the descriptor: right after a
      // read error, but an end of file first ends the socket's writing side, and the
      // descriptor is closed when that is done, before 'close'. The socket's 'end' comes
      // before either.
      let closed = false;
      const close = (): void => {
        if (!closed) listener();
        closed = true;
      };
      internals.on('end', close);
      internals.on('close', close);
    },
    onExit: (listener) =>
      term.onExit(({ exitCode, signal }) => listener(signal ? { exitCode, signal } : { exitCode })),
    write: (data) => term.write(data),
    resize: (cols, rows) => term.resize(cols, rows),
    pause: () => term.pause(),
    resume: () => term.resume(),
    kill: (signal) => term.kill(signal),
  };
}
