/**
 * Freezing real processes: how they end (status 161, no exit handlers, no stdio
 * flush), stopped jobs, real programs (sleep, bc, python3) as root and as an
 * unprivileged user, through `ckpty freeze` as a user runs it.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FROZEN_EXIT_STATUS, ExitCode } from '../src/base/errors.js';
import { formatBytes } from '../src/base/format.js';
import { describeFreeze, freezeProcess, rehearseReport } from '../src/freezer/freeze.js';
import { ResidentFreezer } from '../src/freezer/native.js';
import { readStat } from '../src/freezer/proc.js';
import { openImage } from '../src/image/file.js';
import {
  ROOT,
  buildFixture,
  childPids,
  cliRootFor,
  startOnPty,
  startProcess,
  stopProcesses,
  tempDir,
  testUser,
  until,
  type TestUser,
} from './helpers/fixtures.js';
import { processNote, readCore } from './helpers/core-file.js';
import { gdb, readelf, runCli } from './helpers/freezer.js';

afterEach(stopProcesses);
const CKPT_PROC_WAS_STOPPED = 2;

const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function lineCountAfter(proc: { output(): string }, ms: number): Promise<[number, number]> {
  const before = proc.output().split('\n').length;
  await sleepMs(ms);
  return [before, proc.output().split('\n').length];
}

describe('a frozen process', () => {
  it('ends with status 161 once its image is on disk, and prints nothing more', async () => {
    const counter = await buildFixture('counter');
    const dir = tempDir('ckpty-freeze');
    const proc = startProcess(counter, ['10'], { cwd: dir });
    await proc.waitFor(/count 3\n/);
    const result = await freezeProcess(proc.pid);
    expect(await proc.exited).toEqual({ code: FROZEN_EXIT_STATUS, signal: null });
    expect(statSync(join(dir, 'counter.ckpt')).size).toBe(result.bytes);
    const lines = proc.output().length;
    await sleepMs(100);
    expect(proc.output().length).toBe(lines);
  });

  it('runs no exit handlers and does not flush its stdio buffers', async () => {
    const unflushed = await buildFixture('unflushed');
    const dir = tempDir('ckpty-freeze');
    const proc = startProcess(unflushed, [], { cwd: dir });
    await proc.waitFor(/ready pid=\d+/);
    await freezeProcess(proc.pid);
    expect((await proc.exited).code).toBe(FROZEN_EXIT_STATUS);
    expect(proc.output()).not.toContain('UNFLUSHED-STDOUT');
    expect(proc.output()).not.toContain('ATEXIT-RAN');
  });

  it('can be a stopped job: a snapshot leaves it stopped, a freeze ends it', async () => {
    const counter = await buildFixture('counter');
    const dir = tempDir('ckpty-freeze');
    const proc = startProcess(counter, ['10'], { cwd: dir });
    await proc.waitFor(/count 2\n/);
    proc.kill('SIGSTOP');
    await until(() => proc.state() === 'T');

    const snapshot = await freezeProcess(proc.pid, { snapshot: true, output: join(dir, 'snap.ckpt') });
    expect(snapshot.wasStopped).toBe(true);
    expect(proc.state()).toBe('T');
    const [before, after] = await lineCountAfter(proc, 150);
    expect(after).toBe(before);
    proc.kill('SIGCONT');
    await until(() => proc.output().split('\n').length > after + 2);

    proc.kill('SIGSTOP');
    await until(() => proc.state() === 'T');
    const frozen = await freezeProcess(proc.pid);
    expect((await proc.exited).code).toBe(FROZEN_EXIT_STATUS);
    expect(processNote(readCore(frozen.path)).flags & CKPT_PROC_WAS_STOPPED).toBe(CKPT_PROC_WAS_STOPPED);
  });

  it('can be running on the CPU, outside any syscall', async () => {
    const counter = await buildFixture('counter');
    const dir = tempDir('ckpty-freeze');
    const proc = startProcess(counter, ['0'], { cwd: dir });
    await proc.waitFor(/count 2\n/);
    const snapshot = await freezeProcess(proc.pid, { snapshot: true });
    expect(gdb(snapshot.path, counter, ['bt'])).toMatch(/#\d+ .*main \(.*\) at .*counter\.c/);
    const [before, after] = await lineCountAfter(proc, 300);
    expect(after).toBeGreaterThan(before);
    await freezeProcess(proc.pid);
    expect((await proc.exited).code).toBe(FROZEN_EXIT_STATUS);
  });
});

describe('the image name template', () => {
  it("expands DragonFly's %N %P %U %% relative to the process's directory; a '/' in a name is no directory", async () => {
    const dir = tempDir('ckpty-freeze');
    const sleep = startProcess('/usr/bin/sleep', ['1000'], { cwd: dir });
    await until(() => sleep.state() === 'S');
    const result = await freezeProcess(sleep.pid, { nameTemplate: 'img-%P-%N.%U.%%.ckpt', snapshot: true });
    expect(result.path).toBe(join(dir, `img-${sleep.pid}-sleep.0.%.ckpt`));
    // prctl(PR_SET_NAME) may put a '/' in a name.
    const named = startProcess('python3', ['-c', "import ctypes, time; ctypes.CDLL(None).prctl(15, b'a/b c', 0, 0, 0); print('ready', flush=True); time.sleep(1000)"], { cwd: dir });
    await named.waitFor(/ready/);
    expect((await freezeProcess(named.pid, { nameTemplate: '%N.ckpt', snapshot: true })).path).toBe(join(dir, 'a_b c.ckpt'));
    await expect(freezeProcess(sleep.pid, { nameTemplate: '%N%' })).rejects.toMatchObject({ message: expect.stringMatching(/unknown '%'/), exitCode: ExitCode.usage });
  });
});

describe('the freeze report', () => {
  it('reads like `froze bc[4242] -> /home/u/bc.ckpt (1.4 MiB, 9 ms)`', () => {
    const bc = { pid: 4242, comm: 'bc', threads: 1, zombie: false };
    const base = { ...bc, processes: 1, members: [bc], path: '/home/u/bc.ckpt', storedBytes: 0, mappings: 1, wasStopped: false, seizedMs: 1 };
    expect(describeFreeze({ ...base, bytes: 1468006, snapshot: false, exitStatus: 161, durationMs: 9.2 })).toBe(
      'froze bc[4242] -> /home/u/bc.ckpt (1.4 MiB, 9.2 ms)',
    );
    expect(describeFreeze({ ...base, bytes: 135168, snapshot: true, exitStatus: null, durationMs: 23.4 })).toBe(
      'snapshot of bc[4242] -> /home/u/bc.ckpt (132 KiB, 23 ms)',
    );
    expect([formatBytes(512), formatBytes(10 * 1024 * 1024), formatBytes(3 * 1024 ** 3)]).toEqual(['512 B', '10 MiB', '3.0 GiB']);
  });

  it("is rehearsed at a session's start through the parser the freezer's reports go through", () => {
    expect(rehearseReport()).toMatch(/^froze ckpty\[1\] -> \/ckpty\.ckpt \(1\.0 MiB, \d+(\.\d)? ms\)$/);
  });

  it('names a job by its programs, each once: `froze man|less (3 processes) -> …`', () => {
    const member = (pid: number, comm: string, zombie = false) => ({ pid, comm, threads: 1, zombie });
    const members = [member(10, 'man'), member(11, 'less'), member(12, 'man')];
    const job = { pid: 10, comm: 'man', processes: 3, threads: 3, members, path: '/home/u/man.ckpt', storedBytes: 0, mappings: 9 };
    expect(describeFreeze({ ...job, bytes: 2202009, snapshot: false, exitStatus: 161, durationMs: 40, wasStopped: false, seizedMs: 30 })).toBe(
      'froze man|less (3 processes) -> /home/u/man.ckpt (2.1 MiB, 40 ms)',
    );
  });
});

describe('/proc/PID/stat', () => {
  it('gives the name even with spaces and parentheses in it, the ids after it, and nothing once the process is gone', async () => {
    const program = join(tempDir('ckpty-stat'), 'a) b (c');
    symlinkSync('/bin/sleep', program);
    const proc = startProcess(program, ['30']);
    await until(() => readStat(proc.pid)?.state === 'S', 5000, 'the program to sleep');
    expect(readStat(proc.pid)).toEqual({ pid: proc.pid, comm: 'a) b (c', state: 'S', ppid: process.pid, pgrp: proc.pid, session: proc.pid, threads: 1 });
    process.kill(proc.pid, 'SIGKILL');
    await proc.exited;
    expect(readStat(proc.pid)).toBeUndefined();
  });
});

/** Interactive programs wait for input at a terminal; sleep waits in nanosleep. */
const PROGRAMS: { name: string; start: (dir: string, user?: TestUser) => { pid: number; waitReady(): Promise<void>; exited: Promise<{ code: number | null }> } }[] = [
  {
    name: 'sleep',
    start: (dir, user) => {
      const proc = startProcess('/usr/bin/sleep', ['1000'], { cwd: dir, user });
      return { pid: proc.pid, exited: proc.exited, waitReady: () => until(() => proc.state() === 'S') };
    },
  },
  {
    name: 'bc',
    start: (dir, user) => {
      const proc = startOnPty('/usr/bin/bc', ['-q'], { cwd: dir, user });
      return {
        pid: proc.pid,
        exited: proc.exited,
        waitReady: async () => {
          proc.write('x = 6 * 7\nx\n');
          await proc.waitFor(/42/);
          await until(() => proc.state() === 'S');
        },
      };
    },
  },
  {
    name: 'python3',
    start: (dir, user) => {
      const proc = startOnPty('/usr/bin/python3', ['-q'], { cwd: dir, user });
      return {
        pid: proc.pid,
        exited: proc.exited,
        waitReady: async () => {
          proc.write('print(6 * 7)\n');
          await proc.waitFor(/42\r?\n>>> $/, 10_000);
          await until(() => proc.state() === 'S');
        },
      };
    },
  },
];

describe('`ckpty freeze` on real programs', () => {
  it.each(PROGRAMS)('freezes $name as root', async ({ name, start }) => {
    const dir = tempDir('ckpty-freeze');
    const program = start(dir);
    await program.waitReady();
    const run = await runCli(['freeze', String(program.pid)], { root: ROOT });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(new RegExp(`^froze ${name}\\[${program.pid}\\] -> ${dir}/${name}\\.ckpt \\([\\d.]+ (KiB|MiB), [\\d.]+ ms\\)\\n$`));
    expect(run.status).toBe(ExitCode.ok);
    expect((await program.exited).code).toBe(FROZEN_EXIT_STATUS);
    expect(readelf(join(dir, `${name}.ckpt`))).toContain('NT_X86_XSTATE');
    expect(gdb(join(dir, `${name}.ckpt`), `/usr/bin/${name}`, ['bt'])).toMatch(/#0 /);
  });

  describe('as an unprivileged user', () => {
    let user: TestUser;
    let cliRoot: string;
    beforeAll(() => {
      user = testUser();
      cliRoot = cliRootFor(user);
    });

    it.each(PROGRAMS)('freezes their own $name; the image is theirs, mode 0600', async ({ name, start }) => {
      const dir = tempDir('ckpty-freeze', user);
      const program = start(dir, user);
      await program.waitReady();
      const run = await runCli(['freeze', String(program.pid), '--json'], { root: cliRoot, uid: user.uid, gid: user.gid, cwd: dir });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(ExitCode.ok);
      const result = JSON.parse(run.stdout) as { path: string; comm: string; exitStatus: number };
      expect(result).toMatchObject({ path: join(dir, `${name}.ckpt`), comm: name, exitStatus: FROZEN_EXIT_STATUS });
      expect((await program.exited).code).toBe(FROZEN_EXIT_STATUS);
      const image = statSync(result.path);
      expect([image.uid, image.mode & 0o777]).toEqual([user.uid, 0o600]);
    });

    it('freezes their process whose soft core size limit is 0 (a Debian login shell\'s default), as gcore would', async () => {
      const dir = tempDir('ckpty-freeze', user);
      const sleep = startProcess('/usr/bin/sleep', ['1000'], { cwd: dir, user, coreLimit: '0:unlimited' });
      await until(() => sleep.state() === 'S');
      expect(readFileSync(`/proc/${sleep.pid}/limits`, 'latin1')).toMatch(/^Max core file size\s+0\s+unlimited/m);
      const run = await runCli(['freeze', String(sleep.pid)], { root: cliRoot, uid: user.uid, gid: user.gid, cwd: dir });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(ExitCode.ok);
      expect((await sleep.exited).code).toBe(FROZEN_EXIT_STATUS);
      expect(readelf(join(dir, 'sleep.ckpt'))).toContain('NT_X86_XSTATE');
    });

    it("gives root's image of their process to them", async () => {
      const dir = tempDir('ckpty-freeze', user);
      const sleep = startProcess('/usr/bin/sleep', ['1000'], { cwd: dir, user });
      await until(() => sleep.state() === 'S');
      const result = await freezeProcess(sleep.pid);
      expect(statSync(result.path).uid).toBe(user.uid);
    });

    it("may not freeze root's process, which runs on", async () => {
      const dir = tempDir('ckpty-freeze');
      const counter = startProcess(await buildFixture('counter'), ['10'], { cwd: dir });
      await counter.waitFor(/count 2\n/);
      const run = await runCli(['freeze', String(counter.pid), '-o', join(tempDir('ckpty-out', user), 'x.ckpt')], {
        root: cliRoot,
        uid: user.uid,
        gid: user.gid,
      });
      expect(run.status).toBe(ExitCode.permission);
      expect(run.stderr).toMatch(/^ckpty: cannot freeze counter\[\d+\]: it belongs to another user \(uid 0\)/);
      const [before, after] = await lineCountAfter(counter, 100);
      expect(after).toBeGreaterThan(before);
    });
  });
});

describe("a session's resident freezer", () => {
  const freezer = new ResidentFreezer();
  afterEach(() => freezer.stop());

  const gone = (pid: number): boolean => [undefined, 'Z'].includes(readStat(pid)?.state);
  /** This process's resident freezers still running. */
  const residents = (): number[] => childPids(process.pid).filter((pid) => readStat(pid)?.comm === 'ckpty-freezer' && !gone(pid));

  /** The resident's child in process state `state`, once there is one. */
  async function spareIn(resident: number, state: string, what: string, timeoutMs = 5000): Promise<number> {
    let spare = 0;
    await until(() => (spare = childPids(resident).find((pid) => readStat(pid)?.state === state) ?? 0) > 0, timeoutMs, what);
    return spare;
  }

  /** The resident's spare that waits for a request: its child asleep (the one that served the last request may still be ending). */
  const waitingSpare = (resident: number): Promise<number> => spareIn(resident, 'S', 'a spare waiting for its request');

  it('takes the screen after the request (the job is seized meanwhile), and keeps its frames in step through late, failed and unneeded screens', async () => {
    const counter = await buildFixture('counter');
    const dir = tempDir('ckpty-resident');
    const screenOf = async (path: string): Promise<string> => new TextDecoder().decode((await openImage(path)).screen ?? undefined);

    // Late: made 300 ms after the request; the freeze waits for it, the image holds it.
    const late = startProcess(counter, ['10'], { cwd: dir });
    await late.waitFor(/count 2\n/);
    const started = performance.now();
    const paint = '\x1b[H\x1b[2Jcount 2\r\n';
    const screen = new Promise<Uint8Array>((resolve) => setTimeout(() => resolve(new TextEncoder().encode(paint)), 300));
    const first = await freezeProcess(late.pid, { output: join(dir, 'late.ckpt'), screen }, freezer);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect((await late.exited).code).toBe(FROZEN_EXIT_STATUS);
    expect(await screenOf(first.path)).toBe(paint);

    // Failed: the image has no screen, and the freezer answers the next request.
    const failed = startProcess(counter, ['10'], { cwd: dir });
    await failed.waitFor(/count 2\n/);
    const second = await freezeProcess(failed.pid, { output: join(dir, 'failed.ckpt'), screen: Promise.reject(new Error('no worker')) }, freezer);
    expect((await openImage(second.path)).screen).toBeNull();

    // Unneeded: refused before the capture (no such process), while the screen is still on its way.
    const never = new Promise<Uint8Array>((resolve) => setTimeout(() => resolve(new Uint8Array(100_000).fill(65)), 100));
    await expect(freezeProcess(2 ** 22 + 1, { output: join(dir, 'none.ckpt'), screen: never }, freezer)).rejects.toThrow(/no process/);

    // Still in step: a screen larger than a pipe holds, after all that.
    const big = startProcess(counter, ['10'], { cwd: dir });
    await big.waitFor(/count 2\n/);
    const large = `\x1b[H${'x'.repeat(200_000)}`;
    const third = await freezeProcess(big.pid, { output: join(dir, 'big.ckpt'), screen: Promise.resolve(new TextEncoder().encode(large)) }, freezer);
    expect(await screenOf(third.path)).toBe(large);
  });

  it("writes the job's memory while its screen is still being made; the screen then joins the same image", async () => {
    const dir = tempDir('ckpty-resident');
    const marker = 'written-before-the-screen';
    // Joined at run time: the marker is in the heap (a stored page), not in argv.
    const code = `import time; m = "-".join(${JSON.stringify(marker.split('-'))}); print("ready", flush=True); time.sleep(60)`;
    const proc = startProcess('python3', ['-c', code], { cwd: dir });
    await proc.waitFor(/ready\n/);
    freezer.start();
    let resident = 0;
    await until(() => (resident = residents()[0] ?? 0) > 0);
    await waitingSpare(resident);
    /** The files in dir the resident's children have open: the image, before it has a name. */
    const unnamed = (): string[] =>
      childPids(resident).flatMap((spare) => {
        try {
          return readdirSync(`/proc/${spare}/fd`)
            .map((fd) => `/proc/${spare}/fd/${fd}`)
            .filter((link) => readlinkSync(link).startsWith(`${dir}/`));
        } catch {
          return []; // the spare ended meanwhile
        }
      });
    let sendScreen: (screen: Uint8Array) => void = () => undefined;
    const screen = new Promise<Uint8Array>((resolve) => (sendScreen = resolve));
    const frozen = freezeProcess(proc.pid, { output: join(dir, 'early.ckpt'), screen }, freezer);
    await until(() => unnamed().some((link) => readFileSync(link).includes(marker)), 5000, 'the memory in the image before its screen came');
    const paint = '\x1b[H\x1b[2Jready\r\n';
    sendScreen(new TextEncoder().encode(paint));
    const result = await frozen;
    expect((await proc.exited).code).toBe(FROZEN_EXIT_STATUS);
    const image = await openImage(result.path);
    expect(new TextDecoder().decode(image.screen ?? undefined)).toBe(paint);
    expect(readFileSync(result.path).includes(marker)).toBe(true);
    expect(readelf(result.path)).toContain('NT_PRSTATUS');
  });

  it('answers a request whose spare was killed mid-freeze as failed, leaves the process running, and keeps the next request and its screen in step', async () => {
    const counter = await buildFixture('counter');
    const dir = tempDir('ckpty-resident');
    // Every spare of this resident stops itself once it has seized its job (tty/common/fault.h).
    const before = new Set(residents());
    process.env.CKPTY_FAULT_STOP = 'seized';
    const stopping = new ResidentFreezer();
    try {
      stopping.start();
    } finally {
      delete process.env.CKPTY_FAULT_STOP;
    }
    let resident = 0;
    await until(() => (resident = residents().find((pid) => !before.has(pid)) ?? 0) > 0, 5000, 'the resident freezer');
    const stoppedSpare = (): Promise<number> => spareIn(resident, 'T', 'a spare stopped at the seize', 10_000);
    try {
      const proc = startProcess(counter, ['10'], { cwd: dir });
      await proc.waitFor(/count 2\n/);
      // Killed while it holds the job, before it has read the request's screen (sent later).
      let sendScreen: (screen: Uint8Array) => void = () => undefined;
      const screen = new Promise<Uint8Array>((resolve) => (sendScreen = resolve));
      const first = freezeProcess(proc.pid, { output: join(dir, 'first.ckpt'), screen }, stopping);
      process.kill(await stoppedSpare(), 'SIGKILL');
      sendScreen(new TextEncoder().encode('the screen of the failed request'));
      await expect(first).rejects.toThrow('the freezer ended without an answer');
      expect(existsSync(join(dir, 'first.ckpt'))).toBe(false);
      const [printed, later] = await lineCountAfter(proc, 500);
      expect(later).toBeGreaterThan(printed);

      // The next request is served, with its own screen: the frames stayed in step.
      const paint = '\x1b[H\x1b[2Jcount 9\r\n';
      const second = freezeProcess(proc.pid, { output: join(dir, 'second.ckpt'), screen: Promise.resolve(new TextEncoder().encode(paint)) }, stopping);
      process.kill(await stoppedSpare(), 'SIGCONT');
      const frozen = await second;
      expect((await proc.exited).code).toBe(FROZEN_EXIT_STATUS);
      expect(new TextDecoder().decode((await openImage(frozen.path)).screen ?? undefined)).toBe(paint);
    } finally {
      stopping.stop();
      // A spare left stopped (a failed expectation above) would hold its job for ever.
      for (const spare of childPids(resident).filter((pid) => readStat(pid)?.state === 'T')) process.kill(spare, 'SIGKILL');
    }
    await until(() => gone(resident), 5000, 'the resident freezer to end');
  });

  it('has a child waiting before a request comes, answers requests made together in order, replaces a child killed while it waits, and leaves no process when stopped', async () => {
    const counter = await buildFixture('counter');
    const dir = tempDir('ckpty-resident');
    await until(() => residents().length === 0, 5000, "the previous test's freezer to end");
    freezer.start();
    let resident = 0;
    await until(() => (resident = residents()[0] ?? 0) > 0);
    const spare = await waitingSpare(resident);

    const [a, b] = [startProcess(counter, ['10'], { cwd: dir }), startProcess(counter, ['10'], { cwd: dir })];
    await Promise.all([a.waitFor(/count 2\n/), b.waitFor(/count 2\n/)]);
    const [first, second] = await Promise.all([
      freezeProcess(a.pid, { output: join(dir, 'a.ckpt') }, freezer),
      freezeProcess(b.pid, { output: join(dir, 'b.ckpt') }, freezer),
    ]);
    expect([first.pid, first.path, second.pid, second.path]).toEqual([a.pid, join(dir, 'a.ckpt'), b.pid, join(dir, 'b.ckpt')]);
    expect((await a.exited).code).toBe(FROZEN_EXIT_STATUS);
    expect((await b.exited).code).toBe(FROZEN_EXIT_STATUS);
    // The spare served the first request; another waits for the next.
    expect(gone(spare)).toBe(true);
    let next = await waitingSpare(resident);

    // A spare killed while it waits is replaced when the next request comes: that freeze works.
    process.kill(next, 'SIGKILL');
    const c = startProcess(counter, ['10'], { cwd: dir });
    await c.waitFor(/count 2\n/);
    expect((await freezeProcess(c.pid, { output: join(dir, 'c.ckpt') }, freezer)).pid).toBe(c.pid);
    expect((await c.exited).code).toBe(FROZEN_EXIT_STATUS);
    next = await waitingSpare(resident);

    freezer.stop();
    await until(() => gone(resident) && gone(next), 5000, 'the resident freezer and its spare to end');
  });

  it('finds a process that joined the job after its spare looked at /proc: the look ahead keeps no line of the job\'s session', async () => {
    const dir = tempDir('ckpty-resident');
    // A parent and its child, which leaves for a group of its own and comes back when told
    // (or ends with its parent: the tests' clean-up ends the parent's group only).
    const script = [
      'import os, sys, time',
      'parent = os.getpid()',
      'child = os.fork()',
      'if child == 0:',
      '    os.setpgid(0, 0)',
      '    open("apart", "w").close()',
      '    while not os.path.exists("come-back"):',
      '        if os.getppid() != parent:',
      '            sys.exit(1)',
      '        time.sleep(0.01)',
      '    os.setpgid(0, parent)',
      '    open("back", "w").close()',
      '    time.sleep(600)',
      'print("child", child, flush=True)',
      'os.waitpid(child, 0)',
    ].join('\n');
    const job = startProcess('/usr/bin/python3', ['-c', script], { cwd: dir });
    const [, childText] = await job.waitFor(/child (\d+)\n/);
    const child = Number(childText);
    await until(() => existsSync(join(dir, 'apart')), 5000, 'the child to leave the group');
    // Refused while the child is in a group of its own; a new spare then looks at /proc, seeing it there.
    await expect(freezeProcess(job.pid, { job: true, output: join(dir, 'early.ckpt') }, freezer)).rejects.toThrow(
      `its child python3[${child}] is not in the job (process group ${child})`,
    );
    const resident = residents()[0] ?? 0;
    const spare = await waitingSpare(resident);
    // Its look reads every /proc/PID/stat: the bytes it has read say it has looked.
    const bytesRead = (): number => Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${spare}/io`, 'latin1'))?.[1] ?? 0);
    await until(() => bytesRead() > 0, 5000, 'the spare to look at /proc');
    await new Promise((resolve) => setTimeout(resolve, 100));
    writeFileSync(join(dir, 'come-back'), '');
    await until(() => existsSync(join(dir, 'back')), 5000, 'the child to join the group again');
    const frozen = await freezeProcess(job.pid, { job: true, output: join(dir, 'job.ckpt') }, freezer);
    expect(frozen.members.map((m) => m.pid).sort((a, b) => a - b)).toEqual([job.pid, child].sort((a, b) => a - b));
    expect((await job.exited).code).toBe(FROZEN_EXIT_STATUS);
  });
});
