/** The pure parts of the full-screen terminal: prefix key reader, output feed, status line. */
import { describe, expect, it } from 'vitest';
import { OutputFeed } from '../src/terminal/feed.js';
import { COMMAND_KEYS, parsePrefixKey, PrefixReader, type InputPiece } from '../src/terminal/keys.js';
import { formatStatus } from '../src/terminal/status.js';
import { CkptyError } from '../src/base/errors.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');
const show = (pieces: InputPiece[]) =>
  pieces.map((p) => (p.kind === 'program' ? { program: p.data.toString('latin1') } : p));

describe('PrefixReader', () => {
  it('passes everything but the prefix through, and turns prefix + key into commands', () => {
    const reader = new PrefixReader(0x1d);
    expect(show(reader.feed(bytes('ls\r')))).toEqual([{ program: 'ls\r' }]);
    expect(show(reader.feed(bytes('ab\x1dfcd')))).toEqual([
      { program: 'ab' },
      { kind: 'command', command: 'freeze' },
      { program: 'cd' },
    ]);
    for (const { key, command } of COMMAND_KEYS) {
      expect(reader.feed(bytes(`\x1d${key}`))).toEqual([{ kind: 'command', command }]);
    }
  });

  it('keeps the prefix across reads, sends it literally when doubled, reports unknown keys', () => {
    const reader = new PrefixReader(0x1d);
    expect(reader.feed(bytes('x\x1d'))).toEqual([{ kind: 'program', data: bytes('x') }]);
    expect(reader.pending).toBe(true);
    expect(reader.feed(bytes('s'))).toEqual([{ kind: 'command', command: 'snapshot' }]);
    expect(reader.pending).toBe(false);
    expect(reader.feed(bytes('\x1d\x1d'))).toEqual([{ kind: 'command', command: 'literal' }]);
    expect(reader.feed(bytes('\x1d\x01'))).toEqual([{ kind: 'unknown', key: '^A' }]);
  });

  it('an escape sequence after the prefix cancels and is eaten whole', () => {
    const reader = new PrefixReader(0x1d);
    expect(reader.feed(bytes('\x1d\x1b[A'))).toEqual([{ kind: 'cancel' }]);
    expect(reader.feed(bytes('q'))).toEqual([{ kind: 'program', data: bytes('q') }]);
  });

  it('parses --prefix in stty notation and refuses what is not one key', () => {
    expect(parsePrefixKey('^]')).toBe(0x1d);
    expect(parsePrefixKey('^A')).toBe(0x01);
    expect(parsePrefixKey('29')).toBe(29);
    expect(() => parsePrefixKey('undef')).toThrow(CkptyError);
    expect(() => parsePrefixKey('^')).not.toThrow();
    expect(() => parsePrefixKey('300')).toThrow(/--prefix/);
  });
});

describe('OutputFeed', () => {
  function rig(highWater: number) {
    const writes: { data: string; done: () => void }[] = [];
    const flow: string[] = [];
    const feed = new OutputFeed(
      { write: (data, done) => writes.push({ data: Buffer.from(data).toString(), done }) },
      { pause: () => flow.push('pause'), resume: () => flow.push('resume') },
      highWater,
    );
    return { feed, writes, flow };
  }

  it('writes the first piece at once and what came meanwhile in one piece', () => {
    const { feed, writes } = rig(100);
    feed.push(bytes('a'));
    feed.push(bytes('b'));
    feed.push(bytes('c'));
    expect(writes.map((w) => w.data)).toEqual(['a']);
    writes[0]!.done();
    expect(writes.map((w) => w.data)).toEqual(['a', 'bc']);
    writes[1]!.done();
    feed.push(bytes('d'));
    expect(writes.map((w) => w.data)).toEqual(['a', 'bc', 'd']);
  });

  it('pauses the program past the high-water mark and resumes when the emulator takes the queue', () => {
    const { feed, writes, flow } = rig(10);
    feed.push(bytes('first'));
    feed.push(bytes('0123456'));
    expect(flow).toEqual([]);
    feed.push(bytes('789ab'));
    expect(flow).toEqual(['pause']);
    expect(feed.behind).toBe(true);
    writes[0]!.done();
    expect(flow).toEqual(['pause', 'resume']);
    expect(writes[1]!.data).toBe('0123456789ab');
    writes[1]!.done();
    expect(feed.behind).toBe(false);
  });
});

describe('status line', () => {
  const facts = { tty: '/dev/pts/3', foreground: 'vim[4242]', key: 0x05, message: 'froze bc[7] -> bc.ckpt (1.4 MiB, 9 ms)', hint: '^] ? help' };

  it('is exactly as wide as the screen, with the hint at the right edge when it fits', () => {
    const line = formatStatus(facts, 100);
    expect(line).toHaveLength(100);
    expect(line).toMatch(/^ pts\/3  fg vim\[4242\]  ckpt=\^E  froze bc\[7\] -> bc\.ckpt \(1\.4 MiB, 9 ms\) +\^\] \? help $/);
  });

  it('drops the hint, then cuts the message with an ellipsis', () => {
    expect(formatStatus(facts, 75)).toMatch(/9 ms\) +$/);
    const narrow = formatStatus(facts, 50);
    expect(narrow).toHaveLength(50);
    expect(narrow).toMatch(/ckpt=\^E  froze bc\[7\] -> bc\.…$/);
    expect(formatStatus({ ...facts, key: 0 }, 60)).toContain('ckpt=<undef>');
  });
});
