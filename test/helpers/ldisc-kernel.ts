/**
 * Differential testing of the line-discipline model against the real kernel.
 *
 * The kernel side is test/fixtures/ldisc-kernel-driver.c: one pty and one reader process per
 * session (a termios setting), many cases per session, bytes typed one at a time with the
 * driver waiting after each until the kernel is done with it. The model side runs one
 * LineDiscipline per session over the same bytes. Both are reduced to the same per-byte
 * outcome: echo bytes, read() results, signals.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineDiscipline, type LdiscEvent } from '../../src/ldisc/ldisc.js';
import { applySttyArgs } from '../../src/termios/stty.js';
import { KERNEL_NCCS, VDISABLE, newPtyTermios, type Termios } from '../../src/termios/termios.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TMP = join(ROOT, 'test', '.tmp');

export interface ByteOutcome {
  /** Hex of the bytes that reached the master as echo. */
  echo: string;
  /** Hex of each read() the reader got; '' is an end-of-file read. */
  reads: string[];
  signals: string[];
}

/** Keystrokes, or a change of the slave's settings (tcsetattr) between keystrokes. */
export type Step = Uint8Array | Termios;

export interface Session {
  termios: Termios;
  cases: Step[];
}

const isBytes = (step: Step): step is Uint8Array => step instanceof Uint8Array;

const SIGNAL_NAMES: Record<string, string> = { '2': 'SIGINT', '3': 'SIGQUIT', '20': 'SIGTSTP' };

let driverPath: string | undefined;

/**
 * Compile the C reader/driver once per test process. Each process compiles to a name of its
 * own and renames the result into place, so parallel test files never run a half-written binary.
 */
export function kernelDriver(): string {
  if (driverPath) return driverPath;
  mkdirSync(TMP, { recursive: true });
  const out = join(TMP, 'ldisc-kernel-driver');
  const building = `${out}.${process.pid}`;
  execFileSync('cc', ['-std=c11', '-D_GNU_SOURCE', '-O2', '-Wall', '-Wextra', '-Werror', '-o', building, join(ROOT, 'test', 'fixtures', 'ldisc-kernel-driver.c')]);
  renameSync(building, out);
  driverPath = out;
  return out;
}

/** A termios from stty words applied to a new pty's settings, ckpt off (the kernel has none). */
export function sttyTermios(words: readonly string[]): Termios {
  const result = applySttyArgs(newPtyTermios(), [...words]);
  if (!result.ok) throw new Error(`bad stty words ${words.join(' ')}: ${result.error.message}`);
  return { ...result.termios, ckpt: VDISABLE };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function settings(t: Termios): string {
  const cc = Array.from({ length: KERNEL_NCCS }, (_, i) => t.cc[i] ?? 0);
  return `${t.iflag} ${t.oflag} ${t.cflag} ${t.lflag} ${cc.join(' ')}`;
}

function sessionCommands(session: Session): string {
  const lines = [`S ${settings(session.termios)}`];
  for (const step of session.cases) {
    if (!isBytes(step)) lines.push(`T ${settings(step)}`);
    else if (step.length > 0) lines.push(`B ${hex(step)}`);
  }
  lines.push('E');
  return lines.join('\n') + '\n';
}

function parseOutcome(line: string): ByteOutcome {
  const [echo = 'e', ...rest] = line.split(' ');
  return {
    echo: echo.slice(1),
    reads: rest.filter((token) => token.startsWith('r')).map((token) => token.slice(1)),
    signals: rest.filter((token) => token.startsWith('s')).map((token) => SIGNAL_NAMES[token.slice(1)] ?? token),
  };
}

/** What the kernel does: per session, per case, per byte (one outcome for a settings change). */
export function kernelOutcomes(sessions: readonly Session[]): ByteOutcome[][][] {
  const result = spawnSync(kernelDriver(), { input: sessions.map(sessionCommands).join(''), maxBuffer: 1 << 28, timeout: 120_000 });
  if (result.status !== 0) throw new Error(`kernel driver failed (${result.status ?? result.signal}): ${result.stderr.toString()}`);
  const lines = result.stdout.toString().split('\n');
  let k = 0;
  const next = (): string => lines[k++] ?? '';
  return sessions.map((session) => {
    if (next() !== 'ok') throw new Error('kernel driver: session did not open');
    const cases = session.cases.map((step) => {
      if (isBytes(step) && step.length === 0) return [];
      const outcomes: ByteOutcome[] = [];
      for (let line = next(); line !== '.'; line = next()) outcomes.push(parseOutcome(line));
      return outcomes;
    });
    if (next() !== 'end') throw new Error('kernel driver: session did not end');
    return cases;
  });
}

/** What the kernel does with each byte of `input` typed under `termios`: one session of one case. */
export function kernelOutcome(termios: Termios, input: Uint8Array): ByteOutcome[] {
  const [[outcomes] = []] = kernelOutcomes([{ termios, cases: [input] }]);
  if (!outcomes) throw new Error('kernel driver: no outcome for the case');
  return outcomes;
}

/** The model's per-byte outcome from its events. */
export function outcomeOf(events: readonly LdiscEvent[]): ByteOutcome {
  const outcome: ByteOutcome = { echo: '', reads: [], signals: [] };
  for (const e of events) {
    if (e.kind === 'echo') outcome.echo += hex(e.bytes);
    else if (e.kind === 'data') outcome.reads.push(hex(e.bytes));
    else if (e.kind === 'signal') outcome.signals.push(e.name);
  }
  return outcome;
}

/** What the model does: one LineDiscipline per session, carried across its cases. */
export function modelOutcomes(session: Session): ByteOutcome[][] {
  const ldisc = new LineDiscipline(session.termios);
  return session.cases.map((step) => (isBytes(step) ? Array.from(step, (b) => outcomeOf(ldisc.input(b))) : [outcomeOf(ldisc.setTermios(step))]));
}

export interface Mismatch {
  session: number;
  caseIndex: number;
  byteIndex: number;
  model: ByteOutcome;
  kernel: ByteOutcome;
}

const same = (a: ByteOutcome, b: ByteOutcome): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The first byte where model and kernel differ, per session. */
export function compareSessions(sessions: readonly Session[]): Mismatch[] {
  const kernel = kernelOutcomes(sessions);
  const mismatches: Mismatch[] = [];
  sessions.forEach((session, s) => {
    const model = modelOutcomes(session);
    outer: for (let c = 0; c < session.cases.length; c++) {
      for (let b = 0; b < model[c]!.length; b++) {
        const m = model[c]![b]!;
        const k = kernel[s]![c]![b] ?? { echo: '(missing)', reads: [], signals: [] };
        if (!same(m, k)) {
          mismatches.push({ session: s, caseIndex: c, byteIndex: b, model: m, kernel: k });
          break outer;
        }
      }
    }
  });
  return mismatches;
}

/** Whether these steps, run in a fresh pty, make model and kernel differ. */
function fails(termios: Termios, steps: Step[]): boolean {
  return compareSessions([{ termios, cases: steps }]).length > 0;
}

/** A session's steps up to the mismatching byte, each keystroke a step of its own. */
function historyOf(session: Session, mismatch: Mismatch): Step[] {
  const steps: Step[] = [];
  session.cases.slice(0, mismatch.caseIndex + 1).forEach((step, c) => {
    if (!isBytes(step)) steps.push(step);
    else for (const b of c === mismatch.caseIndex ? step.slice(0, mismatch.byteIndex + 1) : step) steps.push(Uint8Array.of(b));
  });
  return steps;
}

/**
 * The shortest failing history found by dropping steps (keystrokes and settings changes)
 * while the mismatch persists in a fresh pty (delta debugging, halving chunk sizes).
 */
export function shrinkFailure(session: Session, mismatch: Mismatch): Step[] {
  let current = historyOf(session, mismatch);
  if (!fails(session.termios, current)) return current;
  for (let chunk = Math.ceil(current.length / 2); chunk >= 1; chunk = Math.floor(chunk / 2)) {
    for (let i = 0; i + chunk <= current.length; ) {
      const candidate = [...current.slice(0, i), ...current.slice(i + chunk)];
      if (candidate.length > 0 && fails(session.termios, candidate)) current = candidate;
      else i += chunk;
    }
  }
  return current;
}

export function describeTermios(t: Termios): string {
  const octal = (n: number): string => '0o' + n.toString(8);
  return `iflag=${octal(t.iflag)} oflag=${octal(t.oflag)} lflag=${octal(t.lflag)} cc=[${t.cc.join(',')}]`;
}

/** Steps as text: runs of keystrokes in hex, settings changes in brackets. */
export function describeSteps(steps: readonly Step[]): string {
  return steps.map((step) => (isBytes(step) ? hex(step) : `[${describeTermios(step)}]`)).join(' ');
}

/** A readable account of a mismatch, with a minimal reproduction. */
export function reportMismatch(sessions: readonly Session[], mismatch: Mismatch, header: string): string {
  const session = sessions[mismatch.session]!;
  return [
    header,
    `settings: ${describeTermios(session.termios)}`,
    `case ${mismatch.caseIndex}: ${describeSteps([session.cases[mismatch.caseIndex]!])} (byte ${mismatch.byteIndex})`,
    `minimal failing history (fresh pty): ${describeSteps(shrinkFailure(session, mismatch))}`,
    `model:  ${JSON.stringify(mismatch.model)}`,
    `kernel: ${JSON.stringify(mismatch.kernel)}`,
  ].join('\n');
}
