/**
 * Killing the native programs at bad moments, as a user's tools get killed.
 *
 * The freezer (SIGKILL, which it cannot hold back) at each of its stages and at many
 * moments of a 1 GiB freeze: the process goes on exactly as before (its blocked mask,
 * its signals, its sums, its AVX registers) and no file is left, or — once the image
 * has its name — the image is whole and the process is gone. The one window where
 * both exist (between naming the image and arming the process to die with us, a few
 * syscalls) is the documented one; the "named" fault point sits in it.
 *
 * The thaw at each of its stages and at moments of its start: nothing it started
 * runs on.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FREEZER_PATH } from '../src/freezer/native.js';
import { openImage } from '../src/image/file.js';
import { buildFixture, cliRootFor, procState, startProcess, stopProcesses, tempDir, testUser, until, type TestProcess, type TestUser } from './helpers/fixtures.js';
import { CLI, privateCopy, processesRunning, stopThaws } from './helpers/thaw.js';
import { freezeProcess } from '../src/freezer/freeze.js';

afterEach(() => {
  stopThaws();
  stopProcesses();
});

function procStatus(pid: number, field: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/status`, 'latin1').match(new RegExp(`^${field}:\\s*(\\S+)`, 'm'))?.[1];
  } catch {
    return undefined;
  }
}

interface Target {
  proc: TestProcess;
  blocked: string;
  dir: string;
}

async function startCompute(mib: number, stopped = false, user?: TestUser): Promise<Target> {
  const dir = tempDir('ckpty-faults', user);
  const proc = startProcess(await buildFixture('compute'), [String(mib)], { cwd: dir, user });
  await proc.waitFor(/round 1 ok/, 30_000);
  if (stopped) {
    proc.kill('SIGSTOP');
    await until(() => proc.state() === 'T', 5000, 'the job-control stop');
  }
  return { proc, blocked: procStatus(proc.pid, 'SigBlk') ?? '', dir };
}

/**
 * The process runs on as before: still in its job-control stop if it was (and making no
 * progress there), then with the same blocked mask, untraced, its signals delivered,
 * its sums and registers right.
 */
async function expectIntact(target: Target, stopped: boolean): Promise<void> {
  const { proc } = target;
  expect(proc.isRunning()).toBe(true);
  if (stopped) {
    // A tracee the kernel lets go re-enters the group stop on its way back to user code.
    await until(() => proc.state() === 'T', 2000, 'the process back in its job-control stop');
    const before = proc.output().length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(proc.output().length, 'rounds while stopped').toBe(before);
    proc.kill('SIGCONT');
  }
  const seen = proc.output().length;
  await until(() => /round \d+ ok\n/.test(proc.output().slice(seen)), 20_000, 'a round after the kill');
  expect(procStatus(proc.pid, 'SigBlk')).toBe(target.blocked);
  expect(procStatus(proc.pid, 'TracerPid')).toBe('0');
  const signalled = proc.output().length;
  proc.kill('SIGUSR1');
  await until(() => /usr1\n(.*\n)*round \d+ ok\n/.test(proc.output().slice(signalled)), 20_000, 'usr1 and a right sum after it');
  expect(proc.output()).not.toContain('BAD');
}

/** Everything in the image directory: nothing, or the finished image. */
function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name !== 'output');
}

function freezer(target: Target, env: Record<string, string> = {}, user?: TestUser): ReturnType<typeof spawn> {
  const path = user ? join(cliRootFor(user), 'tty/bin/ckpty-freezer') : FREEZER_PATH;
  return spawn(path, ['-o', join(target.dir, 'x.ckpt'), String(target.proc.pid)], {
    stdio: 'ignore',
    env: { ...process.env, ...env },
    uid: user?.uid,
    gid: user?.gid,
  });
}

/** Run the freezer until it reaches a fault point (it stops itself there), then SIGKILL it. */
async function killFreezerAt(target: Target, point: string, user?: TestUser): Promise<void> {
  const child = freezer(target, { CKPTY_FAULT_STOP: point }, user);
  const ended = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await until(() => procState(child.pid as number) === 'T', 20_000, `the freezer at ${point}`);
  child.kill('SIGKILL');
  await ended;
}

describe('a freezer killed at each stage', () => {
  for (const stopped of [false, true]) {
    const what = stopped ? 'a ^Z-stopped process' : 'a running process';
    for (const point of ['seized', 'injecting', 'copying']) {
      it(`${point}: ${what} goes on as before, and no file is left`, async () => {
        const target = await startCompute(64, stopped);
        await killFreezerAt(target, point);
        await expectIntact(target, stopped);
        expect(leftovers(target.dir)).toEqual([]);
      });
    }
  }

  for (const point of ['injecting', 'copying']) {
    it(`${point}, as an unprivileged user freezing their own process: it goes on as before`, async () => {
      const user = testUser();
      const target = await startCompute(64, false, user);
      await killFreezerAt(target, point, user);
      await expectIntact(target, false);
      expect(leftovers(target.dir)).toEqual([]);
    });
  }

  it('named (the documented window): the image is whole and the process still runs, intact', async () => {
    const target = await startCompute(64);
    await killFreezerAt(target, 'named');
    expect((await openImage(join(target.dir, 'x.ckpt'))).processes[0]?.process.pid).toBe(target.proc.pid);
    await expectIntact(target, false);
  });

  it('armed: the image is whole and the process is gone with the freezer', async () => {
    const target = await startCompute(64);
    await killFreezerAt(target, 'armed');
    expect(await target.proc.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect((await openImage(join(target.dir, 'x.ckpt'))).processes[0]?.process.pid).toBe(target.proc.pid);
    expect(leftovers(target.dir)).toEqual(['x.ckpt']);
  });
});

describe('a freezer killed at moments of a 1 GiB freeze', () => {
  it('22 moments, running and ^Z-stopped: the process as it was and no file, or the image and no process', async () => {
    // How long one whole freeze of this size takes here (a snapshot: the process stays).
    const probe = await startCompute(1024);
    const started = performance.now();
    const whole = spawnSync(FREEZER_PATH, ['--snapshot', '-o', join(probe.dir, 'probe.ckpt'), String(probe.proc.pid)]);
    const duration = performance.now() - started;
    expect(whole.status).toBe(0);
    probe.proc.kill('SIGKILL');
    rmSync(probe.dir, { recursive: true, force: true });

    let target: Target | undefined;
    const outcomes = { intact: 0, frozen: 0 };
    for (let i = 0; i < 22; i++) {
      const stopped = i >= 12;
      if (!target || !target.proc.isRunning() || (stopped && target.proc.state() !== 'T')) {
        target?.proc.kill('SIGKILL');
        target = await startCompute(1024, stopped);
      }
      const at = (duration * ((i % 12) + 0.5)) / 12;
      const child = freezer(target);
      const ended = new Promise<void>((resolve) => child.on('close', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, at));
      child.kill('SIGKILL');
      await ended;
      const image = join(target.dir, 'x.ckpt');
      if (existsSync(image)) {
        // Killed with the freezer (or ended by it): freeing a GiB takes the kernel a moment.
        const end = await Promise.race([target.proc.exited, new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 5000))]);
        expect(end, `kill at ${at.toFixed(0)} ms: the image and the process both exist`).not.toBe('alive');
        expect((await openImage(image)).processes[0]?.process.pid).toBe(target.proc.pid);
        outcomes.frozen++;
        rmSync(target.dir, { recursive: true, force: true });
        target = undefined;
      } else {
        await expectIntact(target, stopped);
        expect(leftovers(target.dir)).toEqual([]);
        outcomes.intact++;
      }
    }
    expect(outcomes.intact).toBeGreaterThan(0);
  }, 240_000);
});

describe('a thaw killed', () => {
  async function frozenCounter(): Promise<{ binary: string; image: string }> {
    const dir = tempDir('ckpty-faults-thaw');
    const binary = privateCopy(await buildFixture('counter'), dir, 'counter');
    const proc = startProcess(binary, [], { cwd: dir });
    await proc.waitFor(/count 2/);
    const { path } = await freezeProcess(proc.pid, { output: join(dir, 'counter.ckpt') });
    await proc.exited;
    return { binary, image: path };
  }

  for (const point of ['rebuilding', 'ready', 'running']) {
    it(`at ${point}: nothing it started runs on`, async () => {
      const { binary, image } = await frozenCounter();
      const thaw = spawn(CLI, ['thaw', '--quiet', image], { stdio: 'ignore', env: { ...process.env, CKPTY_FAULT_STOP: point } });
      const ended = new Promise<void>((resolve) => thaw.on('close', () => resolve()));
      // bin/ckpty execs the thawer: the pid is the thawer's.
      await until(() => procState(thaw.pid as number) === 'T', 10_000, `the thaw at ${point}`);
      if (point === 'running') expect(processesRunning(binary)).toHaveLength(1);
      thaw.kill('SIGKILL');
      await ended;
      await until(() => processesRunning(binary).length === 0, 3000, 'the program to go with the thaw');
    });
  }

  it('at moments of its start (0-50 ms): nothing it started runs on', async () => {
    const { binary, image } = await frozenCounter();
    for (const ms of [0, 2, 5, 10, 20, 50]) {
      const thaw = spawn(CLI, ['thaw', '--quiet', image], { stdio: 'ignore' });
      const ended = new Promise<void>((resolve) => thaw.on('close', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, ms));
      thaw.kill('SIGKILL');
      await ended;
      await until(() => processesRunning(binary).length === 0, 3000, `the program to go with a thaw killed at ${ms} ms`);
    }
  });
});

describe('how a thawed program ends', () => {
  it('a death by a real-time signal is the thaw\'s too (status 128+N in a shell)', async () => {
    const dir = tempDir('ckpty-faults-rt');
    const binary = privateCopy(await buildFixture('counter'), dir, 'counter');
    const proc = startProcess(binary, [], { cwd: dir });
    await proc.waitFor(/count 2/);
    const { path } = await freezeProcess(proc.pid, { output: join(dir, 'counter.ckpt') });
    await proc.exited;
    const shell = spawn('sh', ['-c', `"${CLI}" thaw --quiet "${path}"; echo "status=$?"`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    shell.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await until(() => processesRunning(binary).length === 1, 5000, 'the thawed program');
    const [pid] = processesRunning(binary);
    spawnSync('kill', ['-s', 'RTMIN+3', String(pid)]);
    await new Promise<void>((resolve) => shell.on('close', () => resolve()));
    // SIGRTMIN is 34 for programs (glibc keeps 32 and 33): RTMIN+3 is 37.
    expect(out.trim()).toBe(`status=${128 + 37}`);
  });
});
