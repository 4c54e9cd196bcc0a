/**
 * The one way tape problems are shown, whether the parser found them or the runner did:
 * `file:line:column: message`, then the source line with ^^^ under the culprit.
 */
import type { Position } from './token.js';

export interface Diagnostic extends Position {
  /** Width of the ^^^ (at least 1). */
  length: number;
  message: string;
}

export function renderDiagnostic(fileName: string, source: string, diagnostic: Diagnostic): string {
  const sourceLine = (source.split('\n')[diagnostic.line - 1] ?? '').replace(/\r$/, '').replace(/\t/g, ' ');
  const gutter = String(diagnostic.line);
  const pad = ' '.repeat(gutter.length);
  const column = Math.min(diagnostic.column, sourceLine.length + 1);
  const carets = '^'.repeat(Math.max(1, Math.min(diagnostic.length, sourceLine.length - column + 1)));
  return (
    `${fileName}:${diagnostic.line}:${diagnostic.column}: ${diagnostic.message}\n` +
    ` ${gutter} | ${sourceLine}\n` +
    ` ${pad} | ${' '.repeat(column - 1)}${carets}\n`
  );
}

export function renderDiagnostics(fileName: string, source: string, diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map((diagnostic) => renderDiagnostic(fileName, source, diagnostic)).join('');
}
