/**
 * stty's diagnostics, worded and quoted exactly as GNU coreutils 9.1 prints them.
 * Problems are kept as data; the text is rendered for a locale on demand because GNU
 * quotes 'like this' in the C locale and ‘like this’ in UTF-8 locales.
 */

export type SttyProblem =
  | { kind: 'invalid-argument'; arg: string }
  | { kind: 'missing-argument'; arg: string }
  | { kind: 'invalid-integer'; arg: string; cause?: 'range' | 'overflow' }
  | { kind: 'invalid-line'; arg: string }
  | { kind: 'output-style-conflict' }
  | { kind: 'output-style-with-modes' };

/** C: ASCII quotes and octal escapes for non-ASCII bytes; utf8: GNU's UTF-8 locale style. */
export type QuoteLocale = 'C' | 'utf8';

const STRERROR = {
  range: 'Numerical result out of range',
  overflow: 'Value too large for defined data type',
} as const;

const C_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
};

const octalEscape = (byte: number): string => '\\' + byte.toString(8).padStart(3, '0');

/** gnulib's quote() (locale_quoting_style) for one argument. */
export function quote(arg: string, locale: QuoteLocale = 'C'): string {
  if (locale === 'utf8') {
    let body = '';
    for (const char of arg) {
      const code = char.codePointAt(0) ?? 0;
      if (C_ESCAPES[char]) body += C_ESCAPES[char];
      else if (char === '\u2019') body += '\\\u2019';
      else if (code < 0x20 || code === 0x7f) body += octalEscape(code);
      else body += char;
    }
    return `\u2018${body}\u2019`;
  }
  let body = '';
  for (const byte of new TextEncoder().encode(arg)) {
    const char = String.fromCharCode(byte);
    if (C_ESCAPES[char]) body += C_ESCAPES[char];
    else if (char === "'") body += "\\'";
    else if (byte < 0x20 || byte >= 0x7f) body += octalEscape(byte);
    else body += char;
  }
  return `'${body}'`;
}

export class SttyError {
  constructor(readonly problem: SttyProblem) {}

  /** GNU follows these messages with "Try 'stty --help' for more information." */
  get tryHelp(): boolean {
    return this.problem.kind === 'invalid-argument' || this.problem.kind === 'missing-argument';
  }

  /** The message without the `stty: ` prefix, quoted as in the C locale. */
  get message(): string {
    return this.text('C');
  }

  text(locale: QuoteLocale = 'C'): string {
    const p = this.problem;
    switch (p.kind) {
      case 'invalid-argument':
        return `invalid argument ${quote(p.arg, locale)}`;
      case 'missing-argument':
        return `missing argument to ${quote(p.arg, locale)}`;
      case 'invalid-integer':
        return `invalid integer argument: ${quote(p.arg, locale)}${p.cause ? `: ${STRERROR[p.cause]}` : ''}`;
      case 'invalid-line':
        return `invalid line discipline ${quote(p.arg, locale)}`;
      case 'output-style-conflict':
        return 'the options for verbose and stty-readable output styles are\nmutually exclusive';
      case 'output-style-with-modes':
        return 'when specifying an output style, modes may not be set';
    }
  }

  /** Everything GNU stty writes to stderr for this problem. */
  stderr(locale: QuoteLocale = 'C'): string {
    // The hint keeps ASCII quotes in every locale.
    const help = this.tryHelp ? "Try 'stty --help' for more information.\n" : '';
    return `stty: ${this.text(locale)}\n${help}`;
  }
}
