/**
 * `ckpty freeze PID [-j] [-o FILE] [--name-template T] [--snapshot] [--json]`: the help
 * lives here, the command is native (bin/ckpty runs tty/bin/ckpty-freezer). Reached
 * through Node anyway (e.g. `node dist/cli/main.js freeze`), it runs the native program
 * and ends like it.
 */
import type { Command } from 'commander';
import { runNativeCommand } from '../base/native-programs.js';

export function register(program: Command): void {
  program
    .command('freeze')
    .description(
      'freeze a process, its threads and its descendants in its process group (with --job: the whole ' +
        'process group) to one image file (ELF core), then end them with status 161; with --snapshot they run on. ' +
        'What cannot be rebuilt is refused by name and left untouched. ' +
        'Unlike the checkpoint key (and like gcore) it ignores ulimit -c 0',
    )
    .argument('<pid>', 'the process to freeze')
    .option('-j, --job', 'freeze the whole process group of PID, as the checkpoint key does')
    .option('-o, --output <file>', 'image file, relative to the current directory')
    .option('--name-template <template>', "image name relative to the process's directory: %N name, %P pid, %U uid, %%", '%N.ckpt')
    .option('--snapshot', 'write the image and let the process run on')
    .option('--close-outside-sockets', 'thaw sockets connected outside the job as closed, instead of refusing them')
    .option('--max-contents <size>', 'most bytes of one deleted file or memfd to store (K, M, G)', '64M')
    .option('--json', 'print the result as JSON')
    .action(() => runNativeCommand('ckpty-freezer', 'freeze'));
}
