/**
 * `ckpty thaw FILE [--json] [--quiet] [--check]`: the help lives here, the command is
 * native (bin/ckpty runs tty/bin/ckpty-thawer). Reached through Node anyway (e.g.
 * `node dist/cli/main.js thaw`), it runs the native program and ends like it.
 */
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { THAWER_PATH } from './native.js';

export function register(program: Command): void {
  program
    .command('thaw')
    .description(
      'bring a frozen process back to life in this terminal, as the foreground job, where it stopped; ' +
        'ends with its exit status. Refused, nothing started: an image not yours or writable by others, ' +
        'a changed executable or mapped file, another kernel',
    )
    .argument('<file>', 'the image file')
    .option('--json', 'print the thaw as JSON on stdout before the program runs')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--check', 'check the image can be thawed here, start nothing')
    .action((file: string, options: { json?: boolean; quiet?: boolean; check?: boolean }) => {
      const flags = Object.entries(options).filter(([, on]) => on).map(([name]) => `--${name}`);
      const run = spawnSync(THAWER_PATH, [...flags, '--', file], { stdio: 'inherit' });
      if (run.signal) process.kill(process.pid, run.signal);
      process.exitCode = run.status ?? 128 + constants.signals[run.signal ?? 'SIGKILL'];
    });
}
