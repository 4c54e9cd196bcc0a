/**
 * Follows a recording another process is writing and picks out its markers. The tape
 * runner uses it to carry the session's own markers (freezes, snapshots, refusals) into
 * the recording it makes of the session's screen.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parseCast } from './asciicast.js';

export class MarkerTail {
  private offset = 0;
  /** Bytes of a line whose end has not been written yet. */
  private partial = Buffer.alloc(0);
  private headerSeen = false;

  constructor(private readonly path: string) {}

  /** Labels of the markers written since the last call. */
  poll(): string[] {
    const fresh = this.readNew();
    if (fresh.length === 0) return [];
    const text = Buffer.concat([this.partial, fresh]);
    const end = text.lastIndexOf(0x0a) + 1;
    this.partial = text.subarray(end);
    let lines = text.subarray(0, end).toString('utf8');
    if (!this.headerSeen && lines !== '') {
      lines = lines.slice(lines.indexOf('\n') + 1);
      this.headerSeen = true;
    }
    // A stand-in header lets the one parser read a slice of events.
    const { events } = parseCast(`{"version":2,"width":1,"height":1}\n${lines}`);
    return events.filter((event) => event.code === 'm').map((event) => event.data);
  }

  private readNew(): Buffer {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return Buffer.alloc(0); // not created yet
    }
    try {
      const chunks: Buffer[] = [];
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (read === 0) break;
        chunks.push(Buffer.from(buffer.subarray(0, read)));
        this.offset += read;
      }
      return Buffer.concat(chunks);
    } finally {
      closeSync(fd);
    }
  }
}
