/**
 * Thawing the freezer's fixtures (no terminal: they write to a file, which the thawed
 * program reopens at its offset) and checking the state each one reports about itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freezeProcess } from '../src/freezer/freeze.js';
import { FROZEN_EXIT_STATUS } from '../src/base/errors.js';
import { buildFixture, procState, startProcess, stopProcesses, tempDir, until, type TestProcess } from './helpers/fixtures.js';
import type { ThawResult } from '../src/thawer/native.js';
import { startThaw, stopThaws, type ThawRun } from './helpers/thaw.js';

afterEach(() => {
  stopThaws();
  stopProcesses();
});

/** Start a fixture and wait for its "ready pid=N". */
async function started(name: string, args: string[] = [], cwd?: string): Promise<TestProcess> {
  const proc = startProcess(await buildFixture(name), args, { cwd });
  await proc.waitFor(/ready pid=\d+/);
  return proc;
}

/** Freeze proc (it ends) into dir; returns the image's path. */
async function frozen(proc: TestProcess, dir: string, name = 'image.ckpt'): Promise<string> {
  const { path } = await freezeProcess(proc.pid, { output: join(dir, name) });
  expect(await proc.exited).toEqual({ code: FROZEN_EXIT_STATUS, signal: null });
  return path;
}

/** Blocked in a syscall (a signal now ends its pause: one sent earlier would be handled before it). */
function asleep(pid: number): boolean {
  try {
    return procState(pid) === 'S' && !readFileSync(`/proc/${pid}/syscall`, 'latin1').startsWith('running');
  } catch {
    return false;
  }
}

/** Signal a fixture once it sleeps and wait for the output to grow by a line matching pattern. */
async function ask(proc: TestProcess, pid: number, pattern: RegExp, signal: NodeJS.Signals = 'SIGUSR1'): Promise<RegExpMatchArray> {
  await until(() => asleep(pid), 5000, `process ${pid} to wait for a signal`);
  const before = proc.output().length;
  process.kill(pid, signal);
  let match: RegExpMatchArray | null = null;
  await until(() => (match = proc.output().slice(before).match(pattern)) !== null, 5000, `${pattern} after ${signal}`);
  return match as unknown as RegExpMatchArray;
}

/** The thawed program, by the pid we see it under. */
async function thawed(image: string): Promise<{ run: ThawRun; pid: number; result: ThawResult }> {
  const run = startThaw(image);
  const result = await run.result;
  return { run, pid: result.outerPid, result };
}

describe('thawing the fixtures', () => {
  it('a counter goes on from the value it was frozen at, in the same output file', async () => {
    const dir = tempDir('ckpty-thaw');
    const counter = await started('counter', ['20'], dir);
    await counter.waitFor(/count 5\n/);
    const image = await frozen(counter, dir);
    const last = Number([...counter.output().matchAll(/count (\d+)\n/g)].pop()?.[1]);

    const { pid, run, result } = await thawed(image);
    // Root, and its numbers free: back under its own pid, in this pid namespace.
    expect(result).toMatchObject({ pid: counter.pid, outerPid: counter.pid, ids: 'here' });
    await counter.waitFor(new RegExp(`count ${last + 3}\\n`));
    const counts = [...counter.output().matchAll(/count (\d+)\n/g)].map((m) => Number(m[1]));
    // Every value once, in order: nothing repeated from before the freeze, nothing skipped.
    expect(counts.slice(0, last + 3)).toEqual(Array.from({ length: last + 3 }, (_, i) => i + 1));
    // A handler installed before the freeze still runs.
    expect((await ask(counter, pid, /counter=(\d+)\n/))[1]).toMatch(/^\d+$/);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[1]).toBe('20');
    process.kill(pid, 'SIGKILL');
    expect((await run.ended).signal).toBe('SIGKILL');
  });

  it('an open file goes on at its offset, and close-on-exec is kept', async () => {
    const dir = tempDir('ckpty-thaw');
    const proc = await started('openfile', [join(dir, 'data'), '1000'], dir);
    await ask(proc, proc.pid, /fd3 offset=1000 byte=247 fd4 offset=0 cloexec=1\n/);
    const image = await frozen(proc, dir);
    const { pid } = await thawed(image);
    await ask(proc, pid, /fd3 offset=1001 byte=248 fd4 offset=0 cloexec=1\n/);
    expect(readFileSync(`/proc/${pid}/fdinfo/3`, 'latin1')).toMatch(/pos:\s+1002/);
  });

  it('signal handlers, flags, masks, the blocked set and pending signals come back', async () => {
    const dir = tempDir('ckpty-thaw');
    const proc = await started('signals', [], dir);
    const before = (await ask(proc, proc.pid, /state usr1count=1 (.*)\n/))[1];
    const image = await frozen(proc, dir);
    const { pid } = await thawed(image);
    const after = (await ask(proc, pid, /state usr1count=2 (.*)\n/))[1];
    expect(after).toBe(before);
    expect(after).toContain('term=ign');
  });

  it('AVX registers hold their values across the freeze', async () => {
    const dir = tempDir('ckpty-thaw');
    const proc = await started('avx', [], dir);
    await ask(proc, proc.pid, /avx (ok|bad.*)\n/);
    const image = await frozen(proc, dir);
    const { pid, run } = await thawed(image);
    expect((await run.result).fpuOnly).toBe(false);
    // The first check reads the registers exactly as the thaw loaded them.
    expect((await ask(proc, pid, /avx (ok|bad.*)\n/))[1]).toBe('ok');
  });

  it('clock_gettime and gettimeofday work through the moved vdso; malloc, free and sbrk work', async () => {
    const dir = tempDir('ckpty-thaw');
    const proc = await started('thaw-libc', [], dir);
    await ask(proc, proc.pid, /libc pid=\d+ .*heap_ok=1\n/);
    const image = await frozen(proc, dir);
    const { pid, run } = await thawed(image);
    const line = await ask(proc, pid, /libc pid=(\d+) real=(\d+) mono_ok=(\d) tod_ok=(\d) heap_ok=(\d)\n/);
    expect(Number(line[1])).toBe(pid);
    expect(Math.abs(Number(line[2]) - Date.now() / 1000)).toBeLessThan(5);
    expect(line.slice(3)).toEqual(['1', '1', '1']);
    const maps = readFileSync(`/proc/${pid}/maps`, 'latin1');
    expect(maps).toMatch(/\[heap\]/);
    expect(maps).toMatch(/\[stack\]/);
    expect(maps).toMatch(/\[vdso\]/);

    process.kill(pid, 'SIGUSR2');
    expect(await run.ended).toMatchObject({ code: 42, signal: null });
  });

  it('the command ends by the signal that ended the program', async () => {
    const dir = tempDir('ckpty-thaw');
    const proc = await started('counter', ['20'], dir);
    const { pid, run } = await thawed(await frozen(proc, dir));
    process.kill(pid, 'SIGTERM');
    expect(await run.ended).toMatchObject({ code: null, signal: 'SIGTERM' });
  });
});

describe('memory of every kind', () => {
  const MIB = 1 << 20;
  for (const kind of ['anon', 'heap', 'file', 'shared-file', 'shared']) {
    it(`${kind}: the pattern is intact after the thaw`, async () => {
      const dir = tempDir('ckpty-thaw');
      const proc = await started('memory', [kind, '8', join(dir, 'backing')], dir);
      const image = await frozen(proc, dir);
      const { pid, run } = await thawed(image);
      await ask(proc, pid, /verify ok\n/);
      const result = await run.result;
      // Large anonymous runs are mapped from the image, not copied; the heap is always copied.
      if (kind === 'anon') expect(result.lazyBytes).toBeGreaterThanOrEqual(8 * MIB);
      if (kind === 'heap') expect(result.copiedBytes).toBeGreaterThanOrEqual(8 * MIB);
    });
  }
});

describe('freeze, thaw, freeze, thaw', () => {
  it('a counter survives three rounds and goes on counting', async () => {
    const dir = tempDir('ckpty-thaw');
    const proc = await started('counter', ['20'], dir);
    await proc.waitFor(/count 3\n/);
    const counts = (): number[] => [...proc.output().matchAll(/count (\d+)\n/g)].map((m) => Number(m[1]));
    const countsOn = async (): Promise<void> => {
      const at = counts().length;
      await until(() => counts().length >= at + 2, 5000, 'the thawed counter to count');
    };
    let image = await frozen(proc, dir, 'round0.ckpt');
    for (let round = 1; round <= 3; round++) {
      const { pid, run } = await thawed(image);
      await countsOn();
      image = (await freezeProcess(pid, { output: join(dir, `round${round}.ckpt`) })).path;
      expect(await run.ended).toMatchObject({ code: FROZEN_EXIT_STATUS });
    }
    await thawed(image);
    await countsOn();
    expect(counts()).toEqual(Array.from({ length: counts().length }, (_, i) => i + 1));
  });

  it('memory mapped from an image is stored again by the next freeze', async () => {
    const dir = tempDir('ckpty-thaw');
    const proc = await started('memory', ['anon', '4', join(dir, 'unused')], dir);
    const first = await frozen(proc, dir, 'first.ckpt');
    const one = await thawed(first);
    await ask(proc, one.pid, /verify ok\n/);
    expect(readFileSync(`/proc/${one.pid}/maps`, 'latin1')).toContain(first);
    const second = (await freezeProcess(one.pid, { output: join(dir, 'second.ckpt') })).path;
    const two = await thawed(second);
    await ask(proc, two.pid, /verify ok\n/);
    expect((await two.run.result).lazyBytes).toBeGreaterThanOrEqual(4 << 20);
  });
});
