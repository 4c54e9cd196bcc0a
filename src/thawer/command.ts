/**
 * `ckpty thaw FILE [--json] [--quiet] [--check]`: the help lives here, the command is
 * native (bin/ckpty runs tty/bin/ckpty-thawer). Reached through Node anyway (e.g.
 * `node dist/cli/main.js thaw`), it runs the native program and ends like it.
 */
import type { Command } from 'commander';
import { runNativeCommand } from '../base/native-programs.js';

export function register(program: Command): void {
  program
    .command('thaw')
    .description(
      'bring a frozen job back to life in this terminal, as the foreground job, where it stopped, every process ' +
        'and thread under its own id (as root where the ids are free, else in a namespace of its own); ' +
        'ends with its exit status. Refused, nothing started: an image not yours or writable by others, ' +
        'a changed executable or mapped file, another kernel',
    )
    .argument('<file>', 'the image file')
    .option('--json', 'print the thaw as JSON on stdout before the program runs')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--check', 'check the image can be thawed here, start nothing')
    .option('--new-ids', 'a single-threaded single process only: under a new pid, in no namespace of its own')
    .action(() => runNativeCommand('ckpty-thawer', 'thaw'));
}
