/**
 * Writes an asciicast v2 recording as a stream. Every event is written with one
 * write(2) of one whole line as soon as it happens: the kernel keeps it even if ckpty
 * is then killed with SIGKILL, so a recording is always valid up to its last event,
 * and nothing is held in memory but the event being written.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { encodeEvent, encodeHeader, type CastEventCode, type CastHeader } from './asciicast.js';

/** Seconds since the start of the recording. */
export type CastClock = () => number;

export function wallClock(): CastClock {
  const start = performance.now();
  return () => (performance.now() - start) / 1000;
}

export class CastWriter {
  private lastTime = 0;
  private fd: number | undefined;

  constructor(
    path: string,
    header: CastHeader,
    private readonly clock: CastClock = wallClock(),
  ) {
    this.fd = openSync(path, 'w');
    this.writeLine(encodeHeader(header));
  }

  output(data: string, time?: number): void {
    if (data !== '') this.event('o', data, time);
  }

  input(data: string, time?: number): void {
    if (data !== '') this.event('i', data, time);
  }

  resize(columns: number, rows: number, time?: number): void {
    this.event('r', `${columns}x${rows}`, time);
  }

  marker(label: string, time?: number): void {
    this.event('m', label, time);
  }

  /** Appends one event; `time` defaults to the clock, and never goes back. */
  event(code: CastEventCode, data: string, time: number = this.clock()): void {
    this.lastTime = Math.max(this.lastTime, time);
    this.writeLine(encodeEvent({ time: this.lastTime, code, data }));
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private writeLine(line: string): void {
    if (this.fd === undefined) throw new Error('recording already closed');
    const bytes = Buffer.from(line, 'utf8');
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset);
  }
}
