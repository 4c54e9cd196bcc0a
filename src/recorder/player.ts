/**
 * `ckpty play`: replays a recording's output with its timing, or lists its markers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CkptyError, ExitCode } from '../base/errors.js';
import { CastFormatError, parseCast, type Cast } from './asciicast.js';
import { readUserFile } from './files.js';

export interface PlayOptions {
  /** Playback speed factor (2 = twice as fast). */
  speed: number;
  /** Longest pause kept, in seconds; longer pauses are shortened to it. */
  idleLimit?: number;
}

/**
 * Reads and validates a recording. A file that is not asciicast v2 is a bad input file,
 * exit status 5 (like a corrupt image), with the file name and line in the message.
 */
export function readCastFile(path: string): Cast {
  const text = readUserFile(path);
  try {
    return parseCast(text);
  } catch (err) {
    if (err instanceof CastFormatError) throw new CkptyError(`${path}:${err.line}: ${err.problem}`, ExitCode.badImage);
    throw err;
  }
}

/** The playback time (seconds) of each event, after the idle limit and speed. */
export function playbackTimes(cast: Cast, options: PlayOptions): number[] {
  const idleLimit = options.idleLimit ?? cast.header.idle_time_limit ?? Infinity;
  let previous = 0;
  let elapsed = 0;
  return cast.events.map((event) => {
    elapsed += Math.min(event.time - previous, idleLimit);
    previous = event.time;
    return elapsed / options.speed;
  });
}

export async function play(cast: Cast, options: PlayOptions, out: NodeJS.WritableStream): Promise<void> {
  const times = playbackTimes(cast, options);
  const start = performance.now();
  for (const [index, event] of cast.events.entries()) {
    if (event.code !== 'o') continue;
    const delay = start + times[index]! * 1000 - performance.now();
    if (delay > 1) await sleep(delay);
    await new Promise<void>((resolve, reject) => out.write(event.data, (err) => (err ? reject(err) : resolve())));
  }
}

/** One line per marker: its time in the recording and its label. */
export function formatMarkers(cast: Cast): string {
  return cast.events
    .filter((event) => event.code === 'm')
    .map((event) => `${formatTime(event.time)}  ${event.data}\n`)
    .join('');
}

/** `m:ss.mmm`, right-aligned so that a list of markers lines up. */
function formatTime(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = (seconds - minutes * 60).toFixed(3).padStart(6, '0');
  return `${minutes}:${rest}`.padStart(9);
}
