/**
 * Tokens of the tape language. Every token knows where it is in the source, so that
 * the parser and the runner can point at it (see diagnostics.ts).
 */

export type TokenKind =
  /** A bare word: command and setting names, numbers, durations, key names, paths. */
  | 'word'
  /** A quoted string ("…", '…' or `…`), without its quotes and without escapes, as in VHS. */
  | 'string'
  /** A regular expression between slashes, without them. */
  | 'regex'
  | 'at'
  | 'plus'
  | 'newline'
  | 'eof'
  /** Text the lexer could not read (an unterminated string or regex); `text` says why. */
  | 'illegal';

export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column (in UTF-16 code units of the line). */
  column: number;
}

export interface Token extends Position {
  kind: TokenKind;
  /** The token's value (for strings and regexes: the text inside the delimiters). */
  text: string;
  /** How many source characters the token covers, for the ^^^ under it. */
  length: number;
  /** A regex's flags (`/done$/m`), a JavaScript extension to VHS's syntax. */
  flags?: string;
}
