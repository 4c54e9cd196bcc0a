/**
 * The line-discipline model against the real kernel: same settings, same keystrokes, same
 * echo bytes, reads and signals, byte by byte.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  compareSessions,
  kernelOutcome,
  reportMismatch,
  sttyTermios,
  type Session,
} from './helpers/ldisc-kernel.js';
import { changedTermios, randomKeystrokes, randomTermios } from './helpers/ldisc-random.js';
import { seededRandom } from './helpers/prng.js';
import { applySttyArgs } from '../src/termios/stty.js';
import type { Termios } from '../src/termios/termios.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const utf8 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'utf8'));

/** [name, stty words, keystrokes] */
const CASES: [string, string[], Uint8Array][] = [
  ['plain line', [], bytes('hello\r')],
  ['erase', [], bytes('ab\x7fc\r')],
  ['erase on an empty line', [], bytes('\x7f\x7fa\x7f\x7f\r')],
  ['erase without echoe', ['-echoe'], bytes('ab\x7f\x7fc\r')],
  ['erase of control characters', [], bytes('a\x01\x1b\x7f\x7f\r')],
  ['erase of control characters without echoctl', ['-echoctl'], bytes('a\x01\x1b\x7f\x7f\r')],
  ['echoprt erase', ['echoprt'], bytes('abc\x7f\x7fd\x7f\x7f\x7fe\r')],
  ['echoprt kill', ['echoprt'], bytes('abc\x15d\r')],
  ['echoprt utf-8', ['echoprt', 'iutf8'], utf8('aé€\x7f\x7fb\r')],
  ['iutf8 erase of whole characters', ['iutf8'], utf8('a€\x7fb🙂\x7f\x7f\r')],
  ['byte erase without iutf8', ['-iutf8'], utf8('a€\x7f\x7f\x7f\r')],
  ['iutf8 erase of a stray continuation byte', ['iutf8'], bytes('\xa9\x7fa\xa9\x7f\r')],
  ['kill with echoke', [], bytes('abc\x15d\r')],
  ['kill without echoke', ['-echoke'], bytes('abc\x15d\r')],
  ['kill without echok and echoke', ['-echok', '-echoke'], bytes('abc\x15d\r')],
  ['kill without echo', ['-echo'], bytes('abc\x15d\r')],
  ['kill of control characters and tabs', [], bytes('a\x01\tb\x15\r')],
  ['werase', [], bytes('foo bar_baz  \x17\x17x\x17\x17\x17\r')],
  ['werase of punctuation and latin-1 letters', [], bytes('a.,\xe9\xe8 \x17\x17\r')],
  ['werase without iexten', ['-iexten'], bytes('foo bar\x17\r')],
  ['reprint', [], bytes('ab\tc\x01\x12d\r')],
  ['reprint without iexten', ['-iexten'], bytes('ab\x12\r')],
  ['reprint without echo', ['-echo'], bytes('ab\x12\r')],
  ['lnext', [], bytes('\x16\x03\x16\x7f\x16\r\x16\x16\x16\x15\r')],
  ['lnext without echoctl', ['-echoctl'], bytes('a\x16\x03\r')],
  ['lnext then erase', [], bytes('a\x16\x7f\x7f\r')],
  ['lnext without iexten', ['-iexten'], bytes('a\x16b\r')],
  ['eof', [], bytes('ab\x04\x04cd\x04')],
  ['eol and eol2', ['eol', '^T', 'eol2', '^B'], bytes('ab\x14cd\x02\x14')],
  ['eol2 without iexten', ['eol2', '^B', '-iexten'], bytes('ab\x02\r')],
  ['echonl without echo', ['-echo', 'echonl'], bytes('ab\r\n')],
  ['tab erase', [], bytes('a\tb\t\x7f\x7f\x7f\x7f\r')],
  ['tab erase after control characters', [], bytes('a\x01\tx\x7f\x7f\r')],
  ['tab erase from a line started mid-row', [], bytes('xy\x03a\tb\x7f\x7f\x7f\r')],
  ['tab expansion (tab3)', ['tab3'], bytes('a\tb\x7f\x7f\x7f\r')],
  ['intr', [], bytes('ab\x03cd\r')],
  ['quit and susp', [], bytes('ab\x1ccd\x1aef\r')],
  ['noflsh', ['noflsh'], bytes('ab\x03cd\r')],
  ['isig off', ['-isig'], bytes('a\x03\x1c\x1a\r')],
  ['signals without echo', ['-echo'], bytes('a\x03b\r')],
  ['signals without echoctl', ['-echoctl'], bytes('a\x03b\r')],
  ['stop and start', [], bytes('a\x13bc\x11d\r')],
  ['ixany', ['ixany'], bytes('a\x13bc\r\x13\x7f')],
  ['intr while stopped discards echo', [], bytes('ab\x13cd\x03ef\r')],
  ['noflsh intr while stopped', ['noflsh'], bytes('a\x13b\x03c\x11\r')],
  ['stop and start as data without ixon', ['-ixon'], bytes('\x13\x11\r')],
  ['start equal to stop', ['start', '^S'], bytes('a\x13b\x13c\r')],
  ['istrip', ['istrip'], bytes('\xe1\xe2\x83\x8d')],
  ['igncr', ['igncr'], bytes('a\rb\n')],
  ['no icrnl', ['-icrnl'], bytes('a\rb\n')],
  ['inlcr', ['inlcr', '-icrnl'], bytes('a\nb\r')],
  ['inlcr and icrnl', ['inlcr'], bytes('a\nb\r')],
  ['iuclc', ['iuclc'], bytes('ABC\xc0\xd7\xde\r')],
  ['iuclc without iexten', ['iuclc', '-iexten'], bytes('ABC\r')],
  ['olcuc', ['olcuc'], bytes('abc\xe9\xdf\xf7\xff\r')],
  ['no onlcr', ['-onlcr'], bytes('ab\r')],
  ['ocrnl', ['-icrnl', 'ocrnl', '-icanon'], bytes('ab\r\n')],
  ['onocr', ['onocr', '-icrnl', '-icanon'], bytes('\ra\r\r')],
  ['onlret', ['onlret', '-onlcr'], bytes('a\tb\r\tc\x7f\r')],
  ['no opost', ['-opost'], bytes('a\tb\x7f\x7f\r')],
  ['non-canonical', ['-icanon'], bytes('abc\x7f\x15\x04\x17\x12\r\n')],
  ['non-canonical without echoctl', ['-icanon', '-echoctl'], bytes('a\x01\n\r')],
  ['non-canonical without echo', ['-icanon', '-echo'], bytes('ab\x03\r')],
  ['raw', ['raw'], bytes('a\x03\x7f\r\n\xff')],
  ['raw with echo', ['raw', 'echo'], bytes('a\x03\x7f\r\n\t')],
  ['cbreak', ['cbreak'], bytes('a\x03b\x7f')],
  ['parmrk doubles 0xff', ['parmrk'], bytes('\xffa\x7f\x7f\r')],
  ['parmrk non-canonical', ['parmrk', '-icanon'], bytes('\xffa')],
  ['0xff echo and erase', [], bytes('a\xff\x7f\xff\r')],
  ['nul bytes', [], bytes('\x00a\x00\x7f\r')],
  ['disabled characters', ['intr', 'undef', 'erase', 'undef', 'eof', 'undef'], bytes('\x03\x7f\x04\r')],
  ['intr equal to erase', ['intr', '^?'], bytes('ab\x7fc\r')],
  ['werase equal to kill', ['werase', '^U'], bytes('ab cd\x15\r')],
  ['werase equal to kill without iexten', ['werase', '^U', '-iexten'], bytes('ab cd\x15\r')],
  ['printable control characters', ['erase', 'x', 'kill', '#'], bytes('abx#cd\r')],
  ['extproc', ['extproc'], bytes('ab\x7f\x03\x04\r')],
  ['extproc non-canonical', ['extproc', '-icanon', 'istrip'], bytes('ab\x04\xe1')],
  ['4095-byte line limit', [], bytes('a'.repeat(4100) + 'bc\x7fd\r')],
  ['echo overrun while stopped', [], bytes('\x13' + 'ab\x01'.repeat(1400) + '\x11\r')],
];

/** [name, stty words, steps]: keystrokes, and stty words changing the settings mid-session. */
const SWITCH_CASES: [string, string[], (string | string[])[]][] = [
  ['leaving canonical mode makes the partial line readable', [], ['ab', ['-icanon'], 'c']],
  ['entering canonical mode', ['-icanon'], ['ab', ['icanon'], 'c\x7f\x7fd\r']],
  ['turning ixon off restarts output', [], ['a\x13bc', ['-ixon'], 'd\r']],
  ['a mode switch ends lnext', [], ['a\x16', ['-icanon'], ['icanon'], '\x03b\r']],
  ['a mode switch ends an echoprt erase', ['echoprt'], ['abc\x7f', ['-icanon'], ['icanon'], 'd\r']],
  ['echo off with echoes waiting', [], ['\x13ab', ['-echo'], '\x11c\r']],
  ['extproc on and off', [], ['ab', ['extproc'], 'c\x04', ['-extproc'], 'd\r']],
];

function switchSession(words: string[], steps: (string | string[])[]): Session {
  const termios = sttyTermios(words);
  let current: Termios = termios;
  const cases = steps.map((step) => {
    if (typeof step === 'string') return bytes(step);
    const result = applySttyArgs(current, step);
    if (!result.ok) throw new Error(result.error.message);
    current = result.termios;
    return current;
  });
  return { termios, cases };
}

describe('line discipline model vs the Linux kernel', () => {
  it('agrees on hand-written cases for every flag and control character', () => {
    const sessions: Session[] = CASES.map(([, words, input]) => ({ termios: sttyTermios(words), cases: [input] }));
    const mismatches = compareSessions(sessions);
    const reports = mismatches.map((m) => reportMismatch(sessions, m, `case "${CASES[m.session]![0]}" (stty ${CASES[m.session]![1].join(' ')})`));
    expect(reports.join('\n\n')).toBe('');
  });

  it('agrees when the settings change between keystrokes', () => {
    const sessions = SWITCH_CASES.map(([, words, steps]) => switchSession(words, steps));
    const reports = compareSessions(sessions).map((m) => reportMismatch(sessions, m, `case "${SWITCH_CASES[m.session]![0]}"`));
    expect(reports.join('\n\n')).toBe('');
  });

  it('sees the signals and end-of-file reads the cases are about (the oracle is live)', () => {
    const intr = kernelOutcome(sttyTermios([]), bytes('a\x03'));
    const eof = kernelOutcome(sttyTermios([]), bytes('\x04'));
    expect(intr[1]).toEqual({ echo: '5e43', reads: [], signals: ['SIGINT'] });
    expect(eof[0]).toEqual({ echo: '', reads: [''], signals: [] });
  });

  it('agrees on thousands of seeded random keystrokes under random settings', () => {
    const seed = Number(process.env.CKPTY_LDISC_SEED ?? Date.now() % 1_000_000);
    const rng = seededRandom(seed);
    const sessions: Session[] = [];
    for (let s = 0; s < 300; s++) {
      const termios = randomTermios(rng);
      let current = termios;
      const cases = Array.from({ length: 12 }, () => {
        if (rng() < 0.1) return (current = changedTermios(rng, current));
        return randomKeystrokes(rng, current, 30);
      });
      sessions.push({ termios, cases });
    }
    const mismatches = compareSessions(sessions);
    const reports = mismatches.slice(0, 3).map((m) => reportMismatch(sessions, m, `seed ${seed} (rerun with CKPTY_LDISC_SEED=${seed}), session ${m.session}`));
    expect(`${mismatches.length} mismatching sessions\n` + reports.join('\n\n')).toBe('0 mismatching sessions\n');
  });
});

describe('ckpty ldisc --json against the kernel', () => {
  const cli = (input: Uint8Array, args: string[]): { echo: string; reads: string[]; signals: string[] } => {
    const out = execFileSync(join(ROOT, 'bin', 'ckpty'), ['ldisc', '--json', ...args], { input }).toString();
    const result = { echo: '', reads: [] as string[], signals: [] as string[] };
    for (const line of out.trim().split('\n')) {
      const event = JSON.parse(line) as { kind: string; hex?: string; name?: string };
      if (event.kind === 'echo') result.echo += event.hex;
      else if (event.kind === 'data') result.reads.push(event.hex ?? '');
      else if (event.kind === 'signal') result.signals.push(event.name ?? '');
    }
    return result;
  };

  it.each([
    [[] as string[], bytes('ab\x7fc\r')],
    [['-icanon', '-echo'], bytes('ab\x03c')],
    [['echoprt', '-echoke'], bytes('abc\x7f\x7fx\x15y\r')],
    [['tab3', 'olcuc'], bytes('a\tb\x7f\x7f\x1a\r')],
  ])('stty %j', (words, input) => {
    const kernel = kernelOutcome(sttyTermios(words), input);
    const expected = {
      echo: kernel.map((o) => o.echo).join(''),
      reads: kernel.flatMap((o) => o.reads),
      signals: kernel.flatMap((o) => o.signals),
    };
    expect(cli(input, words)).toEqual(expected);
  });
});
