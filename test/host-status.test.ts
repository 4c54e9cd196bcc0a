/**
 * Where plain mode puts its status line (src/host/fresh-line.ts), judged by what a
 * terminal emulator (xterm.js) shows after the bytes: the status on a line of its own,
 * between the key's echo and the prompt, whichever of the two arrived first.
 */
import xtermHeadless from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { OutputLine } from '../src/host/fresh-line.js';

const STATUS = 'ckpt: froze counter[81] -> /tmp/counter.ckpt (116 KiB, 9 ms)';
const PROMPT = '\x1b[?2004h\x1b[1;32muser$\x1b[0m ';

/** Feed output and status lines the way plain mode does; the screen's lines after it. */
async function screenAfter(steps: Array<{ output: string } | { key: true } | { status: string }>, cols = 80): Promise<string[]> {
  const line = new OutputLine();
  const written: Buffer[] = [];
  for (const step of steps) {
    if ('output' in step) {
      const data = Buffer.from(step.output, 'latin1');
      line.output(data);
      written.push(data);
    } else if ('key' in step) {
      line.markKey();
    } else {
      written.push(line.place(step.status, cols));
    }
  }
  const terminal = new xtermHeadless.Terminal({ cols, rows: 10, allowProposedApi: true });
  await new Promise<void>((resolve) => terminal.write(Buffer.concat(written), resolve));
  const lines: string[] = [];
  for (let y = 0; y < 10; y++) lines.push(terminal.buffer.active.getLine(y)?.translateToString(true) ?? '');
  const cursor = { x: terminal.buffer.active.cursorX, y: terminal.buffer.active.cursorY };
  terminal.dispose();
  return [...lines.filter((text) => text !== ''), `cursor ${cursor.x},${cursor.y}`];
}

describe('the status line', () => {
  it('goes after the echo when it comes before the prompt', async () => {
    expect(
      await screenAfter([{ output: 'count 3\r\n' }, { output: '^E' }, { key: true }, { status: STATUS }, { output: PROMPT }]),
    ).toEqual(['count 3', '^E', STATUS, 'user$ ', 'cursor 6,3']);
  });

  it('goes between the echo and a prompt that came first, and the prompt is drawn again', async () => {
    expect(
      await screenAfter([{ output: 'count 3\r\n' }, { output: '^E' }, { key: true }, { output: PROMPT }, { status: STATUS }]),
    ).toEqual(['count 3', '^E', STATUS, 'user$ ', 'cursor 6,3']);
  });

  it('goes above a readline prompt that starts with a carriage return, and the prompt is drawn again', async () => {
    expect(await screenAfter([{ output: 'x = 6 * 7\r\n' }, { key: true }, { output: `\r${PROMPT}` }, { status: STATUS }])).toEqual([
      'x = 6 * 7',
      STATUS,
      'user$ ',
      'cursor 6,2',
    ]);
  });

  it('takes a line that holds only a mode sequence (readline\'s bracketed paste) without leaving it blank', async () => {
    expect(await screenAfter([{ output: 'x = 6 * 7\r\n\x1b[?2004h' }, { key: true }, { status: STATUS }, { output: `\r${PROMPT}` }])).toEqual([
      'x = 6 * 7',
      STATUS,
      'user$ ',
      'cursor 6,2',
    ]);
  });

  it('leaves no blank line for what bc\'s readline wrote before the key (only mode sequences)', async () => {
    expect(
      await screenAfter([{ output: 'x = 6 * 7\r\n\x1b[?2004l\r\x1b[?2004h' }, { key: true }, { output: PROMPT }, { status: STATUS }]),
    ).toEqual(['x = 6 * 7', STATUS, 'user$ ', 'cursor 6,2']);
  });

  it('goes above a prompt on a line of its own', async () => {
    expect(await screenAfter([{ output: 'count 3\r\n' }, { key: true }, { output: PROMPT }, { status: STATUS }])).toEqual([
      'count 3',
      STATUS,
      'user$ ',
      'cursor 6,2',
    ]);
  });

  it('starts a fresh line when the current one cannot be drawn again', async () => {
    // A line that moved the cursor (or would wrap) is left alone.
    expect(await screenAfter([{ key: true }, { output: 'abc\x1b[2Dx' }, { status: STATUS }])).toEqual(['axc', STATUS, 'cursor 0,2']);
    expect(await screenAfter([{ key: true }, { output: 'x'.repeat(30) }, { status: STATUS }], 20)).toEqual([
      'x'.repeat(20),
      'x'.repeat(10),
      STATUS.slice(0, 20),
      STATUS.slice(20, 40),
      STATUS.slice(40),
      'cursor 0,5',
    ]);
  });
});
