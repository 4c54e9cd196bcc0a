/**
 * Runs a parsed tape's commands against a session: keys go in with the tape's typing
 * pace, waits watch the screen, and every step is reported to the recording.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_PACING, type PacingSettings, type ScreenshotFormat, type Span, type TapeCommand } from './ast.js';
import { renderRepaint } from '../screenshot.js';
import { keyBytes } from './keys.js';
import type { TapeRecording } from './recording.js';
import type { TapeSession } from './session.js';

/** A run-time failure, tied to the command that failed. */
export class TapeRunError extends Error {
  constructor(
    /** The command at fault; undefined when the session itself failed. */
    readonly span: Span | undefined,
    message: string,
    /** The screen at the time, for the user to see why. */
    readonly screen?: string[],
  ) {
    super(message);
    this.name = 'TapeRunError';
  }
}

export interface EvaluatorContext {
  session: TapeSession;
  recording: TapeRecording;
  /** Settle the output after every step: what makes a deterministic recording's events stable. */
  settleSteps: boolean;
  /** The bytes of the full-screen session's prefix key. */
  prefixBytes: string;
  screenshot(path: string, format: ScreenshotFormat): Promise<void>;
}

/** A step's output is complete once the session has been quiet this long. */
export const STEP_QUIET_MS = 100;
const STEP_SETTLE_MAX_MS = 5000;

export async function evaluate(commands: readonly TapeCommand[], context: EvaluatorContext): Promise<void> {
  const pacing: PacingSettings = { ...DEFAULT_PACING };
  const { session, recording } = context;

  const pause = async (ms: number): Promise<void> => {
    if (ms > 0) await sleep(ms);
    recording.advance(ms);
  };
  const press = async (bytes: string, speedMs: number): Promise<void> => {
    if (session.hasExited) throw new TapeRunError(current?.span, 'the session has ended', session.screen.text());
    recording.keystroke(bytes);
    session.send(bytes);
    await pause(speedMs);
  };

  let current: TapeCommand | undefined;
  for (const command of commands) {
    current = command;
    switch (command.kind) {
      case 'type':
        for (const char of command.text) await press(char, command.speedMs ?? pacing.typingSpeedMs);
        break;
      case 'key':
        for (let i = 0; i < command.count; i++) {
          await press(keyBytes(command.key, session.screen.applicationCursorKeys), command.speedMs ?? pacing.typingSpeedMs);
        }
        break;
      case 'prefix':
        await press(context.prefixBytes + keyBytes(command.key, session.screen.applicationCursorKeys), pacing.typingSpeedMs);
        break;
      case 'sleep':
        await pause(command.ms);
        break;
      case 'wait':
        await wait(command, pacing, session);
        break;
      case 'hide':
        recording.hide();
        break;
      case 'show':
        await session.drain();
        recording.show(renderRepaint(session.screen.snapshot()));
        break;
      case 'screenshot':
        await session.drain();
        await context.screenshot(command.path, command.format);
        break;
      case 'pacing':
        Object.assign(pacing, command.change);
        break;
    }
    if (context.settleSteps) await session.settle(STEP_QUIET_MS, STEP_SETTLE_MAX_MS);
    recording.endStep();
  }
}

async function wait(command: Extract<TapeCommand, { kind: 'wait' }>, pacing: PacingSettings, session: TapeSession): Promise<void> {
  const pattern = command.pattern ?? pacing.waitPattern;
  const timeoutMs = command.timeoutMs ?? pacing.waitTimeoutMs;
  const seen = (): string => (command.scope === 'screen' ? session.screen.text().join('\n') : session.screen.cursorLine());
  if (await session.waitFor(() => pattern.test(seen()), timeoutMs)) return;
  const where = command.scope === 'screen' ? 'on the screen' : 'on the cursor line';
  const why = session.hasExited ? 'the session ended' : `timed out after ${formatMs(timeoutMs)}`;
  throw new TapeRunError(command.span, `Wait ${why}: /${pattern.source}/ not found ${where}`, session.screen.text());
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
