/**
 * `ckpty tape`: sets up the session a tape describes (the real ckpty command, headless,
 * with a pinned environment so that its output is the same on every run), runs the
 * tape's commands, and writes the recording and screenshots.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findProgram } from '../../base/find-program.js';
import type { CastHeader } from '../asciicast.js';
import { CastWriter } from '../cast-writer.js';
import { writingUserFile } from '../files.js';
import { frameGeometry } from '../geometry.js';
import { MarkerTail } from '../marker-tail.js';
import { renderSvg, renderText } from '../screenshot.js';
import type { ScreenshotFormat, Tape, TapeSetup } from './ast.js';
import { evaluate, STEP_QUIET_MS, TapeRunError } from './evaluator.js';
import { NO_RECORDING, VirtualRecording, WallRecording, type TapeRecording } from './recording.js';
import { TapeSession } from './session.js';
import { CKPTY_COMMAND } from '../../base/native-programs.js';

export interface TapeRunOptions {
  /** The tape's name, for the recording's title and the screenshots' window bar. */
  title: string;
  /** Where to write the recording (wins over the tape's Output). */
  output?: string;
  /** A screenshot of the screen at the end of the tape. */
  screenshot?: { path: string; format: ScreenshotFormat };
  /** Times from the tape's own clock instead of the wall clock. */
  deterministic: boolean;
}

/** The ckpty command line, run with the same node as this process. */
const CKPTY_CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const TERM = 'xterm-256color';
/** How long the session may take to show its first prompt. */
const START_TIMEOUT_MS = 15_000;

/** Flags that make each shell start without the user's start-up files. */
const SHELL_FLAGS: Record<string, string[]> = {
  bash: ['--noprofile', '--norc', '-i'],
  zsh: ['--no-rcs', '-i'],
  sh: ['-i'],
  dash: ['-i'],
  ksh: ['-i'],
  mksh: ['-i'],
};

export async function runTape(tape: Tape, options: TapeRunOptions): Promise<void> {
  const { setup } = tape;
  const { columns, rows } = frameGeometry(setup);
  const scratch = mkdtempSync(join(tmpdir(), 'ckpty-tape-'));
  try {
    const binDirectory = join(scratch, 'bin');
    const workDirectory = join(scratch, 'work');
    mkdirSync(binDirectory);
    mkdirSync(workDirectory);
    // `ckpty` inside the session is this very ckpty, whatever the PATH says.
    writeExecutable(join(binDirectory, 'ckpty'), ['env', `CKPTY_NODE=${process.execPath}`, CKPTY_COMMAND]);

    const path = `${binDirectory}${delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`;
    for (const { program, span } of setup.requires) {
      if (!findProgram(program, path)) throw new TapeRunError(span, `${program} is required but not found in PATH`);
    }
    const shellPath = findProgram(setup.shell, path);
    if (!shellPath) throw new TapeRunError(undefined, `the shell "${setup.shell}" is not found in PATH`);

    // The full-screen mode takes a shell without arguments: a script passes the flags.
    const shellScript = join(scratch, 'shell');
    writeExecutable(shellScript, [shellPath, ...(SHELL_FLAGS[basename(shellPath)] ?? [])]);
    const innerCast = join(scratch, 'session.cast');
    const castPath = options.output ?? setup.output;
    const writer = castPath ? writingUserFile(castPath, () => new CastWriter(castPath, castHeader(columns, rows, shellPath, options))) : undefined;
    const recording: TapeRecording = !writer ? NO_RECORDING : options.deterministic ? new VirtualRecording(writer) : new WallRecording(writer);
    const markers = new MarkerTail(innerCast);
    const session = new TapeSession({
      file: process.execPath,
      args: [CKPTY_CLI, ...sessionArguments(setup, innerCast, shellScript)],
      env: sessionEnvironment(setup, path, shellPath, workDirectory),
      // As in VHS, the session starts in the current directory.
      cwd: process.cwd(),
      columns,
      rows,
      onOutput: (data) => {
        recording.output(data);
        for (const label of markers.poll()) recording.marker(label);
      },
    });
    try {
      const started = await session.waitFor(() => session.screen.text().some((line) => line !== ''), START_TIMEOUT_MS);
      if (!started) throw new TapeRunError(undefined, 'the session did not start', session.screen.text());
      await session.settle(STEP_QUIET_MS, 5000);
      recording.endStep();
      await evaluate(tape.commands, {
        session,
        recording,
        settleSteps: options.deterministic,
        prefixBytes: PREFIX.bytes,
        screenshot: async (file, format) => writeScreenshot(file, format, session, setup, options.title),
      });
      // Markers arrive with the output that announces them; this catches a last one without output.
      for (const label of markers.poll()) recording.marker(label);
      recording.endStep();
      if (options.screenshot) {
        await session.settle(STEP_QUIET_MS, 5000);
        writeScreenshot(options.screenshot.path, options.screenshot.format, session, setup, options.title);
      }
    } finally {
      await session.close();
      recording.close();
      writer?.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The full-screen session's prefix key, given on its command line so that Prefix knows it. */
const PREFIX = { stty: '^]', bytes: '\x1d' };

function sessionArguments(setup: TapeSetup, innerCast: string, shell: string): string[] {
  const options = [
    // The session records itself too: that is where the freeze/thaw markers come from.
    ...['--record', innerCast],
    ...(setup.key === undefined ? [] : ['--key', setup.key]),
    ...(setup.snapshot ? ['--snapshot'] : []),
    ...(setup.nameTemplate === undefined ? [] : ['--name-template', setup.nameTemplate]),
  ];
  return setup.mode === 'plain' ? ['shell', ...options, '--', shell] : [...options, '--prefix', PREFIX.stty, '--shell', shell];
}

/** A shell script that runs `argv` with the script's own arguments. */
function writeExecutable(path: string, argv: string[]): void {
  const quoted = argv.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  writeFileSync(path, `#!/bin/sh\nexec ${quoted} "$@"\n`, { mode: 0o755 });
}

/**
 * A small, fixed environment: the same prompt, locale, time zone and terminal type on
 * every machine, no history file, and the tape's Env on top.
 */
function sessionEnvironment(setup: TapeSetup, path: string, shellPath: string, workDirectory: string): Record<string, string> {
  const inherited = ['USER', 'LOGNAME', 'CKPTY_DEBUG'];
  const env: Record<string, string> = {};
  for (const name of inherited) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    PATH: path,
    TERM,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
    SHELL: shellPath,
    PS1: '$ ',
    PS2: '> ',
    PROMPT: '$ ',
    HISTFILE: '/dev/null',
    // A scratch directory the tape may use (`cd $CKPTY_TAPE_TMP`), removed at the end; as
    // HOME it keeps the user's own start-up files (~/.gdbinit, ~/.inputrc) out of the demo.
    CKPTY_TAPE_TMP: workDirectory,
    HOME: workDirectory,
    ...setup.env,
  };
}

function castHeader(columns: number, rows: number, shellPath: string, options: TapeRunOptions): CastHeader {
  return {
    version: 2,
    width: columns,
    height: rows,
    // A deterministic recording must not carry the time it was made.
    ...(options.deterministic ? {} : { timestamp: Math.floor(Date.now() / 1000) }),
    env: { TERM, SHELL: shellPath },
    title: options.title,
  };
}

function writeScreenshot(file: string, format: ScreenshotFormat, session: TapeSession, setup: TapeSetup, title: string): void {
  const snapshot = session.screen.snapshot();
  writingUserFile(file, () => writeFileSync(file, format === 'svg' ? renderSvg(snapshot, { ...setup, title }) : renderText(snapshot)));
}
