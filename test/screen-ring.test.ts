/**
 * The ring between the main thread and the screen worker (src/screen/ring.ts): what the
 * writer copies in comes out of the reader's pieces byte for byte, across the wrap, and
 * the writer takes no more than the reader has given back.
 */
import { describe, expect, it } from 'vitest';
import { createRing, RingReader, RingWriter } from '../src/screen/ring.js';
import { seededRandom } from './helpers/prng.js';

describe('the screen ring', () => {
  it('hands over random writes of Buffers and other byte arrays, wrapping many times, unchanged (seeded)', () => {
    const random = seededRandom(7);
    const memory = createRing(1 << 12);
    const writer = new RingWriter(memory);
    const reader = new RingReader(memory);
    const sent: number[] = [];
    const received: number[] = [];
    for (let round = 0; round < 2000; round++) {
      const length = Math.floor(random() * 3000);
      const bytes = Array.from({ length }, () => Math.floor(random() * 256));
      // A Buffer at an offset in a bigger one (as node-pty's may be), or a plain Uint8Array.
      const data = random() < 0.5 ? Buffer.from([0, ...bytes, 0]).subarray(1, length + 1) : Uint8Array.from(bytes);
      const room = (1 << 12) - reader.unread;
      const taken = writer.write(data);
      expect(taken).toBe(Math.min(length, room));
      sent.push(...bytes.slice(0, taken));
      if (random() < 0.7) {
        const end = reader.written;
        for (const piece of reader.pieces(end)) received.push(...piece);
        reader.release(end);
      }
    }
    const end = reader.written;
    for (const piece of reader.pieces(end)) received.push(...piece);
    expect(received.length).toBe(sent.length);
    expect(received.findIndex((byte, i) => byte !== sent[i]), 'the first byte that differs').toBe(-1);
    expect(sent.length).toBeGreaterThan(20 * (1 << 12));
  });
});
