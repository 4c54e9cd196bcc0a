/**
 * Runs the built `ckpty` CLI (bin/ckpty → dist/, tty/bin/), as a user would. `npm install`
 * builds dist/; locally run `npx tsc -p tsconfig.json` after changing src/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './fixtures.js';

const CLI = resolve(ROOT, 'bin/ckpty');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCkpty(args: string[]): CliResult {
  if (!existsSync(resolve(ROOT, 'dist/image/command.js'))) {
    throw new Error('dist/ is not built: run `npx tsc -p tsconfig.json` first');
  }
  const result = spawnSync(CLI, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
