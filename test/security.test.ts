/**
 * ckpty against an attacker: the unprivileged test user tries to make root thaw their
 * program, or root's freezer write their memory where only root may write, and tries
 * to hang a thaw with a FIFO. Each attack worked on an earlier ckpty.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/base/errors.js';
import { freezeProcess } from '../src/freezer/freeze.js';
import { buildFixture, startProcess, stopProcesses, tempDir, testUser, until } from './helpers/fixtures.js';
import { CLI, privateCopy, processesRunning, stopThaws, thawRefused } from './helpers/thaw.js';

afterEach(() => {
  stopThaws();
  stopProcesses();
});

describe('an image swapped under a root thaw', () => {
  it('root thaws its own image or refuses; the other user\'s program never runs, however fast the swap', async () => {
    const user = testUser();
    // A directory the attacker may write to (not sticky: they may rename over root's file), holding root's image.
    const dir = tempDir('ckpty-swap', user);
    chmodSync(dir, 0o777);
    const rootBinary = privateCopy(await buildFixture('counter'), dir, 'root-counter');
    const rootProgram = startProcess(rootBinary, [], { cwd: dir });
    await rootProgram.waitFor(/count 2/);
    const image = join(dir, 'counter.ckpt');

    // The attacker's own image of their own program, ready to be renamed over root's.
    const theirs = tempDir('ckpty-swap-theirs', user);
    const theirBinary = privateCopy(await buildFixture('counter'), theirs, 'their-counter');
    chownSync(theirBinary, user.uid, user.gid);
    const theirProgram = startProcess(theirBinary, [], { cwd: theirs, user });
    await theirProgram.waitFor(/count 2/);
    const prepared = join(dir, 'prepared.ckpt');
    const freeze = spawnSync(CLI, ['freeze', String(theirProgram.pid), '-o', prepared], { uid: user.uid, gid: user.gid, encoding: 'utf8' });
    expect(freeze.status, freeze.stderr).toBe(0);

    await freezeProcess(rootProgram.pid, { output: image });
    await rootProgram.exited;
    // The swapper renames the prepared image over root's at the first open or read of it.
    const swapper = startProcess(await buildFixture('swapper'), [dir, 'counter.ckpt', prepared], { user });
    await swapper.waitFor(/watching/);

    const thaw = spawn(CLI, ['thaw', '--quiet', image], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    thaw.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await swapper.waitFor(/swapped/);
    await until(() => processesRunning(rootBinary).length > 0 || thaw.exitCode !== null, 10_000, 'the thaw to run or end');
    expect(processesRunning(theirBinary)).toEqual([]);
    // What runs is root's program, as root; the image read was root's.
    const [pid] = processesRunning(rootBinary);
    expect(pid, stderr).toBeDefined();
    expect(readFileSync(`/proc/${pid}/status`, 'latin1')).toMatch(/^Uid:\s+0\s/m);
    process.kill(-(thaw.pid as number), 'SIGKILL');
  });

  it('an image swapped in before the thaw opens it is refused as the other user\'s', async () => {
    const user = testUser();
    const dir = tempDir('ckpty-swap-before', user);
    const binary = privateCopy(await buildFixture('counter'), dir, 'their-counter');
    chownSync(binary, user.uid, user.gid);
    const program = startProcess(binary, [], { cwd: dir, user });
    await program.waitFor(/count 2/);
    const image = join(dir, 'counter.ckpt');
    const freeze = spawnSync(CLI, ['freeze', String(program.pid), '-o', image], { uid: user.uid, gid: user.gid, encoding: 'utf8' });
    expect(freeze.status, freeze.stderr).toBe(0);
    const end = await thawRefused(image);
    expect(end.code).toBe(ExitCode.permission);
    expect(end.stderr).toBe(`ckpty: refusing to thaw ${image}: ${image} is owned by uid ${user.uid}, not by uid 0\n`);
    expect(processesRunning(binary)).toEqual([]);
  });
});

describe('root freezing a process whose owner swaps its directory for a symlink', () => {
  it('the image lands in the directory the process is in, never through the symlink', async () => {
    const user = testUser();
    const secret = tempDir('ckpty-root-only');
    chmodSync(secret, 0o700);
    const home = tempDir('ckpty-cwd-swap', user);
    const cwd = join(home, 'dir');
    mkdirSync(cwd);
    chownSync(cwd, user.uid, user.gid);
    const program = startProcess(await buildFixture('counter'), [], { cwd, user });
    await program.waitFor(/count 2/);
    // As fast as it can: the directory's name now names a symlink to root's directory, now the directory again.
    const swap = `while :; do mv ${cwd} ${cwd}.real; ln -s ${secret} ${cwd}; rm ${cwd}; mv ${cwd}.real ${cwd}; done`;
    const swapper = startProcess('/bin/sh', ['-c', swap], { user });
    try {
      for (let i = 0; i < 30; i++) {
        // By name template, in the process's directory; and by an explicit path through the swapped name.
        await freezeProcess(program.pid, { snapshot: true, nameTemplate: `t${i}.ckpt` }).catch(() => undefined);
        await freezeProcess(program.pid, { snapshot: true, output: join(cwd, `o${i}.ckpt`) }).catch(() => undefined);
      }
    } finally {
      // The loop and the mv/ln/rm it may be running: the whole group.
      process.kill(-swapper.pid, 'SIGKILL');
      await swapper.exited;
    }
    expect(readdirSync(secret)).toEqual([]);
    // Wherever the loop left the directory's name, the process is in that directory.
    const real = `/proc/${program.pid}/cwd`;
    const images = readdirSync(real).filter((name) => name.endsWith('.ckpt'));
    expect(images.length).toBeGreaterThan(0);
    for (const name of images) expect(spawnSync('stat', ['-c', '%u %a', join(real, name)], { encoding: 'utf8' }).stdout.trim()).toBe(`${user.uid} 600`);
  });
});

describe('a FIFO where the image has a regular file', () => {
  it('is refused at once, and nothing hangs', async () => {
    const dir = tempDir('ckpty-fifo');
    const binary = privateCopy(await buildFixture('openfile'), dir, 'openfile');
    const data = join(dir, 'data');
    const program = startProcess(binary, [data, '10'], { cwd: dir });
    await program.waitFor(/ready pid=\d+/);
    const { path } = await freezeProcess(program.pid, { output: join(dir, 'openfile.ckpt') });
    await program.exited;
    unlinkSync(data);
    expect(spawnSync('mkfifo', [data]).status).toBe(0);
    const started = Date.now();
    const end = await thawRefused(path);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(end.code).toBe(ExitCode.changed);
    expect(end.stderr).toMatch(/data \(open as fd 3\) is another file than at the freeze/);
    expect(processesRunning(binary)).toEqual([]);
  });
});

describe('cleaning up', () => {
  it('a temporary left by a dead writer is removed by the next freeze in that directory', async () => {
    const dir = tempDir('ckpty-stale');
    // Where O_TMPFILE works (here) a killed freezer leaves nothing; elsewhere it leaves .NAME.PID.N.tmp.
    const stale = join(dir, '.counter.ckpt.999999.0.tmp');
    spawnSync('sh', ['-c', `head -c 4096 /dev/zero > ${stale}`]);
    const program = startProcess(await buildFixture('counter'), [], { cwd: dir });
    await program.waitFor(/count 2/);
    await freezeProcess(program.pid, { snapshot: true });
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    rmSync(join(dir, 'counter.ckpt'));
  });

  it('a directory with no room for the image file: a dead writer\'s temporary there goes first, and the freeze succeeds', async () => {
    // A filesystem of 8 inodes, every one taken, one of them by a dead writer's temporary.
    const dir = tempDir('ckpty-full');
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,nr_inodes=8', 'tmpfs', dir]).status).toBe(0);
    try {
      const stale = join(dir, '.counter.ckpt.999999.0.tmp');
      spawnSync('sh', ['-c', `head -c 4096 /dev/zero > ${stale}; i=0; while : > ${dir}/filler$i; do i=$((i + 1)); done 2>/dev/null`]);
      expect(spawnSync('sh', ['-c', `: > ${dir}/one-more`]).status).not.toBe(0);
      const program = startProcess(await buildFixture('counter'), [], { cwd: dir });
      await program.waitFor(/count 2/);
      const frozen = await freezeProcess(program.pid, { output: join(dir, 'counter.ckpt') });
      expect(frozen.path).toBe(join(dir, 'counter.ckpt'));
      expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    } finally {
      spawnSync('umount', ['--lazy', dir]);
    }
  });
});
