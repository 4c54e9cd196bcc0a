/**
 * The outer terminal's key encodings kept what the program asked its own (emulated)
 * terminal for: cursor keys, keypad and bracketed paste. ckpty reads keys raw and passes
 * them on, so the outer terminal must encode them the way the program expects.
 */

export interface InputModes {
  applicationCursorKeys: boolean;
  applicationKeypad: boolean;
  bracketedPaste: boolean;
}

export class ModeMirror {
  private readonly mirrored: InputModes = { applicationCursorKeys: false, applicationKeypad: false, bracketedPaste: false };

  /** The escape sequences that switch the outer terminal to `want` ('' when it is there already). */
  update(want: InputModes): string {
    let out = '';
    if (want.applicationCursorKeys !== this.mirrored.applicationCursorKeys) out += want.applicationCursorKeys ? '\x1b[?1h' : '\x1b[?1l';
    if (want.applicationKeypad !== this.mirrored.applicationKeypad) out += want.applicationKeypad ? '\x1b=' : '\x1b>';
    if (want.bracketedPaste !== this.mirrored.bracketedPaste) out += want.bracketedPaste ? '\x1b[?2004h' : '\x1b[?2004l';
    Object.assign(this.mirrored, want);
    return out;
  }

  /** At the end: bracketed paste off (blessed puts the cursor keys and keypad back itself). */
  release(): string {
    return this.mirrored.bracketedPaste ? '\x1b[?2004l' : '';
  }
}
