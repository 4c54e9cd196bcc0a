/**
 * A program on a fresh pty, driven like a user at a terminal would: write keys,
 * wait for text to appear. Its whole session is killed on close() or bench exit.
 */
import * as nodePty from 'node-pty';
import { track, untrack } from './cleanup.js';
import { killDescendants, killSession, waitGone } from './proc.js';

/** Text kept for expect(): enough for any prompt or answer, bounded for GiB-sized output. */
const KEEP = 1 << 20;

export interface PtyOptions {
  cols?: number;
  rows?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Someone reading the pty besides expect(). */
export interface PtyListener {
  onData?(data: Buffer): void;
  onExit?(): void;
}

export class PtyProcess {
  readonly pid: number;
  /** The output kept for expect(), from offset `base` of the whole output on. */
  text = '';
  base = 0;
  /** Keep output for expect(); off while a bench streams hundreds of MiB through. */
  buffering = true;
  readonly listeners = new Set<PtyListener>();
  private readonly term: nodePty.IPty;
  private exit: { exitCode: number; signal?: number } | undefined;
  private readonly exited: Promise<unknown>;

  constructor(file: string, args: readonly string[], { cols = 80, rows = 24, cwd, env = process.env }: PtyOptions = {}) {
    this.term = nodePty.spawn(file, [...args], {
      name: env.TERM ?? 'xterm-256color',
      cols,
      rows,
      cwd: cwd ?? process.cwd(),
      env,
      // Bytes: onData hands out Buffers (node-pty's typings say string).
      encoding: null,
    });
    this.pid = this.term.pid;
    track.session(this.pid);
    this.exited = new Promise((resolve) =>
      this.term.onExit((e) => {
        this.exit = e;
        resolve(e);
        for (const listener of this.listeners) listener.onExit?.();
      }),
    );
    this.term.onData((data) => this.onData(data as unknown as Buffer));
  }

  private onData(data: Buffer): void {
    if (this.buffering) {
      this.text += data.toString('latin1');
      if (this.text.length > 2 * KEEP) {
        const drop = this.text.length - KEEP;
        this.text = this.text.slice(drop);
        this.base += drop;
      }
    }
    for (const listener of this.listeners) listener.onData?.(data);
  }

  /** Position in the output stream, for expect(…, { since }). */
  get mark(): number {
    return this.base + this.text.length;
  }

  write(data: string | Buffer): void {
    this.term.write(data);
  }

  /** Wait until `pattern` appears after `since`; resolves to the match's end offset. */
  expect(pattern: string | RegExp, { since = 0, timeoutMs = 10_000 } = {}): Promise<number> {
    const find = (): number | undefined => {
      const from = Math.max(0, since - this.base);
      const hay = this.text.slice(from);
      if (typeof pattern === 'string') {
        const at = hay.indexOf(pattern);
        return at < 0 ? undefined : this.base + from + at + pattern.length;
      }
      const m = pattern.exec(hay);
      return m ? this.base + from + m.index + m[0].length : undefined;
    };
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const finish = (then: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        then();
      };
      const listener: PtyListener = {
        onData: () => {
          const at = find();
          if (at !== undefined) finish(() => resolve(at));
        },
        onExit: () =>
          finish(() => reject(new Error(`${this.describe()} ended (${JSON.stringify(this.exit)}) before printing ${pattern}; its last output: ${JSON.stringify(this.tail())}`))),
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${pattern} from ${this.describe()} within ${timeoutMs} ms; its last output: ${JSON.stringify(this.tail())}`))),
        timeoutMs,
      );
      this.listeners.add(listener);
    });
  }

  tail(chars = 300): string {
    return this.text.slice(-chars).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  }

  describe(): string {
    return `pid ${this.pid}`;
  }

  /**
   * End what the session leader started and let the leader end by itself, then close,
   * and wait until those processes are gone: their numbers are the ones the next thaw of
   * the same image wants. A thaw collects its job's processes, where killing it with them
   * would leave their zombies to init; and in a job whose processes start one another (a
   * pipeline), a killed parent leaves its child's zombie to init all the same, which
   * collects it only every 1-2 s on some machines (a VM's minimal init).
   */
  async closeChildrenFirst(): Promise<void> {
    const killed = killDescendants(this.pid);
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
    await this.close();
    await waitGone(killed, 5000);
  }

  /** Kill the pty's whole session and wait for node-pty to notice. */
  async close(): Promise<void> {
    killSession(this.pid);
    untrack.session(this.pid);
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
  }
}
