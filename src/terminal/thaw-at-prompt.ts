/**
 * Thawing from the image list is typing `ckpty thaw FILE` at the shell's prompt: the
 * thawed program then is the shell's foreground job, as if the user had typed it (job
 * control, exit status, history).
 */
import { realpathSync } from 'node:fs';
import { findProgram } from '../base/find-program.js';
import { shellWord } from '../base/format.js';
import { CKPTY_COMMAND } from '../base/native-programs.js';

/**
 * The keys that thaw `image` (a path relative to the shell's directory). ^E^U first
 * empties the prompt line (end of line, kill to start: readline, zsh, fish, and the
 * kernel's canonical mode all do that).
 */
export function thawKeys(image: string): string {
  return `\x05\x15${ckptyCommand()} thaw ${shellWord(image)}\r`;
}

/** `ckpty` when that name on PATH runs this very ckpty (bin/ckpty), else its path. */
function ckptyCommand(): string {
  const self = CKPTY_COMMAND;
  const onPath = findProgram('ckpty', process.env.PATH ?? '');
  return onPath !== undefined && sameFile(onPath, self) ? 'ckpty' : shellWord(self);
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
