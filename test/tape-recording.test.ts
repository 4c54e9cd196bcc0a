/**
 * The deterministic timeline: the same tape and the same session output give the same
 * recording, however the pty happened to chunk the output and whichever side of a
 * zero-time step boundary it arrived on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCast } from '../src/recorder/asciicast.js';
import { CastWriter } from '../src/recorder/cast-writer.js';
import { splitAtEchoes, VirtualRecording } from '../src/recorder/tape/recording.js';
import { removeScratchDirs, scratchDir } from './helpers/recorder.js';

afterAll(removeScratchDirs);

type Step = { keys?: string[]; pause?: number; chunks?: string[]; markers?: string[] };

/** Plays steps into a VirtualRecording; returns the file it wrote. */
function record(steps: Step[], hiddenSteps = new Set<number>()): string {
  const path = join(scratchDir(), 'v.cast');
  const writer = new CastWriter(path, { version: 2, width: 80, height: 24 });
  const recording = new VirtualRecording(writer);
  steps.forEach((step, index) => {
    if (hiddenSteps.has(index)) recording.hide();
    for (const key of step.keys ?? []) {
      recording.keystroke(key);
      recording.advance(step.pause ?? 0);
    }
    if (!step.keys) recording.advance(step.pause ?? 0);
    for (const chunk of step.chunks ?? []) recording.output(chunk);
    for (const marker of step.markers ?? []) recording.marker(marker);
    recording.endStep();
    if (hiddenSteps.has(index)) recording.show('<repaint>');
  });
  recording.close();
  writer.close();
  return readFileSync(path, 'utf8');
}

describe('splitAtEchoes', () => {
  it('cuts after each printable keystroke\'s echo, in order, and keeps the rest for the end', () => {
    const keys = [...'ls'].map((bytes, index) => ({ time: index * 0.05, bytes }));
    expect(splitAtEchoes('\x1b[?2004hls\r\nfile\r\n$ ', [...keys, { time: 0.1, bytes: '\r' }], 0.15)).toEqual([
      // What comes before the first echo (the prompt's escape sequence) goes with it.
      { time: 0, data: '\x1b[?2004hl' },
      { time: 0.05, data: 's' },
      { time: 0.15, data: '\r\nfile\r\n$ ' },
    ]);
    expect(splitAtEchoes('nothing typed shows', keys.slice(0, 0), 1)).toEqual([{ time: 1, data: 'nothing typed shows' }]);
    expect(splitAtEchoes('', keys, 1)).toEqual([]);
  });
});

describe('VirtualRecording', () => {
  const typed = { keys: [...'echo hi'], pause: 50 };

  it('gives the same file whatever the chunking and step of zero-time output', () => {
    const one = record([{ chunks: ['$ '] }, { ...typed, chunks: ['echo hi'] }, { keys: ['\r'], pause: 50, chunks: ['\r\nhi\r\n$ '], markers: ['m1'] }, {}]);
    const two = record([
      { chunks: ['$', ' '] },
      { ...typed, chunks: ['ec', 'ho', ' hi'] },
      { keys: ['\r'], pause: 50, chunks: ['\r\n'] },
      // A Wait: no time passes, the rest of the output and the marker arrive here.
      { chunks: ['hi\r\n', '$ '], markers: ['m1'] },
    ]);
    expect(two).toBe(one);
    const cast = parseCast(one);
    expect(cast.events).toEqual([
      { time: 0, code: 'o', data: '$ e' },
      { time: 0.05, code: 'o', data: 'c' },
      { time: 0.1, code: 'o', data: 'h' },
      { time: 0.15, code: 'o', data: 'o' },
      { time: 0.2, code: 'o', data: ' ' },
      { time: 0.25, code: 'o', data: 'h' },
      { time: 0.3, code: 'o', data: 'i' },
      { time: 0.4, code: 'o', data: '\r\nhi\r\n$ ' },
      { time: 0.4, code: 'm', data: 'm1' },
    ]);
  });

  it('leaves hidden steps out, stops the clock while hidden, and repaints on Show', () => {
    const cast = parseCast(record([{ chunks: ['$ '] }, { keys: ['x'], pause: 1000, chunks: ['secret'], markers: ['hidden marker'] }, { pause: 500, chunks: ['after'] }], new Set([1])));
    expect(cast.events).toEqual([
      { time: 0, code: 'o', data: '$ <repaint>' },
      { time: 0.5, code: 'o', data: 'after' },
    ]);
  });
});
