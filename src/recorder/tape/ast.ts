/**
 * What a parsed tape is: the set-up of its session, then the commands that drive it.
 * Arguments are typed here (milliseconds, compiled regexes, key descriptions); nothing
 * is parsed again at run time.
 */
import type { Diagnostic } from './diagnostics.js';
import type { KeySpec } from './keys.js';

/** Where a command is in the tape, for run-time errors (a Wait that timed out). */
export type Span = Omit<Diagnostic, 'message'>;

export type SessionMode = 'plain' | 'fullscreen';

/** Settings fixed before the session starts. Width and Height are pixels, as in VHS. */
export interface TapeSetup {
  shell: string;
  mode: SessionMode;
  width: number;
  height: number;
  fontSize: number;
  fontFamily: string;
  lineHeight: number;
  padding: number;
  env: Record<string, string>;
  /** Programs the tape needs (`Require`), checked before the session starts. */
  requires: { program: string; span: Span }[];
  /** The recording to write (`Output`); the command line's -o wins. */
  output?: string;
  /** ckpty's own session options: `--key`, `--snapshot`, `--name-template`. */
  key?: string;
  snapshot: boolean;
  nameTemplate?: string;
}

export const DEFAULT_SETUP: Readonly<TapeSetup> = {
  shell: 'bash',
  mode: 'plain',
  width: 1200,
  height: 600,
  fontSize: 22,
  fontFamily: "'JetBrains Mono', 'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace",
  lineHeight: 1,
  padding: 60,
  env: {},
  requires: [],
  snapshot: false,
};

/** Settings a tape may change at any point. */
export interface PacingSettings {
  typingSpeedMs: number;
  waitTimeoutMs: number;
  waitPattern: RegExp;
}

export const DEFAULT_PACING: Readonly<PacingSettings> = {
  typingSpeedMs: 50,
  waitTimeoutMs: 15_000,
  // The runner pins the prompt to "$ "; Line scope compares the line without trailing blanks.
  waitPattern: /\$$/,
};

export type WaitScope = 'line' | 'screen';
export type ScreenshotFormat = 'txt' | 'svg';

export type TapeCommand =
  | { kind: 'type'; span: Span; text: string; speedMs?: number }
  | { kind: 'key'; span: Span; key: KeySpec; count: number; speedMs?: number }
  | { kind: 'prefix'; span: Span; key: KeySpec }
  | { kind: 'sleep'; span: Span; ms: number }
  | { kind: 'wait'; span: Span; scope: WaitScope; pattern?: RegExp; timeoutMs?: number }
  | { kind: 'hide'; span: Span }
  | { kind: 'show'; span: Span }
  | { kind: 'screenshot'; span: Span; path: string; format: ScreenshotFormat }
  | { kind: 'pacing'; span: Span; change: Partial<PacingSettings> };

export interface Tape {
  setup: TapeSetup;
  commands: TapeCommand[];
}
