/** `ckpty info FILE [--json] [--extract PID -o OUT]`: what an image holds. */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('info')
    .description(
      'describe a ckpty image: the job (members, parents, groups), each process with its threads, mappings, ' +
        'descriptors and their state, timers, signals, terminal modes; the screen. --extract writes one member as a core for gdb',
    )
    .argument('<file>', 'the image file')
    .option('--json', 'print every field as JSON (64-bit values as strings)')
    .option('--extract <pid>', "write this member's core, a standalone ELF core file, to the file given by -o")
    .option('-o, --output <file>', 'with --extract: the core file to write (mode 0600)')
    .action(async (file: string, options: { json?: boolean; extract?: string; output?: string }) => {
      const { runInfo } = await import('./info.js');
      await runInfo(file, options);
    });
}
