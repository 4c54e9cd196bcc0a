/**
 * Every descriptor kind (docs/descriptors.md), frozen and thawed. test/fixtures/descriptors.c
 * puts each kind into a known state and, on SIGUSR1, prints what a program can observe
 * of it (bytes read back, counters, events delivered, timers' time left). The oracle is
 * the same fixture asked without a freeze: a freeze and a thaw in between must not
 * change a line, except timers, which must have the time they had left.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CkptyError, ExitCode, FROZEN_EXIT_STATUS } from '../src/base/errors.js';
import { freezeProcess, type FreezeOptions } from '../src/freezer/freeze.js';
import {
  ROOT,
  buildFixture,
  procState,
  startProcess,
  stopProcesses,
  tempDir,
  testUser,
  until,
  type Exit,
  type TestUser,
} from './helpers/fixtures.js';
import { startThaw, stopThaws, thawedPid, thawRefused } from './helpers/thaw.js';

afterEach(() => {
  stopThaws();
  stopProcesses();
});
interface Fixture {
  pid: number;
  output(): string;
  exited: Promise<Exit>;
}

/** The fixture's argument for a kind, with what it needs in dir. */
function kindArgument(kind: string, dir: string): string {
  if (kind.startsWith('writer:')) return kind;
  if (kind === 'file') {
    writeFileSync(join(dir, 'f.txt'), 'hello file\n');
    return `file:${join(dir, 'f.txt')}`;
  }
  if (['fifo', 'deleted', 'inotify', 'big', 'mapped'].includes(kind)) return `${kind}:${kind === 'fifo' ? join(dir, 'fifo') : dir}`;
  return kind;
}

/** The fixture with these kinds, writing to a file in dir (the user's own when run as them), ready. */
async function start(kinds: string[], dir: string, user?: TestUser): Promise<Fixture> {
  const binary = await buildFixture('descriptors');
  const args = kinds.map((kind) => kindArgument(kind, dir));
  const out = join(dir, 'output');
  const proc = startProcess('/bin/sh', ['-c', `exec ${binary} ${args.join(' ')} >>${out} 2>&1`], { cwd: dir, user });
  const output = (): string => (existsSync(out) ? readFileSync(out, 'latin1') : '');
  await until(() => /ready pid=\d+/.test(output()), 5000, 'the fixture to be ready');
  return { pid: proc.pid, output, exited: proc.exited };
}

/** Blocked in its sigsuspend: a signal now is handled there. */
function waiting(pid: number): boolean {
  return procState(pid) === 'S';
}

/** Ask the fixture (SIGUSR1) and return what it reports: the lines before "done". */
async function ask(fixture: Fixture, pid: number): Promise<string[]> {
  await until(() => waiting(pid), 5000, `process ${pid} to wait`);
  const before = fixture.output().length;
  process.kill(pid, 'SIGUSR1');
  await until(() => fixture.output().slice(before).includes('done\n'), 5000, 'the report');
  return fixture.output().slice(before).split('\n').filter((line) => line && line !== 'done');
}

interface Thawed {
  lines: string[];
  changes: string;
}

/** Freeze the fixture into dir, thaw it (as the user, if any), run `between` while frozen, ask. */
async function frozenAndThawed(
  fixture: Fixture,
  dir: string,
  options: { user?: TestUser; freeze?: FreezeOptions; between?: () => void; after?: () => void } = {},
): Promise<Thawed> {
  const image = join(dir, 'image.ckpt');
  await freezeProcess(fixture.pid, { output: image, ...options.freeze });
  expect(await fixture.exited).toEqual({ code: FROZEN_EXIT_STATUS, signal: null });
  options.between?.();
  const user = options.user;
  const run = startThaw(image, { user });
  const result = await run.result;
  options.after?.();
  return { lines: await ask(fixture, thawedPid(run.pid, result.pid)), changes: result.changes };
}

/** What the fixture reports for these kinds when nothing happens to it. */
async function reference(kinds: string[]): Promise<string[]> {
  const fixture = await start(kinds, tempDir('ckpty-fds'));
  return ask(fixture, fixture.pid);
}

/** Kinds whose every observable line must be the same after a freeze and thaw. */
const STEADY = ['eventfd', 'signalfd', 'pipe', 'fifo', 'stream', 'dgram', 'seqpacket', 'memfd', 'deleted', 'mapped', 'epoll', 'devices', 'file'];

describe('each descriptor kind comes back as the program left it', () => {
  it.each(STEADY)('%s', async (kind) => {
    const expected = await reference([kind]);
    const dir = tempDir('ckpty-fds');
    const fixture = await start([kind], dir);
    const { lines } = await frozenAndThawed(fixture, dir);
    expect(lines).toEqual(expected);
  });

  it('timerfd: the time each timer had left, its period, its unread expirations, a realtime date', async () => {
    const dir = tempDir('ckpty-fds');
    const fixture = await start(['timerfd'], dir);
    const armed = Date.now();
    const { lines } = await frozenAndThawed(fixture, dir, { between: () => void spawnSleep(1000) });
    const elapsed = Date.now() - armed;
    const [, once, periodic, ticks, realtime] = /once_ms=(\d+) periodic_ms=(\d+) expired_ticks=(\d+) realtime_ms=(\d+)/.exec(lines[0] ?? '') ?? [];
    // Time left goes on from the freeze: the second it was frozen does not count.
    expect(Number(once)).toBeLessThanOrEqual(30_000);
    expect(Number(once)).toBeGreaterThan(30_000 - elapsed + 800);
    expect(Number(periodic)).toBeLessThanOrEqual(1000);
    expect(Number(ticks)).toBe(1);
    // A date keeps its date: the time frozen counts.
    expect(Math.abs(Number(realtime) - (3_600_000 - elapsed))).toBeLessThan(1000);
  });

  it('inotify: the watch descriptors are the old ones; a change made after the thaw is an event', async () => {
    const dir = tempDir('ckpty-fds');
    const fixture = await start(['inotify'], dir);
    const { lines } = await frozenAndThawed(fixture, dir, { after: () => writeFileSync(join(dir, 'new'), '') });
    expect(lines).toEqual(['inotify watches=2,3 events= wd3:0x100:new']);
  });

  it('inotify: a watched file changed while frozen is reported once thawed, and the thaw says so', async () => {
    const dir = tempDir('ckpty-fds');
    const fixture = await start(['inotify'], dir);
    const { lines } = await frozenAndThawed(fixture, dir, { between: () => appendFileSync(join(dir, 'watched'), 'more\n') });
    expect(lines).toEqual(['inotify watches=2,3 events= wd2:0x2:-']);
  });

  it('every kind at once, in one process', async () => {
    const expected = await reference(STEADY);
    const dir = tempDir('ckpty-fds');
    const fixture = await start(STEADY, dir);
    expect((await frozenAndThawed(fixture, dir)).lines).toEqual(expected);
  });
});

/** A pause that lets the clocks move (the freeze's "while frozen"). */
function spawnSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('open files that changed while frozen', () => {
  it('a file that grew is reopened at the offset; the thaw reports the change', async () => {
    const dir = tempDir('ckpty-fds');
    const fixture = await start(['file'], dir);
    const { lines, changes } = await frozenAndThawed(fixture, dir, { between: () => appendFileSync(join(dir, 'f.txt'), 'more\n') });
    // The rest of the first line, then the line appended while frozen.
    expect(lines).toEqual(['file rest=llo file', 'more']);
    expect(changes).toBe(`${join(dir, 'f.txt')} grew by 5 bytes while frozen`);
  });

  it('a file now shorter than where a descriptor writes, or replaced, or gone: refused, saying which', async () => {
    const dir = tempDir('ckpty-fds');
    const fixture = await start([`writer:${join(dir, 'w')}`, 'file'], dir);
    const image = join(dir, 'image.ckpt');
    await freezeProcess(fixture.pid, { output: image });
    writeFileSync(join(dir, 'w'), '01234');
    writeFileSync(join(dir, 'other'), 'another file');
    renameSync(join(dir, 'other'), join(dir, 'f.txt'));
    const end = await thawRefused(image);
    expect(end.code).toBe(ExitCode.changed);
    expect(end.stderr).toContain(`${join(dir, 'w')} (open as fd 3) is now 5 bytes, shorter than the offset 10 it writes at`);
    expect(end.stderr).toContain(`${join(dir, 'f.txt')} (open as fd 4) is another file than at the freeze`);
    unlinkSync(join(dir, 'w'));
    expect((await thawRefused(image)).stderr).toContain(`${join(dir, 'w')} (open as fd 3) no longer exists`);
  });
});

describe('what cannot come back is refused by name, and the process runs on', () => {
  async function refusal(kinds: string[], options: FreezeOptions = {}): Promise<{ error: CkptyError; fixture: Fixture; dir: string }> {
    const dir = tempDir('ckpty-fds');
    const fixture = await start(kinds, dir);
    try {
      await freezeProcess(fixture.pid, { output: join(dir, 'image.ckpt'), ...options });
    } catch (error) {
      if (!(error instanceof CkptyError)) throw error;
      // Untouched: it still answers.
      await ask(fixture, fixture.pid);
      return { error, fixture, dir };
    }
    throw new Error('the freeze was not refused');
  }

  it('an inotify watch on a path the job does not lead to', async () => {
    const { error } = await refusal(['hidden']);
    expect(error.message).toMatch(/fd 3 \(inotify watch 1 of inode \d+ on device \d+:\d+: no path to it found\)/);
  });

  it('a TCP socket and a pty master', async () => {
    const { error } = await refusal(['tcp', 'ptmx']);
    expect(error.message).toMatch(/open files the thaw cannot rebuild: fd 3 \(TCP socket\), fd 4 \(pty master \/dev\/ptmx\)/);
    expect(error.exitCode).toBe(ExitCode.unsupported);
  });

  it('a deleted file larger than --max-contents; with a larger limit it is stored whole', async () => {
    const { error } = await refusal(['big'], { maxContents: 1 << 20 });
    expect(error.message).toMatch(/fd 3 \(deleted file \S+descriptors-big-\d+ of 2\.0 MiB, more than --max-contents 1\.0 MiB allows\)/);

    const dir = tempDir('ckpty-fds');
    const fixture = await start(['big'], dir);
    const { lines } = await frozenAndThawed(fixture, dir, { freeze: { maxContents: 4 << 20 } });
    expect(lines).toEqual(['big bytes=2097152 first_bad=-1 end=eof']);
  });
});

describe('a unix socket connected outside the job', () => {
  let server: { path: string; close(): void };
  beforeAll(async () => {
    const { createServer } = await import('node:net');
    const path = join(tempDir('ckpty-sock'), 'agent.sock');
    const listener = createServer((connection) => {
      connection.on('error', () => undefined); // the frozen client's end goes away
      connection.write('unread');
    });
    await new Promise<void>((resolve) => listener.listen(path, resolve));
    server = { path, close: () => listener.close() };
  });
  afterAll(() => server.close());

  it('is refused naming where it connected to', async () => {
    const dir = tempDir('ckpty-fds');
    const fixture = await start([`connect:${server.path}`], dir);
    await expect(freezeProcess(fixture.pid, { output: join(dir, 'image.ckpt') })).rejects.toThrow(
      `fd 3 (unix socket connected to ${server.path}, outside the job; --close-outside-sockets thaws it closed)`,
    );
  });

  it('with --close-outside-sockets comes back closed: end of file, EPIPE; the thaw says so', async () => {
    const dir = tempDir('ckpty-fds');
    const fixture = await start([`connect:${server.path}`], dir);
    await until(() => waiting(fixture.pid));
    const { lines, changes } = await frozenAndThawed(fixture, dir, { freeze: { closeOutsideSockets: true } });
    expect(lines).toEqual(['connect recv=0 send=Broken pipe']);
    expect(changes).toBe(`fd 3 (connected to ${server.path}) is thawed as a closed connection`);
  });
});

describe('under AddressSanitizer and UndefinedBehaviorSanitizer', () => {
  const sanitized = join(ROOT, 'tty/bin/sanitize');
  beforeAll(() => {
    const make = spawnSync('make', ['-s', '-C', join(ROOT, 'tty'), 'sanitize'], { encoding: 'utf8' });
    if (make.status !== 0) throw new Error(`make sanitize failed:\n${make.stderr}`);
  });

  it('the freezer and the thawer make every kind again with no report (leaks included)', async () => {
    const dir = tempDir('ckpty-fds');
    const fixture = await start([...STEADY, 'timerfd', 'inotify'], dir);
    const image = join(dir, 'image.ckpt');
    const freeze = spawnSync(join(sanitized, 'ckpty-freezer'), ['-o', image, String(fixture.pid)], { encoding: 'utf8' });
    expect(freeze.stderr, 'a sanitizer report').toBe('');
    expect(freeze.status).toBe(0);
    const thaw = spawn(join(sanitized, 'ckpty-thawer'), ['--json', image], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    thaw.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    thaw.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = new Promise<number | null>((resolve) => thaw.on('close', resolve));
    await until(() => stdout.includes('\n'), 10_000, 'the sanitized thaw');
    const { pid } = JSON.parse(stdout) as { pid: number };
    const lines = await ask(fixture, thawedPid(thaw.pid as number, pid));
    expect(lines.filter((line) => !/^(timerfd|inotify) /.test(line))).toEqual(await reference(STEADY));
    expect(await ended).toBe(0);
    expect(stderr, 'a sanitizer report').toBe('');
  });
});

describe('as an unprivileged user', () => {
  let user: TestUser;
  beforeAll(() => {
    user = testUser();
  });

  it('every kind comes back as it was', async () => {
    const expected = await reference(STEADY);
    const dir = tempDir('ckpty-fds', user);
    const fixture = await start(STEADY, dir, user);
    expect((await frozenAndThawed(fixture, dir, { user })).lines).toEqual(expected);
  });
});
