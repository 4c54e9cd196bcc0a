/**
 * The session a tape drives: the real `ckpty` command on a pty of its own, its output
 * parsed into a headless screen. The tape sees it as a user would: keys in, screen out.
 */
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnPty, type Pty, type PtyExit } from '../../host/pty.js';
import { Screen } from '../screen.js';

export interface TapeSessionOptions {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  columns: number;
  rows: number;
  /** Every piece of output, decoded, in order. */
  onOutput: (data: string) => void;
}

export class TapeSession {
  readonly screen: Screen;
  private readonly pty: Pty;
  private readonly decoder = new StringDecoder('utf8');
  /** Settles when everything received so far is on the screen. */
  private parsed: Promise<void> = Promise.resolve();
  private lastOutputAt = performance.now();
  private readonly waiters = new Set<() => void>();
  private exit: PtyExit | undefined;
  private readonly exited: Promise<PtyExit>;

  constructor(private readonly options: TapeSessionOptions) {
    this.screen = new Screen(options.columns, options.rows);
    this.pty = spawnPty({
      file: options.file,
      args: options.args,
      env: options.env,
      cwd: options.cwd,
      cols: options.columns,
      rows: options.rows,
    });
    this.pty.onData((bytes) => this.receive(this.decoder.write(bytes)));
    this.exited = new Promise((resolve) =>
      this.pty.onExit((exit) => {
        this.exit = exit;
        this.notify();
        resolve(exit);
      }),
    );
    // Answers to the screen's own queries (cursor position reports) go back to the program.
    this.screen.terminal.onData((reply) => this.pty.write(Buffer.from(reply, 'utf8')));
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  send(bytes: string): void {
    if (!this.hasExited) this.pty.write(Buffer.from(bytes, 'utf8'));
  }

  /** Resolves once all output received so far has been parsed into the screen. */
  drain(): Promise<void> {
    return this.parsed;
  }

  /**
   * Resolves true as soon as `condition` holds for the screen, false after `timeoutMs`
   * (or when the session ends without it holding).
   */
  async waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      await this.drain();
      if (condition()) return true;
      const left = deadline - performance.now();
      if (left <= 0 || this.hasExited) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, left);
        function wake(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(wake);
      });
    }
  }

  /** Waits until no output has come for `quietMs` (at most `maxMs`): the session is idle. */
  async settle(quietMs: number, maxMs: number): Promise<void> {
    const deadline = performance.now() + maxMs;
    for (;;) {
      const quietFor = performance.now() - this.lastOutputAt;
      const left = deadline - performance.now();
      if (quietFor >= quietMs || left <= 0 || this.hasExited) break;
      await sleep(Math.min(quietMs - quietFor, left));
    }
    await this.drain();
  }

  /** Ends the session: SIGHUP as when a terminal closes, SIGKILL if that is not enough. */
  async close(): Promise<PtyExit> {
    if (!this.exit) {
      this.pty.kill('SIGHUP');
      const timer = setTimeout(() => this.pty.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    const exit = await this.exited;
    await this.drain();
    this.screen.dispose();
    return exit;
  }

  private receive(data: string): void {
    if (data === '') return;
    this.lastOutputAt = performance.now();
    this.options.onOutput(data);
    this.parsed = this.screen.write(data).then(() => this.notify());
  }

  private notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}
