/**
 * Splits a tape into tokens. The lexer knows nothing of commands: words stay words, and
 * the parser gives them a meaning. It never throws; what it cannot read becomes an
 * `illegal` token for the parser to report.
 */
import type { Token, TokenKind } from './token.js';

const QUOTES = new Set(['"', "'", '`']);
/** Characters that end a word. `/` does not: it starts a regex only at the start of a token. */
const WORD_BREAKS = new Set([' ', '\t', '\r', '\n', '@', '+', '"', "'", '`']);

export function lex(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let index = 0;
  const push = (kind: TokenKind, text: string, start: number, end: number): Token => {
    const token: Token = { kind, text, line, column: start - lineStart + 1, length: Math.max(1, end - start) };
    tokens.push(token);
    return token;
  };

  while (index < source.length) {
    const char = source.charAt(index);
    if (char === ' ' || char === '\t' || char === '\r') {
      index++;
    } else if (char === '\n') {
      push('newline', '\n', index, index + 1);
      index++;
      line++;
      lineStart = index;
    } else if (char === '#') {
      while (index < source.length && source[index] !== '\n') index++;
    } else if (char === '@' || char === '+') {
      push(char === '@' ? 'at' : 'plus', char, index, index + 1);
      index++;
    } else if (QUOTES.has(char) || char === '/') {
      const end = closingDelimiter(source, index, char);
      if (end === undefined) {
        const lineEnd = endOfLine(source, index);
        const what = char === '/' ? 'regular expression' : 'string';
        push('illegal', `unterminated ${what}: missing closing ${char}`, index, lineEnd);
        index = lineEnd;
      } else if (char === '/') {
        let flagsEnd = end + 1;
        while (flagsEnd < source.length && /[a-z]/i.test(source.charAt(flagsEnd))) flagsEnd++;
        const token = push('regex', source.slice(index + 1, end), index, flagsEnd);
        const flags = source.slice(end + 1, flagsEnd);
        if (flags !== '') token.flags = flags;
        index = flagsEnd;
      } else {
        push('string', source.slice(index + 1, end), index, end + 1);
        index = end + 1;
      }
    } else {
      const start = index;
      while (index < source.length && !WORD_BREAKS.has(source.charAt(index))) index++;
      push('word', source.slice(start, index), start, index);
    }
  }
  push('eof', '', index, index);
  return tokens;
}

/** Index of the delimiter that closes the one at `start`, on the same line. */
function closingDelimiter(source: string, start: number, delimiter: string): number | undefined {
  for (let index = start + 1; index < source.length && source[index] !== '\n'; index++) {
    // In a regex `\/` is an escaped slash, not the end.
    if (delimiter === '/' && source[index] === '\\' && source[index + 1] !== '\n') index++;
    else if (source[index] === delimiter) return index;
  }
  return undefined;
}

function endOfLine(source: string, start: number): number {
  const newline = source.indexOf('\n', start);
  return newline === -1 ? source.length : newline;
}
