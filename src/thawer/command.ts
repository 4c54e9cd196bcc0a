/** `ckpty thaw FILE [--json] [--quiet]` */
import type { Command } from 'commander';

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
    .action(async (file: string, options: { json?: boolean; quiet?: boolean }) => {
      const { runThaw } = await import('./thaw.js');
      await runThaw(file, options);
    });
}
