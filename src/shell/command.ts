/**
 * `ckpty shell`: a shell in the current terminal with the checkpoint key.
 */
import type { Command } from 'commander';
import { importEagerly } from '../base/eager-import.js';
import { CkptyError, ExitCode } from '../base/errors.js';
import { PASS_OPTION_HELP, passOption } from '../host/pass-list.js';

interface ShellOptions {
  shell?: string;
  key: string;
  nameTemplate: string;
  snapshot?: boolean;
  pass?: string;
  quiet?: boolean;
  record?: string;
  recordInput?: boolean;
}

export function register(program: Command): void {
  program
    .command('shell')
    .description(
      'Run your shell (or COMMAND) in this terminal with the checkpoint key: pressing it (^E) freezes ' +
        'the foreground job to an image file, and `stty ckpt` changes or disables it.',
    )
    .argument('[command...]', 'program and arguments to run instead of the shell (after --)')
    .option('--shell <program>', 'shell to run instead of $SHELL')
    .option('--key <char>', 'the checkpoint key, in stty syntax (^E, ^T, undef)', '^E')
    .option('--name-template <template>', "image name: %N name, %P pid, %U uid, %% a '%', relative to the job's directory", '%N.ckpt')
    .option('--snapshot', 'the key writes an image and lets the job run on')
    .option('--pass <list>', PASS_OPTION_HELP)
    .option('--quiet', 'no status line after the key')
    .option('--record <file.cast>', 'record the session as an asciicast v2 file, with a marker at each freeze')
    .option('--record-input', 'record keyboard input too (it can hold passwords)')
    .action(async (command: string[], options: ShellOptions) => {
      const [{ runPlain }, { parseCcharArg }, { checkNameTemplate }] = await Promise.all([
        importEagerly(() => import('./plain.js')),
        import('../termios/stty.js'),
        import('../freezer/native.js'),
      ]);
      const key = parseCcharArg(options.key);
      if (typeof key !== 'number') throw new CkptyError(`--key: ${key.message}`, ExitCode.usage);
      // A bad template is a usage error now, not a refusal at the first key press.
      checkNameTemplate(options.nameTemplate);
      const [file, ...args] = command.length > 0 ? command : [options.shell ?? process.env.SHELL ?? '/bin/sh'];
      process.exitCode = await runPlain({
        file: file!,
        args,
        key,
        nameTemplate: options.nameTemplate,
        snapshot: options.snapshot === true,
        pass: passOption(options.pass),
        quiet: options.quiet === true,
        ...(options.record ? { record: { path: options.record, input: options.recordInput === true } } : {}),
      });
    });
}
