import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeEvent, encodeHeader, parseCast, CastFormatError } from '../src/recorder/asciicast.js';
import { CastWriter } from '../src/recorder/cast-writer.js';
import { playbackTimes, formatMarkers } from '../src/recorder/player.js';
import { asciinemaCat, hasAsciinema, outputOf, removeScratchDirs, runCkpty, scratchDir } from './helpers/recorder.js';

afterAll(removeScratchDirs);

const HEADER = '{"version":2,"width":80,"height":24}\n';

function problem(text: string): string {
  try {
    parseCast(text);
  } catch (err) {
    if (err instanceof CastFormatError) return `${err.line}: ${err.problem}`;
    throw err;
  }
  throw new Error('expected the recording to be rejected');
}

describe('asciicast v2 reader', () => {
  it('reads a header and events of every kind', () => {
    const cast = parseCast(
      '{"version":2,"width":100,"height":30,"timestamp":1700000000,"env":{"TERM":"xterm","SHELL":"/bin/bash"},"title":"t"}\n' +
        '[0.5,"o","hello\\r\\n"]\n[0.5,"i","x"]\n[1,"r","90x20"]\n[1.25,"m","froze bc[1] -> bc.ckpt"]\n',
    );
    expect(cast.header).toEqual({ version: 2, width: 100, height: 30, timestamp: 1700000000, env: { TERM: 'xterm', SHELL: '/bin/bash' }, title: 't' });
    expect(cast.events).toEqual([
      { time: 0.5, code: 'o', data: 'hello\r\n' },
      { time: 0.5, code: 'i', data: 'x' },
      { time: 1, code: 'r', data: '90x20' },
      { time: 1.25, code: 'm', data: 'froze bc[1] -> bc.ckpt' },
    ]);
  });

  it('rejects what the specification does not allow, naming the line', () => {
    expect(problem('')).toBe('1: empty file, expected an asciicast v2 header');
    expect(problem('hello\n')).toBe('1: not a JSON header: hello');
    expect(problem('[1]\n')).toBe('1: the header must be a JSON object: [1]');
    expect(problem('{"version":1,"width":80,"height":24}\n')).toBe('1: unsupported asciicast version 1 (only version 2 is supported)');
    expect(problem('{"version":2,"width":"80","height":24}\n')).toBe('1: header field "width" must be a positive integer, got "80"');
    expect(problem('{"version":2,"width":80,"height":0}\n')).toBe('1: header field "height" must be a positive integer, got 0');
    expect(problem('{"version":2,"width":80,"height":24,"timestamp":"now"}\n')).toBe('1: header field "timestamp" must be a non-negative number, got "now"');
    expect(problem('{"version":2,"width":80,"height":24,"title":3}\n')).toBe('1: header field "title" must be a string, got 3');
    expect(problem('{"version":2,"width":80,"height":24,"env":{"TERM":1}}\n')).toBe('1: header field "env" must be an object of strings');
    expect(problem(`${HEADER}[0,"o","a"]\n{"x":1}\n`)).toBe('3: not an event (expected [time, code, data]): {"x":1}');
    expect(problem(`${HEADER}[0,"o","a"]\nnot json\n[1,"o","b"]\n`)).toBe('3: not an event: not json');
    expect(problem(`${HEADER}["0","o","a"]\n`)).toBe('2: event time must be a non-negative number, got "0"');
    expect(problem(`${HEADER}[-1,"o","a"]\n`)).toBe('2: event time must be a non-negative number, got -1');
    expect(problem(`${HEADER}[0,"x","a"]\n`)).toBe('2: unknown event code "x" (expected "o", "i", "r" or "m")');
    expect(problem(`${HEADER}[0,"o",5]\n`)).toBe('2: event data must be a string, got 5');
    expect(problem(`${HEADER}[0,"r","80 by 24"]\n`)).toBe('2: resize data must be "COLSxROWS", got "80 by 24"');
    expect(problem(`${HEADER}[2,"o","a"]\n[1,"o","b"]\n`)).toBe('3: time 1 goes back (previous event at 2)');
  });

  it('treats a cut-off last line as the trace of a killed recorder, not as an error', () => {
    const cast = parseCast(`${HEADER}[0,"o","a"]\n[1,"o","b`);
    expect(cast.events).toHaveLength(1);
    expect(cast.truncatedLine).toBe(3);
    // A complete last line without its newline is a normal event…
    expect(parseCast(`${HEADER}[0,"o","a"]`).events).toHaveLength(1);
    // …and garbage in the middle is still an error.
    expect(problem(`${HEADER}[0,"o","a\n[1,"o","b"]\n`)).toBe('2: not an event: [0,"o","a');
  });

  it('encodes what it reads back, with microsecond times', () => {
    const header = { version: 2 as const, width: 80, height: 24, env: { TERM: 'xterm', SHELL: '/bin/sh' } };
    const text = encodeHeader(header) + encodeEvent({ time: 1 / 3, code: 'o', data: '\u001b[1m"é"\n' });
    expect(text.split('\n')[1]).toBe('[0.333333,"o","\\u001b[1m\\"é\\"\\n"]');
    expect(parseCast(text)).toEqual({ header, events: [{ time: 0.333333, code: 'o', data: '\u001b[1m"é"\n' }] });
  });
});

describe('CastWriter', () => {
  it('writes each event at once, with times that never go back', () => {
    const path = join(scratchDir(), 'w.cast');
    let now = 0;
    const writer = new CastWriter(path, { version: 2, width: 80, height: 24 }, () => now);
    now = 0.5;
    writer.output('a');
    // Visible in the file before close: nothing is held back.
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(3);
    now = 0.25;
    writer.marker('m');
    writer.resize(100, 40);
    writer.input('');
    writer.output('b', 2);
    writer.close();
    expect(parseCast(readFileSync(path, 'utf8')).events).toEqual([
      { time: 0.5, code: 'o', data: 'a' },
      { time: 0.5, code: 'm', data: 'm' },
      { time: 0.5, code: 'r', data: '100x40' },
      { time: 2, code: 'o', data: 'b' },
    ]);
  });
});

describe('ckpty play', () => {
  const cast =
    '{"version":2,"width":80,"height":24}\n' +
    '[0,"o","one "]\n[0.4,"m","froze bc[7] -> /tmp/bc.ckpt (400 KiB, 9 ms)"]\n[0.4,"o","two "]\n[0.4,"i","secret"]\n' +
    '[3.4,"o","three\\r\\n"]\n[65.5,"m","refused"]\n';

  it('computes playback times with speed and idle limit', () => {
    const parsed = parseCast(cast);
    expect(playbackTimes(parsed, { speed: 1 })).toEqual([0, 0.4, 0.4, 0.4, 3.4, 65.5]);
    expect(playbackTimes(parsed, { speed: 2, idleLimit: 1 }).map((t) => Number(t.toFixed(6)))).toEqual([0, 0.2, 0.2, 0.2, 0.7, 1.2]);
    expect(formatMarkers(parsed)).toBe(' 0:00.400  froze bc[7] -> /tmp/bc.ckpt (400 KiB, 9 ms)\n 1:05.500  refused\n');
  });

  it('replays the output (not the input) with its timing', async () => {
    const path = join(scratchDir(), 'p.cast');
    writeFileSync(path, cast);
    const started = performance.now();
    const result = await runCkpty(['play', path, '--speed', '4', '--idle-limit', '1']);
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ status: 0, stdout: 'one two three\r\n', stderr: '' });
    // The last output comes (0.4 + 1) / 4 = 0.35 s in: the pauses are kept, shortened by
    // the idle limit and the speed, far shorter than the 65 s recording.
    expect(elapsed).toBeGreaterThan(350);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('lists markers with --markers', async () => {
    const path = join(scratchDir(), 'p.cast');
    writeFileSync(path, cast);
    const result = await runCkpty(['play', '--markers', path]);
    expect(result).toMatchObject({ status: 0, stdout: ' 0:00.400  froze bc[7] -> /tmp/bc.ckpt (400 KiB, 9 ms)\n 1:05.500  refused\n' });
  });

  it('names the file and line of an invalid recording, exit status 5', async () => {
    const dir = scratchDir();
    const path = join(dir, 'demo.cast');
    writeFileSync(path, `${HEADER}[0,"o","a"]\n[1,"o","b"]\n[2,"o","c"]\n[3,"o","d"]\n[4,"o","e"]\noops\n`);
    const result = await runCkpty(['play', 'demo.cast'], { cwd: dir });
    expect(result).toEqual({ status: 5, stdout: '', stderr: 'ckpty: demo.cast:7: not an event: oops\n' });
    expect(await runCkpty(['play', 'missing.cast'], { cwd: dir })).toEqual({ status: 8, stdout: '', stderr: 'ckpty: missing.cast: no such file\n' });
    expect((await runCkpty(['play', '--speed', '0', 'demo.cast'], { cwd: dir })).status).toBe(2);
  });

  it('plays a cut-off recording up to its last complete event, with a warning', async () => {
    const path = join(scratchDir(), 'cut.cast');
    writeFileSync(path, `${HEADER}[0,"o","kept"]\n[0.1,"o","lo`);
    const result = await runCkpty(['play', path]);
    expect(result).toEqual({
      status: 0,
      stdout: 'kept',
      stderr: `ckpty: ${path}:3: last event cut off (the recorder was killed); playing up to it\n`,
    });
  });

  it.runIf(hasAsciinema)('writes files that asciinema reads back to the same output', async () => {
    const path = join(scratchDir(), 'w.cast');
    const writer = new CastWriter(path, { version: 2, width: 80, height: 24, env: { TERM: 'xterm-256color', SHELL: '/bin/bash' }, title: 'w' });
    const pieces = ['plain ', '\u001b[1;31mbold red\u001b[0m ', 'ünïcödé ✓ ', '"quotes" \\ back\r\n'];
    for (const piece of pieces) writer.output(piece);
    writer.marker('froze x[1] -> x.ckpt');
    writer.close();
    const cat = await asciinemaCat(path);
    expect(cat.exitCode).toBe(0);
    expect(cat.output).toBe(outputOf(parseCast(readFileSync(path, 'utf8'))));
    expect(cat.output).toBe(pieces.join(''));
  });
});
