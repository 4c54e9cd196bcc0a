/** `ckpty info FILE [--json]`: what an image holds. */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('info')
    .description(
      'describe a ckpty image: the job (members, parents, groups), each process with its threads, mappings, ' +
        'descriptors and their state, timers, signals, terminal modes; the screen',
    )
    .argument('<file>', 'the image file')
    .option('--json', 'print every field as JSON (64-bit values as strings)')
    .action(async (file: string, options: { json?: boolean }) => {
      const { runInfo } = await import('./info.js');
      await runInfo(file, options);
    });
}
