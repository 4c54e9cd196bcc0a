/**
 * Real programs whose descriptors are more than files (issues 13 and 14): each frozen
 * and thawed as a user would, checked by what it does afterwards.
 *   - a pipeline frozen mid-stream loses and repeats no byte of its pipe;
 *   - a sleep frozen half-way sleeps only the rest; python's asyncio timers and self-pipe
 *     fire at the times the program set;
 *   - ed (its buffer is a deleted temporary file), tail -f (inotify, a log that grows
 *     while frozen) and emacs (timers, pipes, its terminal) through a real terminal.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FROZEN_EXIT_STATUS } from '../src/base/errors.js';
import { freezeProcess } from '../src/freezer/freeze.js';
import { buildFixture, childPids, startProcess, stopProcesses, syscallOf, tempDir, testUser, until, type TestProcess, type TestUser } from './helpers/fixtures.js';
import { startThaw, stopThaws, thawedPid } from './helpers/thaw.js';
import { freezeForeground, startShell, thawInShell as thaw } from './helpers/thaw-shell.js';

afterEach(() => {
  stopThaws();
  stopProcesses();
});
/** Debian's python3 running these lines (not a pyenv shim: its start-up would be a process of the job). */
function startPython(dir: string, lines: string[]): TestProcess {
  writeFileSync(join(dir, 'program.py'), lines.join('\n'));
  return startProcess('/usr/bin/python3', [join(dir, 'program.py')], { cwd: dir });
}

describe('pipes between the processes of a job', () => {
  /** seq | awk frozen mid-stream (by root, the image theirs) and thawed, as the user if given. */
  async function pipeline(user?: TestUser): Promise<string> {
    const dir = tempDir('ckpty-pipeline', user);
    const out = join(dir, 'sum');
    // mawk prints the sum as 5e+13 (%.6g) with or without a freeze: %.0f shows every digit.
    // Every descriptor on files of the user's own, which the thaw opens again as the user.
    const script = `exec >${out} 2>&1; seq 1 10000000 | awk '{ s += $1; n++ } END { printf "%.0f %d\\n", s, n }'`;
    const job = startProcess('/bin/bash', ['-c', script], { user, cwd: dir });
    // Mid-stream: awk has read some of it, and bytes wait in the pipe.
    await until(() => childPids(job.pid).length === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const frozen = await freezeProcess(job.pid, { job: true, output: join(dir, 'pipeline.ckpt') });
    expect(frozen.members.map((m) => m.comm).sort()).toEqual(['awk', 'bash', 'seq']);
    expect(await job.exited).toEqual({ code: FROZEN_EXIT_STATUS, signal: null });
    const run = startThaw(frozen.path, { user });
    const end = await run.ended;
    expect(end.stderr).toBe('');
    expect(end.code).toBe(0);
    return readFileSync(out, 'latin1');
  }

  it('seq | awk frozen mid-stream adds up to exactly 50000005000000 over 10000000 lines', async () => {
    expect(await pipeline()).toBe('50000005000000 10000000\n');
  });

  it('the same as the unprivileged user', async () => {
    expect(await pipeline(testUser())).toBe('50000005000000 10000000\n');
  });

  it('a parent and its child: a socket pair and a pipe between them keep the messages queued both ways', async () => {
    const dir = tempDir('ckpty-family');
    const program = [
      'import os, signal, socket',
      'signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})',
      'a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)',
      'r, w = os.pipe()',
      'child = os.fork()',
      'if child == 0:',
      '    a.close(); os.close(r)',
      '    b.send(b"child to parent"); os.write(w, b"through the pipe")',
      '    signal.sigwait({signal.SIGUSR1})',
      '    print("child got", b.recv(64).decode(), flush=True)',
      '    os._exit(0)',
      'b.close(); os.close(w)',
      'a.send(b"parent to child")',
      'print("ready", flush=True)',
      'signal.sigwait({signal.SIGUSR1})',
      'print("parent got", a.recv(64).decode(), "and", os.read(r, 64).decode(), flush=True)',
      'os.kill(child, signal.SIGUSR1)',
      'print("child ended", os.waitpid(child, 0)[1], flush=True)',
    ];
    const python = startPython(dir, program);
    await python.waitFor(/ready\n/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const frozen = await freezeProcess(python.pid, { output: join(dir, 'family.ckpt') });
    expect(frozen.processes).toBe(2);
    const run = startThaw(frozen.path);
    const { pid } = await run.result;
    process.kill(thawedPid(run.pid, pid), 'SIGUSR1');
    expect((await run.ended).code).toBe(0);
    expect(python.output()).toBe('ready\nparent got child to parent and through the pipe\nchild got parent to child\nchild ended 0\n');
  });
});

describe('files of the proc filesystem', () => {
  /**
   * A program holding /proc files open, as top and htop do, frozen by root and thawed (as
   * the user if given: the thaw then mounts a proc of its own, where those files have
   * other device numbers). What it reads from them after the thaw.
   */
  async function readAfterThaw(user?: TestUser): Promise<string> {
    const dir = tempDir('ckpty-procfs', user);
    const out = join(dir, 'out');
    writeFileSync(
      join(dir, 'program.py'),
      [
        'import signal',
        'signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})',
        "stat, meminfo, loadavg = (open(f'/proc/{name}', 'rb', buffering=0) for name in ('stat', 'meminfo', 'loadavg'))",
        'meminfo.read(3)',
        "print('ready', flush=True)",
        'signal.sigwait({signal.SIGUSR1})',
        'print(stat.read(4), meminfo.tell(), meminfo.read(5), len(loadavg.read().split()), flush=True)',
      ].join('\n'),
    );
    const job = startProcess('/bin/bash', ['-c', `exec >${out} 2>&1; exec /usr/bin/python3 program.py`], { user, cwd: dir });
    await until(() => existsSync(out) && readFileSync(out, 'latin1') === 'ready\n', 10_000, 'the program to be ready');
    const frozen = await freezeProcess(job.pid, { output: join(dir, 'procfs.ckpt') });
    expect(await job.exited).toEqual({ code: FROZEN_EXIT_STATUS, signal: null });
    const run = startThaw(frozen.path, { user });
    const { pid } = await run.result;
    process.kill(thawedPid(run.pid, pid), 'SIGUSR1');
    const end = await run.ended;
    expect(end.stderr).toBe('');
    expect(end.code).toBe(0);
    return readFileSync(out, 'latin1');
  }

  it('/proc/stat, /proc/meminfo and /proc/loadavg are open again, each at its offset', async () => {
    expect(await readAfterThaw()).toBe("ready\nb'cpu ' 3 b'Total' 5\n");
  });

  it('the same as the unprivileged user, whose thaw has a proc of its own', async () => {
    expect(await readAfterThaw(testUser())).toBe("ready\nb'cpu ' 3 b'Total' 5\n");
  });
});

describe('time', () => {
  /**
   * Seconds a 3 s wait of this kind still takes when frozen 1 s into it and thawed 1 s
   * later: from the wait's start (the program blocked in it, however long a loaded machine
   * takes to start it) and from the thaw's report (the program released), so that neither
   * start-up counts as time waited.
   */
  async function waitAfterThaw(command: string, args: string[]): Promise<number> {
    const dir = tempDir('ckpty-sleep');
    const waiter = startProcess(command, args);
    await until(() => syscallOf(waiter.pid) !== undefined, 10_000, 'the program to wait');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { path } = await freezeProcess(waiter.pid, { output: join(dir, 'waiter.ckpt') });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const run = startThaw(path);
    await run.result;
    const thawed = Date.now();
    expect((await run.ended).code).toBe(0);
    return (Date.now() - thawed) / 1000;
  }

  it('sleep 3 frozen after 1 s sleeps the 2 s it had left, not 3', async () => {
    const left = await waitAfterThaw('/bin/sleep', ['3']);
    expect(left).toBeGreaterThan(1.7);
    expect(left).toBeLessThan(2.7);
  });

  // docs/descriptors.md, "Time": the time left where the kernel tells it, the whole time again where it does not.
  it.each([
    ['nanosleep', 2],
    ['clock_abs', 2],
    ['select', 2],
    ['pselect', 2],
    ['ppoll', 2],
    ['usleep', 3],
    ['poll', 3],
  ])('a 3 s %s frozen after 1 s waits %i s more', async (how, seconds) => {
    const left = await waitAfterThaw(await buildFixture('sleeper'), [how, '3']);
    expect(left).toBeGreaterThan(seconds - 0.3);
    expect(left).toBeLessThan(seconds + 0.7);
  });

  it('python asyncio: timers and a self-pipe fire at the times the program set, measured on its own clock', async () => {
    const dir = tempDir('ckpty-asyncio');
    const program = [
      'import asyncio, os, sys, time',
      'async def main():',
      '    loop = asyncio.get_running_loop()',
      '    start = loop.time()',
      '    r, w = os.pipe()',
      '    done = asyncio.Event()',
      '    def readable():',
      '        print("pipe %s at %.1f" % (os.read(r, 16).decode(), loop.time() - start), flush=True)',
      '        done.set()',
      '    loop.add_reader(r, readable)',
      '    for at in (0.5, 1.5, 2.5):',
      '        loop.call_later(at, lambda at=at: print("timer %.1f at %.1f" % (at, loop.time() - start), flush=True))',
      '    loop.call_later(3.0, lambda: os.write(w, b"byte"))',
      '    print("ready", flush=True)',
      '    await done.wait()',
      'asyncio.run(main())',
    ];
    const python = startPython(dir, program);
    await python.waitFor(/timer 0\.5 at/);
    const { path } = await freezeProcess(python.pid, { output: join(dir, 'python.ckpt') });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const run = startThaw(path);
    expect((await run.ended).code).toBe(0);
    // Each at its time, by the loop's clock (CLOCK_MONOTONIC, which the thaw continues from the freeze).
    expect(python.output()).toMatch(/timer 0\.5 at 0\.5\ntimer 1\.5 at 1\.5\ntimer 2\.5 at 2\.5\npipe byte at 3\.0\n$/);
  });
});

describe('programs in a terminal', () => {
  it('ed: unsaved lines in its temporary buffer come back; ,p shows them and w writes them', async () => {
    const dir = tempDir('ckpty-ed');
    const shell = await startShell({ cwd: dir });
    shell.type('ed -p "* " notes\r');
    await shell.waitFor(/\* $/);
    shell.type('a\rfirst line\rsecond line\r.\r');
    await shell.waitFor(/\* $/);
    await freezeForeground(shell, join(dir, 'ed.ckpt'));

    await thaw(shell, join(dir, 'ed.ckpt'));
    shell.type(',p\r');
    await shell.waitFor(/first line\r\nsecond line\r\n/);
    shell.type('w\r');
    await shell.waitFor(/^23\r$/m);
    shell.type('q\r');
    await shell.waitFor(/\$ $/);
    expect(await shell.status()).toBe(0);
    expect(readFileSync(join(dir, 'notes'), 'latin1')).toBe('first line\nsecond line\n');
  });

  it('tail -f: a line appended while frozen appears after the thaw, and the ones after it', async () => {
    const dir = tempDir('ckpty-tail');
    const log = join(dir, 'log');
    writeFileSync(log, 'before\n');
    const shell = await startShell({ cwd: dir });
    shell.type('tail -f log\r');
    await shell.waitFor(/before\r\n/);
    const image = join(dir, 'tail.ckpt');
    await freezeForeground(shell, image);
    appendFileSync(log, 'while frozen\n');

    await thaw(shell, image);
    await shell.waitFor(/while frozen\r\n/);
    appendFileSync(log, 'after the thaw\n');
    await shell.waitFor(/after the thaw\r\n/);
    shell.type('\x03');
    await shell.waitFor(/\$ $/);
  });

  it('/dev/tty comes back as the thawing terminal', async () => {
    const dir = tempDir('ckpty-devtty');
    const shell = await startShell({ cwd: dir });
    shell.type(`${await buildFixture('descriptors')} devtty\r`);
    await shell.waitFor(/ready pid=\d+/);
    await freezeForeground(shell, join(dir, 'devtty.ckpt'));
    await thaw(shell, join(dir, 'devtty.ckpt'));
    const [thawer] = childPids(shell.pty.pid);
    const program = thawedPid(thawer as number, Number(/thawed \S+\[(\d+)\]/.exec(shell.since())?.[1]));
    process.kill(program, 'SIGUSR1');
    await shell.waitFor(/devtty isatty=1 written=0\r\ndone/);
    await shell.waitFor(/\$ $/);
    expect(await shell.status()).toBe(0);
  });

  it('emacs -nw -Q: unsaved text is saved by C-x C-s after the thaw', async () => {
    const dir = tempDir('ckpty-emacs');
    const shell = await startShell({ cwd: dir });
    shell.type('emacs -nw -Q notes.txt\r');
    // emacs's own words (the command's echo names notes.txt too): it has set up the terminal and visits the file.
    await shell.waitFor(/\(New file\)/, 15_000);
    const emacs = await shell.child();
    // Emacs 29 compiles the terminal's Lisp at start in a child emacs of another process
    // group (native compilation): a job with it is refused. It is frozen once that ends.
    await until(() => childPids(emacs).length === 0, 30_000, 'the child emacs (native compilation) to end');
    await shell.waitingForInput(emacs);
    shell.type('typed before the freeze');
    await shell.waitFor(/typed before the freeze/);
    await freezeForeground(shell, join(dir, 'emacs.ckpt'));

    await thaw(shell, join(dir, 'emacs.ckpt'));
    shell.type(' and after');
    await shell.waitFor(/and after/);
    shell.mark();
    shell.type('\x18\x13');
    await shell.waitFor(/Wrote .*notes\.txt/);
    shell.type('\x18\x03');
    await shell.waitFor(/\$ $/);
    // emacs ends a file it saves with a newline.
    expect(readFileSync(join(dir, 'notes.txt'), 'latin1')).toBe('typed before the freeze and after\n');
  });
});
