/**
 * Turns tokens into a Tape. The parser reads one command per line; a problem ends that
 * line's parse and is recorded, and parsing goes on with the next line, so that one run
 * reports every error in the file.
 */
import { parseCcharArg } from '../../termios/parse.js';
import { frameGeometry } from '../geometry.js';
import {
  DEFAULT_SETUP,
  type PacingSettings,
  type ScreenshotFormat,
  type Span,
  type Tape,
  type TapeCommand,
  type TapeSetup,
  type WaitScope,
} from './ast.js';
import type { Diagnostic } from './diagnostics.js';
import { ctrlByte, isNamedKey, NAMED_KEYS, type KeySpec } from './keys.js';
import { lex } from './lexer.js';
import type { Token } from './token.js';

export interface ParseResult {
  tape: Tape;
  diagnostics: Diagnostic[];
}

export function parseTape(source: string): ParseResult {
  return new Parser(lex(source)).parse();
}

/** Settings that shape the session, so they must come before the first command that drives it. */
const SETUP_SETTINGS = [
  'Shell',
  'Mode',
  'Width',
  'Height',
  'FontSize',
  'FontFamily',
  'LineHeight',
  'Padding',
  'Key',
  'Snapshot',
  'NameTemplate',
] as const;
type SetupSetting = (typeof SETUP_SETTINGS)[number];
const PACING_SETTINGS = ['TypingSpeed', 'WaitTimeout', 'WaitPattern'] as const;
type PacingSetting = (typeof PACING_SETTINGS)[number];
/** VHS settings about video rendering: accepted so that VHS tapes parse, and without effect. */
const IGNORED_SETTINGS = new Set([
  'Framerate',
  'PlaybackSpeed',
  'LoopOffset',
  'LetterSpacing',
  'Theme',
  'Margin',
  'MarginFill',
  'WindowBar',
  'WindowBarSize',
  'BorderRadius',
  'CursorBlink',
]);
/** VHS commands this subset leaves out, named as such rather than as unknown. */
const UNSUPPORTED_COMMANDS = new Set(['Source', 'Copy', 'Paste', 'ScrollUp', 'ScrollDown']);
const MODIFIERS = new Set(['Ctrl', 'Alt', 'Shift']);
const COMMANDS = [
  'Output',
  'Require',
  'Set',
  'Env',
  'Type',
  'Sleep',
  'Wait',
  'Hide',
  'Show',
  'Screenshot',
  'Prefix',
] as const;

const DURATION = /^(\d+(?:\.\d*)?|\.\d+)(ms|s|m)?$/;
const DURATION_UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_COUNT = 10_000;
/** Below this the session is not usable (and VHS-sized fonts in a tiny frame are a mistake). */
const MIN_COLUMNS = 20;
const MIN_ROWS = 5;

class ParseError extends Error {
  constructor(
    readonly at: Span,
    message: string,
  ) {
    super(message);
  }
}

class Parser {
  private index = 0;
  private lastConsumed: Token;
  private readonly diagnostics: Diagnostic[] = [];
  private readonly setup: TapeSetup = { ...DEFAULT_SETUP, env: {}, requires: [] };
  private readonly commands: TapeCommand[] = [];
  /** The first command that drives the session: setup settings must come before it. */
  private firstAction: Token | undefined;
  private readonly sizeTokens: { Width?: Token; Height?: Token; FontSize?: Token; LineHeight?: Token; Padding?: Token } = {};
  private outputToken: Token | undefined;

  /** The lexer's last token: the parser never moves past it. */
  private readonly eof: Token;

  constructor(private readonly tokens: Token[]) {
    const eof = tokens.at(-1);
    if (eof?.kind !== 'eof') throw new Error('the lexer ends every token list with eof');
    this.eof = eof;
    this.lastConsumed = tokens[0] ?? eof;
  }

  parse(): ParseResult {
    while (this.peek().kind !== 'eof') {
      if (this.peek().kind === 'newline') {
        this.index++;
        continue;
      }
      try {
        this.parseCommand();
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        this.diagnostics.push({ ...err.at, message: err.message });
        this.skipLine();
      }
    }
    this.checkFrameSize();
    return { tape: { setup: this.setup, commands: this.commands }, diagnostics: this.diagnostics };
  }

  private parseCommand(): void {
    const name = this.next();
    if (name.kind === 'illegal') throw new ParseError(name, name.text);
    if (name.kind !== 'word') throw new ParseError(name, `expected a command, got ${describe(name)}`);

    if (isNamedKey(name.text) || (MODIFIERS.has(name.text) && this.peek().kind === 'plus')) {
      this.parseKeyCommand(name);
    } else {
      switch (name.text as (typeof COMMANDS)[number]) {
        case 'Output':
          this.parseOutput(name);
          break;
        case 'Require': {
          const program = this.expectText('a program name');
          this.setup.requires.push({ program, span: this.spanFrom(name) });
          break;
        }
        case 'Set':
          this.parseSet();
          break;
        case 'Env':
          this.parseEnv(name);
          break;
        case 'Type':
          this.parseType(name);
          break;
        case 'Sleep':
          this.parseSleep(name);
          break;
        case 'Wait':
          this.parseWait(name);
          break;
        case 'Hide':
        case 'Show':
          this.action(name);
          this.commands.push({ kind: name.text === 'Hide' ? 'hide' : 'show', span: this.spanFrom(name) });
          break;
        case 'Screenshot':
          this.parseScreenshot(name);
          break;
        case 'Prefix':
          this.parsePrefix(name);
          break;
        default:
          throw new ParseError(name, unknownCommandMessage(name.text));
      }
    }
    this.expectEndOfLine(name);
  }

  private parseOutput(name: Token): void {
    if (this.outputToken) {
      throw new ParseError(name, `Output is given twice (first on line ${this.outputToken.line})`);
    }
    const pathToken = this.peek();
    const path = this.expectText('a file name');
    if (!/\.cast$/i.test(path)) {
      throw new ParseError(
        pathToken,
        `ckpty tape records asciicast: Output must name a .cast file, not "${path}" (use Screenshot for .txt or .svg)`,
      );
    }
    this.outputToken = name;
    this.setup.output = path;
  }

  private parseSet(): void {
    const setting = this.next();
    if (setting.kind !== 'word') throw new ParseError(setting, `expected a setting name after Set, got ${describe(setting)}`);
    if (IGNORED_SETTINGS.has(setting.text)) {
      // Their values have VHS's own syntaxes (a theme is JSON): take the line as it is.
      if (this.atEndOfLine()) throw new ParseError(this.peek(), `expected a value for ${setting.text}`);
      while (!this.atEndOfLine()) this.next();
      return;
    }
    if ((SETUP_SETTINGS as readonly string[]).includes(setting.text)) {
      this.beforeFirstAction(setting, `Set ${setting.text}`);
      this.setSetup(setting, setting.text as SetupSetting);
      return;
    }
    if ((PACING_SETTINGS as readonly string[]).includes(setting.text)) {
      this.commands.push({ kind: 'pacing', span: setting, change: this.pacingChange(setting.text as PacingSetting) });
      return;
    }
    throw new ParseError(setting, `unknown setting "${setting.text}"${suggestion(setting.text, [...SETUP_SETTINGS, ...PACING_SETTINGS])}`);
  }

  private setSetup(token: Token, setting: SetupSetting): void {
    switch (setting) {
      case 'Shell':
        this.setup.shell = this.expectText('a shell');
        break;
      case 'Mode': {
        const value = this.next();
        if (value.kind !== 'word' || (value.text !== 'plain' && value.text !== 'fullscreen')) {
          throw new ParseError(value, `Mode is "plain" (ckpty shell) or "fullscreen" (ckpty), got ${describe(value)}`);
        }
        this.setup.mode = value.text;
        break;
      }
      case 'FontFamily':
        this.setup.fontFamily = this.expectText('a font family');
        break;
      case 'Key': {
        const valueToken = this.peek();
        const key = this.expectText('a key in stty syntax (^E, ^T, undef)');
        const parsed = parseCcharArg(key);
        if (typeof parsed !== 'number') throw new ParseError(valueToken, `Key: ${parsed.message}`);
        this.setup.key = key;
        break;
      }
      case 'Snapshot': {
        const value = this.next();
        if (value.kind !== 'word' || (value.text !== 'true' && value.text !== 'false')) {
          throw new ParseError(value, `Snapshot is true or false, got ${describe(value)}`);
        }
        this.setup.snapshot = value.text === 'true';
        break;
      }
      case 'NameTemplate':
        this.setup.nameTemplate = this.expectText('an image name template like %N.ckpt');
        break;
      case 'Width':
      case 'Height':
      case 'Padding': {
        const key = setting === 'Padding' ? 'padding' : setting === 'Width' ? 'width' : 'height';
        this.setup[key] = this.expectInteger(setting === 'Padding' ? 0 : 1, `${setting} in pixels`);
        this.sizeTokens[setting] = token;
        break;
      }
      case 'FontSize':
      case 'LineHeight':
        this.setup[setting === 'FontSize' ? 'fontSize' : 'lineHeight'] = this.expectPositiveNumber(setting);
        this.sizeTokens[setting] = token;
        break;
    }
  }

  private pacingChange(setting: PacingSetting): Partial<PacingSettings> {
    switch (setting) {
      case 'TypingSpeed':
        return { typingSpeedMs: this.expectDuration() };
      case 'WaitTimeout':
        return { waitTimeoutMs: this.expectDuration() };
      case 'WaitPattern':
        return { waitPattern: this.expectRegex() };
    }
  }

  private parseEnv(name: Token): void {
    this.beforeFirstAction(name, 'Env');
    const variable = this.next();
    if (variable.kind !== 'word' || !ENV_NAME.test(variable.text)) {
      throw new ParseError(variable, `expected a variable name after Env, got ${describe(variable)}`);
    }
    this.setup.env[variable.text] = this.expectText(`a value for ${variable.text}`);
  }

  private parseSleep(name: Token): void {
    this.action(name);
    const ms = this.expectDuration();
    this.commands.push({ kind: 'sleep', span: this.spanFrom(name), ms });
  }

  private parseType(name: Token): void {
    this.action(name);
    const speedMs = this.optionalSpeed();
    const text = this.next();
    if (text.kind === 'illegal') throw new ParseError(text, text.text);
    if (text.kind !== 'string') throw new ParseError(text, `Type needs a quoted string, got ${describe(text)}`);
    this.commands.push({ kind: 'type', span: this.spanFrom(name), text: text.text, ...(speedMs === undefined ? {} : { speedMs }) });
  }

  private parseKeyCommand(name: Token): void {
    this.action(name);
    const key = this.keySpec(name);
    const speedMs = this.optionalSpeed();
    let count = 1;
    if (!this.atEndOfLine()) count = this.expectInteger(1, 'a repeat count', MAX_COUNT);
    this.commands.push({ kind: 'key', span: this.spanFrom(name), key, count, ...(speedMs === undefined ? {} : { speedMs }) });
  }

  private parsePrefix(name: Token): void {
    this.action(name);
    if (this.setup.mode !== 'fullscreen') {
      throw new ParseError(
        name,
        'Prefix sends a host command of the full-screen session: put "Set Mode fullscreen" before the first command',
      );
    }
    const first = this.next();
    if (first.kind !== 'word' && first.kind !== 'at') throw new ParseError(first, `Prefix needs a key, got ${describe(first)}`);
    this.commands.push({ kind: 'prefix', span: this.spanFrom(name), key: this.keySpec(first) });
  }

  private parseWait(name: Token): void {
    this.action(name);
    let scope: WaitScope = 'line';
    if (this.peek().kind === 'plus') {
      this.next();
      const scopeToken = this.next();
      if (scopeToken.kind !== 'word' || (scopeToken.text !== 'Screen' && scopeToken.text !== 'Line')) {
        throw new ParseError(scopeToken, `Wait+ takes Screen or Line, got ${describe(scopeToken)}`);
      }
      scope = scopeToken.text === 'Screen' ? 'screen' : 'line';
    }
    const timeoutMs = this.optionalSpeed();
    const pattern = this.peek().kind === 'regex' || this.peek().kind === 'illegal' ? this.expectRegex() : undefined;
    this.commands.push({
      kind: 'wait',
      span: this.spanFrom(name),
      scope,
      ...(pattern === undefined ? {} : { pattern }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  }

  private parseScreenshot(name: Token): void {
    this.action(name);
    const pathToken = this.peek();
    const path = this.expectText('a file name');
    const extension = /\.([^./]+)$/.exec(path)?.[1]?.toLowerCase();
    if (extension !== 'txt' && extension !== 'svg') {
      throw new ParseError(pathToken, `Screenshot writes .txt or .svg files, not "${path}"`);
    }
    this.commands.push({ kind: 'screenshot', span: this.spanFrom(name), path, format: extension as ScreenshotFormat });
  }

  /**
   * A key: `Enter`, `x`, `Ctrl+C`, `Alt+Enter`, `Ctrl+Alt+x`, `Shift+Tab`. `first` is
   * already consumed; the rest of a modifier chain is read here.
   */
  private keySpec(first: Token): KeySpec {
    const key: KeySpec = { base: { char: '' }, ctrl: false, alt: false, shift: false };
    let token = first;
    while (token.kind === 'word' && MODIFIERS.has(token.text) && this.peek().kind === 'plus') {
      const modifier = token.text.toLowerCase() as 'ctrl' | 'alt' | 'shift';
      if (key[modifier]) throw new ParseError(token, `${token.text} is given twice`);
      key[modifier] = true;
      this.next();
      token = this.next();
    }
    if (token.kind === 'at') {
      key.base = { char: '@' };
    } else if (token.kind === 'word' && isNamedKey(token.text)) {
      key.base = { named: token.text };
    } else if (token.kind === 'word' && [...token.text].length === 1) {
      key.base = { char: token.text };
    } else {
      throw new ParseError(token, `expected a key (a key name like Enter, or one character), got ${describe(token)}`);
    }
    const base = key.base;
    if (key.ctrl && ('char' in base ? ctrlByte(base.char) === undefined : base.named !== 'Space')) {
      throw new ParseError(token, `Ctrl+${'char' in base ? base.char : base.named} has no control code (use a letter or one of @ [ \\ ] ^ _ ? Space)`);
    }
    if (key.shift && !('named' in base && base.named === 'Tab')) {
      throw new ParseError(token, 'Shift+ works only with Tab (type the shifted character itself)');
    }
    return key;
  }

  /** `@<duration>` after a command name, if there. */
  private optionalSpeed(): number | undefined {
    if (this.peek().kind !== 'at') return undefined;
    this.next();
    return this.expectDuration();
  }

  private expectDuration(): number {
    const token = this.next();
    const match = token.kind === 'word' ? DURATION.exec(token.text) : null;
    if (!match) throw new ParseError(token, `expected a duration like 500ms, 2s or 1.5 (seconds), got ${describe(token)}`);
    return Math.round(Number(match[1]) * DURATION_UNIT_MS[(match[2] ?? 's') as keyof typeof DURATION_UNIT_MS]);
  }

  private expectInteger(min: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
    const token = this.next();
    const value = token.kind === 'word' && /^\d+$/.test(token.text) ? Number(token.text) : NaN;
    if (!(value >= min && value <= max)) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`;
      throw new ParseError(token, `expected ${what} (an integer ${range}), got ${describe(token)}`);
    }
    return value;
  }

  private expectPositiveNumber(what: string): number {
    const token = this.next();
    const value = token.kind === 'word' && /^(\d+(\.\d*)?|\.\d+)$/.test(token.text) ? Number(token.text) : NaN;
    if (!(value > 0)) throw new ParseError(token, `expected a positive number for ${what}, got ${describe(token)}`);
    return value;
  }

  /** A string, quoted or not (`Output demo.cast`, `Output "my demo.cast"`). */
  private expectText(what: string): string {
    const token = this.next();
    if (token.kind === 'illegal') throw new ParseError(token, token.text);
    if (token.kind === 'regex') {
      throw new ParseError(token, `expected ${what}, got ${describe(token)} (a path that starts with / must be quoted)`);
    }
    if (token.kind !== 'word' && token.kind !== 'string') throw new ParseError(token, `expected ${what}, got ${describe(token)}`);
    if (token.text === '') throw new ParseError(token, `expected ${what}, got an empty string`);
    return token.text;
  }

  private expectRegex(): RegExp {
    const token = this.next();
    if (token.kind === 'illegal') throw new ParseError(token, token.text);
    if (token.kind !== 'regex') throw new ParseError(token, `expected a regular expression like /\\$ $/, got ${describe(token)}`);
    const flags = token.flags ?? '';
    if (!/^[imsu]*$/.test(flags)) throw new ParseError(token, `regular expression flags are i, m, s and u, got /${token.text}/${flags}`);
    try {
      return new RegExp(token.text, flags);
    } catch (err) {
      const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /, '');
      throw new ParseError(token, `invalid regular expression /${token.text}/${flags}: ${reason}`);
    }
  }

  private expectEndOfLine(name: Token): void {
    if (this.atEndOfLine()) return;
    const extra = this.peek();
    if (extra.kind === 'illegal') throw new ParseError(extra, extra.text);
    throw new ParseError(extra, `unexpected ${describe(extra)} after ${name.text}`);
  }

  private action(name: Token): void {
    this.firstAction ??= name;
  }

  private beforeFirstAction(token: Token, what: string): void {
    if (this.firstAction === undefined) return;
    const first = this.firstAction;
    throw new ParseError(
      token,
      `${what} must come before the first command that drives the session (${first.text} on line ${first.line})`,
    );
  }

  private checkFrameSize(): void {
    const { columns, rows } = frameGeometry(this.setup);
    const blame = (names: (keyof Parser['sizeTokens'])[]): Span =>
      names.map((name) => this.sizeTokens[name]).find((token) => token !== undefined) ?? this.tokens[0] ?? this.eof;
    if (columns < MIN_COLUMNS) {
      this.diagnostics.push({
        ...blame(['Width', 'FontSize', 'Padding']),
        message: `the terminal would be ${columns} columns wide (at least ${MIN_COLUMNS}): raise Width or lower FontSize/Padding`,
      });
    }
    if (rows < MIN_ROWS) {
      this.diagnostics.push({
        ...blame(['Height', 'FontSize', 'LineHeight', 'Padding']),
        message: `the terminal would be ${rows} rows high (at least ${MIN_ROWS}): raise Height or lower FontSize/Padding`,
      });
    }
  }

  private spanFrom(start: Token): Span {
    const end = this.lastConsumed;
    const length = end.line === start.line ? end.column + end.length - start.column : start.length;
    return { line: start.line, column: start.column, length };
  }

  private atEndOfLine(): boolean {
    const kind = this.peek().kind;
    return kind === 'newline' || kind === 'eof';
  }

  private peek(): Token {
    return this.tokens[this.index] ?? this.eof;
  }

  /** The next token; never moves past the end of the line, so a missing argument points at it. */
  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'newline' && token.kind !== 'eof') this.index++;
    this.lastConsumed = token;
    return token;
  }

  private skipLine(): void {
    while (!this.atEndOfLine()) this.index++;
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'word':
      return `"${token.text}"`;
    case 'string':
      return `string "${token.text}"`;
    case 'regex':
      return `/${token.text}/${token.flags ?? ''}`;
    case 'at':
    case 'plus':
      return `"${token.text}"`;
    case 'newline':
      return 'end of line';
    case 'eof':
      return 'end of file';
    case 'illegal':
      return token.text;
  }
}

function unknownCommandMessage(name: string): string {
  if (UNSUPPORTED_COMMANDS.has(name)) return `${name} is a VHS command that ckpty tape does not support`;
  return `unknown command "${name}"${suggestion(name, [...COMMANDS, ...NAMED_KEYS, ...MODIFIERS])}`;
}

/** ` (did you mean X?)` when a known name differs only in case. */
function suggestion(name: string, known: readonly string[]): string {
  const match = known.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return match ? ` (did you mean ${match}?)` : '';
}
