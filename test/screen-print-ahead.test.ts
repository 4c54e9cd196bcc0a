/**
 * Plain text shown ahead of the screen worker (src/screen/print-ahead.ts): where the
 * model says printable ASCII prints as it is (checked by printing it: only those cells
 * and the cursor change), and how the main thread's side chains prints and applies them
 * to frames that do not account for them yet.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ATTR, readRow } from '../src/screen/cells.js';
import { ScreenModel, type Frame } from '../src/screen/model.js';
import { PrintAhead } from '../src/screen/print-ahead.js';

const COLS = 20;
const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

async function modelAfter(setup: string): Promise<ScreenModel> {
  const model = new ScreenModel({ cols: COLS, rows: 5, scrollback: 20 });
  await model.write(bytes(setup));
  return model;
}

/** The visible rows as [attr, text] per cell, and the cursor. */
function state(model: ScreenModel): { rows: string[]; cursor: { x: number; y: number } } {
  const buffer = model.term.buffer.active;
  const rows: string[] = [];
  for (let y = 0; y < model.rows; y++) {
    const cells = readRow(buffer.getLine(buffer.baseY + y), COLS, buffer.getNullCell());
    rows.push(cells.text.map((text, x) => `${cells.attrs[x]}:${text}`).join('|'));
  }
  return { rows, cursor: { x: buffer.cursorX, y: buffer.cursorY } };
}

/** Where a character would print if it printed as it is: at the cursor, or for one waiting to wrap at the next row's start. */
function landing(model: ScreenModel): { x: number; y: number } {
  const { cursorX: x, cursorY: y } = model.term.buffer.active;
  return x < COLS ? { x, y } : { x: 0, y: y + 1 };
}

/**
 * The oracle: print 'ab' (no further than the last column) where it would land and look
 * whether only those cells changed, to the text in the default attributes, and the
 * cursor moved past them (waiting to wrap after the last column).
 */
async function printsAsIs(model: ScreenModel): Promise<boolean> {
  const before = state(model);
  const { x, y } = landing(model);
  if (y >= model.rows) return false;
  const text = 'ab'.slice(0, COLS - x);
  await model.write(bytes(text));
  const after = state(model);
  const expected = before.rows[y]!.split('|');
  for (let i = 0; i < text.length; i++) expected[x + i] = `${DEFAULT_ATTR}:${text[i]}`;
  return (
    after.rows[y] === expected.join('|') &&
    after.rows.every((row, other) => other === y || row === before.rows[other]) &&
    after.cursor.x === x + text.length &&
    after.cursor.y === y
  );
}

describe('where the model says plain text prints as it is', () => {
  const cases: [what: string, setup: string, plain: boolean][] = [
    ['after a prompt', '$ ', true],
    ['after colours were reset', '\x1b[1;31mred\x1b[0m ', true],
    ['with a colour set', '\x1b[31m', false],
    ['with bold set', '\x1b[1m', false],
    ['with a link open (OSC 8)', '\x1b]8;;https://example.org\x1b\\', false],
    ['inside an escape sequence', '\x1b[', false],
    ['with DEC graphics as G0', '\x1b(0', false],
    ['with DEC graphics shifted in as G1', '\x1b)0\x0e', false],
    ['after US ASCII is back', '\x1b(0\x1b(B', true],
    ['in insert mode', 'abc\r\x1b[4h', false],
    ['one column before the last', `\x1b[1;${COLS - 1}H`, true],
    ['on the last column', `\x1b[1;${COLS}H`, true],
    ['with the cursor waiting to wrap (at the next row)', 'x'.repeat(COLS), true],
    ['waiting to wrap on the last row (it scrolls)', `\x1b[5;1H${'x'.repeat(COLS)}`, false],
    ['waiting to wrap on the scroll region\'s bottom (it scrolls)', `\x1b[1;3r\x1b[3;1H${'x'.repeat(COLS)}`, false],
    ['waiting to wrap below the scroll region', `\x1b[1;3r\x1b[4;1H${'x'.repeat(COLS)}`, true],
    ['waiting to wrap below the scroll region on the last row (it stays there)', `\x1b[1;3r\x1b[5;1H${'x'.repeat(COLS)}`, false],
    ['at the last column with autowrap off', `\x1b[?7l${'x'.repeat(COLS)}`, false],
  ];
  for (const [what, setup, plain] of cases) {
    it(`${what}: ${plain ? 'yes' : 'no'}, as printing there shows`, async () => {
      const model = await modelAfter(`some text\r\n${setup}`);
      expect(model.printsPlainAt()).toEqual(plain ? landing(model) : undefined);
      expect(await printsAsIs(model)).toBe(plain);
    });
  }

  it('not inside a synchronized update (the program wants its screen shown when done), nor after half a UTF-8 character', async () => {
    const model = await modelAfter('\x1b[?2026h');
    expect(model.printsPlainAt()).toBeUndefined();
    await model.write(bytes('\x1b[?2026l'));
    expect(model.printsPlainAt()).toBeDefined();
    await model.write(bytes('\xc3'));
    expect(model.printsPlainAt()).toBeUndefined();
  });

  it('not while the view shows the history', async () => {
    const model = await modelAfter('line\r\n'.repeat(10));
    expect(model.printsPlainAt()).toBeDefined();
    model.scrollBy(-2);
    expect(model.printsPlainAt()).toBeUndefined();
    model.scrollToBottom();
    expect(model.printsPlainAt()).toEqual({ x: 0, y: 4 });
  });
});

/** A frame of blank rows `ys` (COLS wide) with plain text printing at `plain`. */
function frame(plain: Frame['plain'], ys: number[] = []): Frame {
  return {
    rows: ys.map((y) => ({ y, cells: { attrs: new Int32Array(COLS).fill(DEFAULT_ATTR), text: new Array<string>(COLS).fill(' ') } })),
    cursor: { x: plain?.x ?? 0, y: plain?.y ?? 0, visible: true },
    viewTop: 0,
    historyLength: 0,
    modes: undefined as unknown as Frame['modes'],
    plain,
  };
}

describe('printing ahead of the worker', () => {
  it('goes ahead only when the last frame accounts for all output and requests, for printable ASCII up to the last column', () => {
    const ahead = new PrintAhead(() => COLS);
    expect(ahead.write(bytes('a'), 0, 0)).toBeUndefined(); // no frame yet
    ahead.frame(frame({ x: 2, y: 1 }), { output: 100, requests: 3 });
    expect(ahead.write(bytes('a'), 99, 3)).toBeUndefined(); // output the frame did not see
    ahead.frame(frame({ x: 2, y: 1 }), { output: 100, requests: 3 });
    expect(ahead.write(bytes('a'), 100, 4)).toBeUndefined(); // a request it did not see
    ahead.frame(frame({ x: 2, y: 1 }), { output: 100, requests: 3 });
    expect(ahead.write(bytes('a\r'), 100, 3)).toBeUndefined();
    ahead.frame(frame({ x: 2, y: 1 }), { output: 100, requests: 3 });
    expect(ahead.write(bytes('\xe9'), 100, 3)).toBeUndefined();
    ahead.frame(frame({ x: 2, y: 1 }), { output: 100, requests: 3 });
    expect(ahead.write(bytes('x'.repeat(COLS - 1)), 100, 3)).toBeUndefined(); // would pass the last column
    ahead.frame(frame({ x: 2, y: 1 }), { output: 100, requests: 3 });
    expect(ahead.write(bytes('x'.repeat(COLS - 3)), 100, 3)).toEqual({ x: 2, y: 1, text: 'x'.repeat(COLS - 3) });
    ahead.frame(frame(undefined), { output: 117, requests: 3 });
    expect(ahead.write(bytes('a'), 117, 3)).toBeUndefined(); // the frame says no
    // Up to the last column: it goes, and the cursor then waits to wrap, which only the next frame places.
    ahead.frame(frame({ x: 2, y: 1 }), { output: 100, requests: 3 });
    expect(ahead.write(bytes('x'.repeat(COLS - 2)), 100, 3)).toEqual({ x: 2, y: 1, text: 'x'.repeat(COLS - 2) });
    expect(ahead.write(bytes('y'), 100 + COLS - 2, 3)).toBeUndefined();
    ahead.frame(frame({ x: 0, y: 2 }), { output: 100 + COLS - 2, requests: 3 });
    expect(ahead.write(bytes('y'), 100 + COLS - 2, 3)).toEqual({ x: 0, y: 2, text: 'y' });
  });

  it('chains prints, stops after output that did not go ahead, and wraps with the ring positions', () => {
    const ahead = new PrintAhead(() => COLS);
    const start = 0xffff_fffe;
    ahead.frame(frame({ x: 0, y: 0 }), { output: start, requests: 0 });
    expect(ahead.write(bytes('ab'), start, 0)).toEqual({ x: 0, y: 0, text: 'ab' });
    expect(ahead.write(bytes('c'), 0, 0)).toEqual({ x: 2, y: 0, text: 'c' });
    expect(ahead.write(bytes('\r\n'), 1, 0)).toBeUndefined();
    expect(ahead.write(bytes('d'), 3, 0)).toBeUndefined();
  });

  it('applies the prints a frame does not account for to its rows and cursor, and drops them once one does', () => {
    const ahead = new PrintAhead(() => COLS);
    ahead.frame(frame({ x: 3, y: 2 }), { output: 10, requests: 0 });
    ahead.write(bytes('ab'), 10, 0);
    ahead.write(bytes('c'), 12, 0);
    // The worker parsed 'ab' only: its frame gets 'c' on top; a row without prints is left alone.
    const behind = ahead.frame({ ...frame({ x: 5, y: 2 }, [1, 2]), cursor: { x: 5, y: 2, visible: true } }, { output: 12, requests: 0 });
    expect(behind.rows.find((row) => row.y === 2)!.cells.text.join('')).toBe(`${' '.repeat(5)}c${' '.repeat(COLS - 6)}`);
    expect(behind.rows.find((row) => row.y === 1)!.cells.text.join('')).toBe(' '.repeat(COLS));
    expect(behind.cursor).toEqual({ x: 6, y: 2, visible: true });
    // Still chained after that frame: the next print goes at 6.
    expect(ahead.write(bytes('d'), 13, 0)).toEqual({ x: 6, y: 2, text: 'd' });
    const caught = frame({ x: 7, y: 2 }, [2]);
    expect(ahead.frame(caught, { output: 14, requests: 0 })).toBe(caught);
    expect(ahead.write(bytes('e'), 14, 0)).toEqual({ x: 7, y: 2, text: 'e' });
    // A print up to the last column puts a frame behind it on that column, as the model shows a cursor waiting to wrap.
    expect(ahead.write(bytes('x'.repeat(COLS - 8)), 15, 0)).toEqual({ x: 8, y: 2, text: 'x'.repeat(COLS - 8) });
    expect(ahead.frame(frame({ x: 8, y: 2 }, [2]), { output: 15, requests: 0 }).cursor).toEqual({ x: COLS - 1, y: 2, visible: true });
  });
});
