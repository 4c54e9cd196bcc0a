/**
 * A program on a fresh pty, driven like a user at a terminal would: write keys,
 * wait for text to appear. Its whole session is killed on close() or bench exit.
 */
import * as nodePty from 'node-pty';
import { track, untrack } from './cleanup.js';
import { killSession } from './proc.js';

/** Text kept for expect(): enough for any prompt or answer, bounded for GiB-sized output. */
const KEEP = 1 << 20;

export class PtyProcess {
  constructor(file, args, { cols = 80, rows = 24, cwd, env = process.env } = {}) {
    this.term = nodePty.spawn(file, args, {
      name: env.TERM ?? 'xterm-256color',
      cols,
      rows,
      cwd: cwd ?? process.cwd(),
      env,
      encoding: null,
    });
    this.pid = this.term.pid;
    track.session(this.pid);
    this.text = '';
    /** Offset in the whole output of text[0]. */
    this.base = 0;
    this.received = 0;
    /** Keep output for expect(); off while a bench streams hundreds of MiB through. */
    this.buffering = true;
    this.listeners = new Set();
    this.exit = undefined;
    this.exited = new Promise((resolve) =>
      this.term.onExit((e) => {
        this.exit = e;
        resolve(e);
        for (const listener of this.listeners) listener.onExit?.();
      }),
    );
    this.term.onData((data) => this.onData(data));
  }

  onData(data) {
    this.received += data.length;
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
  get mark() {
    return this.base + this.text.length;
  }

  write(data) {
    this.term.write(data);
  }

  /** Wait until `pattern` (string or RegExp) appears after `since`; resolves to the match's end offset. */
  expect(pattern, { since = 0, timeoutMs = 10_000 } = {}) {
    const find = () => {
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
      const listener = {
        onData: () => {
          const at = find();
          if (at !== undefined) finish(() => resolve(at));
        },
        onExit: () => finish(() => reject(new Error(`${this.describe()} ended (${JSON.stringify(this.exit)}) before printing ${pattern}; its last output: ${JSON.stringify(this.tail())}`))),
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${pattern} from ${this.describe()} within ${timeoutMs} ms; its last output: ${JSON.stringify(this.tail())}`))),
        timeoutMs,
      );
      const finish = (then) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        then();
      };
      this.listeners.add(listener);
    });
  }

  tail(chars = 300) {
    return this.text.slice(-chars).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  }

  describe() {
    return `pid ${this.pid}`;
  }

  /** Kill the pty's whole session and wait for node-pty to notice. */
  async close() {
    killSession(this.pid);
    untrack.session(this.pid);
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
  }
}
