/**
 * Floods of plain text, left out. Under `cat big-file` an emulator spends nearly all its
 * time printing lines that scroll out of its history before anyone sees them. A run of
 * plain text (printable characters, CR, LF, TAB: nothing that changes a mode, a colour or
 * the scroll region) followed by at least `keepLines` line feeds of the same run leaves
 * no trace once those line feeds have been parsed: every line it printed, and every line
 * on the screen before it, has scrolled out of the screen and out of a history of
 * `keepLines - 2 * rows` lines. Only the cursor movement it caused mattered, and the
 * kept line feeds redo that. So the emulator may skip the front of such a run.
 *
 * This holds when line feeds scroll the whole screen (no scroll region set) and the run
 * is really text, not the inside of an escape sequence: the caller checks both on the
 * emulator before skipping. Runs start after a control sequence (CSI) as a whole, so that
 * a flood that begins with one (a colour) can still be left out.
 */

const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const ESC = 0x1b;
/** `[` after ESC: a control sequence, ended by a byte in 0x40..0x7e. */
const CSI_INTRODUCER = 0x5b;
/** The second byte of U+009B, CSI's C1 form, in UTF-8. */
const C1_CSI = 0x9b;
/** UTF-8 lead byte of U+0080..U+00BF, among which the C1 controls U+0080..U+009F (CSI is U+009B). */
const C1_LEAD = 0xc2;

/** Per byte: 1 if it only prints or moves the cursor right, down or to the line start; 2 if that depends on the next. */
const PLAIN = new Uint8Array(256);
for (let byte = 0x20; byte < 0x100; byte++) PLAIN[byte] = byte === 0x7f ? 0 : 1;
PLAIN[LF] = PLAIN[CR] = PLAIN[TAB] = 1;
PLAIN[C1_LEAD] = 2;

/** Whether the byte at `i` is plain (the table's 2: a C1 control is not; a lead byte at the very end is not judged yet). */
function isPlain(data: Uint8Array, i: number): boolean {
  const kind = PLAIN[data[i]!];
  if (kind !== 2) return kind === 1;
  const next = data[i + 1];
  return next !== undefined && (next < 0x80 || next > 0x9f);
}

/**
 * Where what starts with the byte at `at` (not plain) ends: a control sequence (ESC [ or
 * its C1 form) at its final byte, a C1 control after its second byte, anything else at
 * itself. A run that starts too early is caught by the caller's check.
 */
function sequenceEnd(data: Uint8Array, at: number): number {
  const next = data[at + 1];
  const csi = (data[at] === ESC && next === CSI_INTRODUCER) || (data[at] === C1_LEAD && next === C1_CSI);
  if (!csi) return data[at] === C1_LEAD && next !== undefined ? at + 1 : at;
  let i = at + 2;
  while (i < data.length - 1 && (data[i]! < 0x40 || data[i]! > 0x7e)) i++;
  return i;
}

/** A part of the data that may be left out: [start, end). */
export interface Skip {
  start: number;
  end: number;
}

/**
 * The parts of `data` an emulator may leave out, in order: from each maximal run of plain
 * bytes that holds more than `keepLines` line feeds, everything up to and including the
 * line feed that leaves exactly `keepLines` of them after it.
 */
export function skippable(data: Uint8Array, keepLines: number): Skip[] {
  const skips: Skip[] = [];
  // The positions of the run's last keepLines + 1 line feeds, in a ring.
  const ring = new Array<number>(keepLines + 1);
  let feeds = 0;
  let runStart = 0;
  const closeRun = (): void => {
    // The oldest in the ring has exactly keepLines line feeds after it.
    if (feeds > keepLines) skips.push({ start: runStart, end: ring[feeds % ring.length]! + 1 });
    feeds = 0;
  };
  for (let i = 0; i < data.length; i++) {
    if (isPlain(data, i)) {
      if (data[i] === LF) ring[feeds++ % ring.length] = i;
      continue;
    }
    closeRun();
    i = sequenceEnd(data, i);
    runStart = i + 1;
  }
  closeRun();
  return skips;
}
