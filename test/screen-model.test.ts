/**
 * The screen model (src/screen/model.ts), in-process. Oracles: @xterm/headless itself fed
 * every byte (for floods left out), and a second xterm playing the terminal a thaw paints
 * on (for repaints and for the way back to the shell's modes).
 */
import xterm from '@xterm/headless';
import type { IBufferCell, Terminal } from '@xterm/headless';
import serializeAddon from '@xterm/addon-serialize';
import type { SerializeAddon } from '@xterm/addon-serialize';
import { describe, expect, it } from 'vitest';
import { skippable } from '../src/screen/flood.js';
import { ScreenModel } from '../src/screen/model.js';
import { defaultModes, readModes } from '../src/screen/modes.js';
import { createRing, RingReader, RingWriter } from '../src/screen/ring.js';
import { seededRandom, type Random } from './helpers/prng.js';

const { SerializeAddon: Serializer } = serializeAddon as unknown as { SerializeAddon: new () => SerializeAddon };

function terminal(cols: number, rows: number, scrollback = 0): { term: Terminal; serialize: () => string } {
  const term = new xterm.Terminal({ cols, rows, scrollback, allowProposedApi: true });
  const serializer = new Serializer();
  term.loadAddon(serializer as unknown as Parameters<Terminal['loadAddon']>[0]);
  return { term, serialize: () => serializer.serialize() };
}

const write = (term: Terminal, data: string | Uint8Array): Promise<void> => new Promise((resolve) => term.write(data, resolve));

/** Everything a cell shows: text, width, colours and their modes, attributes. */
function cell(c: IBufferCell): string {
  const flags = [c.isBold(), c.isDim(), c.isItalic(), c.isUnderline(), c.isBlink(), c.isInverse(), c.isInvisible(), c.isStrikethrough()];
  return JSON.stringify([c.getChars(), c.getWidth(), c.getFgColorMode(), c.getFgColor(), c.getBgColorMode(), c.getBgColor(), flags]);
}

/** The visible rows `from`..`to` (screen rows) of the active buffer, cell by cell. */
function rowsOf(term: Terminal, from = 0, to = term.rows - 1): string[][] {
  const buffer = term.buffer.active;
  const scratch = buffer.getNullCell();
  const rows: string[][] = [];
  for (let y = from; y <= to; y++) {
    const line = buffer.getLine(buffer.baseY + y);
    const cells: string[] = [];
    for (let x = 0; x < term.cols; x++) cells.push(line?.getCell(x, scratch) ? cell(scratch) : 'none');
    rows.push(cells);
  }
  return rows;
}

function cursorOf(term: Terminal): [number, number] {
  return [term.buffer.active.cursorX, term.buffer.active.cursorY];
}

describe('skippable: the parts of a flood that only scroll away', () => {
  it('keeps exactly keepLines line feeds of each plain run', () => {
    const data = Buffer.from('a\r\n'.repeat(10));
    const [skip, ...more] = skippable(data, 3);
    expect(more).toEqual([]);
    expect(data.subarray(skip!.end).toString()).toBe('a\r\n'.repeat(3));
    expect(skip!.start).toBe(0);
    expect(skippable(Buffer.from('a\n'.repeat(3)), 3)).toEqual([]);
  });

  it('ends a run at what changes state: escape sequences (a CSI as a whole), SO/SI, C1 controls in UTF-8', () => {
    const text = (s: string) => skippable(Buffer.from(s), 1).map(({ start, end }) => Buffer.from(s).subarray(start, end).toString());
    expect(text('x\n\x1b[31my\n\nz\n')).toEqual(['y\n\n']);
    expect(text('x\n\x0ey\n\n\x0fz\n')).toEqual(['y\n']);
    // A bell, a backspace leave nothing on the screen of their own.
    expect(text('x\n\x07y\n\b\n')).toEqual(['x\n\x07y\n']);
    // Other sequences end a run at their ESC only: the caller finds the parser inside the OSC and does not skip.
    expect(text('x\n\x1b]0;title\x07y\n\n')).toEqual([']0;title\x07y\n']);
    // U+009B is CSI: its UTF-8 bytes start a sequence as ESC [ does; U+00A9 (©) shares the lead byte and is text.
    expect(text('x\n\u009b31m\n\n')).toEqual(['\n']);
    expect(text('©\n©\n')).toEqual(['©\n']);
  });

  it('finds the same parts as a byte-by-byte scan, in data of many scan windows with the bytes that end runs at their edges (seeded)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = seededRandom(seed);
      const int = (n: number): number => Math.floor(random() * n);
      const data = Buffer.alloc(64 * 1024 + int(300 * 1024));
      for (let i = 0; i < data.length; i++) data[i] = random() < 0.02 ? LF : 0x61 + int(26);
      // Sparse or dense, and where a window of the scan ends or begins (64 KiB).
      const specials = [0x1b, 0x0e, 0x0f, 0xc2];
      const count = seed % 3 === 0 ? int(data.length / 20) : int(12);
      for (let n = 0; n < count; n++) {
        const edge = (1 + int(Math.floor(data.length / 65536))) * 65536 + int(5) - 2;
        const at = Math.min(data.length - 1, random() < 0.5 ? edge : int(data.length));
        data[at] = specials[int(specials.length)]!;
        // After a lead byte: a C1 control (0x80-0x9f, 0x9b is CSI), or text (U+00A9's second byte).
        if (data[at] === 0xc2 && at + 1 < data.length) data[at + 1] = [0x9b, 0x85, 0xa9][int(3)]!;
        if (data[at] === 0x1b && at + 1 < data.length && random() < 0.5) data[at + 1] = 0x5b;
      }
      const keepLines = int(300);
      const expected = skippableByteByByte(data, keepLines);
      expect(skippable(data, keepLines), `seed ${seed}`).toEqual(expected);
      // Told where such bytes may be (the ring's marks: 4 KiB blocks, some marked for nothing).
      const marked = Array.from({ length: Math.ceil(data.length / 4096) }, (_, block) => {
        const bytes = data.subarray(block * 4096, (block + 1) * 4096);
        return random() < 0.1 || specials.some((byte) => bytes.includes(byte));
      });
      const nextMarked = (from: number): number => {
        for (let block = Math.floor(from / 4096); block < marked.length; block++) if (marked[block]) return Math.max(from, block * 4096);
        return data.length;
      };
      expect(skippable(data, keepLines, nextMarked), `seed ${seed}, with marks`).toEqual(expected);
    }
  });
});

const LF = 0x0a;

/** flood.ts's rule, one byte at a time: the oracle for its memchr and window scan. */
function skippableByteByByte(data: Buffer, keepLines: number): { start: number; end: number }[] {
  const skips: { start: number; end: number }[] = [];
  const closeRun = (start: number, end: number): void => {
    const feeds: number[] = [];
    for (let i = start; i < end; i++) if (data[i] === LF) feeds.push(i);
    if (feeds.length > keepLines) skips.push({ start, end: feeds[feeds.length - keepLines - 1]! + 1 });
  };
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    const next = data[i + 1];
    const c1 = byte === 0xc2 && (next === undefined || (next >= 0x80 && next <= 0x9f));
    if (byte !== 0x1b && byte !== 0x0e && byte !== 0x0f && !c1) continue;
    closeRun(start, i);
    if ((byte === 0x1b && next === 0x5b) || (c1 && next === 0x9b)) {
      let final = i + 2;
      while (final < data.length - 1 && (data[final]! < 0x40 || data[final]! > 0x7e)) final++;
      start = final + 1;
    } else {
      start = i + (c1 ? 2 : 1);
    }
    i = start - 1;
  }
  closeRun(start, data.length);
  return skips;
}

/** A random terminal program's output: floods of lines and the sequences that change state in between. */
function randomOutput(random: Random, cols: number, rows: number): string[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const int = (n: number): number => Math.floor(random() * n);
  const line = (): string => Array.from({ length: int(cols * 2) }, () => pick(['a', 'b', ' ', '-', 'é', '漢', '\t'])).join('');
  const pieces: string[] = [];
  for (let i = 0; i < 40; i++) {
    const kind = int(10);
    if (kind < 4) {
      const end = pick(['\r\n', '\n', '\r\n']);
      pieces.push(Array.from({ length: int(120) }, line).join(end) + end);
    } else {
      pieces.push(
        pick([
          `\x1b[${30 + int(8)};${40 + int(8)}m`,
          '\x1b[0m',
          `\x1b[${1 + int(rows)};${1 + int(cols)}H`,
          `\x1b[${1 + int(2)};${rows - int(2)}r`,
          '\x1b[r',
          '\x1b[?1049h',
          '\x1b[?1049l',
          '\x1b[2J',
          '\x1bM',
          '\x07',
          '\u009b7m',
          `\x1b[${1 + int(3)}A`,
        ]),
      );
    }
  }
  return pieces;
}

describe('a flood left out shows the same screen and history', () => {
  it.each([
    { how: 'each piece parsed at once', defer: false },
    { how: "each piece's last lines deferred to the next piece or a flush (a flood nobody watches)", defer: true },
  ])('as every byte parsed, over random program output in random pieces through the ring (seeded): $how', async ({ defer }) => {
    let skipped = 0;
    /** Pieces written while the model held deferred text, and how many of those left it out. */
    const deferred = { held: 0, leftOut: 0 };
    const held = (model: ScreenModel): Uint8Array | undefined => (model as unknown as { deferred?: Uint8Array }).deferred;
    // Deferring has rarer paths (text held across a scroll region's change): more seeds.
    for (let seed = 1; seed <= (defer ? 400 : 40); seed++) {
      const random = seededRandom(seed);
      const [cols, rows, history] = [12 + Math.floor(random() * 30), 4 + Math.floor(random() * 8), Math.floor(random() * 40)];
      const output = Buffer.from(randomOutput(random, cols, rows).join(''));
      const model = new ScreenModel({ cols, rows, scrollback: history });
      const modelSerializer = new Serializer();
      model.term.loadAddon(modelSerializer as unknown as Parameters<Terminal['loadAddon']>[0]);
      const reference = terminal(cols, rows, history);
      // Through the ring, as the worker takes it: in place, split where the ring wraps, with its marks.
      const ring = createRing(32 << 10);
      const [writer, reader] = [new RingWriter(ring), new RingReader(ring)];
      for (let at = 0; at < output.length; ) {
        const length = writer.write(output.subarray(at, at + 1 + Math.floor(random() * 20_000)));
        const end = reader.written;
        for (const { bytes, nextMarked } of reader.pieces(end)) {
          const skips = skippable(bytes, history + 2 * rows, nextMarked);
          skipped += skips.reduce((sum, { start, end }) => sum + end - start, 0);
          if (held(model)) {
            deferred.held++;
            if (skips[0]?.start === 0) deferred.leftOut++;
          }
          await model.write(bytes, defer, nextMarked);
        }
        reader.release(end);
        // A request now and then reads the screen: it flushes first (worker.ts).
        if (random() < 0.1) await model.flush();
        at += length;
      }
      await model.flush();
      await write(reference.term, output);
      expect(modelSerializer.serialize(), `seed ${seed}`).toBe(reference.serialize());
      expect(cursorOf(model.term), `seed ${seed}`).toEqual(cursorOf(reference.term));
      expect(readModes(model.term), `seed ${seed}`).toEqual(readModes(reference.term));
    }
    // The comparison means something only if floods were left out (and deferred text was, too).
    expect(skipped).toBeGreaterThan(100_000);
    if (defer) expect(deferred.leftOut).toBeGreaterThan(10);
    else expect(deferred.held).toBe(0);
  });
});

const COLS = 64;
const ROWS = 10;

/** A model where the shell's prompt was marked, then `job` ran. */
async function afterJob(job: string, before = ''): Promise<ScreenModel> {
  const model = new ScreenModel({ cols: COLS, rows: ROWS, scrollback: 0 });
  await model.write(Buffer.from(`${before}\x1b[?2004hck$ `));
  model.mark();
  await model.write(Buffer.from(`prog\r\n\x1b[?2004l\r${job}`));
  return model;
}

/** The terminal a thaw paints on: some history, the command, the thaw line, then the repaint. */
async function thawedOn(model: ScreenModel): Promise<Terminal> {
  const { term } = terminal(COLS, ROWS, 100);
  let shell = '';
  for (let i = 0; i < 30; i++) shell += `old line ${i}\r\n`;
  await write(term, `${shell}ck$ ckpty thaw prog.ckpt\r\nckpty: thawed prog[42] from prog.ckpt (1 MiB, 9 ms)\r\n${model.repaint()}`);
  return term;
}

describe('repaint: the screen comes back as it was', () => {
  it("a program's alternate screen: every cell, the cursor and the modes; the thaw line stays on the normal screen", async () => {
    const model = await afterJob(
      '\x1b[?1049h\x1b[?1h\x1b=\x1b[?1002h\x1b[?1006h\x1b[?1004h\x1b[?2004h\x1b[H\x1b[2J' +
        '\x1b[7m  GNU nano 7.2   notes.txt  \x1b[0m\r\n\x1b[1;38;5;208mhello\x1b[0m \x1b[38;2;10;200;30mworld\x1b[0m 漢字\r\n' +
        `\x1b[${ROWS};1H\x1b[44m^G Help\x1b[K\x1b[0m\x1b[2;${ROWS - 1}r\x1b[2;6H\x1b[?25l\x1b[3 q\x1b[1;31m`,
    );
    expect(model.repaintKind()).toBe('alternate');
    const term = await thawedOn(model);
    expect(rowsOf(term)).toEqual(rowsOf(model.term));
    expect(cursorOf(term)).toEqual(cursorOf(model.term));
    expect(readModes(term)).toEqual(readModes(model.term));
    // What the program writes next has the attributes it had set (bold red).
    await write(term, 'x');
    await model.write(Buffer.from('x'));
    expect(rowsOf(term)).toEqual(rowsOf(model.term));
    await write(term, '\x1b[?1049l');
    expect(term.buffer.active.getLine(term.buffer.active.baseY + term.buffer.active.cursorY - 1)?.translateToString(true)).toMatch(/^ckpty: thawed/);
  });

  it('a program that draws on the normal screen (top): the whole screen, after pushing what was there into the history', async () => {
    const model = await afterJob(
      '\x1b[H\x1b[2Jtop - 10:00:00 up 1 day\r\nTasks: 99 total\r\n\r\n\x1b[7m  PID USER  %CPU COMMAND      \x1b[0m\r\n    1 root   0.0 init\x1b[4;1H',
      'earlier output\r\n',
    );
    expect(model.repaintKind()).toBe('screen');
    const term = await thawedOn(model);
    expect(rowsOf(term)).toEqual(rowsOf(model.term));
    expect(cursorOf(term)).toEqual(cursorOf(model.term));
    const { baseY } = term.buffer.active;
    const pushed = Array.from({ length: ROWS }, (_, i) => term.buffer.active.getLine(baseY - 1 - i)?.translateToString(true));
    expect(pushed.find((line) => line?.startsWith('ckpty: thawed'))).toBeDefined();
  });

  it('a program that writes lines (a REPL): its lines since the prompt under the thaw line, the cursor after its prompt', async () => {
    const model = await afterJob('Python 3.11\r\n>>> x = 6*7\r\n>>> \x1b[1mx\x1b[0m+');
    expect(model.repaintKind()).toBe('lines');
    const term = await thawedOn(model);
    const jobRows = 3; // from the line below the prompt to the cursor's
    const [mx, my] = cursorOf(model.term);
    const [tx, ty] = cursorOf(term);
    expect(tx).toBe(mx);
    expect(rowsOf(term, ty - jobRows + 1, ty)).toEqual(rowsOf(model.term, my - jobRows + 1, my));
    expect(term.buffer.active.getLine(term.buffer.active.baseY + ty - jobRows)?.translateToString(true)).toMatch(/^ckpty: thawed/);
  });

  it('a cursor left past the last column (the next character wraps) is left there again', async () => {
    const screen = await afterJob(`\x1b[H\x1b[2Jtop\x1b[3;1H${'x'.repeat(COLS)}`);
    const lines = await afterJob(`Python\r\n${'y'.repeat(COLS)}`);
    for (const model of [screen, lines]) {
      const term = await thawedOn(model);
      expect(cursorOf(term)[0]).toBe(COLS);
      const [, y] = cursorOf(term);
      await write(term, 'z');
      // z wrapped to the next line's start (at the screen's bottom the screen scrolled).
      expect(cursorOf(term)).toEqual([1, Math.min(y + 1, ROWS - 1)]);
    }
  });

  it('a job with more lines than the screen: the last screenful', async () => {
    let lines = '';
    for (let i = 1; i <= 50; i++) lines += `line ${i}\r\n`;
    const model = await afterJob(`${lines}> `);
    const term = await thawedOn(model);
    expect(rowsOf(term)).toEqual(rowsOf(model.term));
    expect(cursorOf(term)).toEqual(cursorOf(model.term));
  });
});

describe('owned: a status line would be printed into the program\'s screen', () => {
  it.each([
    ['lines (a REPL)', 'Python 3.11\r\n>>> ', false, 'lines'],
    ['the alternate screen (less)', '\x1b[?1049h\x1b[Hpage 1\r\n', true, 'alternate'],
    ['text placed by position on the normal screen (top)', '\x1b[H\x1b[2Jtop - 10:00\r\n\x1b[4;1H    1 root init', true, 'screen'],
    ['lines after `clear` (xterm\'s: home, erase the screen and the history), then gdb', '\x1b[H\x1b[2J\x1b[3JGNU gdb 13.1\r\n(gdb) ', false, 'screen'],
    ['lines after the linux console\'s clear (home, erase below)', '\x1b[H\x1b[Jbc 1.07\r\n', false, 'screen'],
    ['lines after erasing the screen, then placed by position', '\x1b[2J\x1b[H\x1b[5;1Hstatus', true, 'screen'],
    ['a loop that clears and writes lines again (`while :; do clear; date; sleep 1; done`)', '\x1b[H\x1b[2J\x1b[3JThu Dec  3\r\n\x1b[H\x1b[2J\x1b[3JThu Dec  3\r\n', true, 'screen'],
    ['erasing below mid-screen (a redraw of its end)', 'one\r\ntwo\x1b[1;1H\x1b[2;1H\x1b[J', true, 'screen'],
    ['erasing the history only, on a screen it draws', '\x1b[3;1Hdrawn\x1b[3J', true, 'screen'],
  ])('%s', async (_what, job, owned, repaint) => {
    const model = await afterJob(job);
    expect(model.owned()).toBe(owned);
    // What a thaw paints is another question: after any addressing, the whole screen.
    expect(model.repaintKind()).toBe(repaint);
  });
});

describe('leave: the terminal goes back to the modes the shell had at its prompt', () => {
  it('the normal screen at the line below the command, cursor shown, keys and mouse as before, default attributes', async () => {
    const model = await afterJob(
      '\x1b[?1049h\x1b[?1h\x1b=\x1b[?1003h\x1b[?1006h\x1b[?1004h\x1b[?25l\x1b[5 q\x1b[4h\x1b[?7l\x1b[3;8r\x1b[1;41mbusy',
    );
    const { term } = terminal(COLS, ROWS);
    expect(readModes(model.term).altScreen).toBe(true);
    const shell = defaultModes(ROWS);
    const leave = model.leave();
    await model.write(Buffer.from(leave.bytes));
    await write(term, `\x1b[?2004hck$ prog\r\n\x1b[?2004l\r\x1b[?1049h\x1b[?1h\x1b=\x1b[?1003h\x1b[?1006h\x1b[?1004h\x1b[?25l\x1b[5 q\x1b[4h\x1b[?7l\x1b[3;8r\x1b[1;41mbusy${leave.bytes}`);
    expect(leave.alternateLeft).toBe(true);
    for (const screen of [model.term, term]) {
      expect(readModes(screen)).toEqual(shell);
      expect(cursorOf(screen)).toEqual([0, 1]);
    }
    await write(term, 'next');
    expect(rowsOf(term, 1, 1)).toEqual(rowsOf((await afterJob('next')).term, 1, 1));
  });

  it('nothing for a job that changed no mode; bracketed paste is left to the shell to turn on', async () => {
    const model = await afterJob('plain output\r\n');
    expect(model.leave()).toEqual({ bytes: '' });
    expect(readModes(model.term)).toEqual(defaultModes(ROWS));
    const vim = await afterJob('\x1b[?2004h\x1b[33mtext\r\n');
    expect(vim.leave()).toEqual({ bytes: '\x1b[0m\x1b[?2004l' });
  });

  it("a job that left the cursor after its text: the shell's prompt starts the next line", async () => {
    for (const [output, bytes] of [
      ['>>> ', '\r\n'],
      ['\x1b[1mbold', '\x1b[0m\r\n'],
      ['half\x1b[?1049h\x1b[5;10Hfull', '\x1b[?1049l\r\n'],
      ['x'.repeat(COLS), '\r\n'],
    ] as const) {
      const model = await afterJob(output);
      const leave = model.leave();
      expect(leave.bytes).toBe(bytes);
      await model.write(Buffer.from(leave.bytes));
      expect(model.term.buffer.active.cursorX).toBe(0);
    }
  });
});
