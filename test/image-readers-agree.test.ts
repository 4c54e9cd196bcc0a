/**
 * One rule for both readers of an image: the TypeScript reader (`ckpty info`) and the
 * native loader (`ckpty thaw`) must accept and refuse the same files, for the same kind
 * of problem (docs/image-format.md, "What a reader accepts"), and read the same job out
 * of the files they accept.
 *
 * Thousands of seeded mutations of built (and, once the v2 freezer writes them, real)
 * job images go through both; the native side runs under AddressSanitizer and
 * UndefinedBehaviorSanitizer (tty/bin/sanitize/load-images), where any report ends the
 * run with an error. Then `ckpty thaw` itself, and the sanitized thawer, get a share of
 * the same files, each under a timeout: no crash, no hang, and no process left behind,
 * whether the image was refused or thawed (once the thawer reads version 2).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/base/errors.js';
import { freezeProcess } from '../src/freezer/freeze.js';
import { ImageError } from '../src/image/errors.js';
import type { Image } from '../src/image/image.js';
import { parseImage } from '../src/image/reader.js';
import { cliRootFor, ROOT, tempDir, testUser, until } from './helpers/fixtures.js';
import { buildImage, type BuiltImage } from './helpers/image-builder.js';
import { boundaries, layoutOf, mutate, pick } from './helpers/image-mutations.js';
import { spawnQuiet, waitSettled } from './helpers/image-real.js';
import { sampleImages } from './helpers/image-samples.js';
import { seededRandom } from './helpers/prng.js';
import { CLI } from './helpers/thaw.js';

const SEED = Number(process.env.CKPTY_FUZZ_SEED ?? 0xa91ee);
const MUTATIONS = Number(process.env.CKPTY_AGREE_MUTATIONS ?? 4000);
const SANITIZED = join(ROOT, 'tty/bin/sanitize');

const work = mkdtempSync(join(tmpdir(), 'ckpty-readers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Case {
  path: string;
  what: string;
}

/** Built jobs of every shape: one process, a pipeline with threads and a zombie, every descriptor kind. */
const seeds: BuiltImage[] = sampleImages();
const cases: Case[] = [];

function make(target: string): void {
  const result = spawnSync('make', ['-s', '-C', join(ROOT, 'tty'), target], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`make ${target} failed:\n${result.stderr}`);
}

beforeAll(async () => {
  make('load-images');
  // Images of real programs (every standard note, many PT_LOADs): a single process, a
  // threaded one, and a process tree (a shell waiting for its child).
  {
    const programs = [
      ['sleep', '1000'],
      ['python3', '-c', 'import threading, time\nfor _ in range(3): threading.Thread(target=time.sleep, args=(1000,)).start()\ntime.sleep(1000)'],
      ['sh', '-c', 'sleep 1000; exit 3'],
    ];
    for (const argv of programs) {
      const program = spawnQuiet(argv, work);
      try {
        await waitSettled(program.pid, argv[0] as string);
        const path = join(work, `${argv[0]}.ckpt`);
        await freezeProcess(program.pid, { output: path, snapshot: true });
        const bytes = readFileSync(path);
        seeds.push(layoutOf(bytes, await parseImage(bytes)));
      } finally {
        program.kill();
      }
    }
  }
  const add = (bytes: Uint8Array, what: string): void => {
    const path = join(work, `case-${cases.length}.ckpt`);
    writeFileSync(path, bytes);
    chmodSync(path, 0o600);
    cases.push({ path, what });
  };
  seeds.forEach((seed, i) => add(seed.bytes, `seed ${i}`));
  add(buildImage({ version: 1 }).bytes, 'a version 1 image');
  for (const [i, seed] of seeds.entries()) for (const size of boundaries(seed)) add(seed.bytes.subarray(0, size), `seed ${i} cut at ${size}`);
  const rand = seededRandom(SEED);
  for (let i = 0; i < MUTATIONS; i++) {
    const { bytes, described } = mutate(seeds, rand);
    add(bytes, `${described} (seed ${SEED}, #${i})`);
  }
}, 120_000);

type Verdict = 'accepted' | 'foreign' | 'truncated' | 'corrupt' | 'version';

/** What both readers say they loaded, in tty/test/load-images.c's words. */
function digest(image: Image): string {
  const processes = image.processes.map(
    (p) => ` ${p.member}:${p.threads.length}/${p.vmas.length}/${p.loads.length}/${p.fds.length}/${p.signals.queued.length}/${p.timers.length}/${p.tty ? 1 : 0}`,
  );
  return (
    `ok members=${image.members.length} processes=${image.processes.length} objects=${image.objects.length} ` +
    `ofiles=${image.openFiles.length} watches=${image.watches.length} screen=${image.screen?.length ?? '-'}${processes.join('')}`
  );
}

async function typescriptResult(path: string): Promise<{ verdict: Verdict; line: string }> {
  try {
    return { verdict: 'accepted', line: digest(await parseImage(readFileSync(path))) };
  } catch (err) {
    if (err instanceof ImageError) return { verdict: err.problem, line: err.message };
    throw err;
  }
}

/** The native message's kind of problem, from the prefix both readers share. */
function nativeVerdict(line: string): Verdict {
  if (line.startsWith('ok')) return 'accepted';
  const message = line.replace(/^bad \d+ /, '');
  if (message.startsWith('not a ckpty image: ')) return 'foreign';
  if (message.startsWith('truncated image: ')) return 'truncated';
  if (message.startsWith('corrupt image: ')) return 'corrupt';
  if (message.startsWith('unsupported image version')) return 'version';
  throw new Error(`the native loader said ${line}`);
}

/** Runs a command under a timeout; resolves with how it ended and its output. */
function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number | null; signal: string | null; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    let timedOut = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-(child.pid as number), 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, timedOut });
    });
  });
}

/** Processes still in the process group of a run (the thaw and whatever it started). */
function leftInGroup(pgid: number): number[] {
  const ps = spawnSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter(Boolean).map(Number);
}

describe('the TypeScript reader and the native loader', () => {
  it(`give the same verdict and kind of problem on ${MUTATIONS} mutations, every cut and the seeds, and read the same jobs`, async () => {
    const loader = spawnSync(join(SANITIZED, 'load-images'), { input: cases.map((c) => c.path).join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(loader.stderr, 'a sanitizer report').toBe('');
    expect(loader.status).toBe(0);
    const lines = loader.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(cases.length);
    const disagreements: string[] = [];
    const tally = new Map<Verdict, number>();
    const rules = new Set<string>();
    for (const [i, item] of cases.entries()) {
      const ours = await typescriptResult(item.path);
      const line = lines[i] as string;
      const native = nativeVerdict(line);
      tally.set(native, (tally.get(native) ?? 0) + 1);
      if (ours.verdict !== native) disagreements.push(`${item.what}: TypeScript ${ours.line}; native ${line}`);
      else if (native === 'accepted' && ours.line !== line) disagreements.push(`${item.what}: TypeScript read ${ours.line}; native ${line}`);
      // The rule that refused it, without the numbers: how many rules the corpus reaches.
      if (native !== 'accepted') rules.add(ours.line.replace(/member \d+ \(pid \d+\): /, '').replace(/0x[0-9a-f]+|\d+/g, 'N'));
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
    // The corpus reaches every verdict and many rules: a test that only ever sees one proves little.
    for (const verdict of ['accepted', 'foreign', 'truncated', 'corrupt', 'version'] as const) expect(tally.get(verdict) ?? 0, verdict).toBeGreaterThan(0);
    expect(rules.size).toBeGreaterThan(60);
  }, 300_000);

  it('refuse a version 1 image with the same words', async () => {
    const item = cases.find((c) => c.what === 'a version 1 image') as Case;
    const loader = spawnSync(join(SANITIZED, 'load-images'), { input: `${item.path}\n`, encoding: 'utf8' });
    const words = 'unsupported image version 1 (this ckpty reads version 2)';
    expect(loader.stdout).toBe(`bad ${ExitCode.badImage} ${words}\n`);
    expect((await typescriptResult(item.path)).line).toBe(words);
  });
});

// THAWER: runs once ckpty-thawer reads version 2 (the lead's branch v2); the sanitized thawer is built then.
describe('ckpty thaw on mutated images', () => {
  beforeAll(() => make('sanitize'));

  it('`ckpty thaw --check` refuses with one line or accepts, never crashes or hangs, on 500 of them', async () => {
    const rand = seededRandom(SEED ^ 0x17);
    for (let i = 0; i < 500; i++) {
      const item = pick(rand, cases);
      const check = await run(CLI, ['thaw', '--check', '--quiet', item.path], 10_000);
      expect(check.timedOut || check.signal !== null, `${item.what}: ${check.signal ?? 'hung'}`).toBe(false);
      if (check.code !== 0) {
        expect(check.stderr, item.what).toMatch(/^ckpty: [^\n]+\n$/);
        expect([ExitCode.unsupported, ExitCode.permission, ExitCode.badImage, ExitCode.io, ExitCode.changed], item.what).toContain(check.code);
      }
    }
  }, 300_000);

  it('the sanitized thawer checks, and `ckpty thaw` runs, 100 of them: no report, no hang, no process left behind', async () => {
    const rand = seededRandom(SEED ^ 0x51);
    const outcomes = new Map<string, number>();
    // A mutated image that loads is a program nobody wrote (a syscall number or its
    // arguments changed at random): it runs as the unprivileged user, in a pid namespace
    // of its own, where it can reach nothing else.
    const user = testUser();
    const cli = join(cliRootFor(user), 'bin/ckpty');
    const image = join(tempDir('ckpty-agree-thaw', user), 'case.ckpt');
    for (let i = 0; i < 100; i++) {
      const item = pick(rand, cases);
      const check = await run(join(SANITIZED, 'ckpty-thawer'), ['--check', item.path], 20_000);
      expect(check.timedOut, `${item.what}: the sanitized check hung`).toBe(false);
      expect(check.stderr, `${item.what}: sanitizer report`).not.toMatch(/Sanitizer|runtime error/);
      expect(check.signal, item.what).toBeNull();

      // The command a user types, all the way: refused, or thawed (then killed with its group).
      copyFileSync(item.path, image);
      chownSync(image, user.uid, user.gid);
      const thaw = spawn(cli, ['thaw', '--quiet', image], { stdio: 'ignore', detached: true, uid: user.uid, gid: user.gid });
      const ended = new Promise<number | string>((resolve) => thaw.on('close', (code, signal) => resolve(code ?? (signal as string))));
      const outcome = await Promise.race([ended, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 500))]);
      if (outcome === 'running') process.kill(-(thaw.pid as number), 'SIGKILL');
      await ended;
      outcomes.set(String(outcome), (outcomes.get(String(outcome)) ?? 0) + 1);
      // A killed group takes a moment to be reaped; anything still there after that was left behind.
      await until(() => leftInGroup(thaw.pid as number).length === 0, 3000, `${item.what}: processes left in the thaw's group`);
    }
    expect(outcomes.get(String(ExitCode.badImage)) ?? 0).toBeGreaterThan(0);
  }, 300_000);
});
