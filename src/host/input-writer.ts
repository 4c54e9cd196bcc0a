/**
 * Keyboard bytes to the pty master. Writes are synchronous while the kernel takes them,
 * so that by the time the checkpoint key is handled every earlier keystroke is inside
 * the kernel (where a flush reaches it) or still queued here (where `discard` drops it).
 * The master is non-blocking: when the slave's input queue is full (the program is not
 * reading), the rest waits here and is retried.
 */
import { writeSync } from 'node:fs';

const RETRY_MS = 5;

export class InputWriter {
  private readonly queue: Buffer[] = [];
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly fd: number) {}

  write(data: Buffer): void {
    if (data.length === 0) return;
    this.queue.push(data);
    if (this.queue.length === 1) this.drain();
  }

  /** Drop what the kernel has not taken yet (typed-ahead input being flushed). */
  discard(): void {
    this.queue.length = 0;
    clearTimeout(this.retry);
    this.retry = undefined;
  }

  private drain(): void {
    this.retry = undefined;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      let written: number;
      try {
        written = writeSync(this.fd, head);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.retry = setTimeout(() => this.drain(), RETRY_MS);
          return;
        }
        // EIO and friends: the program side is gone; its input goes nowhere.
        this.discard();
        return;
      }
      if (written < head.length) this.queue[0] = head.subarray(written);
      else this.queue.shift();
    }
  }
}
