/**
 * Render tests: real program output goes through the screen model's @xterm/headless
 * emulator, its frames and the pane's painting into a blessed screen whose escape
 * sequences are parsed by a second, independent xterm ("outer"); every visible cell of
 * the outer terminal must match the inner one (text, width, attributes, colours). The
 * model runs in-process here (LocalScreen); the worker that runs it in a session is
 * tested in screen-emulator.test.ts.
 */
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import blessed from 'blessed';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SCROLLBACK, TerminalPane } from '../src/terminal/pane.js';
import { PaneView } from '../src/terminal/view.js';
import { Emulator } from '../src/screen/emulator.js';
import { ScreenModel, type Frame } from '../src/screen/model.js';
import { nearestPaletteIndex } from '../src/screen/palette.js';
import type { Ahead } from '../src/screen/print-ahead.js';
import {
  colorDistance,
  compareScreens,

  makeOuterRig,
  nearestByBruteForce,
  runOnPty,
  screenText,
  waitFor,
  type OuterRig,
} from './helpers/terminal-render.js';

const COLS = 80;
const ROWS = 24;

const work = mkdtempSync(join(tmpdir(), 'ckpty-render-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let rig: OuterRig | undefined;
afterEach(() => {
  rig?.destroy();
  rig = undefined;
});

/** A session's screen in-process: a ScreenModel whose frames go straight to the pane. */
class LocalScreen extends EventEmitter<{ frame: [frame: Frame]; ahead: [ahead: Ahead] }> {
  readonly model: ScreenModel;
  private parsed: Promise<void> = Promise.resolve();

  constructor(cols: number, rows: number, reply: (data: string) => void) {
    super();
    this.model = new ScreenModel({ cols, rows, scrollback: DEFAULT_SCROLLBACK }, { reply });
  }

  get cols(): number {
    return this.model.cols;
  }

  get rows(): number {
    return this.model.rows;
  }

  /** Parses in order; resolves once `data` is parsed and its frame applied. */
  write(data: string | Uint8Array): Promise<void> {
    this.parsed = this.parsed.then(async () => {
      await this.model.write(typeof data === 'string' ? Buffer.from(data) : data);
      this.emit('frame', this.model.frame());
    });
    return this.parsed;
  }

  scrollBy(lines: number): void {
    this.model.scrollBy(lines);
    this.emit('frame', this.model.frame());
  }

  scrollTo(to: 'top' | 'bottom'): void {
    if (to === 'top') this.model.scrollToTop();
    else this.model.scrollToBottom();
    this.emit('frame', this.model.frame());
  }
}

function setup(cols = COLS, rows = ROWS) {
  const r = makeOuterRig(cols, rows);
  rig = r;
  const replyTo: { write?: (data: string) => void } = {};
  const replies: string[] = [];
  const screen = new LocalScreen(cols, rows, (data) => {
    replies.push(data);
    replyTo.write?.(data);
  });
  const term = screen.model.term;
  const pane = new TerminalPane(screen);
  const view = new PaneView(r.screen, pane, () => ({ left: 0, top: 0, height: rows }));
  let lastOutput = Date.now();
  async function render() {
    r.screen.render();
    await r.settle();
    return compareScreens(term, r.outer, rows, pane.viewTop);
  }
  return {
    pane,
    term,
    view,
    replies,
    rig: r,
    render,
    async show(data: string) {
      await screen.write(data);
      return render();
    },
    /** Runs a real program on a pty feeding the pane; returns once `ready` holds and output is quiet. */
    async runProgram(file: string, args: string[], ready: (text: string) => boolean, env: Record<string, string> = {}) {
      const run = runOnPty(file, args, { cols, rows, cwd: work, env }, {
        write: (data) => {
          lastOutput = Date.now();
          void screen.write(data);
        },
      });
      replyTo.write = (data) => run.pty.write(data);
      await waitFor(() => ready(screenText(term)), `${file} to draw`);
      await waitFor(() => Date.now() - lastOutput > 250, `${file} to go quiet`);
      return run;
    },
  };
}

function expectSame(result: ReturnType<typeof compareScreens>) {
  expect(result.mismatches.slice(0, 8)).toEqual([]);
  expect(result.stats.cells).toBe(COLS * ROWS);
}

describe('pane renders what @xterm/headless holds', () => {
  it('256 colours, foreground and background', async () => {
    const { show } = setup();
    let s = '';
    for (let i = 0; i < 256; i++) s += `\x1b[38;5;${i}m#\x1b[48;5;${255 - i}m.\x1b[m${i % 32 === 31 ? '\r\n' : ''}`;
    const result = await show(s);
    expectSame(result);
    expect(result.stats.colored).toBeGreaterThanOrEqual(512);
  });

  it('truecolor arrives as the nearest xterm-256 entry', async () => {
    const { show } = setup();
    let s = '';
    for (let y = 0; y < 12; y++) {
      for (let x = 0; x < 76; x++) {
        const r = Math.round((x / 75) * 255), g = Math.round((y / 11) * 255), b = (x * 7 + y * 13) % 256;
        s += `\x1b[38;2;${r};${g};${b};48;2;${255 - r};${b};${g}m*`;
      }
      s += '\x1b[m\r\n';
    }
    const result = await show(s);
    expectSame(result);
    expect(result.stats.rgb).toBe(12 * 76 * 2);
  });

  it('the nearest-colour mapping agrees with brute force over the whole cube', () => {
    for (let rgb = 0; rgb < 0x1000000; rgb += 0x010305) {
      // Ties exist (equidistant greys): compare distances, not indexes.
      expect(colorDistance(rgb, nearestPaletteIndex(rgb)), rgb.toString(16)).toBe(nearestByBruteForce(rgb).distance);
    }
  });

  it('bold, underline, inverse, blink, invisible; dim and italic keep their text', async () => {
    const { show, rig } = setup();
    const result = await show(
      '\x1b[1mbold\x1b[m \x1b[4munder\x1b[m \x1b[7minverse\x1b[m \x1b[5mblink\x1b[m \x1b[8mhidden\x1b[m ' +
        '\x1b[2mdim\x1b[m \x1b[3mitalic\x1b[m \x1b[1;4;7;31;42mall\x1b[m',
    );
    expectSame(result);
    expect(result.stats.styled).toBe(4 + 5 + 7 + 3);
    expect(screenText(rig.outer)).toContain('bold under inverse blink hidden dim italic all');
  });

  it('wide characters, including one that does not fit at the end of a line, and line wrapping', async () => {
    const { show, term } = setup();
    const result = await show(
      '漢字かな混じり wide: 世界 ok\r\n' + 'x'.repeat(COLS - 1) + '界' + '\r\n' + 'long '.repeat(40) + '\r\nend',
    );
    expectSame(result);
    expect(result.stats.wide).toBeGreaterThanOrEqual(8);
    // xterm wrapped the wide char to the next row, and the long line over three rows.
    expect(term.buffer.active.getLine(2)?.translateToString(true)).toBe('界');
    expect(term.buffer.active.getLine(4)?.isWrapped).toBe(true);
  });

  it('the alternate screen, and the normal screen again after it', async () => {
    const { show, term } = setup();
    await show('normal screen text\r\n');
    let result = await show('\x1b[?1049h\x1b[H\x1b[2J\x1b[44malternate\x1b[m');
    expect(term.buffer.active.type).toBe('alternate');
    expectSame(result);
    result = await show('\x1b[?1049l');
    expect(term.buffer.active.type).toBe('normal');
    expectSame(result);
    expect(screenText(rig!.outer)).toContain('normal screen text');
  });

  it('the cursor: position and visibility (DECTCEM) reach the outer terminal', async () => {
    const { show, rig } = setup();
    await show('abc\x1b[5;10H');
    expect([rig.outer.buffer.active.cursorX, rig.outer.buffer.active.cursorY]).toEqual([9, 4]);
    await show('\x1b[?25l');
    expect(rig.written().lastIndexOf('\x1b[?25l')).toBeGreaterThan(rig.written().lastIndexOf('\x1b[?25h'));
    await show('\x1b[?25h\x1b[12;3H');
    expect(rig.written().lastIndexOf('\x1b[?25h')).toBeGreaterThan(rig.written().lastIndexOf('\x1b[?25l'));
    expect([rig.outer.buffer.active.cursorX, rig.outer.buffer.active.cursorY]).toEqual([2, 11]);
  });

  it('scrollback: paging up shows older lines, down returns to live', async () => {
    const { show, pane, render } = setup();
    let s = '';
    for (let i = 1; i <= 200; i++) s += `line ${i}\r\n`;
    await show(s);
    pane.scrollBy(-100);
    expect(pane.scrolledBack).toBe(true);
    let result = await render();
    expectSame(result);
    expect(screenText(rig!.outer).split('\n')[0]).toBe(`line ${200 - ROWS + 2 - 100}`);
    pane.scrollToTop();
    result = await render();
    expect(screenText(rig!.outer).split('\n')[0]).toBe('line 1');
    pane.scrollBy(10_000);
    expect(pane.scrolledBack).toBe(false);
    result = await render();
    expectSame(result);
    expect(screenText(rig!.outer)).toContain('line 200');
  });

  it('repaints only rows that changed, and cells an overlay left behind', async () => {
    const { show, view, rig, render } = setup();
    let s = '';
    for (let i = 1; i <= ROWS - 1; i++) s += `row ${i}\r\n`;
    await show(s);
    const before = view.rowsPainted;
    await show('x');
    expect(view.rowsPainted - before).toBe(1);
    const box = blessed.box({ parent: rig.screen, top: 2, left: 2, width: 20, height: 5, content: 'OVERLAY', border: 'line' });
    await render();
    expect(screenText(rig.outer)).toContain('OVERLAY');
    box.destroy();
    expectSame(await render());
  });
});

describe('real programs through the pane', () => {
  it('ls --color=always', async () => {
    const dir = join(work, 'ls');
    mkdirSync(join(dir, 'subdir'), { recursive: true });
    writeFileSync(join(dir, 'script.sh'), '#!/bin/sh\n');
    chmodSync(join(dir, 'script.sh'), 0o755);
    writeFileSync(join(dir, 'archive.tar.gz'), '');
    symlinkSync('subdir', join(dir, 'link'));
    symlinkSync('nowhere', join(dir, 'broken'));
    const { runProgram, render } = setup();
    const run = await runProgram('ls', ['--color=always', '-l', dir], (t) => t.includes('script.sh'), {
      LS_COLORS: '',
    });
    await run.exited;
    const result = await render();
    expectSame(result);
    expect(result.stats.colored).toBeGreaterThan(10);
  });

  it('vim editing a C file (alternate screen, syntax colours, queries answered)', async () => {
    const file = join(work, 'hello.c');
    writeFileSync(file, '#include <stdio.h>\n/* a comment */\nint main(void) {\n\tprintf("hi %d\\n", 42);\n\treturn 0;\n}\n');
    const { runProgram, render, pane, rig, term } = setup();
    const run = await runProgram(
      'vim',
      ['-u', 'NONE', '-i', 'NONE', '-N', '-c', 'syntax on', '-c', 'set ft=c', '-c', 'set number', file],
      (t) => t.includes('return 0;') && t.includes('hello.c'),
    );
    expect(term.buffer.active.type).toBe('alternate');
    const result = await render();
    expectSame(result);
    expect(result.stats.colored).toBeGreaterThan(20);
    const cursor = pane.cursor();
    expect([rig.outer.buffer.active.cursorX, rig.outer.buffer.active.cursorY]).toEqual([cursor.x, cursor.y]);
    run.pty.write('\x1b:q!\r');
    expect(await run.exited).toBe(0);
  });

  it('less (inverse prompt, alternate screen)', async () => {
    const file = join(work, 'numbers.txt');
    writeFileSync(file, Array.from({ length: 100 }, (_, i) => `number ${i + 1}`).join('\n'));
    const { runProgram, render, term } = setup();
    const run = await runProgram('less', [file], (t) => t.includes('number 23') && t.includes('numbers.txt'));
    expect(term.buffer.active.type).toBe('alternate');
    const result = await render();
    expectSame(result);
    expect(result.stats.styled).toBeGreaterThan(5);
    run.pty.write('q');
    expect(await run.exited).toBe(0);
  });

  it('top -b -n1 (lines wider than the pane wrap)', async () => {
    const { runProgram, render, pane } = setup();
    const run = await runProgram('top', ['-b', '-n1', '-w', '120'], (t) => t.includes(' root '));
    await run.exited;
    expectSame(await render());
    pane.scrollToTop();
    expectSame(await render());
    expect(screenText(rig!.outer)).toMatch(/^top - /);
  });
});

describe('terminal queries are answered to the program', () => {
  it('DSR cursor position and primary DA replies reach a real program', async () => {
    const { runProgram, term } = setup();
    const script =
      "printf '\\033[7;9H'; IFS= read -rsd R -p $'\\033[6n' pos; IFS= read -rsd c -p $'\\033[c' da; " +
      'printf "\\r\\nDSR=%q DA=%q\\n" "${pos#?}" "${da#?}"';
    const run = await runProgram('bash', ['--norc', '--noprofile', '-c', script], (t) => t.includes('DA='));
    await run.exited;
    const text = screenText(term);
    expect(text).toContain('DSR=\\[7\\;9');
    expect(text).toMatch(/DA=\\\[\\\?1\\;2/);
  });
});

describe('text printed ahead of its frame (a real screen worker; src/screen/print-ahead.ts)', () => {
  it("a keystroke's echo is on the outer terminal before its frame, which then paints nothing; text whose effect is not certain waits for its frame", async () => {
    const cols = 40;
    const rows = 8;
    const r = makeOuterRig(cols, rows);
    rig = r;
    const emulator = new Emulator({ cols, rows, scrollback: 100 }, { pause: () => undefined, resume: () => undefined });
    // The oracle: a model of our own fed the same bytes, and compared with the outer terminal cell by cell.
    const reference = new ScreenModel({ cols, rows, scrollback: 100 });
    const pane = new TerminalPane(emulator);
    const view = new PaneView(r.screen, pane, () => ({ left: 0, top: 0, height: rows }));
    let frames = 0;
    pane.on('frame', () => frames++);
    try {
      emulator.frames(true);
      /** Until a frame accounts for everything written and asked, and the outer terminal has it. */
      const settle = async (): Promise<void> => {
        await emulator.state();
        const seen = frames;
        await waitFor(() => frames > seen, 'the frame after a question');
        r.screen.render();
        await r.settle();
      };
      const output = async (data: string): Promise<void> => {
        emulator.write(Buffer.from(data));
        await reference.write(Buffer.from(data));
        await settle();
      };
      /** The same cells, and the cursor where the program's terminal shows it (one waiting to wrap on the last column). */
      const same = (): void => {
        expect(compareScreens(reference.term, r.outer, rows).mismatches.slice(0, 8)).toEqual([]);
        const inner = reference.term.buffer.active;
        const outer = r.outer.buffer.active;
        expect({ x: outer.cursorX, y: outer.cursorY }).toEqual({ x: Math.min(inner.cursorX, cols - 1), y: inner.cursorY });
      };
      /** Typed text echoed: on the outer terminal at once (synchronously) or not; the same screen once settled. */
      const echo = async (text: string, ahead: boolean): Promise<void> => {
        await settle();
        const painted = view.rowsPainted;
        const before = r.written().length;
        const at = reference.printsPlainAt();
        emulator.write(Buffer.from(text));
        const written = r.written().slice(before);
        expect(written.includes(text), `'${text}' ahead`).toBe(ahead);
        // Up to the last column: the cursor goes back onto it (our terminal must not wait to wrap either).
        if (ahead && at && at.x + text.length === cols) expect(written.endsWith(`\x1b[${at.y + 1};${cols}H`), `'${text}' then the cursor`).toBe(true);
        await reference.write(Buffer.from(text));
        await settle();
        if (ahead) expect(view.rowsPainted, `rows painted after '${text}'`).toBe(painted);
        same();
      };

      await output('$ ');
      await echo('l', true);
      await echo('s', true);
      // Typed faster than frames come: each goes ahead of the one before's frame.
      await settle();
      for (const key of ['x', 'y', 'z']) {
        const before = r.written().length;
        emulator.write(Buffer.from(key));
        await reference.write(Buffer.from(key));
        expect(r.written().slice(before)).toContain(key);
      }
      await settle();
      same();
      await output('\x1b[31m');
      await echo('r', false);
      await output('\x1b[0m\x1b(0');
      await echo('q', false);
      await output('\x1b(B\r\n\u6f22\u5b57\r');
      await echo('w', false); // would cut a wide character in two
      await output('\x1b[10G');
      await echo('w', true);
      await output(`\x1b[${cols - 1}G`);
      await echo('abc', false); // would pass the last column
      await output(`\x1b[${cols - 1}G`);
      await echo('a', true);
      await echo('b', true); // up to the last column: the cursor waits there to wrap
      await output('\r\n');
      /** Output after `cover` (undone by `uncover`): not ahead; the same screen once uncovered. */
      const notAheadUnder = async (cover: () => void, uncover: () => void): Promise<void> => {
        cover();
        await settle();
        const before = r.written().length;
        emulator.write(Buffer.from('h'));
        await reference.write(Buffer.from('h'));
        expect(r.written().slice(before)).toBe('');
        uncover();
        await settle();
        same();
      };
      const box = blessed.box({ top: 2, left: 0, width: 20, height: 3, content: 'OVER', border: 'line' });
      await notAheadUnder(
        () => r.screen.append(box),
        () => box.detach(),
      );
      await echo('k', true);
      await output('line\r\n'.repeat(20));
      await notAheadUnder(
        () => pane.scrollBy(-3),
        () => pane.scrollToBottom(),
      );
      // A cursor waiting to wrap: the next character goes ahead where it moves down without scrolling.
      await output(`\x1b[3;${cols}H`);
      await echo('d', true);
      await echo('e', true); // at the next row's start
      await output(`\x1b[${rows};${cols}H`);
      await echo('f', true);
      await echo('g', false); // the last row: wrapping scrolls the screen
      await output(`\x1b[2;4r\x1b[4;${cols}H`);
      await echo('i', true);
      await echo('j', false); // the scroll region's bottom: wrapping scrolls the region
      await output(`\x1b[${rows};${cols}H`);
      await echo('p', true);
      await echo('q', false); // below the region on the last row: it stays on that row
      await output(`\x1b[r\x1b[?7l\x1b[1;${cols}H`);
      await echo('m', true);
      await echo('n', false); // autowrap off: it takes the last column again
    } finally {
      emulator.dispose();
      reference.dispose();
    }
  });
});
