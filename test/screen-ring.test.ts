/**
 * The ring between the main thread and the screen worker (src/screen/ring.ts): what the
 * writer copies in comes out of the reader's pieces byte for byte, across the wrap, and
 * the writer takes no more than the reader has given back. Its marks show every byte
 * other than plain text, and no block of plain text.
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
        for (const { bytes } of reader.pieces(end)) received.push(...bytes);
        reader.release(end);
      }
    }
    const end = reader.written;
    for (const { bytes } of reader.pieces(end)) received.push(...bytes);
    expect(received.length).toBe(sent.length);
    expect(received.findIndex((byte, i) => byte !== sent[i]), 'the first byte that differs').toBe(-1);
    expect(sent.length).toBeGreaterThan(20 * (1 << 12));
  });

  it('marks the blocks that hold bytes other than plain text, through partial reads and a writer a lap ahead; a plain flood, none (seeded)', () => {
    const size = 1 << 14;
    const random = seededRandom(11);
    const memory = createRing(size);
    const writer = new RingWriter(memory);
    const reader = new RingReader(memory);
    const specials = [0x1b, 0x0e, 0x0f, 0xc2];
    let [found, plainPieces] = [0, 0];
    for (let round = 0; round < 3000; round++) {
      // Phases of 500 rounds: output with a byte other than plain text now and then, then plain text only.
      const plainPhase = Math.floor(round / 500) % 2 === 1;
      const length = Math.floor(random() * 3000);
      const data = Buffer.from(Array.from({ length }, () => (!plainPhase && random() < 0.0005 ? specials[Math.floor(random() * 4)]! : 0x61)));
      writer.write(data);
      if (random() < 0.5) continue;
      // Read part of what is there: the reader lags, the writer gets a lap ahead of it.
      const end = (reader.read + Math.floor(random() * (reader.unread + 1))) >>> 0;
      for (const { bytes, nextMarked } of reader.pieces(end)) {
        for (let offset = 0; offset < bytes.length; offset++) {
          if (!specials.includes(bytes[offset]!)) continue;
          found++;
          expect(nextMarked(offset), `round ${round}: the byte at ${offset} of a piece of ${bytes.length}`).toBe(offset);
        }
        // Two ring sizes into a plain phase, all that is read was written in it.
        if (plainPhase && round % 500 > 100 && bytes.length > 0) {
          plainPieces++;
          expect(nextMarked(0), `round ${round}`).toBe(bytes.length);
        }
      }
      reader.release(end);
    }
    expect(found).toBeGreaterThan(100);
    expect(plainPieces).toBeGreaterThan(100);
  });
});
