/**
 * The `ckpty` command line. Each component registers its own subcommand; the
 * registration modules are light (options only) and load their implementation
 * lazily, so that `ckpty freeze` does not pay for the terminal UI's imports.
 */
import { constants } from 'node:os';
import { Command, CommanderError } from 'commander';
import { CkptyError, ExitCode } from '../base/errors.js';
import { register as registerLdisc } from '../ldisc/command.js';
import { register as registerImage } from '../image/command.js';
import { register as registerShell } from '../shell/command.js';
import { register as registerRecorder } from '../recorder/command.js';
import { register as registerTerminal } from '../terminal/command.js';
import { register as registerFreezer } from '../freezer/command.js';
import { register as registerThawer } from '../thawer/command.js';

const program = new Command();
program
  .name('ckpty')
  .description('A checkpoint key for the terminal: freeze the foreground job to a file, thaw it later.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
registerLdisc(program);
registerImage(program);
registerShell(program);
registerRecorder(program);
registerTerminal(program);
registerFreezer(program);
registerThawer(program);

/**
 * A reader that stops early (`ckpty info x.ckpt | head`) is no error: end at once and
 * quietly, with the status of a program killed by SIGPIPE, as other commands do. A
 * terminal that hung up (EIO) sends SIGHUP with it, which ends the command (the session
 * front ends first end their program: shell/plain.ts, terminal/outer-terminal.ts).
 */
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EIO' && process.stdout.isTTY) return;
  if (err.code !== 'EPIPE') throw err;
  process.exit(128 + constants.signals.SIGPIPE);
});

export async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // help and version are "errors" only to commander.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return ExitCode.ok;
    }
    return ExitCode.usage;
  }
  if (err instanceof CkptyError) {
    process.stderr.write(`ckpty: ${err.message}\n`);
    return err.exitCode;
  }
  const detail = process.env.CKPTY_DEBUG && err instanceof Error ? err.stack : String(err);
  process.stderr.write(`ckpty: internal error: ${detail}\n`);
  return ExitCode.internal;
}

process.exitCode = await main(process.argv);
