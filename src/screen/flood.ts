/**
 * Floods of plain text, left out. Under `cat big-file` an emulator spends nearly all its
 * time printing lines that scroll out of its history before anyone sees them. A run of
 * plain text — anything but the bytes that change the terminal's state: ESC (escape
 * sequences), SO and SI (character sets), C1 controls (U+0080..U+009F in UTF-8) —
 * followed by at least `keepLines` line feeds of the same run leaves no trace on the
 * screen once those line feeds have been parsed: every line it printed, and every line on
 * the screen before it, has scrolled out of the screen and out of a history of
 * `keepLines - 2 * rows` lines. Only the cursor movement it caused mattered, and the kept
 * line feeds redo that. So the emulator may skip the front of such a run. (A bell rung
 * in it is not rung: it leaves nothing on the screen.)
 *
 * This holds when line feeds scroll the whole screen (no scroll region set) and the run
 * is really text, not the inside of an escape sequence: the caller checks both on the
 * emulator before skipping. Runs start after a control sequence (CSI) as a whole, so that
 * a flood that begins with one (a colour) can still be left out.
 *
 * The scan uses Buffer's indexOf (memchr) for the few bytes that end a run, window by
 * window, and lastIndexOf for the line feeds a run keeps: a flood is read from memory
 * at most once, and a run costs only as many steps as the line feeds it keeps. Where the
 * caller knows that a part holds none of the bytes that end a run (the screen ring's
 * marks, ring.ts), that part is not read at all.
 */

const LF = 0x0a;
const ESC = 0x1b;
const SO = 0x0e;
const SI = 0x0f;
/** UTF-8 lead byte of U+0080..U+00BF, among which the C1 controls U+0080..U+009F (CSI is U+009B). */
const C1_LEAD = 0xc2;
const C1_CSI = 0x9b;
/** The bytes that end a run of plain text wherever they are (a C1 lead byte only before a C1 control). */
const RUN_ENDS = [ESC, SO, SI];
/** `[` after ESC: a control sequence, ended by a byte in 0x40..0x7e. */
const CSI_INTRODUCER = 0x5b;

/**
 * The first offset at or after `from` where a byte that ends a run may be; the data's
 * length when there is none after `from`.
 */
export type NextMarked = (from: number) => number;

/** Nothing known: such a byte may be anywhere. */
const anywhere: NextMarked = (from) => from;

/** A part of the data that may be left out: [start, end). */
export interface Skip {
  start: number;
  end: number;
}

/**
 * The data is scanned in windows of this size: each kind of byte that ends a run is looked
 * for in the same window before the scan moves on, so that a flood is read from memory
 * once (the window stays in the core's cache for the other kinds), not once per kind.
 */
const WINDOW = 64 << 10;

/** The window that holds position `at`: its start (positions in one piece of output, far below 2^31). */
const windowOf = (at: number): number => at & -WINDOW;

/** The next byte of one kind at or after a position, remembered until the scan passes it. */
class NextOf {
  /** The next such byte at or after the scan's position, when found (else -1 or behind it). */
  private found = -1;
  /** Where the bytes looked at end: none of this kind between the scan's position and here. */
  private clearTo = 0;
  /** The window last looked in, and where it starts. */
  private window: Buffer | undefined;
  private windowStart = -1;

  constructor(
    private readonly data: Buffer,
    private readonly byte: number,
    private readonly nextMarked: NextMarked,
  ) {}

  /**
   * Position of the first such byte in [from, limit); -1 for none there. `from` never
   * goes back. It looks to the end of limit's window: where other bytes end runs often
   * (escape sequences), this kind is not looked for again at every one. What nextMarked
   * rules out, it passes over unread.
   */
  within(from: number, limit: number): number {
    if (this.found >= from) return this.found < limit ? this.found : -1;
    if (this.clearTo >= limit) return -1;
    for (let start = Math.max(from, this.clearTo); start < limit; start = this.clearTo) {
      const marked = this.nextMarked(start);
      if (marked > start) {
        this.clearTo = marked;
        continue;
      }
      const windowStart = windowOf(start);
      const i = this.view(windowStart).indexOf(this.byte, start - windowStart);
      if (i >= 0) {
        this.found = this.clearTo = windowStart + i;
        return this.found < limit ? this.found : -1;
      }
      this.clearTo = Math.min(this.data.length, windowStart + WINDOW);
    }
    return -1;
  }

  private view(windowStart: number): Buffer {
    if (windowStart !== this.windowStart) {
      this.windowStart = windowStart;
      this.window = this.data.subarray(windowStart, windowStart + WINDOW);
    }
    return this.window!;
  }
}

/** Where the next run of plain text ends, and where the next one may start; undefined at the end. */
function nextBoundary(data: Buffer, from: number, ends: NextOf[], leads: NextOf): { at: number; after: number } | undefined {
  let at = -1;
  for (let start = from, limit = 0; at < 0 && start < data.length; start = limit) {
    limit = Math.min(data.length, windowOf(start) + WINDOW);
    for (const next of ends) {
      const i = next.within(start, limit);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    // A C1 lead byte ends a run when a C1 control follows (or nothing yet: the next piece says).
    const leadsLimit = at < 0 ? limit : at;
    for (let i = leads.within(start, leadsLimit); i >= 0; i = leads.within(i + 1, leadsLimit)) {
      const second = data[i + 1];
      if (second === undefined || (second >= 0x80 && second <= 0x9f)) {
        at = i;
        break;
      }
    }
  }
  if (at < 0) return undefined;
  const csi = (data[at] === ESC && data[at + 1] === CSI_INTRODUCER) || (data[at] === C1_LEAD && data[at + 1] === C1_CSI);
  if (!csi) return { at, after: at + (data[at] === C1_LEAD ? 2 : 1) };
  let final = at + 2;
  while (final < data.length - 1 && (data[final]! < 0x40 || data[final]! > 0x7e)) final++;
  return { at, after: final + 1 };
}

/**
 * The parts of `data` an emulator may leave out, in order: from each run of plain text
 * that holds more than `keepLines` line feeds, everything up to and including the line
 * feed that leaves exactly `keepLines` of them after it. `nextMarked` says where the
 * bytes that end a run may be; only there is the data looked through for them.
 */
export function skippable(data: Uint8Array, keepLines: number, nextMarked: NextMarked = anywhere): Skip[] {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  const skips: Skip[] = [];
  const closeRun = (start: number, end: number): void => {
    // Back from the run's end over keepLines line feeds: the one before them ends the skip.
    let feed = end;
    for (let kept = 0; kept <= keepLines; kept++) {
      feed = feed > start ? bytes.lastIndexOf(LF, feed - 1) : -1;
      if (feed < start) return;
    }
    skips.push({ start, end: feed + 1 });
  };
  const ends = RUN_ENDS.map((byte) => new NextOf(bytes, byte, nextMarked));
  const leads = new NextOf(bytes, C1_LEAD, nextMarked);
  let start = 0;
  for (let boundary = nextBoundary(bytes, 0, ends, leads); boundary; boundary = nextBoundary(bytes, start, ends, leads)) {
    closeRun(start, boundary.at);
    start = boundary.after;
  }
  closeRun(start, bytes.length);
  return skips;
}

/** Whether `data` is plain text throughout: none of the bytes that end a run, nor a C1 lead byte. */
export function isPlainText(data: Uint8Array): boolean {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  return [...RUN_ENDS, C1_LEAD].every((byte) => bytes.indexOf(byte) < 0);
}
