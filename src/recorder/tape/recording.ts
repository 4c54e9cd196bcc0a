/**
 * How a tape run becomes a recording. Two timelines:
 * - wall: every output chunk is an event at the time it arrived (minus hidden time);
 * - virtual (--deterministic): time advances only by the tape's own durations (typing
 *   speed, Sleep), and the output between two steps is one event at the step's virtual
 *   time. A pty chunks output as the scheduler pleases, so chunks are never recorded as
 *   they came; typed characters get their own events where their echo is found, so the
 *   typing still shows.
 * Both drop what happens between Hide and Show, and repaint the screen on Show.
 */
import type { CastWriter } from '../cast-writer.js';

export interface TapeRecording {
  /** Output from the session, as it arrives. */
  output(data: string): void;
  /** A marker from the session (a freeze, a snapshot, a refusal). */
  marker(label: string): void;
  /** Bytes sent to the session by the current step. */
  keystroke(bytes: string): void;
  /** The tape paused for `ms` (typing speed, Sleep). */
  advance(ms: number): void;
  /** A step of the tape is over and its output has settled. */
  endStep(): void;
  hide(): void;
  /** `repaint` redraws the screen as it is now, for whoever replays the recording. */
  show(repaint: string): void;
  /** The run is over: write anything still held back. */
  close(): void;
}

/** For runs without a recording (screenshots only, or a check that a tape passes). */
export const NO_RECORDING: TapeRecording = {
  output() {},
  marker() {},
  keystroke() {},
  advance() {},
  endStep() {},
  hide() {},
  show() {},
  close() {},
};

export class WallRecording implements TapeRecording {
  private readonly start = performance.now();
  private hiddenSince: number | undefined;
  private hiddenTotal = 0;

  constructor(private readonly writer: CastWriter) {}

  output(data: string): void {
    if (this.hiddenSince === undefined) this.writer.output(data, this.now());
  }

  marker(label: string): void {
    if (this.hiddenSince === undefined) this.writer.marker(label, this.now());
  }

  keystroke(): void {}
  advance(): void {}
  endStep(): void {}

  hide(): void {
    this.hiddenSince ??= performance.now();
  }

  show(repaint: string): void {
    if (this.hiddenSince === undefined) return;
    this.hiddenTotal += performance.now() - this.hiddenSince;
    this.hiddenSince = undefined;
    this.writer.output(repaint, this.now());
  }

  close(): void {}

  private now(): number {
    return (performance.now() - this.start - this.hiddenTotal) / 1000;
  }
}

export class VirtualRecording implements TapeRecording {
  /** Seconds on the tape's own clock. */
  private time = 0;
  private hidden = false;
  private pending = '';
  private markers: string[] = [];
  private keystrokes: { time: number; bytes: string }[] = [];
  /**
   * Everything at one virtual time becomes one output event, then its markers: whether
   * a slow command's output came before or after a step boundary that takes no time (a
   * Wait) then changes nothing in the file.
   */
  private held: { time: number; output: string; markers: string[] } | undefined;

  constructor(private readonly writer: CastWriter) {}

  output(data: string): void {
    this.pending += data;
  }

  marker(label: string): void {
    this.markers.push(label);
  }

  keystroke(bytes: string): void {
    this.keystrokes.push({ time: this.time, bytes });
  }

  advance(ms: number): void {
    if (!this.hidden) this.time += ms / 1000;
  }

  endStep(): void {
    if (!this.hidden) {
      for (const event of splitAtEchoes(this.pending, this.keystrokes, this.time)) this.hold(event.time, event.data);
      if (this.markers.length > 0) this.hold(this.time, '', this.markers);
    }
    this.pending = '';
    this.markers = [];
    this.keystrokes = [];
  }

  hide(): void {
    this.endStep();
    this.hidden = true;
  }

  show(repaint: string): void {
    if (!this.hidden) return;
    this.endStep();
    this.hidden = false;
    this.hold(this.time, repaint);
  }

  /** Writes what is held; the recording is complete after this. */
  close(): void {
    this.endStep();
    this.release();
  }

  private hold(time: number, output: string, markers: readonly string[] = []): void {
    if (this.held && this.held.time !== time) this.release();
    this.held ??= { time, output: '', markers: [] };
    this.held.output += output;
    this.held.markers.push(...markers);
  }

  private release(): void {
    if (!this.held) return;
    this.writer.output(this.held.output, this.held.time);
    for (const label of this.held.markers) this.writer.marker(label, this.held.time);
    this.held = undefined;
  }
}

/**
 * Cuts a step's output after the echo of each printable keystroke, found in order, so
 * each piece can be placed at the time of its keystroke; what follows the last echo
 * goes at `endTime`. A function of the bytes alone, so the same output always gives
 * the same events.
 */
export function splitAtEchoes(
  output: string,
  keystrokes: readonly { time: number; bytes: string }[],
  endTime: number,
): { time: number; data: string }[] {
  const events: { time: number; data: string }[] = [];
  let cut = 0;
  for (const keystroke of keystrokes) {
    if (!/^[\x20-\x7e]$/.test(keystroke.bytes)) continue;
    const found = output.indexOf(keystroke.bytes, cut);
    if (found === -1) continue;
    const end = found + keystroke.bytes.length;
    events.push({ time: keystroke.time, data: output.slice(cut, end) });
    cut = end;
  }
  if (cut < output.length) events.push({ time: endTime, data: output.slice(cut) });
  return events;
}
