/**
 * Which job the status line names: `bc[4242]`, `bash[12] +2` for a job of several
 * processes (the refusal message lists them all), or the shell itself at its prompt.
 * Looked up on a timer, and on program output at most every FOREGROUND_MIN_MS (after
 * the output is shown: reading /proc must not delay a keystroke's echo).
 */
import { readStat } from '../freezer/proc.js';
import type { Session } from '../host/session.js';
import { describeJob } from '../host/status.js';

const FOREGROUND_POLL_MS = 500;
const FOREGROUND_MIN_MS = 150;

export class ForegroundWatch {
  private current: string;
  private lastPoll = 0;
  private soon: NodeJS.Immediate | undefined;
  private readonly timer: NodeJS.Timeout;

  /** `changed` runs when the name changes. */
  constructor(
    private readonly session: Pick<Session, 'pid' | 'foregroundJob'>,
    private readonly changed: () => void,
  ) {
    this.current = this.shellName();
    this.timer = setInterval(() => this.poll(), FOREGROUND_POLL_MS);
  }

  get name(): string {
    return this.current;
  }

  /** The program wrote: programs start and end with output, a cheap moment to look again. */
  output(): void {
    if (this.soon || Date.now() - this.lastPoll <= FOREGROUND_MIN_MS) return;
    this.soon = setImmediate(() => {
      this.soon = undefined;
      this.poll();
    });
  }

  poll(): void {
    this.lastPoll = Date.now();
    const [first, ...others] = this.session.foregroundJob()?.members ?? [];
    const name = first ? describeJob([first]) + (others.length > 0 ? ` +${others.length}` : '') : this.shellName();
    if (name === this.current) return;
    this.current = name;
    this.changed();
  }

  dispose(): void {
    clearInterval(this.timer);
    clearImmediate(this.soon);
  }

  /** Read each time: right after the spawn the shell is still called node. */
  private shellName(): string {
    return `${readStat(this.session.pid)?.comm ?? 'shell'}[${this.session.pid}]`;
  }
}
