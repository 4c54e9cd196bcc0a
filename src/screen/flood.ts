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
 * The scan uses Buffer's indexOf (memchr) for the few bytes that end a run and
 * lastIndexOf for the line feeds a run keeps: a flood costs a few memory scans, and a run
 * only as many steps as the line feeds it keeps.
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

/** A part of the data that may be left out: [start, end). */
export interface Skip {
  start: number;
  end: number;
}

/** The next byte of one kind at or after a position, remembered until the scan passes it. */
class NextOf {
  private at = -2;

  constructor(
    private readonly data: Buffer,
    private readonly byte: number,
  ) {}

  /** Position of the first such byte at or after `from`; -1 for none. */
  from(from: number): number {
    if (this.at !== -1 && this.at < from) this.at = this.data.indexOf(this.byte, from);
    return this.at;
  }
}

/** Where the next run of plain text ends, and where the next one may start; undefined at the end. */
function nextBoundary(data: Buffer, from: number, ends: NextOf[], leads: NextOf): { at: number; after: number } | undefined {
  let at = -1;
  for (const next of ends) {
    const i = next.from(from);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  // A C1 lead byte ends a run when a C1 control follows (or nothing yet: the next piece says).
  for (let i = leads.from(from); i >= 0 && (at < 0 || i < at); i = leads.from(i + 1)) {
    const second = data[i + 1];
    if (second === undefined || (second >= 0x80 && second <= 0x9f)) {
      at = i;
      break;
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
 * feed that leaves exactly `keepLines` of them after it.
 */
export function skippable(data: Uint8Array, keepLines: number): Skip[] {
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
  const ends = RUN_ENDS.map((byte) => new NextOf(bytes, byte));
  const leads = new NextOf(bytes, C1_LEAD);
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
