/**
 * `ckpty tape FILE`: read, parse (reporting every error), run, and turn a failure into
 * a message that points at the tape's line and shows the screen.
 */
import { basename } from 'node:path';
import { CkptyError, ExitCode } from '../../base/errors.js';
import { readUserFile } from '../files.js';
import type { ScreenshotFormat, Tape } from './ast.js';
import { renderDiagnostic, renderDiagnostics } from './diagnostics.js';
import { TapeRunError } from './evaluator.js';
import { parseTape } from './parser.js';
import { runTape } from './runner.js';

export interface TapeCommandOptions {
  output?: string;
  screenshot?: string;
  deterministic?: boolean;
}

export async function runTapeFile(file: string, options: TapeCommandOptions): Promise<void> {
  const source = readUserFile(file);
  const tape = parseOrExplain(file, source);
  const screenshot = options.screenshot === undefined ? undefined : { path: options.screenshot, format: screenshotFormat(options.screenshot) };
  if (options.output !== undefined && !/\.cast$/i.test(options.output)) {
    throw new CkptyError(`--output must name a .cast file, not "${options.output}"`, ExitCode.usage);
  }
  try {
    await runTape(tape, {
      title: basename(file),
      deterministic: options.deterministic ?? false,
      ...(options.output === undefined ? {} : { output: options.output }),
      ...(screenshot === undefined ? {} : { screenshot }),
    });
  } catch (err) {
    if (err instanceof TapeRunError) throw new CkptyError(explainFailure(file, source, err), ExitCode.failure);
    throw err;
  }
}

/** The tape, or every parse error on stderr and exit status 2. */
function parseOrExplain(file: string, source: string): Tape {
  const { tape, diagnostics } = parseTape(source);
  if (diagnostics.length === 0) return tape;
  process.stderr.write(renderDiagnostics(file, source, diagnostics));
  const count = diagnostics.length === 1 ? '1 error' : `${diagnostics.length} errors`;
  throw new CkptyError(`${file}: ${count}, nothing was run`, ExitCode.usage);
}

function screenshotFormat(path: string): ScreenshotFormat {
  const extension = /\.([^./]+)$/.exec(path)?.[1]?.toLowerCase();
  if (extension === 'txt' || extension === 'svg') return extension;
  throw new CkptyError(`--screenshot writes .txt or .svg files, not "${path}"`, ExitCode.usage);
}

/** The failed command with ^^^ under it, then the screen as it was, framed. */
function explainFailure(file: string, source: string, err: TapeRunError): string {
  let text = err.span ? renderDiagnostic(file, source, { ...err.span, message: err.message }).trimEnd() : `${file}: ${err.message}`;
  if (err.screen) {
    const width = Math.max(0, ...err.screen.map((line) => line.length));
    const rule = '─'.repeat(width + 2);
    text += `\nthe screen:\n┌${rule}┐\n${err.screen.map((line) => `│ ${line.padEnd(width)} │`).join('\n')}\n└${rule}┘`;
  }
  return text;
}
