/**
 * `ckpty` with no subcommand: the full-screen terminal. Its options are the
 * root command's; positional options keep them from swallowing a subcommand's
 * options of the same name (`ckpty shell --key ^T`).
 */
import type { Command } from 'commander';
import { importEagerly } from '../base/eager-import.js';
import { CkptyError, ExitCode } from '../base/errors.js';
import { PASS_OPTION_HELP, passOption } from '../host/pass-list.js';

interface TerminalCliOptions {
  shell?: string;
  key: string;
  nameTemplate: string;
  snapshot?: boolean;
  pass?: string;
  prefix: string;
  record?: string;
  recordInput?: boolean;
}

export function register(program: Command): void {
  program
    .enablePositionalOptions()
    .option('--shell <program>', 'shell to run in the terminal instead of $SHELL')
    .option('--key <char>', 'the checkpoint key, in stty syntax (^E, ^T, undef)', '^E')
    .option('--name-template <template>', "image name: %N name, %P pid, %U uid, %% a '%', relative to the job's directory", '%N.ckpt')
    .option('--snapshot', 'the key writes an image and lets the job run on')
    .option('--pass <list>', PASS_OPTION_HELP)
    .option('--prefix <char>', 'the prefix key for ckpty\'s own commands, in stty syntax', '^]')
    .option('--record <file.cast>', 'record the session as an asciicast v2 file, with a marker at each freeze')
    .option('--record-input', 'record keyboard input too (it can hold passwords)')
    .addHelpText(
      'after',
      '\nWithout a command, ckpty opens a full-screen terminal running your shell with the\n' +
        'checkpoint key, a status line, and host commands behind the prefix key (^] ? lists them).',
    )
    // An unknown word is a mistyped subcommand, not an argument of the terminal.
    .allowExcessArguments()
    .action(async (options: TerminalCliOptions, command: Command) => {
      if (command.args.length > 0) {
        throw new CkptyError(`unknown command '${command.args[0]}' (ckpty --help lists them)`, ExitCode.usage);
      }
      // The session first, compiled whole (the key's path); blessed and the rest as usual.
      await importEagerly(() => import('../host/session.js'));
      const [{ runTerminal }, { parsePrefixKey }, { parseCcharArg }] = await Promise.all([
        import('./app.js'),
        import('./keys.js'),
        import('../termios/stty.js'),
      ]);
      const key = parseCcharArg(options.key);
      if (typeof key !== 'number') throw new CkptyError(`--key: ${key.message}`, ExitCode.usage);
      process.exitCode = await runTerminal({
        ...(options.shell !== undefined && { shell: options.shell }),
        key,
        nameTemplate: options.nameTemplate,
        snapshot: options.snapshot === true,
        pass: passOption(options.pass),
        prefix: parsePrefixKey(options.prefix),
        ...(options.record ? { record: { path: options.record, input: options.recordInput === true } } : {}),
      });
    });
}
