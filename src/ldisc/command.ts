/**
 * `ckpty ldisc`: the line-discipline simulator as a command.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('ldisc')
    .description(
      "Show what the Linux tty line discipline (plus ckpty's ckpt key) does with every byte read from stdin, " +
        'starting from a new pty\'s settings changed by STTY_ARGS (stty syntax, e.g. -icanon -echo "ckpt ^T").',
    )
    .argument('[stty_args...]', 'stty settings; words starting with "-" are settings, not options')
    .option('--json', 'print one JSON object per event (kinds: echo, data, signal, flush, checkpoint, stop-output, start-output, pending)')
    // `-icanon` and friends are stty words: let them through as arguments.
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (sttyArgs: string[], options: { json?: boolean }) => {
      const { runLdisc } = await import('./run.js');
      await runLdisc(sttyArgs, { json: options.json === true });
    });
}
