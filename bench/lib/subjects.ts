/**
 * The programs the bench freezes: real interactive programs (bc, python3), the hog
 * fixture holding memory of a chosen kind, and the workers fixture (several threads, or
 * a pipeline of processes: a job). Each runs on its own pty, started through
 * `launch` (core limit up, no stray descriptors), idles in a terminal read like a
 * user's program, and has a probe: a line to type and the answer that proves it runs
 * with its state (bc and python3 hold a variable set before the freeze).
 */
import { readFileSync } from 'node:fs';
import type { BenchContext } from './context.js';
import { PtyProcess } from './pty.js';
import { waitBlocked } from './proc.js';

export interface SubjectKind {
  /** The program and its arguments, run through `launch`. */
  argv: string[];
  /** What it prints once it reads input. */
  ready?: string;
  /** What to type before the freeze (and what to wait for after each line). */
  setup?: { input: string; wait?: string | RegExp }[];
  /** A line to type and the answer that proves it runs with its state. */
  probe: { input: string; answer: string | RegExp };
}

/**
 * Answers arrive on a line of their own, possibly after readline's carriage return and
 * terminal controls ("\n\r\x1b[K42\r\n"): never matched by the echo of the question.
 */
const answerLine = (n: number): RegExp => new RegExp(`\\n(?:\\r|\\x1b\\[[0-9;?]*[A-Za-z])*${n}\\r?\\n`);

/** The subject kinds; `setup` types what the probe relies on. */
export function subjectKinds(ctx: BenchContext) {
  const hog = (kind: string, mib: number, ...rest: string[]): SubjectKind => ({
    argv: [ctx.fixtures.hog, kind, String(mib), ...rest],
    ready: 'ready',
    probe: { input: 'p\n', answer: 'pong' },
  });
  const bc: SubjectKind = {
    argv: [ctx.features.bc.path ?? 'bc', '-q'],
    // bc answers nothing to an assignment: ask for x, so the freeze cannot come before it.
    setup: [{ input: 'x = 41\nx\n', wait: answerLine(41) }],
    probe: { input: 'x + 1\n', answer: answerLine(42) },
  };
  const python3: SubjectKind = {
    argv: [ctx.features.python3.path ?? 'python3', '-q'],
    ready: '>>> ',
    setup: [{ input: 'x = 21\n', wait: '>>> ' }],
    probe: { input: 'x * 2\n', answer: answerLine(42) },
  };
  const workers = (kind: 'threads' | 'pipeline', n: number): SubjectKind => ({
    argv: [ctx.fixtures.workers, kind, String(n)],
    ready: 'ready',
    probe: { input: 'p\n', answer: 'pong' },
  });
  return {
    bc,
    python3,
    threads: (n: number) => workers('threads', n),
    pipeline: (n: number) => workers('pipeline', n),
    dirty: (mib: number) => hog('dirty', mib),
    untouched: (mib: number) => hog('untouched', mib),
    mapfile: (file: string, touchedMib: number) => hog('mapfile', touchedMib, file),
  };
}

/** The environment subjects run in: the bench's, minus what would make python3 or bc differ between runs. */
export function subjectEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  for (const name of ['PYTHONSTARTUP', 'BC_ENV_ARGS', 'BC_LINE_LENGTH', 'CKPTY', 'TMUX']) delete env[name];
  return env;
}

/** Wait for the subject's prompt on `pty`, then type what its probe relies on (the variable). */
export async function setUp(pty: PtyProcess, kind: SubjectKind): Promise<void> {
  if (kind.ready) await pty.expect(kind.ready, { timeoutMs: 30_000 });
  for (const step of kind.setup ?? []) {
    const since = pty.mark;
    pty.write(step.input);
    if (step.wait) await pty.expect(step.wait, { since });
  }
}

/** Start a subject on its own pty and wait until it idles in its terminal read with its state set up. */
export async function startSubject(ctx: BenchContext, kind: SubjectKind): Promise<PtyProcess> {
  const pty = new PtyProcess(ctx.fixtures.launch, kind.argv, { cwd: ctx.workDir, env: subjectEnv() });
  try {
    await setUp(pty, kind);
    await waitBlocked(pty.pid);
    return pty;
  } catch (err) {
    await pty.close();
    throw err;
  }
}

/** Type the probe into a pty that runs (or is about to run) the subject; resolves when it answers. */
export async function probe(pty: PtyProcess, kind: SubjectKind, { timeoutMs = 15_000 } = {}): Promise<void> {
  const since = pty.mark;
  pty.write(kind.probe.input);
  await pty.expect(kind.probe.answer, { since, timeoutMs });
}

/** Dirty memory of a process (Private_ plus Shared_Dirty of smaps_rollup): what an image must hold. */
export function dirtyBytes(pid: number): number {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return (kb('Private_Dirty') + kb('Shared_Dirty')) * 1024;
}
