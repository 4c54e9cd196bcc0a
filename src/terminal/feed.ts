/**
 * Program output on its way into the emulator. xterm parses each write in a
 * later turn of the event loop (a timer), so handing it the pty's small reads
 * one by one leaves it idle between them; instead, what arrives while xterm is
 * busy is queued and given to it in one piece when it is done. The queue is
 * bounded: past `highWater` bytes the pty is paused (the program blocks in
 * write(), as on a slow terminal) until xterm takes the queue.
 */

export interface FeedTarget {
  write(data: Uint8Array, parsed: () => void): void;
}

export interface FlowControl {
  pause(): void;
  resume(): void;
}

export const DEFAULT_HIGH_WATER = 1 << 20;

export class OutputFeed {
  private queue: Buffer[] = [];
  private queued = 0;
  private busy = false;
  private paused = false;

  constructor(
    private readonly target: FeedTarget,
    private readonly flow: FlowControl,
    private readonly highWater = DEFAULT_HIGH_WATER,
  ) {}

  /** Bytes waiting for the emulator (not counting the piece it is parsing). */
  get backlog(): number {
    return this.queued;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** True while the emulator has not caught up with the program. */
  get behind(): boolean {
    return this.queued > 0;
  }

  push(data: Buffer): void {
    this.queue.push(data);
    this.queued += data.length;
    if (!this.busy) {
      this.next();
    } else if (!this.paused && this.queued > this.highWater) {
      this.paused = true;
      this.flow.pause();
    }
  }

  private next(): void {
    if (this.queue.length === 0) {
      this.busy = false;
      return;
    }
    const batch = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue, this.queued);
    this.queue = [];
    this.queued = 0;
    this.busy = true;
    if (this.paused) {
      this.paused = false;
      this.flow.resume();
    }
    this.target.write(batch, () => this.next());
  }
}
