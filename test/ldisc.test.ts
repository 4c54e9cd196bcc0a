/**
 * ckpty's `ckpt` key in the line-discipline model, against its specification (docs/key.md):
 * an ISIG character like QUIT, recognised in canonical and non-canonical mode, never when
 * quoted by LNEXT or disabled; swallowed, echoed as the kernel echoes ^\, input flushed
 * unless NOFLSH, then a checkpoint event.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LineDiscipline, isCheckpointKey, type LdiscEvent } from '../src/ldisc/ldisc.js';
import { applySttyArgs } from '../src/termios/stty.js';
import { VQUIT, newPtyTermios, type Termios } from '../src/termios/termios.js';
import { kernelOutcome, outcomeOf, sttyTermios } from './helpers/ldisc-kernel.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CKPT = 0x05;

function termios(words: string[]): Termios {
  const result = applySttyArgs(newPtyTermios(), words);
  if (!result.ok) throw new Error(result.error.message);
  return result.termios;
}

/** Events per typed byte. */
function type(words: string[], input: string): LdiscEvent[][] {
  const ldisc = new LineDiscipline(termios(words));
  return Array.from(Buffer.from(input, 'latin1'), (b) => ldisc.input(b));
}

const kinds = (events: LdiscEvent[]): string[] => events.map((e) => (e.kind === 'flush' ? `flush ${e.queue}` : e.kind));

describe('the ckpt key', () => {
  it('is recognised in canonical mode: swallowed, echoed as ^E, typed-ahead input flushed', () => {
    const ldisc = new LineDiscipline(termios([]));
    ldisc.inputAll(Buffer.from('sleep'));
    const events = ldisc.input(CKPT);
    expect(kinds(events)).toEqual(['flush output', 'flush input', 'echo', 'checkpoint']);
    expect(outcomeOf(events)).toEqual({ echo: '5e45', reads: [], signals: [] });
    expect(ldisc.pending()).toEqual(new Uint8Array(0));
  });

  it('is recognised in non-canonical mode', () => {
    const [, events] = type(['-icanon'], 'a\x05');
    expect(kinds(events!)).toEqual(['flush output', 'flush input', 'echo', 'checkpoint']);
  });

  it('is an ordinary byte without ISIG (raw-mode programs receive it)', () => {
    const [events] = type(['-isig', '-icanon', '-echo'], '\x05');
    expect(events).toEqual([{ kind: 'data', bytes: Uint8Array.of(CKPT) }]);
  });

  it('is an ordinary byte when quoted by LNEXT', () => {
    const ldisc = new LineDiscipline(termios([]));
    ldisc.input(0x16);
    expect(ldisc.lnextPending).toBe(true);
    expect(kinds(ldisc.input(CKPT))).toEqual(['echo']);
    expect(ldisc.pending()).toEqual(Uint8Array.of(CKPT));
  });

  it('is an ordinary byte when disabled with undef', () => {
    const events = type(['ckpt', 'undef'], '\x05\r');
    expect(events.flat().some((e) => e.kind === 'checkpoint')).toBe(false);
    expect(events[1]).toContainEqual({ kind: 'data', bytes: Uint8Array.of(CKPT, 0x0a) });
  });

  it('keeps the typed-ahead input under NOFLSH', () => {
    const ldisc = new LineDiscipline(termios(['noflsh']));
    ldisc.inputAll(Buffer.from('ab'));
    expect(kinds(ldisc.input(CKPT))).toEqual(['echo', 'checkpoint']);
    expect(ldisc.pending()).toEqual(Uint8Array.from(Buffer.from('ab')));
  });

  it('echoes the raw byte without ECHOCTL and nothing without ECHO', () => {
    expect(outcomeOf(type(['-echoctl'], '\x05')[0]!).echo).toBe('05');
    expect(outcomeOf(type(['-echo'], '\x05')[0]!).echo).toBe('');
  });

  it('follows the character it is set to', () => {
    const events = type(['ckpt', '^T'], '\x05\x14');
    expect(kinds(events[0]!)).toEqual(['echo']);
    expect(kinds(events[1]!)).toEqual(['flush output', 'flush input', 'echo', 'checkpoint']);
  });

  it('yields to INTR, QUIT, SUSP and flow control when it shares their character', () => {
    expect(kinds(type(['ckpt', '^C'], '\x03')[0]!)).toEqual(['signal', 'flush output', 'flush input', 'echo']);
    expect(kinds(type(['ckpt', '^S'], '\x13')[0]!)).toEqual(['stop-output']);
  });

  it('restarts stopped output like the other signal characters (IXON)', () => {
    const ldisc = new LineDiscipline(termios([]));
    ldisc.input(0x13);
    expect(ldisc.outputStopped).toBe(true);
    expect(kinds(ldisc.input(CKPT))).toEqual(['flush output', 'flush input', 'start-output', 'echo', 'checkpoint']);
    expect(ldisc.outputStopped).toBe(false);
  });

  it('is named by isCheckpointKey() exactly when the model checkpoints', () => {
    const settings = [[], ['-isig'], ['-icanon'], ['ckpt', 'undef'], ['ckpt', '^C'], ['istrip'], ['iuclc', 'ckpt', 'e'], ['extproc']];
    for (const words of settings) {
      const t = termios(words);
      for (const lnext of [false, true]) {
        for (const byte of [CKPT, 0x85, 0x45, 0x65, 0x03, 0x41]) {
          const ldisc = new LineDiscipline(t);
          if (lnext) ldisc.input(0x16);
          const quoted = ldisc.lnextPending;
          const checkpoints = ldisc.input(byte).some((e) => e.kind === 'checkpoint');
          expect(isCheckpointKey(t, quoted, byte), `${words.join(' ')} lnext=${lnext} byte=${byte}`).toBe(checkpoints);
        }
      }
    }
  });

  // The kernel has no ckpt, but the specification says ckpt behaves as QUIT does: so the
  // model's ckpt must produce exactly the kernel's echo and reads for a QUIT on that byte.
  it.each([[[]], [['-icanon']], [['-echoctl']], [['noflsh']], [['echoprt']], [['-echo', 'echonl']]])(
    'echoes and flushes exactly as the kernel does for QUIT (stty %j)',
    (words: string[]) => {
      const input = Buffer.from('ab\x7fc\x05de\x13f\x05g\r', 'latin1');
      const kernelSettings = sttyTermios(words);
      kernelSettings.cc[VQUIT] = CKPT;
      const kernel = kernelOutcome(kernelSettings, Uint8Array.from(input));

      const ldisc = new LineDiscipline({ ...sttyTermios(words), ckpt: CKPT });
      const model = Array.from(input, (b) => ldisc.input(b));
      const checkpointBytes = model.flatMap((events, i) => (events.some((e) => e.kind === 'checkpoint') ? [i] : []));
      const quitBytes = kernel.flatMap((o, i) => (o.signals.includes('SIGQUIT') ? [i] : []));
      expect(checkpointBytes).toEqual(quitBytes);
      expect(model.map((events) => ({ ...outcomeOf(events), signals: [] }))).toEqual(kernel.map((o) => ({ ...o, signals: [] })));
    },
  );
});

describe('the model outside the kernel comparison', () => {
  it('reports the output column it tracks', () => {
    const ldisc = new LineDiscipline(termios([]));
    ldisc.inputAll(Buffer.from('ab\t'));
    expect(ldisc.column).toBe(8);
    ldisc.input(0x0d);
    expect(ldisc.column).toBe(0);
  });

  it('does not change the termios it was given', () => {
    const t = termios([]);
    const ldisc = new LineDiscipline(t);
    t.lflag = 0;
    expect(ldisc.termios.lflag).not.toBe(0);
  });
});

describe('ckpty ldisc', () => {
  const run = (args: string[], input: string): { status: number | null; stdout: string; stderr: string } => {
    const result = spawnSync(join(ROOT, 'bin', 'ckpty'), ['ldisc', ...args], { input: Buffer.from(input, 'latin1') });
    return { status: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
  };

  it('prints one JSON object per event, and the pending line at EOF', () => {
    const { status, stdout } = run(['--json'], 'a\x05b\x03cd');
    expect(status).toBe(0);
    expect(stdout.trim().split('\n').map((line) => JSON.parse(line))).toEqual([
      { kind: 'echo', hex: '61' },
      { kind: 'flush', queue: 'output' },
      { kind: 'flush', queue: 'input' },
      { kind: 'echo', hex: '5e45' },
      { kind: 'checkpoint' },
      { kind: 'echo', hex: '62' },
      { kind: 'signal', name: 'SIGINT' },
      { kind: 'flush', queue: 'output' },
      { kind: 'flush', queue: 'input' },
      { kind: 'echo', hex: '5e43' },
      { kind: 'echo', hex: '63' },
      { kind: 'echo', hex: '64' },
      { kind: 'pending', hex: '6364' },
    ]);
  });

  it('takes stty words that start with "-" as settings, before or after --json', () => {
    const expected = '{"kind":"data","hex":"61"}\n{"kind":"data","hex":"03"}\n';
    expect(run(['--json', '-icanon', '-echo', '-isig'], 'a\x03').stdout).toBe(expected);
    expect(run(['-icanon', '-echo', '--json', '-isig'], 'a\x03').stdout).toBe(expected);
  });

  it('accepts ckpt like any other control character', () => {
    const { stdout } = run(['--json', 'ckpt', '^T', '-icanon'], '\x14');
    expect(stdout).toContain('{"kind":"checkpoint"}');
  });

  it('prints a readable trace', () => {
    const { stdout } = run([], 'ab\x7f\x03x\r');
    expect(stdout.split('\n')).toEqual([
      'a     -> echo "a", line "a"',
      'b     -> echo "b", line "ab"',
      '^?    -> echo "\\b \\b", line "a"',
      '^C    -> SIGINT to foreground group, input flushed, echo "^C", line ""',
      'x     -> echo "x", line "x"',
      '^M    -> echo "\\r\\n", reader gets "x\\n"',
      '',
    ]);
  });

  it.each([
    [['foo'], "ckpty: stty: invalid argument 'foo'\n"],
    [['min', 'x'], "ckpty: stty: invalid integer argument: 'x'\n"],
    [['intr', 'abc'], "ckpty: stty: invalid integer argument: 'abc'\n"],
    [['-ckpt'], "ckpty: stty: invalid argument '-ckpt'\n"],
  ])('rejects bad stty words %j with one line and status 1', (args, message) => {
    const { status, stdout, stderr } = run(args, '');
    expect({ status, stdout, stderr }).toEqual({ status: 1, stdout: '', stderr: message });
  });
});
