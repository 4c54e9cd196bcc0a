/**
 * The parts of the full-screen terminal that run without a screen: prefix key reader, key
 * routing, status line, mode mirroring, and the outer terminal's listeners.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { KeyRouter, type KeyTargets } from '../src/terminal/key-router.js';
import { COMMAND_KEYS, parsePrefixKey, PrefixReader, type HostCommand, type InputPiece } from '../src/terminal/keys.js';
import { ModeMirror } from '../src/terminal/mode-mirror.js';
import { OuterTerminal } from '../src/terminal/outer-terminal.js';
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
    // A lone caret is the caret itself, as in stty (`stty intr ^`).
    expect(parsePrefixKey('^')).toBe(0x5e);
    expect(() => parsePrefixKey('300')).toThrow(/--prefix/);
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

describe('KeyRouter', () => {
  function rig() {
    const seen: string[] = [];
    let overlay = false;
    const targets: KeyTargets = {
      overlayOpen: () => overlay,
      toOverlay: (data) => seen.push(`overlay ${data.toString('latin1')}`),
      toProgram: (data) => seen.push(`program ${data.toString('latin1')}`),
      command: (command: HostCommand) => {
        seen.push(`command ${command}`);
        if (command === 'help') overlay = true;
      },
      unknownCommand: (key) => seen.push(`unknown ${key}`),
      prefixChanged: () => seen.push('prefix changed'),
    };
    return { router: new KeyRouter(new PrefixReader(0x1d), targets), seen, closeOverlay: () => (overlay = false) };
  }

  it('sends keys to the program, commands to the host, and says when the prefix waits', () => {
    const { router, seen } = rig();
    router.feed(bytes('ls\x1d'));
    router.feed(bytes('f\x1dz'));
    expect(seen).toEqual(['program ls', 'prefix changed', 'command freeze', 'unknown z', 'prefix changed']);
  });

  it('gives the rest of a read to the overlay a command opened, and every key while it is open', () => {
    const { router, seen, closeOverlay } = rig();
    router.feed(bytes('a\x1d?xy'));
    router.feed(bytes('\x1dq'));
    closeOverlay();
    router.feed(bytes('b'));
    expect(seen).toEqual(['program a', 'command help', 'overlay xy', 'overlay \x1dq', 'program b']);
  });
});

describe('ModeMirror', () => {
  const modes = { applicationCursorKeys: false, applicationKeypad: false, bracketedPaste: false };

  it('switches the outer terminal only when the program changed a mode, and releases bracketed paste', () => {
    const mirror = new ModeMirror();
    expect(mirror.update(modes)).toBe('');
    expect(mirror.update({ ...modes, applicationCursorKeys: true, bracketedPaste: true })).toBe('\x1b[?1h\x1b[?2004h');
    expect(mirror.update({ ...modes, applicationCursorKeys: true, bracketedPaste: true })).toBe('');
    expect(mirror.update({ ...modes, applicationKeypad: true, bracketedPaste: true })).toBe('\x1b[?1l\x1b=');
    expect(mirror.release()).toBe('\x1b[?2004l');
    mirror.update(modes);
    expect(mirror.release()).toBe('');
  });
});

describe('OuterTerminal', () => {
  function rig() {
    const stdin = Object.assign(new PassThrough(), { setRawMode: vi.fn() });
    const stdout = new PassThrough();
    const handlers = { keys: vi.fn(), terminate: vi.fn(), hungUp: vi.fn() };
    const listeners = () => ({
      SIGTERM: process.listenerCount('SIGTERM'),
      SIGINT: process.listenerCount('SIGINT'),
      SIGHUP: process.listenerCount('SIGHUP'),
      stdinData: stdin.listenerCount('data'),
      stdinEnd: stdin.listenerCount('end'),
      stdinError: stdin.listenerCount('error'),
      stdoutError: stdout.listenerCount('error'),
    });
    return { outer: new OuterTerminal(handlers, { stdin, stdout }), stdin, stdout, handlers, listeners };
  }

  it('removes every listener it added, on the process and on both streams, and leaves raw mode', () => {
    const { outer, stdin, listeners, handlers } = rig();
    const before = listeners();
    outer.attach();
    const during = listeners();
    for (const [name, count] of Object.entries(before)) expect(during[name as keyof typeof during], name).toBe(count + 1);
    stdin.write('ls\r');
    expect(handlers.keys).toHaveBeenCalledWith(bytes('ls\r'));
    outer.detach();
    expect(listeners()).toEqual(before);
    expect(stdin.setRawMode.mock.calls).toEqual([[true], [false]]);
  });

  it('reports a hang-up once, and leaves the modes of a terminal that is gone alone', () => {
    const { outer, stdin, stdout, handlers, listeners } = rig();
    const before = listeners();
    outer.attach();
    stdin.emit('end');
    stdout.emit('error', new Error('write EIO'));
    expect(handlers.hungUp).toHaveBeenCalledTimes(1);
    expect(outer.hungUp).toBe(true);
    outer.detach();
    expect(listeners()).toEqual(before);
    expect(stdin.setRawMode.mock.calls).toEqual([[true]]);
  });
});
