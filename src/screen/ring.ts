/**
 * The program's output on its way from the main thread to the screen worker: a ring of
 * shared memory. The main thread copies each read into it (a memory copy, no message);
 * the worker parses from it in place and gives the space back once parsed.
 *
 * Requests (mark the prompt, resize, a question) travel as messages, which the worker may
 * see later than the output written after them. So before each request the writer
 * publishes a fence, the position the output was at: the reader never parses past the
 * fence of a request it has not handled, and handles requests at exactly their place.
 *
 * Positions are byte counts since the start, modulo 2^32; the ring's size is a power of
 * two, so a position's place in the ring survives the wrap.
 *
 * The writer also marks the blocks of the ring where it put bytes other than plain text
 * (flood.ts: the ones that end a run of it), looking at each write while it is still in
 * its cache. The worker's scan of a flood then reads only the marked blocks: reading
 * every byte of `cat`'s 200 MiB on the other core cost ~6% of its throughput, though the
 * scan itself took only 22–27 ms there (docs/architecture.md). A mark is the block's number
 * (its position / BLOCK), so marks left from an earlier lap never count; there are two
 * slots per block of the ring, since the writer may be a lap ahead of the reader.
 */
import { isPlainText, type NextMarked } from './flood.js';

/** What both sides share; sent to the worker at its start. */
export interface RingMemory {
  data: SharedArrayBuffer;
  /** WRITTEN, READ, SLEEPING, FENCES (how many), FULL, then the fences' positions. */
  positions: SharedArrayBuffer;
  /** The marked blocks' numbers, by slot (block number modulo two ring sizes' worth of blocks). */
  marks: SharedArrayBuffer;
}

/** Output in place, with where in it the writer saw bytes other than plain text. */
export interface Piece {
  bytes: Uint8Array;
  nextMarked: NextMarked;
}

const WRITTEN = 0;
const READ = 1;
/** 1 while the reader waits for a write (only then is waking it worth a system call). */
const SLEEPING = 2;
const FENCES = 3;
/** 1 while the writer holds output that did not fit: the reader tells it when it made room. */
const FULL = 4;
const FENCE_AT = 5;
/** Requests that may be on their way at once (human-paced: marks, resizes, questions). */
const FENCE_SLOTS = 1024;

const BLOCK_BITS = 12;
const BLOCK = 1 << BLOCK_BITS;
/** Block numbers wrap with the positions. */
const BLOCK_NUMBERS = 2 ** (32 - BLOCK_BITS);

/** The number of the block that holds position `at`. */
const blockOf = (at: number): number => at >>> BLOCK_BITS;

/** `bytes`: a power of two, at least a block. */
export function createRing(bytes: number): RingMemory {
  const marks = new SharedArrayBuffer(((2 * bytes) / BLOCK) * 4);
  // No block is marked: -1 is no block's number.
  new Int32Array(marks).fill(-1);
  return { data: new SharedArrayBuffer(bytes), positions: new SharedArrayBuffer((FENCE_AT + FENCE_SLOTS) * 4), marks };
}

/** Atomics.waitAsync (Node 16+; not in TypeScript's ES2022 library). */
const { waitAsync } = Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string };
};

class RingSide {
  protected readonly bytes: Uint8Array;
  /** Int32 for Atomics.wait/notify; positions are read as unsigned. */
  protected readonly positions: Int32Array;
  protected readonly marks: Int32Array;

  constructor(memory: RingMemory) {
    this.bytes = new Uint8Array(memory.data);
    this.positions = new Int32Array(memory.positions);
    this.marks = new Int32Array(memory.marks);
  }

  /** The slot that holds block `block`'s mark. */
  protected slotOf(block: number): number {
    return block & (this.marks.length - 1);
  }

  /** Everything written so far (the position the writer is at). */
  get written(): number {
    return Atomics.load(this.positions, WRITTEN) >>> 0;
  }

  get read(): number {
    return Atomics.load(this.positions, READ) >>> 0;
  }

  /** Bytes written and not yet given back by the reader. */
  get unread(): number {
    return (this.written - this.read) >>> 0;
  }
}

export class RingWriter extends RingSide {
  private sent = 0;
  /** The ring as a Buffer, for fill() (below). */
  private readonly target = Buffer.from(this.bytes.buffer);

  /** Requests sent so far (each has its fence). */
  get fences(): number {
    return this.sent;
  }

  /** Whether the writer holds output that did not fit (the reader says when it made room). */
  set full(full: boolean) {
    Atomics.store(this.positions, FULL, full ? 1 : 0);
  }

  /** Copies what fits of `data` in; returns how many bytes it took. */
  write(data: Uint8Array): number {
    const size = this.target.length;
    const written = this.written;
    const taken = Math.min(data.length, size - this.unread);
    const at = written % size;
    const first = Math.min(taken, size - at);
    // fill() with a buffer as the value copies it with memcpy. A typed array's set() (and
    // Buffer's copy(), which is one) into shared memory copies byte by byte unless both
    // sides are aligned alike: 2-3 times the main thread's time for a flood.
    const source = Buffer.from(data.buffer, data.byteOffset, taken);
    if (first > 0) this.target.fill(source.subarray(0, first), at, at + first);
    if (first < taken) this.target.fill(source.subarray(first), 0, taken - first);
    // Before the bytes are published: the reader looks at their marks once it sees them.
    if (taken > 0 && !isPlainText(source)) this.mark(written, taken);
    Atomics.store(this.positions, WRITTEN, (written + taken) | 0);
    this.wake();
    return taken;
  }

  /** Before a request is sent: its place in the output. */
  fence(): void {
    Atomics.store(this.positions, FENCE_AT + (this.sent % FENCE_SLOTS), this.written | 0);
    Atomics.store(this.positions, FENCES, ++this.sent | 0);
    this.wake();
  }

  /** Marks the blocks that the `length` bytes from position `from` went to. */
  private mark(from: number, length: number): void {
    const last = blockOf((from + length - 1) >>> 0);
    for (let block = blockOf(from); ; block = (block + 1) % BLOCK_NUMBERS) {
      Atomics.store(this.marks, this.slotOf(block), block);
      if (block === last) return;
    }
  }

  private wake(): void {
    if (Atomics.exchange(this.positions, SLEEPING, 0) === 1) Atomics.notify(this.positions, WRITTEN);
  }
}

export class RingReader extends RingSide {
  private passed = 0;

  /** Requests handled so far. */
  get handled(): number {
    return this.passed;
  }

  /** Where parsing must stop now: the fence of the next request not handled, else all that is written. */
  get end(): number {
    const fences = Atomics.load(this.positions, FENCES) >>> 0;
    return this.passed === fences ? this.written : Atomics.load(this.positions, FENCE_AT + (this.passed % FENCE_SLOTS)) >>> 0;
  }

  /** Whether the next request's place has been reached (it must be handled before more is parsed). */
  get atFence(): boolean {
    return this.passed !== Atomics.load(this.positions, FENCES) >>> 0 && this.end === this.read;
  }

  /** The next request was handled. */
  passFence(): void {
    this.passed++;
  }

  /** The unread bytes up to position `end`, in place: one piece, or two where the ring wraps. */
  pieces(end: number): Piece[] {
    const size = this.bytes.length;
    const read = this.read;
    const length = (end - read) >>> 0;
    const at = read % size;
    const first = Math.min(length, size - at);
    const pieces = [this.piece(read, this.bytes.subarray(at, at + first))];
    if (first < length) pieces.push(this.piece((read + first) >>> 0, this.bytes.subarray(0, length - first)));
    return pieces;
  }

  /** `bytes`, from position `start` on. */
  private piece(start: number, bytes: Uint8Array): Piece {
    const nextMarked = (from: number): number => {
      for (let offset = from; offset < bytes.length; ) {
        const position = (start + offset) >>> 0;
        const block = blockOf(position);
        if (Atomics.load(this.marks, this.slotOf(block)) === block) return offset;
        offset += BLOCK - (position & (BLOCK - 1));
      }
      return bytes.length;
    };
    return { bytes, nextMarked };
  }

  /** The bytes up to `end` are parsed: the writer may use their space. Whether it waits for it. */
  release(end: number): boolean {
    Atomics.store(this.positions, READ, end | 0);
    return Atomics.load(this.positions, FULL) === 1;
  }

  /** Resolves when something is written (or a fence set) after position `seen`. */
  async whenWritten(seen: number): Promise<void> {
    Atomics.store(this.positions, SLEEPING, 1);
    const wait = waitAsync(this.positions, WRITTEN, seen | 0);
    if (wait.async) await wait.value;
  }
}
