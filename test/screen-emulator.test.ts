/**
 * The screen worker through its main-thread side (src/screen/emulator.ts): answers in
 * order with the output, frames at most once per frame time but at once after a quiet
 * spell, replies to the program's queries, floods of plain text taken in stride.
 */
import xterm from '@xterm/headless';
import { afterEach, describe, expect, it } from 'vitest';
import { Emulator } from '../src/screen/emulator.js';
import type { Frame } from '../src/screen/model.js';

const emulators: Emulator[] = [];
afterEach(() => {
  for (const emulator of emulators.splice(0)) emulator.dispose();
});

function start(options = { cols: 40, rows: 10, scrollback: 100 }) {
  const flow = { paused: 0, resumed: 0, pause: () => void flow.paused++, resume: () => void flow.resumed++ };
  const emulator = new Emulator(options, flow);
  emulators.push(emulator);
  const frames: { at: number; frame: Frame }[] = [];
  emulator.on('frame', (frame) => frames.push({ at: performance.now(), frame }));
  return { emulator, frames, flow };
}

const until = async (test: () => boolean, what: string): Promise<void> => {
  const deadline = performance.now() + 10_000;
  while (!test()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

const rowText = (frame: Frame, y: number): string | undefined => frame.rows.find((row) => row.y === y)?.cells.text.join('').trimEnd();

describe('the screen worker', () => {
  it('answers after every byte written before the question', async () => {
    const { emulator } = start();
    for (let i = 0; i < 2000; i++) emulator.write(Buffer.from(`\r\nline ${i}`));
    const { repaint, owned } = await emulator.snapshot();
    expect(owned).toBe(true); // nothing marked: no line is known to be the job's first
    expect(repaint).toContain('line 1999');
    expect(repaint).toContain('line 1990');
    expect(repaint).not.toContain('line 1989');
  });

  it('sends a frame at once after a quiet spell, and at most one per 16 ms under a stream of output', async () => {
    const { emulator, frames } = start();
    emulator.frames(true);
    await until(() => frames.length === 1, 'the first frame');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const typed = performance.now();
    emulator.write(Buffer.from('k'));
    await until(() => frames.length === 2, "a keystroke's frame");
    expect(frames[1]!.at - typed).toBeLessThan(50);
    expect(rowText(frames[1]!.frame, 0)).toBe('k');
    expect(frames[1]!.frame.rows).toHaveLength(1); // only the row that changed

    const started = performance.now();
    while (performance.now() - started < 400) {
      emulator.write(Buffer.from(`tick ${Math.round(performance.now())}\r\n`));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await emulator.state();
    const during = frames.filter(({ at }) => at > started && at < started + 400).map(({ at }) => at);
    expect(during.length).toBeGreaterThan(4);
    expect(during.length).toBeLessThanOrEqual(400 / 16 + 2);
  });

  it("answers the program's queries (DSR), for the program", async () => {
    const { emulator } = start();
    const replies: string[] = [];
    emulator.on('reply', (reply) => replies.push(reply));
    emulator.write(Buffer.from('\x1b[3;7H\x1b[6n'));
    await until(() => replies.length === 1, 'the reply');
    expect(replies).toEqual(['\x1b[3;7R']);
  });

  it('scrolls its view through the history and back', async () => {
    const { emulator, frames } = start();
    emulator.frames(true);
    for (let i = 1; i <= 50; i++) emulator.write(Buffer.from(`line ${i}\r\n`));
    await until(() => frames.at(-1)?.frame.historyLength === 41, 'the history');
    emulator.scrollTo('top');
    await until(() => frames.at(-1)?.frame.viewTop === 0, 'the top');
    expect(rowText(frames.at(-1)!.frame, 0)).toBe('line 1');
    emulator.scrollBy(1000);
    await until(() => frames.at(-1)?.frame.viewTop === 41, 'live again');
  });

  it('a worker gone (a bug) leaves empty answers, not questions waiting forever', async () => {
    const { emulator } = start();
    const asked = emulator.snapshot();
    await (emulator as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    expect(await asked).toEqual({ repaint: '', owned: false });
    expect(await emulator.leave()).toEqual({ bytes: '' });
    emulator.write(Buffer.from('ignored'));
  });

  it('takes a flood of plain text in stride: 64 MiB, the screen as if all were parsed, in a fraction of the time', async () => {
    const { emulator, flow } = start({ cols: 80, rows: 24, scrollback: 5000 });
    const line = (i: number): string => `flood line ${String(i).padStart(9, '0')} ${'x'.repeat(56)}\r\n`;
    const perChunk = 800;
    const chunks = Math.ceil((64 << 20) / (perChunk * line(0).length));
    const pieces = Array.from({ length: chunks }, (_, c) => {
      let text = '';
      for (let i = 0; i < perChunk; i++) text += line(c * perChunk + i);
      return Buffer.from(text);
    });
    let started = performance.now();
    for (const piece of pieces) emulator.write(piece);
    const { repaint } = await emulator.snapshot();
    const seconds = (performance.now() - started) / 1000;
    // The same text parsed whole, by @xterm/headless alone, on a quarter of it.
    const reference = new xterm.Terminal({ cols: 80, rows: 24, scrollback: 5000, allowProposedApi: true });
    started = performance.now();
    for (const piece of pieces.slice(0, chunks / 4)) await new Promise<void>((resolve) => reference.write(piece, resolve));
    const referenceSeconds = ((performance.now() - started) / 1000) * 4;
    reference.dispose();
    const last = chunks * perChunk - 1;
    expect(repaint).toContain(line(last).trimEnd());
    expect(repaint).toContain(line(last - 22).trimEnd());
    expect(seconds).toBeLessThan(referenceSeconds / 2);
    // Written at once, 64 MiB did not fit in the ring: the program was held, then let go.
    expect([flow.paused, flow.resumed]).toEqual([1, 1]);
  });
});
