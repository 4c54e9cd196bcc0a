/**
 * Freezes that must not happen, or cannot finish: each is refused with its reason and
 * the process runs on untouched (its output continues), with no file left behind.
 * Checked in the TypeScript policy (before the process is touched) and, where the
 * native freezer checks again after seizing, in the native freezer alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CkptyError, ExitCode, type ExitCodeValue } from '../src/base/errors.js';
import { freezeProcess, type FreezeOptions } from '../src/freezer/freeze.js';
import { FREEZER_PATH } from '../src/freezer/native.js';
import { buildFixture, childPids, cliRootFor, ROOT, startProcess, stopProcesses, tempDir, testUser, until, type TestProcess } from './helpers/fixtures.js';
import { runCli } from './helpers/freezer.js';

const mounts: string[] = [];
afterEach(() => {
  stopProcesses();
  for (const dir of mounts.splice(0)) spawnSync('umount', ['-l', dir]);
});
function mountTmpfs(options: string): string {
  const dir = tempDir('ckpty-mnt');
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'ckpty-test', dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`mount tmpfs ${options}: ${result.stderr}`);
  mounts.push(dir);
  return dir;
}

/** The error freezeProcess throws, which must be a CkptyError. */
async function refusal(pid: number, options: FreezeOptions = {}): Promise<CkptyError> {
  try {
    await freezeProcess(pid, options);
  } catch (err) {
    if (err instanceof CkptyError) return err;
    throw err;
  }
  throw new Error('the freeze was not refused');
}

async function expectRefused(pid: number, code: ExitCodeValue, message: RegExp, options: FreezeOptions = {}): Promise<void> {
  const err = await refusal(pid, options);
  expect(err.message).toMatch(message);
  expect(err.exitCode).toBe(code);
}

/** The process still runs and writes: its output grows. */
async function expectRunsOn(proc: TestProcess): Promise<void> {
  const before = proc.output().length;
  await until(() => proc.output().length > before, 3000, 'more output');
  expect(proc.state()).toMatch(/^[RSD]$/);
}

/** The freezer as `ckpty freeze ARGS --report` runs it: its exit status and JSON answer. */
function native(args: string[]): Promise<{ status: number | null; report: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(FREEZER_PATH, ['--report', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, report: JSON.parse(out) as Record<string, unknown> }));
  });
}

async function ticker(fixture: string, args: string[] = [], options: Parameters<typeof startProcess>[2] = {}): Promise<TestProcess> {
  const proc = startProcess(await buildFixture(fixture), args, options);
  await proc.waitFor(/ready pid=\d+/);
  return proc;
}

describe('unsupported processes are refused before they are touched', () => {
  it('a TCP socket, named with its descriptor', async () => {
    const dir = tempDir('ckpty-freeze');
    const tcp = startProcess(await buildFixture('descriptors'), ['tcp']);
    await tcp.waitFor(/ready pid=/);
    const run = await native(['-o', join(dir, 'b.ckpt'), String(tcp.pid)]);
    expect(run.status).toBe(ExitCode.unsupported);
    expect(run.report).toMatchObject({ stage: 'fds', restored: true, exitCode: ExitCode.unsupported });
    expect(run.report.error).toMatch(/^cannot freeze descriptors\[\d+\]: open files the thaw cannot rebuild: fd 3 \(TCP socket\)$/);
    expect(readdirSync(dir)).toEqual([]);
    expect(tcp.state()).toBe('S');
  });

  it('a pipe shared with a process outside the job, named with that process', async () => {
    // fdkinds | cat: freezing fdkinds alone would leave cat's end of the pipe behind.
    const shell = startProcess('/bin/sh', ['-c', `${await buildFixture('fdkinds')} | cat`]);
    await shell.waitFor(/tick 1\n/);
    const [fdkinds] = childPids(shell.pid);
    await expectRefused(fdkinds as number, ExitCode.unsupported, /open files the thaw cannot rebuild: fd 1 \(pipe shared with cat\[\d+\], outside the job\)$/);
    await expectRunsOn(shell);
  });

  it('a core size limit of 0, for the checkpoint key (its opt-out; `ckpty freeze PID` ignores it)', async () => {
    const proc = await ticker('counter', ['10'], { coreLimit: '0' });
    await expectRefused(proc.pid, ExitCode.permission, /core file size limit \(RLIMIT_CORE, ulimit -c\) is 0: it opted out of the checkpoint key$/, {
      honourCoreLimit: true,
    });
    await expectRunsOn(proc);
  });

  it('a set-uid program', async () => {
    const dir = tempDir('ckpty-suid');
    const suidSleep = join(dir, 'sleep');
    copyFileSync('/usr/bin/sleep', suidSleep);
    chmodSync(suidSleep, 0o4755);
    const proc = startProcess(suidSleep, ['1000']);
    await until(() => proc.state() === 'S');
    await expectRefused(proc.pid, ExitCode.unsupported, /it is a set-uid or set-gid program/);
    expect(proc.state()).toBe('S');
  });

  it('init, kernel threads, zombies, ckpty itself and its parents, missing processes', async () => {
    await expectRefused(1, ExitCode.unsupported, /: it is the init process$/);
    await expectRefused(2, ExitCode.unsupported, /: it is a kernel thread$/);
    await expectRefused(process.pid, ExitCode.unsupported, /: it is ckpty itself or one of its parents$/);
    await expectRefused(process.ppid, ExitCode.unsupported, /: it is ckpty itself or one of its parents$/);
    await expectRefused(4194304, ExitCode.notFound, /^no process 4194304$/);
    // sleep never waits for the `true` that sh started before becoming sleep: a zombie.
    const parent = startProcess('/bin/sh', ['-c', 'true & exec sleep 1000']);
    let zombie = 0;
    await until(() => {
      zombie = childPids(parent.pid)[0] ?? 0;
      return zombie > 0 && readFileSync(`/proc/${zombie}/stat`, 'latin1').includes(') Z ');
    });
    await expectRefused(zombie, ExitCode.unsupported, /: it has already exited \(zombie\)$/);
  });

  it('a bad name template', async () => {
    const proc = await ticker('counter', ['10']);
    await expectRefused(proc.pid, ExitCode.usage, /bad name template '%N-%Q': unknown '%Q'/, { nameTemplate: '%N-%Q' });
  });
});

describe('a freeze that cannot be written leaves the process running and no file', () => {
  it('disk full', async () => {
    const dir = mountTmpfs('size=1m');
    const proc = startProcess(await buildFixture('memory'), ['anon', '4'], { cwd: dir });
    await proc.waitFor(/ready/);
    await expectRefused(proc.pid, ExitCode.io, /^cannot write the image .*\/memory\.ckpt: cannot reserve \d+ bytes for the image: no space left on device; memory\[\d+\] runs on untouched$/);
    expect(readdirSync(dir)).toEqual([]);
    proc.kill('SIGUSR1');
    await proc.waitFor(/verify ok/);
  });

  it('a read-only directory', async () => {
    const dir = mountTmpfs('ro,size=1m');
    const proc = await ticker('counter', ['10'], { cwd: dir });
    await expectRefused(proc.pid, ExitCode.io, /the directory .* is not writable \(read-only file system\)$/);
    const run = await native(['-o', join(dir, 'x.ckpt'), String(proc.pid)]);
    expect(run.status).toBe(ExitCode.io);
    expect(run.report).toMatchObject({ stage: 'target', errnoText: 'Read-only file system', restored: true });
    await expectRunsOn(proc);
  });

  it('a current directory that was deleted: the message says how to give the image a path', async () => {
    // The key has no -o: its refusal names the command that takes one.
    const dir = tempDir('ckpty-gone');
    const proc = await ticker('counter', ['10'], { cwd: dir });
    rmdirSync(dir);
    const pid = proc.pid;
    await expectRefused(pid, ExitCode.io, new RegExp(`\\(deleted\\)/counter\\.ckpt: the current directory of process ${pid} was deleted: give the image a path with \`ckpty freeze ${pid} -o FILE\`$`));
    const elsewhere = join(tempDir('ckpty-freeze'), 'counter.ckpt');
    const run = await runCli(['freeze', String(pid), '-o', elsewhere, '--snapshot'], { root: ROOT });
    expect(run.status).toBe(0);
    expect(existsSync(elsewhere)).toBe(true);
    await expectRunsOn(proc);
  });

  it('a directory the user may not write to', async () => {
    const user = testUser();
    const dir = tempDir('ckpty-freeze');
    const proc = await ticker('counter', ['10'], { user, cwd: tempDir('ckpty-cwd', user) });
    const run = await runCli(['freeze', String(proc.pid), '-o', join(dir, 'x.ckpt')], { root: cliRootFor(user), uid: user.uid, gid: user.gid });
    expect(run.status).toBe(ExitCode.io);
    expect(run.stderr).toMatch(/is not writable \(permission denied\)\n$/);
    await expectRunsOn(proc);
  });

  it('a symbolic link or a directory at the image name', async () => {
    const dir = tempDir('ckpty-freeze');
    const proc = await ticker('counter', ['10'], { cwd: dir });
    writeFileSync(join(dir, 'victim'), 'precious');
    symlinkSync(join(dir, 'victim'), join(dir, 'counter.ckpt'));
    await expectRefused(proc.pid, ExitCode.io, /^cannot write the image .*\/counter\.ckpt: it is a symbolic link, and ckpty never writes through one$/);
    const run = await native(['-o', join(dir, 'counter.ckpt'), String(proc.pid)]);
    expect(run.status).toBe(ExitCode.io);
    expect(run.report).toMatchObject({ stage: 'target', restored: true });
    expect(readlinkSync(join(dir, 'counter.ckpt'))).toBe(join(dir, 'victim'));
    expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('precious');

    mkdirSync(join(dir, 'taken.ckpt'));
    await expectRefused(proc.pid, ExitCode.io, /taken\.ckpt: it exists and is not a regular file$/, { output: join(dir, 'taken.ckpt') });
    expect(readdirSync(dir).sort()).toEqual(['counter.ckpt', 'taken.ckpt', 'victim']);
    await expectRunsOn(proc);
  });

  it('a process a debugger traces: refused, naming the debugger, as root and as its user', async () => {
    const user = testUser();
    const counter = await buildFixture('counter');
    for (const owner of [undefined, user]) {
      // gdb runs the counter as its traced child; with no terminal, in gdb's own process group.
      const gdb = startProcess('gdb', ['-q', '-batch', '-ex', 'run', '--args', counter, '10'], { user: owner });
      const pid = Number((await gdb.waitFor(/ready pid=(\d+)/, 20_000))[1]);
      const out = join(tempDir('ckpty-out', owner), 'x.ckpt');
      const run = await runCli(['freeze', '-o', out, String(pid)], { root: owner ? cliRootFor(owner) : ROOT, uid: owner?.uid, gid: owner?.gid });
      expect(run.stderr).toBe(`ckpty: cannot freeze counter[${pid}]: it is being traced by process ${gdb.pid} (a debugger?)\n`);
      expect(run.status).toBe(ExitCode.unsupported);
      expect(existsSync(out)).toBe(false);
      await expectRunsOn(gdb);
      stopProcesses(); // its whole group: killed alone, gdb would leave the counter running
    }
  });

  it("another user's process, or one that is not dumpable: refused as ptrace refuses it, with the reason", async () => {
    const user = testUser();
    const cli = join(cliRootFor(user), 'bin/ckpty');
    const freeze = (args: string[]) => spawnSync(cli, ['freeze', ...args], { uid: user.uid, gid: user.gid, cwd: tempDir('ckpty-cwd', user), encoding: 'utf8' });
    const proc = await ticker('counter', ['10']);
    const out = join(tempDir('ckpty-out', user), 'x.ckpt');
    // With -o, and with the image named in its directory, which is not ours to open either.
    for (const args of [['-o', out], []]) {
      const run = freeze([...args, String(proc.pid)]);
      expect(run.stderr).toBe(`ckpty: cannot freeze counter[${proc.pid}]: it belongs to another user (uid 0); only root may freeze it\n`);
      expect(run.status).toBe(ExitCode.permission);
    }
    expect(existsSync(out)).toBe(false);
    await expectRunsOn(proc);

    // The user's own process, which asked not to be traced (prctl PR_SET_DUMPABLE 0).
    const undumpable = startProcess('python3', ['-c', 'import ctypes, time; ctypes.CDLL(None).prctl(4, 0); print("ready", flush=True); time.sleep(60)'], { user });
    await undumpable.waitFor(/ready/);
    for (const args of [['-o', out], []]) {
      const run = freeze([...args, String(undumpable.pid)]);
      expect(run.stderr).toBe(
        `ckpty: cannot freeze python3[${undumpable.pid}]: it is not dumpable (it asked not to be traced, as ssh-agent does, or it changed its IDs); only root may freeze it\n`,
      );
      expect(run.status).toBe(ExitCode.permission);
    }
    expect(existsSync(out)).toBe(false);
    expect(undumpable.state()).toBe('S');
  });
});
