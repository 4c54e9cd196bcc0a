/**
 * `ckpty tape` end to end: real sessions, real programs as oracles for the keys, and
 * recordings replayed on a second screen to check they show what the session showed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { asciinemaCat, hasAsciinema, outputOf, readCast, removeScratchDirs, runCkpty, scratchDir, screenAfter } from './helpers/recorder.js';

afterAll(removeScratchDirs);

function writeTape(dir: string, name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const FRAME = ['Set Width 800', 'Set Height 400', 'Set FontSize 16', 'Set Padding 16', 'Set TypingSpeed 10ms'];

describe('ckpty tape', () => {
  it('gives byte-identical recordings with --deterministic, which replay to the final screen', async () => {
    const dir = scratchDir();
    const tape = writeTape(dir, 'det.tape', [
      ...FRAME,
      'Hide',
      'Type "cd $CKPTY_TAPE_TMP && printf \'hidden setup\\n\'"',
      'Enter',
      'Wait',
      'Ctrl+L',
      'Wait',
      'Show',
      'Type "printf \'\\e[1;32mgreen\\e[0m %s\\n\' $((6*7))"',
      'Enter',
      'Wait+Screen /green 42/',
      'Type@20ms "for i in 1 2 3; do echo line $i; done"',
      'Enter',
      'Wait+Screen /line 3/',
      'Sleep 300ms',
      'Type "echo done"',
      'Backspace 2',
      'Type "ne"',
      'Enter',
      'Wait+Screen /^done$/m',
    ]);
    const first = await runCkpty(['tape', tape, '--deterministic', '-o', join(dir, 'a.cast'), '--screenshot', join(dir, 'a.txt')]);
    expect(first).toMatchObject({ status: 0, stderr: '' });
    const second = await runCkpty(['tape', tape, '--deterministic', '-o', join(dir, 'b.cast')]);
    expect(second).toMatchObject({ status: 0, stderr: '' });
    const bytes = readFileSync(join(dir, 'a.cast'), 'utf8');
    expect(readFileSync(join(dir, 'b.cast'), 'utf8')).toBe(bytes);

    const cast = readCast(join(dir, 'a.cast'));
    expect(cast.header).toEqual({ version: 2, width: 80, height: 17, env: { TERM: 'xterm-256color', SHELL: expect.stringMatching(/\/bash$/) }, title: 'det.tape' });
    // Virtual times: multiples of the typing speed and the Sleep.
    expect(cast.events.every((event) => Math.abs(event.time * 100 - Math.round(event.time * 100)) < 1e-6)).toBe(true);
    const output = outputOf(cast);
    expect(output).not.toContain('hidden setup');
    // Replaying the recording on a fresh screen shows what the session showed at the end.
    const screenshot = readFileSync(join(dir, 'a.txt'), 'utf8');
    expect(screenshot).toBe('$ printf \'\\e[1;32mgreen\\e[0m %s\\n\' $((6*7))\ngreen 42\n$ for i in 1 2 3; do echo line $i; done\nline 1\nline 2\nline 3\n$ echo done\ndone\n$\n');
    const replayed = await screenAfter(cast);
    expect(`${replayed.join('\n').trimEnd()}\n`).toBe(screenshot);
    if (hasAsciinema) {
      const cat = await asciinemaCat(join(dir, 'a.cast'));
      expect(cat.output).toBe(output);
    }
  });

  it('records wall-clock times without --deterministic', async () => {
    const dir = scratchDir();
    const tape = writeTape(dir, 'wall.tape', [...FRAME, `Output "${join(dir, 'w.cast')}"`, 'Type "echo hi"', 'Enter', 'Sleep 1s', 'Wait']);
    expect(await runCkpty(['tape', tape])).toMatchObject({ status: 0, stderr: '' });
    const cast = readCast(join(dir, 'w.cast'));
    expect(cast.header.timestamp).toBeGreaterThan(Date.now() / 1000 - 300);
    expect(cast.events.at(-1)?.time).toBeLessThan(30);
    expect(outputOf(cast)).toContain('echo hi\r\n');
  });

  it('sends keys as a terminal does (cat -v shows what arrived)', async () => {
    const dir = scratchDir();
    const tape = writeTape(dir, 'keys.tape', [
      ...FRAME,
      'Type "stty -icanon -echo; cat -vT; stty sane"',
      'Enter',
      'Sleep 300ms',
      'Ctrl+A',
      'Alt+x',
      'Up',
      'Tab',
      'Escape',
      'Shift+Tab',
      'Delete',
      'Space 2',
      'Ctrl+]',
      'Backspace',
      'Enter',
      'Wait+Screen /\\^\\?/',
      'Ctrl+C',
      'Wait',
    ]);
    const result = await runCkpty(['tape', tape, '--screenshot', join(dir, 'k.txt')]);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(readFileSync(join(dir, 'k.txt'), 'utf8')).toContain('\n^A^[x^[[A^I^[^[[Z^[[3~  ^]^?\n');
  });

  it('fails a Wait that times out, pointing at it and showing the screen', async () => {
    const dir = scratchDir();
    writeTape(dir, 'late.tape', ['Set Width 500', 'Set Height 260', 'Set FontSize 16', 'Set Padding 0', 'Type "echo ready"', 'Enter', 'Wait@300ms /never/']);
    const result = await runCkpty(['tape', 'late.tape'], { cwd: dir });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      [
        'ckpty: late.tape:7:1: Wait timed out after 300ms: /never/ not found on the cursor line',
        ' 7 | Wait@300ms /never/',
        '   | ^^^^^^^^^^^^^^^^^^',
        'the screen:',
        '┌──────────────┐',
        '│ $ echo ready │',
        '│ ready        │',
        '│ $            │',
        ...Array(9).fill('│              │'),
        '└──────────────┘',
        '',
      ].join('\n'),
    );
  });

  it('reports every parse error and runs nothing', async () => {
    const dir = scratchDir();
    writeTape(dir, 'bad.tape', ['Output out.cast', 'Sleep soon', 'Type "touch ran"', 'Enter', 'Wait /(/']);
    const result = await runCkpty(['tape', 'bad.tape'], { cwd: dir });
    expect(result).toEqual({
      status: 2,
      stdout: '',
      stderr:
        'bad.tape:2:7: expected a duration like 500ms, 2s or 1.5 (seconds), got "soon"\n' +
        ' 2 | Sleep soon\n' +
        '   |       ^^^^\n' +
        'bad.tape:5:6: invalid regular expression /(/: Unterminated group\n' +
        ' 5 | Wait /(/\n' +
        '   |      ^^^\n' +
        'ckpty: bad.tape: 2 errors, nothing was run\n',
    });
    expect(() => readFileSync(join(dir, 'out.cast'))).toThrow();
    expect(() => readFileSync(join(dir, 'ran'))).toThrow();
  });

  it('stops before starting when a Require is missing; bad option values are usage errors', async () => {
    const dir = scratchDir();
    writeTape(dir, 'req.tape', ['Require no-such-program-ckpty', 'Type "x"']);
    expect(await runCkpty(['tape', 'req.tape'], { cwd: dir })).toEqual({
      status: 1,
      stdout: '',
      stderr: 'ckpty: req.tape:1:1: no-such-program-ckpty is required but not found in PATH\n 1 | Require no-such-program-ckpty\n   | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n',
    });
    writeTape(dir, 'shell.tape', ['Set Shell no-such-shell-ckpty', 'Type "x"']);
    expect(await runCkpty(['tape', 'shell.tape'], { cwd: dir })).toEqual({
      status: 1,
      stdout: '',
      stderr: 'ckpty: shell.tape: the shell "no-such-shell-ckpty" is not found in PATH\n',
    });
    expect(await runCkpty(['tape', 'req.tape', '--screenshot', 'x.png'], { cwd: dir })).toMatchObject({ status: 2, stderr: 'ckpty: --screenshot writes .txt or .svg files, not "x.png"\n' });
    expect(await runCkpty(['tape', 'missing.tape'], { cwd: dir })).toMatchObject({ status: 8, stderr: 'ckpty: missing.tape: no such file\n' });
  });

  it('takes SVG screenshots with colours, bold text and a window frame', async () => {
    const dir = scratchDir();
    const tape = writeTape(dir, 'svg.tape', [
      ...FRAME,
      'Type "printf \'\\e[1;31mred\\e[0m \\e[44mblue & <tag>\\e[0m \\e[38;5;208morange\\e[0m\\n\'"',
      'Enter',
      'Wait',
      `Screenshot "${join(dir, 'shot.svg')}"`,
    ]);
    expect(await runCkpty(['tape', tape])).toMatchObject({ status: 0, stderr: '' });
    const svg = readFileSync(join(dir, 'shot.svg'), 'utf8');
    // Well-formed XML, read by a parser nobody here wrote.
    execFileSync('python3', ['-c', 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])', join(dir, 'shot.svg')]);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="800" height="400"/);
    expect(svg).toMatch(/<text [^>]*fill="#ff6e6e" font-weight="bold">red<\/text>/);
    expect(svg).toMatch(/<rect [^>]*fill="#bd93f9"\/>/);
    expect(svg).toContain('>blue &amp; &lt;tag&gt;</text>');
    expect(svg).toMatch(/<text [^>]*fill="#ff8700">orange<\/text>/);
    expect(svg.match(/<circle /g)).toHaveLength(3);
  });
});
