/** `ckpty freeze PID [-o FILE] [--name-template T] [--snapshot] [--json]` */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('freeze')
    .description(
      'freeze a process to an image file (ELF core), then end it with status 161; ' +
        'with --snapshot it runs on. Refused, untouched: threads, sockets/pipes, set-uid. ' +
        'Unlike the checkpoint key (and like gcore) it ignores ulimit -c 0',
    )
    .argument('<pid>', 'the process to freeze')
    .option('-o, --output <file>', 'image file, relative to the current directory')
    .option('--name-template <template>', 'image name relative to the process\'s directory: %N name, %P pid, %U uid, %%', '%N.ckpt')
    .option('--snapshot', 'write the image and let the process run on')
    .option('--json', 'print the result as JSON')
    .action(async (pid: string, options: { output?: string; nameTemplate?: string; snapshot?: boolean; json?: boolean }) => {
      const { runFreeze } = await import('./freeze.js');
      await runFreeze(pid, options);
    });
}
