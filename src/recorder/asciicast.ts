/**
 * The asciicast v2 format (https://docs.asciinema.org/manual/asciicast/v2/): a JSON
 * header line, then one JSON array per line `[time, code, data]`. This module is pure:
 * it encodes and decodes lines and validates a whole recording; files are read and
 * written elsewhere.
 */

export interface CastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix time (seconds) of the start of the recording; left out of deterministic recordings. */
  timestamp?: number;
  duration?: number;
  idle_time_limit?: number;
  command?: string;
  title?: string;
  env?: Record<string, string>;
  theme?: { fg: string; bg: string; palette: string };
}

/** `o` output, `i` input, `r` resize ("COLSxROWS"), `m` marker (a label). */
export type CastEventCode = 'o' | 'i' | 'r' | 'm';

export interface CastEvent {
  time: number;
  code: CastEventCode;
  data: string;
}

export interface Cast {
  header: CastHeader;
  events: CastEvent[];
  /** The last line was cut off mid-write (a killed recorder); it is not in `events`. */
  truncatedLine?: number;
}

/** A problem in a recording, tied to the 1-based line it is on. */
export class CastFormatError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = 'CastFormatError';
  }
}

const EVENT_CODES: ReadonlySet<string> = new Set(['o', 'i', 'r', 'm']);
const RESIZE_DATA = /^\d+x\d+$/;

export function encodeHeader(header: CastHeader): string {
  return `${JSON.stringify(header)}\n`;
}

/** Times are written with microsecond precision, as asciinema does. */
export function encodeEvent(event: CastEvent): string {
  const time = Math.round(event.time * 1e6) / 1e6;
  return `${JSON.stringify([time, event.code, event.data])}\n`;
}

/**
 * Parses and validates a recording. Throws CastFormatError at the first problem. A last
 * line without its newline that is not valid JSON is the trace of a recorder killed in
 * mid-write: the recording is valid up to the line before, so it is reported in
 * `truncatedLine` rather than thrown.
 */
export function parseCast(text: string): Cast {
  const lines = text.split('\n');
  const endsWithNewline = lines[lines.length - 1] === '';
  if (endsWithNewline) lines.pop();
  const [headerLine, ...eventLines] = lines;
  if (headerLine === undefined || headerLine === '') throw new CastFormatError(1, 'empty file, expected an asciicast v2 header');

  const header = parseHeader(headerLine);
  const events: CastEvent[] = [];
  let truncatedLine: number | undefined;
  let previousTime = 0;
  for (const [eventIndex, line] of eventLines.entries()) {
    const index = eventIndex + 1;
    const lineNumber = index + 1;
    if (line.trim() === '') continue;
    const isCutOff = index === lines.length - 1 && !endsWithNewline;
    let event: CastEvent;
    try {
      event = parseEvent(line, lineNumber);
    } catch (err) {
      if (isCutOff && err instanceof CastFormatError && !isJson(line)) {
        truncatedLine = lineNumber;
        break;
      }
      throw err;
    }
    if (event.time < previousTime) {
      throw new CastFormatError(lineNumber, `time ${event.time} goes back (previous event at ${previousTime})`);
    }
    previousTime = event.time;
    events.push(event);
  }
  return truncatedLine === undefined ? { header, events } : { header, events, truncatedLine };
}

function parseHeader(line: string): CastHeader {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new CastFormatError(1, `not a JSON header: ${excerpt(line)}`);
  }
  if (!isRecord(value)) throw new CastFormatError(1, `the header must be a JSON object: ${excerpt(line)}`);
  if (value.version !== 2) {
    throw new CastFormatError(1, `unsupported asciicast version ${JSON.stringify(value.version)} (only version 2 is supported)`);
  }
  for (const field of ['width', 'height'] as const) {
    const size = value[field];
    if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0) {
      throw new CastFormatError(1, `header field "${field}" must be a positive integer, got ${JSON.stringify(size)}`);
    }
  }
  for (const field of ['timestamp', 'duration', 'idle_time_limit'] as const) {
    if (field in value && (typeof value[field] !== 'number' || (value[field] as number) < 0)) {
      throw new CastFormatError(1, `header field "${field}" must be a non-negative number, got ${JSON.stringify(value[field])}`);
    }
  }
  for (const field of ['command', 'title'] as const) {
    if (field in value && typeof value[field] !== 'string') {
      throw new CastFormatError(1, `header field "${field}" must be a string, got ${JSON.stringify(value[field])}`);
    }
  }
  if ('env' in value) {
    const env = value.env;
    if (!isRecord(env) || Object.values(env).some((v) => typeof v !== 'string')) {
      throw new CastFormatError(1, 'header field "env" must be an object of strings');
    }
  }
  return value as unknown as CastHeader;
}

function parseEvent(line: string, lineNumber: number): CastEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new CastFormatError(lineNumber, `not an event: ${excerpt(line)}`);
  }
  if (!Array.isArray(value) || value.length !== 3) {
    throw new CastFormatError(lineNumber, `not an event (expected [time, code, data]): ${excerpt(line)}`);
  }
  const [time, code, data] = value as unknown[];
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) {
    throw new CastFormatError(lineNumber, `event time must be a non-negative number, got ${JSON.stringify(time)}`);
  }
  if (typeof code !== 'string' || !EVENT_CODES.has(code)) {
    throw new CastFormatError(lineNumber, `unknown event code ${JSON.stringify(code)} (expected "o", "i", "r" or "m")`);
  }
  if (typeof data !== 'string') {
    throw new CastFormatError(lineNumber, `event data must be a string, got ${JSON.stringify(data)}`);
  }
  if (code === 'r' && !RESIZE_DATA.test(data)) {
    throw new CastFormatError(lineNumber, `resize data must be "COLSxROWS", got ${JSON.stringify(data)}`);
  }
  return { time, code: code as CastEventCode, data };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function excerpt(line: string): string {
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}
