import { describe, expect, it } from 'vitest';
import { DEFAULT_SETUP } from '../src/recorder/tape/ast.js';
import { renderDiagnostics } from '../src/recorder/tape/diagnostics.js';
import { keyBytes } from '../src/recorder/tape/keys.js';
import { lex } from '../src/recorder/tape/lexer.js';
import { parseTape } from '../src/recorder/tape/parser.js';

/** Parses a tape that must be valid. */
function parse(source: string) {
  const { tape, diagnostics } = parseTape(source);
  expect(renderDiagnostics('t.tape', source, diagnostics)).toBe('');
  return tape;
}

/** The rendered errors of a tape that must be invalid. */
function errors(source: string): string {
  const { diagnostics } = parseTape(source);
  expect(diagnostics.length).toBeGreaterThan(0);
  return renderDiagnostics('t.tape', source, diagnostics);
}

describe('tape lexer', () => {
  it('gives every token its line and column', () => {
    const tokens = lex('Type@50ms "hi"\n  Wait+Screen /a\\/b/ # note\nCtrl+C');
    expect(tokens.map(({ kind, text, line, column, length }) => [kind, text, line, column, length])).toEqual([
      ['word', 'Type', 1, 1, 4],
      ['at', '@', 1, 5, 1],
      ['word', '50ms', 1, 6, 4],
      ['string', 'hi', 1, 11, 4],
      ['newline', '\n', 1, 15, 1],
      ['word', 'Wait', 2, 3, 4],
      ['plus', '+', 2, 7, 1],
      ['word', 'Screen', 2, 8, 6],
      ['regex', 'a\\/b', 2, 15, 6],
      ['newline', '\n', 2, 28, 1],
      ['word', 'Ctrl', 3, 1, 4],
      ['plus', '+', 3, 5, 1],
      ['word', 'C', 3, 6, 1],
      ['eof', '', 3, 7, 1],
    ]);
  });

  it('reads the three quote styles without escapes, and slashes inside words', () => {
    const tokens = lex(`"a 'b'" 'c "d"' \`e\\n\` demos/x.svg`);
    expect(tokens.slice(0, 4).map((token) => [token.kind, token.text])).toEqual([
      ['string', "a 'b'"],
      ['string', 'c "d"'],
      ['string', 'e\\n'],
      ['word', 'demos/x.svg'],
    ]);
  });

  it('turns an unterminated string or regex into an illegal token up to the end of the line', () => {
    const tokens = lex('Type "abc\nWait /x');
    expect(tokens[1]).toMatchObject({ kind: 'illegal', text: 'unterminated string: missing closing "', line: 1, column: 6, length: 4 });
    expect(tokens[4]).toMatchObject({ kind: 'illegal', text: 'unterminated regular expression: missing closing /', line: 2, column: 6 });
  });
});

describe('tape parser: commands', () => {
  it('starts from VHS defaults', () => {
    expect(parse('').setup).toEqual(DEFAULT_SETUP);
  });

  it('Output, Require, Set (setup), Env', () => {
    const tape = parse(
      [
        'Output "out dir/demo.cast"',
        'Require gdb',
        'Set Shell sh',
        'Set Mode fullscreen',
        'Set Width 900',
        'Set Height 500',
        'Set FontSize 16',
        'Set FontFamily "Fira Code"',
        'Set LineHeight 1.1',
        'Set Padding 0',
        'Env GREETING "hello world"',
        'Env X y',
        'Set Key ^T',
        'Set Snapshot true',
        'Set NameTemplate "%N-%P.ckpt"',
      ].join('\n'),
    );
    expect(tape.setup).toEqual({
      ...DEFAULT_SETUP,
      output: 'out dir/demo.cast',
      requires: [{ program: 'gdb', span: { line: 2, column: 1, length: 11 } }],
      shell: 'sh',
      mode: 'fullscreen',
      width: 900,
      height: 500,
      fontSize: 16,
      fontFamily: 'Fira Code',
      lineHeight: 1.1,
      padding: 0,
      env: { GREETING: 'hello world', X: 'y' },
      key: '^T',
      snapshot: true,
      nameTemplate: '%N-%P.ckpt',
    });
    expect(tape.commands).toEqual([]);
  });

  it('accepts VHS video settings without effect', () => {
    const tape = parse('Set Theme { "name": "x", "black": "#000" }\nSet Framerate 30\nSet PlaybackSpeed 2\nSet CursorBlink false\nSet WindowBar Colorful');
    expect(tape.commands).toEqual([]);
    expect(tape.setup).toEqual(DEFAULT_SETUP);
  });

  it('Type with and without a speed, in every quote style', () => {
    const tape = parse('Type "echo hi"\nType@120ms \'say "x"\'\nType@2s `a`');
    expect(tape.commands).toEqual([
      { kind: 'type', span: { line: 1, column: 1, length: 14 }, text: 'echo hi' },
      { kind: 'type', span: { line: 2, column: 1, length: 20 }, text: 'say "x"', speedMs: 120 },
      { kind: 'type', span: { line: 3, column: 1, length: 11 }, text: 'a', speedMs: 2000 },
    ]);
  });

  it('every named key, with counts and speeds', () => {
    const names = ['Enter', 'Backspace', 'Delete', 'Insert', 'Tab', 'Escape', 'Space', 'Up', 'Down', 'Left', 'Right', 'Home', 'End', 'PageUp', 'PageDown'];
    const tape = parse(names.map((name, index) => (index % 2 ? `${name}@10ms ${index + 1}` : name)).join('\n'));
    expect(tape.commands.map((command) => command.kind === 'key' && [command.key.base, command.count, command.speedMs])).toEqual(
      names.map((name, index) => [{ named: name }, index % 2 ? index + 1 : 1, index % 2 ? 10 : undefined]),
    );
  });

  it('key bytes: as xterm sends them, cursor keys following DECCKM', () => {
    const bytes = (source: string, application = false) => {
      const [command] = parse(source).commands;
      if (command?.kind !== 'key' && command?.kind !== 'prefix') throw new Error('not a key');
      return keyBytes(command.key, application);
    };
    expect(bytes('Enter')).toBe('\r');
    expect(bytes('Backspace')).toBe('\x7f');
    expect(bytes('Tab')).toBe('\t');
    expect(bytes('Escape')).toBe('\x1b');
    expect(bytes('Space')).toBe(' ');
    expect(bytes('Delete')).toBe('\x1b[3~');
    expect(bytes('Up')).toBe('\x1b[A');
    expect(bytes('Up', true)).toBe('\x1bOA');
    expect(bytes('Left', true)).toBe('\x1bOD');
    expect(bytes('Home')).toBe('\x1b[H');
    expect(bytes('End', true)).toBe('\x1bOF');
    expect(bytes('PageDown', true)).toBe('\x1b[6~');
    expect(bytes('Ctrl+C')).toBe('\x03');
    expect(bytes('Ctrl+e')).toBe('\x05');
    expect(bytes('Ctrl+@')).toBe('\x00');
    expect(bytes('Ctrl+\\')).toBe('\x1c');
    expect(bytes('Ctrl+]')).toBe('\x1d');
    expect(bytes('Ctrl+?')).toBe('\x7f');
    expect(bytes('Ctrl+Space')).toBe('\x00');
    expect(bytes('Alt+x')).toBe('\x1bx');
    expect(bytes('Alt+Enter')).toBe('\x1b\r');
    expect(bytes('Ctrl+Alt+d')).toBe('\x1b\x04');
    expect(bytes('Shift+Tab')).toBe('\x1b[Z');
  });

  it('Sleep with every duration form', () => {
    const tape = parse('Sleep 500ms\nSleep 2s\nSleep 1.5\nSleep .25s\nSleep 1m');
    expect(tape.commands.map((command) => command.kind === 'sleep' && command.ms)).toEqual([500, 2000, 1500, 250, 60_000]);
  });

  it('Wait with scope, timeout and pattern, each optional', () => {
    const tape = parse('Wait\nWait /\\$ $/\nWait+Screen /froze/\nWait+Line@10s /x/\nWait@500ms');
    expect(tape.commands.map((command) => command.kind === 'wait' && [command.scope, command.timeoutMs, command.pattern?.source])).toEqual([
      ['line', undefined, undefined],
      ['line', undefined, '\\$ $'],
      ['screen', undefined, 'froze'],
      ['line', 10_000, 'x'],
      ['line', 500, undefined],
    ]);
  });

  it('Hide, Show, Screenshot, pacing settings anywhere', () => {
    const tape = parse('Hide\nShow\nScreenshot out.svg\nScreenshot "a b.txt"\nSet TypingSpeed 10ms\nSet WaitTimeout 3s\nSet WaitPattern /> $/');
    expect(tape.commands.map((command) => [command.kind, 'format' in command ? command.format : undefined])).toEqual([
      ['hide', undefined],
      ['show', undefined],
      ['screenshot', 'svg'],
      ['screenshot', 'txt'],
      ['pacing', undefined],
      ['pacing', undefined],
      ['pacing', undefined],
    ]);
    expect(tape.commands.slice(4).map((command) => command.kind === 'pacing' && command.change)).toEqual([
      { typingSpeedMs: 10 },
      { waitTimeoutMs: 3000 },
      { waitPattern: /> $/ },
    ]);
  });

  it('Prefix in the full-screen mode, with a character, a named key or a control key', () => {
    const tape = parse('Set Mode fullscreen\nPrefix f\nPrefix ?\nPrefix Escape\nPrefix Ctrl+]');
    expect(tape.commands.map((command) => command.kind === 'prefix' && keyBytes(command.key, false))).toEqual(['f', '?', '\x1b', '\x1d']);
  });

  it('comments and blank lines are ignored', () => {
    expect(parse('# a tape\n\n   # indented\nEnter # trailing\n').commands).toHaveLength(1);
  });
});

describe('tape parser: errors', () => {
  it('an unknown command, with a suggestion when only the case differs', () => {
    expect(errors('Typ "x"\ntype "x"')).toBe(
      't.tape:1:1: unknown command "Typ"\n' +
        ' 1 | Typ "x"\n' +
        '   | ^^^\n' +
        't.tape:2:1: unknown command "type" (did you mean Type?)\n' +
        ' 2 | type "x"\n' +
        '   | ^^^^\n',
    );
  });

  it('VHS commands outside the subset are named as such', () => {
    expect(errors('Copy "x"')).toBe('t.tape:1:1: Copy is a VHS command that ckpty tape does not support\n 1 | Copy "x"\n   | ^^^^\n');
  });

  it('a line that does not start with a command', () => {
    expect(errors('"hello"')).toBe('t.tape:1:1: expected a command, got string "hello"\n 1 | "hello"\n   | ^^^^^^^\n');
  });

  it('reports every bad line, and points at the bad token', () => {
    expect(errors('Sleep fast\nEnter\nSleep\nType hello\nEnter 0\nEnter x')).toBe(
      't.tape:1:7: expected a duration like 500ms, 2s or 1.5 (seconds), got "fast"\n' +
        ' 1 | Sleep fast\n' +
        '   |       ^^^^\n' +
        't.tape:3:6: expected a duration like 500ms, 2s or 1.5 (seconds), got end of line\n' +
        ' 3 | Sleep\n' +
        '   |      ^\n' +
        't.tape:4:6: Type needs a quoted string, got "hello"\n' +
        ' 4 | Type hello\n' +
        '   |      ^^^^^\n' +
        't.tape:5:7: expected a repeat count (an integer 1-10000), got "0"\n' +
        ' 5 | Enter 0\n' +
        '   |       ^\n' +
        't.tape:6:7: expected a repeat count (an integer 1-10000), got "x"\n' +
        ' 6 | Enter x\n' +
        '   |       ^\n',
    );
  });

  it('unterminated strings and regexes', () => {
    expect(errors('Type "abc\nWait /x(')).toBe(
      't.tape:1:6: unterminated string: missing closing "\n' +
        ' 1 | Type "abc\n' +
        '   |      ^^^^\n' +
        't.tape:2:6: unterminated regular expression: missing closing /\n' +
        ' 2 | Wait /x(\n' +
        '   |      ^^^\n',
    );
  });

  it('an invalid regular expression, with the engine\'s reason', () => {
    expect(errors('Wait+Screen /(ab/')).toBe(
      't.tape:1:13: invalid regular expression /(ab/: Unterminated group\n 1 | Wait+Screen /(ab/\n   |             ^^^^^\n',
    );
  });

  it('regex flags: i, m, s, u only', () => {
    const [wait] = parse('Wait+Screen /^done$/mi').commands;
    expect(wait?.kind === 'wait' && wait.pattern).toEqual(/^done$/im);
    expect(errors('Wait /x/g')).toBe('t.tape:1:6: regular expression flags are i, m, s and u, got /x/g\n 1 | Wait /x/g\n   |      ^^^^\n');
  });

  it('a path that starts with a slash must be quoted', () => {
    expect(parse('Output "/tmp/a.cast"').setup.output).toBe('/tmp/a.cast');
    expect(errors('Output /tmp/a.cast')).toBe(
      't.tape:1:8: expected a file name, got /tmp/a (a path that starts with / must be quoted)\n 1 | Output /tmp/a.cast\n   |        ^^^^^^\n',
    );
  });

  it('bad Wait scopes and trailing tokens', () => {
    expect(errors('Wait+Page /x/\nWait /x/ /y/\nEnter 2 3')).toBe(
      't.tape:1:6: Wait+ takes Screen or Line, got "Page"\n' +
        ' 1 | Wait+Page /x/\n' +
        '   |      ^^^^\n' +
        't.tape:2:10: unexpected /y/ after Wait\n' +
        ' 2 | Wait /x/ /y/\n' +
        '   |          ^^^\n' +
        't.tape:3:9: unexpected "3" after Enter\n' +
        ' 3 | Enter 2 3\n' +
        '   |         ^\n',
    );
  });

  it('bad keys', () => {
    expect(errors('Ctrl+1\nShift+x\nCtrl+Ctrl+c\nAlt+Foo\nCtrl+Enter')).toBe(
      't.tape:1:6: Ctrl+1 has no control code (use a letter or one of @ [ \\ ] ^ _ ? Space)\n' +
        ' 1 | Ctrl+1\n' +
        '   |      ^\n' +
        't.tape:2:7: Shift+ works only with Tab (type the shifted character itself)\n' +
        ' 2 | Shift+x\n' +
        '   |       ^\n' +
        't.tape:3:6: Ctrl is given twice\n' +
        ' 3 | Ctrl+Ctrl+c\n' +
        '   |      ^^^^\n' +
        't.tape:4:5: expected a key (a key name like Enter, or one character), got "Foo"\n' +
        ' 4 | Alt+Foo\n' +
        '   |     ^^^\n' +
        't.tape:5:6: Ctrl+Enter has no control code (use a letter or one of @ [ \\ ] ^ _ ? Space)\n' +
        ' 5 | Ctrl+Enter\n' +
        '   |      ^^^^^\n',
    );
  });

  it('bad settings and values', () => {
    expect(errors('Set Foo 1\nSet width 10\nSet Mode tmux\nSet FontSize -1\nSet TypingSpeed quick\nSet WaitPattern "x"\nSet Theme\nSet')).toBe(
      't.tape:1:5: unknown setting "Foo"\n' +
        ' 1 | Set Foo 1\n' +
        '   |     ^^^\n' +
        't.tape:2:5: unknown setting "width" (did you mean Width?)\n' +
        ' 2 | Set width 10\n' +
        '   |     ^^^^^\n' +
        't.tape:3:10: Mode is "plain" (ckpty shell) or "fullscreen" (ckpty), got "tmux"\n' +
        ' 3 | Set Mode tmux\n' +
        '   |          ^^^^\n' +
        't.tape:4:14: expected a positive number for FontSize, got "-1"\n' +
        ' 4 | Set FontSize -1\n' +
        '   |              ^^\n' +
        't.tape:5:17: expected a duration like 500ms, 2s or 1.5 (seconds), got "quick"\n' +
        ' 5 | Set TypingSpeed quick\n' +
        '   |                 ^^^^^\n' +
        't.tape:6:17: expected a regular expression like /\\$ $/, got string "x"\n' +
        ' 6 | Set WaitPattern "x"\n' +
        '   |                 ^^^\n' +
        't.tape:7:10: expected a value for Theme\n' +
        ' 7 | Set Theme\n' +
        '   |          ^\n' +
        't.tape:8:4: expected a setting name after Set, got end of file\n' +
        ' 8 | Set\n' +
        '   |    ^\n',
    );
  });

  it('bad ckpty session settings', () => {
    expect(errors('Set Key ctrl-e\nSet Snapshot yes\nSet NameTemplate')).toBe(
      "t.tape:1:9: Key: invalid integer argument: 'ctrl-e'\n" +
        ' 1 | Set Key ctrl-e\n' +
        '   |         ^^^^^^\n' +
        't.tape:2:14: Snapshot is true or false, got "yes"\n' +
        ' 2 | Set Snapshot yes\n' +
        '   |              ^^^\n' +
        't.tape:3:17: expected an image name template like %N.ckpt, got end of file\n' +
        ' 3 | Set NameTemplate\n' +
        '   |                 ^\n',
    );
  });

    it('setup after the first command that drives the session', () => {
    expect(errors('Type "x"\nSet Width 900\nEnv A "b"')).toBe(
      't.tape:2:5: Set Width must come before the first command that drives the session (Type on line 1)\n' +
        ' 2 | Set Width 900\n' +
        '   |     ^^^^^\n' +
        't.tape:3:1: Env must come before the first command that drives the session (Type on line 1)\n' +
        ' 3 | Env A "b"\n' +
        '   | ^^^\n',
    );
  });

  it('a frame too small for a usable terminal', () => {
    expect(errors('Set Width 300\nSet Height 100')).toBe(
      't.tape:1:5: the terminal would be 13 columns wide (at least 20): raise Width or lower FontSize/Padding\n' +
        ' 1 | Set Width 300\n' +
        '   |     ^^^^^\n' +
        't.tape:2:5: the terminal would be 0 rows high (at least 5): raise Height or lower FontSize/Padding\n' +
        ' 2 | Set Height 100\n' +
        '   |     ^^^^^^\n',
    );
  });

  it('Output and Screenshot file types, Output twice', () => {
    expect(errors('Output demo.gif\nOutput a.cast\nOutput b.cast\nScreenshot shot.png')).toBe(
      't.tape:1:8: ckpty tape records asciicast: Output must name a .cast file, not "demo.gif" (use Screenshot for .txt or .svg)\n' +
        ' 1 | Output demo.gif\n' +
        '   |        ^^^^^^^^\n' +
        't.tape:3:1: Output is given twice (first on line 2)\n' +
        ' 3 | Output b.cast\n' +
        '   | ^^^^^^\n' +
        't.tape:4:12: Screenshot writes .txt or .svg files, not "shot.png"\n' +
        ' 4 | Screenshot shot.png\n' +
        '   |            ^^^^^^^^\n',
    );
  });

  it('Env names and values, Require without a program', () => {
    expect(errors('Env 1X "a"\nEnv X\nRequire ""')).toBe(
      't.tape:1:5: expected a variable name after Env, got "1X"\n' +
        ' 1 | Env 1X "a"\n' +
        '   |     ^^\n' +
        't.tape:2:6: expected a value for X, got end of line\n' +
        ' 2 | Env X\n' +
        '   |      ^\n' +
        't.tape:3:9: expected a program name, got an empty string\n' +
        ' 3 | Require ""\n' +
        '   |         ^^\n',
    );
  });

  it('Prefix needs the full-screen mode and a key', () => {
    expect(errors('Prefix f\n')).toBe(
      't.tape:1:1: Prefix sends a host command of the full-screen session: put "Set Mode fullscreen" before the first command\n' +
        ' 1 | Prefix f\n' +
        '   | ^^^^^^\n',
    );
    expect(errors('Set Mode fullscreen\nPrefix\nPrefix "f"')).toBe(
      't.tape:2:7: Prefix needs a key, got end of line\n' +
        ' 2 | Prefix\n' +
        '   |       ^\n' +
        't.tape:3:8: Prefix needs a key, got string "f"\n' +
        ' 3 | Prefix "f"\n' +
        '   |        ^^^\n',
    );
  });

  it('renders tabs as single spaces so the carets line up', () => {
    expect(errors('\tSleep\tnever')).toBe('t.tape:1:8: expected a duration like 500ms, 2s or 1.5 (seconds), got "never"\n 1 |  Sleep never\n   |        ^^^^^\n');
  });
});
