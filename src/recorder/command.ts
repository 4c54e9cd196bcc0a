/**
 * `ckpty play` and `ckpty tape`. Options only; the implementations load on use.
 */
import { InvalidArgumentError, type Command } from 'commander';

export function register(program: Command): void {
  program
    .command('play')
    .description('replay an asciicast v2 recording (.cast) in this terminal')
    .argument('<file>', 'the recording')
    .option('--speed <factor>', 'playback speed (2 = twice as fast)', positiveNumber, 1)
    .option('--idle-limit <seconds>', 'shorten longer pauses to this many seconds', positiveNumber)
    .option('--markers', 'list the markers (freezes, snapshots, refusals) with their times instead of playing')
    .addHelpText(
      'after',
      '\nA file that is not a valid asciicast v2 recording is reported with its line number; exit status 5.',
    )
    .action(async (file: string, options: { speed: number; idleLimit?: number; markers?: boolean }) => {
      const { readCastFile, play, formatMarkers } = await import('./player.js');
      const cast = readCastFile(file);
      if (cast.truncatedLine !== undefined) {
        process.stderr.write(`ckpty: ${file}:${cast.truncatedLine}: last event cut off (the recorder was killed); playing up to it\n`);
      }
      if (options.markers) {
        process.stdout.write(formatMarkers(cast));
        return;
      }
      await play(cast, { speed: options.speed, ...(options.idleLimit === undefined ? {} : { idleLimit: options.idleLimit }) }, process.stdout);
    });

  program
    .command('tape')
    .description('run a scripted session (a VHS-style .tape) headless; record it and take screenshots')
    .argument('<file>', 'the tape')
    .option('-o, --output <file.cast>', 'write the recording here (instead of the tape\'s Output)')
    .option('--screenshot <file>', 'a screenshot of the screen at the end, as .txt or .svg')
    .option('--deterministic', 'recorded times come from the tape\'s own clock: the same tape gives the same recording')
    .addHelpText('after', TAPE_HELP)
    .action(async (file: string, options: { output?: string; screenshot?: string; deterministic?: boolean }) => {
      const { runTapeFile } = await import('./tape/cli.js');
      await runTapeFile(file, options);
    });
}

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!(number > 0) || !Number.isFinite(number)) throw new InvalidArgumentError('expected a positive number');
  return number;
}

const TAPE_HELP = `
Commands (one per line, # starts a comment; a VHS-compatible subset):
  Output demo.cast                  the recording to write
  Require gdb                       fail early if a program is missing
  Set Shell|Width|Height|FontSize|FontFamily|LineHeight|Padding <value>
                                    before the first command; Width/Height in pixels as in VHS
  Set Mode plain|fullscreen         ckpty shell (default) or the full-screen ckpty
  Set Key ^T, Set Snapshot true, Set NameTemplate "%N-%P.ckpt"
                                    the session's --key, --snapshot, --name-template
  Set TypingSpeed|WaitTimeout <duration>, Set WaitPattern /regex/
  Env NAME "value"
  Type[@<speed>] "text"             also 'text' and \`text\`; no escapes
  Enter Backspace Delete Insert Tab Escape Space Up Down Left Right Home End PageUp PageDown
                                    [@<speed>] [count]
  Ctrl+<key>  Alt+<key>  Ctrl+Alt+<key>  Shift+Tab
  Prefix <key>                      a host command of the full-screen session
  Sleep <duration>                  500ms, 2s, 1.5 (seconds)
  Wait[+Screen|+Line][@<timeout>] [/regex/[imsu]]
                                    default: the cursor line, WaitTimeout, WaitPattern /\\$$/
  Hide / Show                       leave the commands between them out of the recording
  Screenshot file.txt|file.svg
Paths that start with / must be quoted (a bare /… is a regex).
VHS's video settings (Framerate, Theme, ...) are accepted and have no effect.
The session runs with PS1='$ ', TERM=xterm-256color, LC_ALL=C.UTF-8, TZ=UTC, no history,
and HOME=$CKPTY_TAPE_TMP, a scratch directory removed at the end.

Exit status: 2 if the tape does not parse (every error is shown), 1 if a command fails
(a Wait times out: the screen is shown).`;
