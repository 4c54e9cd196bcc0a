/**
 * The whole foreground job (docs/native.md): real programs of several processes, typed into
 * bash on a real pty, frozen with `ckpty freeze --job` (or the key in a `ckpty shell`
 * session) and thawed by typing `ckpty thaw` — as root (in this pid namespace when the
 * numbers are free) and as the unprivileged user (in a namespace of the thaw's own).
 * Each is judged by what the programs do afterwards: the page on the screen again, a
 * counter without a gap, a build that finishes, the statuses parents collect.
 */
import xtermHeadless from '@xterm/headless';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FREEZER_PATH, freezerArgs } from '../src/freezer/native.js';
import { buildFixture, removeTempDirs, tempDir, until, type TestUser } from './helpers/fixtures.js';
import { gdb, runCli } from './helpers/freezer.js';
import { startShellSession, stopSessionsAndProcesses, testEnvironment } from './helpers/host.js';
import { AS, freezeForegroundJob, startJobShell, thawInShell, type JobShell } from './helpers/job-shell.js';

afterEach(stopSessionsAndProcesses);
afterAll(removeTempDirs);

const PYTHON = '/usr/bin/python3'; // not a pyenv shim: its start-up would be a process of the job

interface Proc {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { pid, comm: stat.slice(stat.indexOf('(') + 1, close), state: fields[0] ?? '?', ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** The processes of a process group (as this pid namespace numbers them), ckpty's own helpers left out. */
function groupMembers(pgid: number): Proc[] {
  const found: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
    } catch {
      continue;
    }
    const proc = readProc(Number(name));
    if (proc && proc.comm !== 'ckpty-thawer') found.push(proc);
  }
  return found;
}

function comms(procs: { comm: string }[]): string[] {
  return procs.map((p) => p.comm).sort();
}

/** Syscalls a program waits for its terminal in: read, poll, select, pselect6, ppoll. */
function readsTerminal(pid: number): boolean {
  try {
    return [0, 7, 23, 270, 271].includes(Number(readFileSync(`/proc/${pid}/syscall`, 'latin1').split(' ')[0]));
  } catch {
    return false;
  }
}

/** Resolves once the foreground job's process named comm waits for the terminal (keys typed now reach it, in its modes). */
async function jobReading(js: JobShell, comm: string): Promise<void> {
  await until(
    () => groupMembers(js.shell.foreground()).some((p) => p.comm === comm && readsTerminal(p.pid)),
    5000,
    `${comm} to read the terminal`,
  );
}

/** What a terminal of this size shows after this output: its visible rows, right-trimmed. */
async function screenOf(output: string, cols = 80, rows = 24): Promise<string[]> {
  const term = new xtermHeadless.Terminal({ cols, rows, allowProposedApi: true, scrollback: 0 });
  await new Promise<void>((resolve) => term.write(output, resolve));
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < rows; y++) lines.push((buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '').trimEnd());
  term.dispose();
  return lines;
}

async function screen(js: JobShell): Promise<string[]> {
  return screenOf(js.shell.pty.output());
}

async function untilScreen(js: JobShell, check: (lines: string[]) => boolean, what: string, timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = await screen(js);
    if (check(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen shows:\n${lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Clear the screen at the prompt, so that what shows after the thaw is the program's own painting. */
async function clearScreen(js: JobShell): Promise<void> {
  js.shell.mark();
  js.shell.type('clear\r');
  await js.shell.waitFor(/\$ $/);
  await untilScreen(js, (lines) => lines[0] === '$', 'the screen to be cleared');
}

/** Run a command as the user (or root), in dir; its stdout. */
function runAs(user: TestUser | undefined, dir: string, command: string): string {
  const run = spawnSync('bash', ['-c', command], { cwd: dir, encoding: 'utf8', uid: user?.uid, gid: user?.gid, env: { PATH: process.env.PATH, HOME: dir, LANG: 'C' } });
  if (run.status !== 0) throw new Error(`${command}: ${run.stderr}`);
  return run.stdout;
}

function members(report: Record<string, unknown>): { pid: number; comm: string; zombie: boolean }[] {
  return report.members as { pid: number; comm: string; zombie: boolean }[];
}

const ms = (n: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, n));

describe.each(AS)('the whole foreground job, as $who', ({ user }) => {
  it('man ls scrolled half-way: thawed, ^L paints the same page again, space pages on, q ends it with status 0', async () => {
    const js = await startJobShell(user());
    js.shell.type('MANPAGER=less PAGER=less man ls\r');
    await js.shell.waitFor(/Manual page ls\(1\) line 1 /);
    js.shell.type('120g');
    await js.shell.waitFor(/Manual page ls\(1\) line 120 /);
    // The formatters have done their part: the job is man and its pager.
    await until(() => comms(groupMembers(js.shell.foreground())).join() === 'less,man', 5000, 'man and less alone');
    await jobReading(js, 'less');
    const page = await screen(js);
    expect(page.at(-1)).toMatch(/Manual page ls\(1\) line 120 /);

    const { image, report } = await freezeForegroundJob(js, 'man.ckpt');
    expect(comms(members(report))).toEqual(['less', 'man']);
    await clearScreen(js);
    await thawInShell(js, image);
    await jobReading(js, 'less');
    js.shell.type('\x0c');
    await untilScreen(js, (lines) => lines.join('\n') === page.join('\n'), 'the page as it was at the freeze');
    js.shell.type(' ');
    await untilScreen(js, (lines) => /Manual page ls\(1\) line 143 /.test(lines.at(-1) ?? ''), 'the next page');
    js.shell.mark();
    js.shell.type('q');
    await js.shell.waitFor(/\$ $/);
    expect(await js.shell.status()).toBe(0);
  });

  it('git log of 100 commits, paged: thawed half-way, ^L paints the same page, it pages on, q ends it with status 0', async () => {
    const u = user();
    const repo = tempDir('ckpty-git', u);
    // 100 empty commits in one git process (a `git commit` each takes seconds in all on a busy machine).
    const commits = Array.from({ length: 100 }, (_, i) =>
      ['commit refs/heads/master', `committer Ckpty <ckpty@example.org> ${1_700_000_000 + i * 60} +0000`, `data ${`commit number ${i + 1}`.length}`, `commit number ${i + 1}`, ''].join('\n'),
    ).join('\n');
    writeFileSync(join(repo, '.commits'), `${commits}\n`);
    runAs(u, repo, 'git init -q -b master . && git fast-import --quiet < .commits && rm .commits && git log --oneline | wc -l | grep -qx 100');
    const js = await startJobShell(u);
    js.shell.type(`cd ${repo} && git log\r`);
    await js.shell.waitFor(/commit number 100/);
    // Newest first, 6 lines a commit: line 300 is about commit 50.
    js.shell.type('300g');
    const page = await untilScreen(js, (lines) => lines.some((l) => /commit number 5\d$/.test(l)), 'half-way down the log');
    // Debian's git pages through `pager`, which is less.
    const pager = groupMembers(js.shell.foreground()).find((p) => p.comm !== 'git')?.comm ?? 'none';
    await jobReading(js, pager);

    const { image, report } = await freezeForegroundJob(js, 'git.ckpt');
    expect(comms(members(report))).toEqual(['git', pager].sort());
    await clearScreen(js);
    await thawInShell(js, image);
    await jobReading(js, pager);
    js.shell.type('\x0c');
    await untilScreen(js, (lines) => lines.join('\n') === page.join('\n'), 'the page as it was at the freeze');
    js.shell.type(' ');
    await untilScreen(js, (lines) => lines.some((l) => /commit number 4\d$/.test(l)), 'the next page, older commits');
    js.shell.mark();
    js.shell.type('q');
    await js.shell.waitFor(/\$ $/);
    expect(await js.shell.status()).toBe(0);
  });

  it('a bash script calling sleep and date in a loop, frozen twice: its counter goes on without a gap or a repeat', async () => {
    const js = await startJobShell(user());
    writeFileSync(
      join(js.dir, 'count.sh'),
      ['n=0', 'while [ $n -lt 14 ]; do', '  n=$((n + 1))', '  echo "$n $(date +%s.%N)" >> counter.txt', '  sleep 0.2', 'done', 'echo "counted to $n"', ''].join('\n'),
    );
    js.shell.type('bash count.sh\r');
    const counted = (): number => (existsSync(join(js.dir, 'counter.txt')) ? readFileSync(join(js.dir, 'counter.txt'), 'latin1').split('\n').length - 1 : 0);
    const frozenAt: number[] = [];
    for (const [at, name] of [[4, 'count1.ckpt'], [9, 'count2.ckpt']] as const) {
      await until(() => counted() >= at, 10_000, `line ${at} of the counter`);
      const { image, report } = await freezeForegroundJob(js, name);
      expect(comms(members(report))[0]).toBe('bash');
      frozenAt.push(counted());
      await ms(300); // frozen a while: a job still running would write meanwhile
      expect(counted()).toBe(frozenAt.at(-1));
      const line = await thawInShell(js, image);
      // A thaw that keeps the image's PIDs in a pid namespace (always the user's; root's when
      // a number is taken) names the PID the shell knows too.
      const outside = /; bash is PID (\d+) outside its pid namespace/.exec(line);
      if (js.user || outside) expect(Number(outside?.[1])).toBe(js.shell.foreground());
    }
    await js.shell.waitFor(/counted to 14\r\n[\s\S]*\$ $/, 10_000);
    expect(await js.shell.status()).toBe(0);
    const numbers = readFileSync(join(js.dir, 'counter.txt'), 'latin1').trim().split('\n').map((line) => Number(line.split(' ')[0]));
    expect(numbers).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
  });

  it('watch -n1 date frozen at several moments, with its child running too: thawed each time, it keeps updating', async () => {
    const u = user();
    const js = await startJobShell(u);
    const onchild = await buildFixture('onchild');
    js.shell.type('watch -n1 date\r');
    const dateLine = (lines: string[]): string => lines[2] ?? '';
    const dated = (lines: string[]): boolean => /\d\d:\d\d:\d\d/.test(dateLine(lines));
    await untilScreen(js, dated, 'the first date');
    // Once at any moment with `ckpty freeze --job`; then with the freezer let go the
    // moment watch has a child (the forked watch, which spawns `sh -c date`, which
    // vforks date: all gone within milliseconds) and 2 ms after, and again until one
    // freeze has caught a child (on a busy machine the freezer may start too late).
    const frozen: { comm: string; zombie: boolean }[][] = [];
    const delays = [-1, 0, 2000, 1000, 0, 3000, 1000, 0];
    for (const [i, delayUs] of delays.entries()) {
      if (i >= 3 && frozen.some((m) => m.length > 1)) break;
      const watch = js.shell.foreground();
      const name = `watch${frozen.length}.ckpt`;
      const image = join(js.dir, name);
      js.shell.mark();
      if (delayUs < 0) {
        frozen.push(members((await freezeForegroundJob(js, name)).report));
      } else {
        // As root, the image is the job's user's (the freezer's choice, as for `ckpty freeze`).
        const args = ['--report', ...freezerArgs({ pid: watch, job: true, output: image })];
        const run = spawnSync(onchild, [String(watch), String(delayUs), FREEZER_PATH, ...args], { encoding: 'utf8', timeout: 10_000 });
        expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
        frozen.push((JSON.parse(run.stdout) as { members: { comm: string; zombie: boolean }[] }).members);
        await js.shell.waitFor(/\$ $/);
      }
      const shown = dateLine(await screen(js));
      await thawInShell(js, image);
      // Updating again: a date other than the one on the screen at the freeze.
      await untilScreen(js, (lines) => dated(lines) && dateLine(lines) !== shown, 'a new date', 4000);
    }
    const caught = frozen.map((m) => comms(m).join('+')).join(', ');
    expect(frozen.every((m) => m[0]?.comm === 'watch'), caught).toBe(true);
    expect(frozen.some((m) => m.length > 1), caught).toBe(true);
    const last = dateLine(await screen(js));
    const next = dateLine(await untilScreen(js, (lines) => dated(lines) && dateLine(lines) !== last, 'the date after', 4000));
    await untilScreen(js, (lines) => dated(lines) && dateLine(lines) !== next, 'the date after that', 4000);
    js.shell.mark();
    js.shell.type('\x03');
    await js.shell.waitFor(/\$ $/);
    expect(await js.shell.status()).toBe(0); // watch ends 0 on ^C
  }, 90_000);

  it('make -j2 of a small C project frozen mid-build: thawed, it finishes and the program runs', async () => {
    const u = user();
    const js = await startJobShell(u);
    const names = ['a', 'b', 'c', 'd', 'e'];
    for (const [i, name] of names.entries()) writeFileSync(join(js.dir, `${name}.c`), `int ${name}(void) { return ${i + 1}; }\n`);
    writeFileSync(
      join(js.dir, 'main.c'),
      ['#include <stdio.h>', ...names.map((n) => `int ${n}(void);`), `int main(void) { printf("built %d\\n", ${names.map((n) => `${n}()`).join(' + ')}); return 0; }`, ''].join('\n'),
    );
    const objects = ['main.o', ...names.map((n) => `${n}.o`)];
    writeFileSync(
      join(js.dir, 'Makefile'),
      [`prog: ${objects.join(' ')}`, '\tsleep 0.3', `\tcc -o $@ ${objects.join(' ')}`, '%.o: %.c', '\tsleep 0.4', '\tcc -c -o $@ $<', ''].join('\n'),
    );
    js.shell.type('make -j2\r');
    const built = (): number => objects.filter((o) => existsSync(join(js.dir, o))).length;
    await until(() => built() >= 2, 10_000, 'two objects built');
    const { image, report } = await freezeForegroundJob(js, 'make.ckpt');
    expect(members(report)[0]?.comm).toBe('make');
    expect(report.processes).toBeGreaterThan(1);
    const before = built();
    expect(before).toBeLessThan(objects.length);
    await thawInShell(js, image);
    await js.shell.waitFor(/cc -o prog [^\r\n]*\r\n[\s\S]*\$ $/, 15_000);
    expect(await js.shell.status()).toBe(0);
    // Each object compiled once: none started again, none skipped.
    expect(js.shell.pty.output().match(/cc -c -o \w+\.o/g)?.sort()).toEqual(objects.map((o) => `cc -c -o ${o}`).sort());
    expect(runAs(u, js.dir, './prog')).toBe('built 15\n');
  });

  it('a parent blocked in waitpid(child) still waits after the thaw, and gets the status the child exits with', async () => {
    const js = await startJobShell(user());
    writeFileSync(
      join(js.dir, 'parent.py'),
      [
        'import os, sys',
        'child = os.fork()',
        'if child == 0:',
        '    os._exit(int(sys.stdin.readline()))',
        'print("waiting for", child, flush=True)',
        'pid, status = os.waitpid(child, 0)',
        'print("collected", pid, "status", os.waitstatus_to_exitcode(status), flush=True)',
        '',
      ].join('\n'),
    );
    js.shell.type(`${PYTHON} parent.py\r`);
    const [, child] = await js.shell.waitFor(/waiting for (\d+)/);
    await jobReading(js, 'python3');
    const { image, report } = await freezeForegroundJob(js, 'parent.ckpt');
    expect(members(report).map((m) => m.pid)).toContain(Number(child));
    await thawInShell(js, image);
    await jobReading(js, 'python3');
    js.shell.type('42\r');
    await js.shell.waitFor(new RegExp(`collected ${child} status 42\\r\\n[\\s\\S]*\\$ $`));
    expect(await js.shell.status()).toBe(0);
  });

  it('zombie members come back, frozen and thawed twice: their parent collects the status each ended with', async () => {
    const js = await startJobShell(user());
    writeFileSync(
      join(js.dir, 'zombies.py'),
      [
        'import os, signal, sys',
        'exits = os.fork()',
        'if exits == 0:',
        '    os._exit(7)',
        'killed = os.fork()',
        'if killed == 0:',
        '    os.kill(os.getpid(), signal.SIGTERM)',
        'print("zombies", exits, killed, flush=True)',
        'sys.stdin.readline()',
        'for pid in (exits, killed):',
        '    got, status = os.waitpid(pid, 0)',
        '    print("collected", got, "status", os.waitstatus_to_exitcode(status), flush=True)',
        '',
      ].join('\n'),
    );
    js.shell.type(`${PYTHON} zombies.py\r`);
    const [, exits, killed] = await js.shell.waitFor(/zombies (\d+) (\d+)/);
    await until(() => [exits, killed].every((pid) => readProc(Number(pid))?.state === 'Z'), 5000, 'both children to end');
    await jobReading(js, 'python3');
    const { image, report } = await freezeForegroundJob(js, 'zombies.ckpt');
    expect(members(report).filter((m) => m.zombie).map((m) => m.pid).sort()).toEqual([Number(exits), Number(killed)].sort());
    await thawInShell(js, image);
    await jobReading(js, 'python3');
    // Frozen again as it came back: in a namespace of its own (always, for an ordinary
    // user), its zombies have numbers there that are not ours; the image keeps theirs,
    // the ones their parent waits for.
    const again = await freezeForegroundJob(js, 'zombies2.ckpt');
    expect(members(again.report).filter((m) => m.zombie)).toHaveLength(2);
    // Under their own name, not the thaw's.
    expect(comms(members(again.report))).toEqual(['python3', 'python3', 'python3']);
    await thawInShell(js, again.image);
    await jobReading(js, 'python3');
    js.shell.type('\r');
    await js.shell.waitFor(new RegExp(`collected ${exits} status 7\\r\\ncollected ${killed} status -15\\r\\n[\\s\\S]*\\$ $`));
    expect(await js.shell.status()).toBe(0);
  });

  it("a pipeline's status after the thaw is its last process's; frozen again once its first has ended, it still is", async () => {
    const js = await startJobShell(user());
    js.shell.type("sh -c 'sleep 1; exit 5' | sh -c 'sleep 3; exit 3'\r");
    await until(() => comms(groupMembers(js.shell.foreground())).join() === 'sh,sh,sleep,sleep', 5000, 'both sleeps');
    const first = await freezeForegroundJob(js, 'pipeline1.ckpt');
    expect(comms(members(first.report))).toEqual(['sh', 'sh', 'sleep', 'sleep']);
    await thawInShell(js, first.image);
    // Its first process ends (5), and with it the group's leader: the group lives on in the last.
    const job = js.shell.foreground();
    await until(() => comms(groupMembers(job)).join() === 'sh,sleep', 5000, 'the first process to end');
    const last = groupMembers(job).find((p) => p.comm === 'sh');
    expect(last?.pid).not.toBe(job);
    js.shell.mark();
    const run = await runCli(['freeze', '--job', '--json', '-o', join(js.dir, 'pipeline2.ckpt'), String(last?.pid)], { root: js.root, uid: js.user?.uid, gid: js.user?.gid });
    expect(run.stderr).toBe('');
    expect(comms(members(JSON.parse(run.stdout) as Record<string, unknown>))).toEqual(['sh', 'sleep']);
    await js.shell.waitFor(/\$ $/);
    // The leader gone, the thaw makes the group with a placeholder: held at its start (as
    // on a busy machine), it must not keep the members out of their group.
    js.shell.mark();
    js.shell.type('export CKPTY_FAULT_STOP=placeholder\r');
    await js.shell.waitFor(/\$ $/);
    const thawed = Date.now();
    await thawInShell(js, join(js.dir, 'pipeline2.ckpt'));
    await js.shell.waitFor(/\$ $/, 5000);
    // The last sleep had a second or more left: the thaw ended with the pipeline, not before.
    expect(Date.now() - thawed).toBeGreaterThan(700);
    expect(await js.shell.status()).toBe(3);
  });

  it('a job whose processes are children of its first: none is left once frozen, so a thaw straight after keeps their PIDs', async () => {
    const js = await startJobShell(user());
    js.shell.type("sh -c 'cat | cat; echo pipe done'\r");
    await until(() => comms(groupMembers(js.shell.foreground())).join() === 'cat,cat,sh', 5000, 'sh and its two cats');
    const job = js.shell.foreground();
    const { image, report } = await freezeForegroundJob(js, 'cats.ckpt');
    const pids = members(report).map((m) => m.pid);
    expect(comms(members(report))).toEqual(['cat', 'cat', 'sh']);
    // The cats' parent collected them before it ended: left to init, they would stay
    // zombies until it reaps them (a second or more on these machines).
    expect(groupMembers(job)).toEqual([]);
    expect(pids.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
    const line = await thawInShell(js, image);
    // Root keeps the image's PIDs in this pid namespace when they are free; the user's thaw
    // is in a namespace of its own.
    expect(/outside its pid namespace/.test(line)).toBe(js.user !== undefined);
    if (!js.user) expect(groupMembers(js.shell.foreground()).map((p) => p.pid).sort()).toEqual([...pids].sort());
    await jobReading(js, 'cat');
    js.shell.mark();
    js.shell.type('ping\r');
    await js.shell.waitFor(/ping\r\n(?:[^\r\n]*\r\n)*ping\r\n/);
    js.shell.type('\x04');
    await js.shell.waitFor(/pipe done\r\n[\s\S]*\$ $/);
    expect(await js.shell.status()).toBe(0);
  });

  it('^Z stops a thawed pipeline whole, fg continues it whole, ^C ends it', async () => {
    const js = await startJobShell(user());
    js.shell.type(`bash -c 'i=0; while :; do i=$((i + 1)); echo "tick $i"; sleep 0.1; done' | cat -n\r`);
    await js.shell.waitFor(/tick 3\r\n/);
    const { image } = await freezeForegroundJob(js, 'ticks.ckpt');
    const last = (): number => Math.max(...[...js.shell.pty.output().matchAll(/\d+\s+tick (\d+)/g)].map((m) => Number(m[1])));
    const frozenAt = last();
    await thawInShell(js, image);
    await js.shell.waitFor(/tick \d+\r\n[\s\S]*tick \d+\r\n/);
    const job = js.shell.foreground();
    // bash forks for every sleep: a child not yet in exec is a second "bash" for a moment.
    await until(() => comms(groupMembers(job)).filter((c) => c !== 'sleep').join() === 'bash,cat', 3000, 'the job to be bash and cat (and a sleep)');

    js.shell.mark();
    js.shell.type('\x1a');
    await js.shell.waitFor(/Stopped[^\r\n]*\r\n[\s\S]*\$ $/);
    await until(() => groupMembers(job).every((p) => p.state === 'T'), 3000, 'every process of the job to stop');
    const stoppedAt = last();
    await ms(500);
    expect(last()).toBe(stoppedAt);

    js.shell.mark();
    js.shell.type('fg\r');
    await js.shell.waitFor(/tick \d+\r\n[\s\S]*tick \d+\r\n/);
    await until(() => groupMembers(job).every((p) => p.state !== 'T'), 3000, 'every process of the job to go on');
    js.shell.mark();
    js.shell.type('\x03');
    await js.shell.waitFor(/\$ $/);
    expect(await js.shell.status()).toBe(130);
    // One count from the first tick to the last: no tick lost or repeated across the freeze and the stop.
    const ticks = [...js.shell.pty.output().matchAll(/(\d+)\s+tick (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(ticks.every(([line, tick]) => line === tick)).toBe(true);
    expect(stoppedAt).toBeGreaterThan(frozenAt);
  });
});

describe('the checkpoint key on a job of several processes', () => {
  // The key's path (the session's choice of the job, the status line, the screen it
  // stores) is the same for every user; freezing and thawing as each user is above.
  it('^E in a ckpty shell freezes man ls with its pager, named by both; the thaw paints the page again; q ends it with status 0', async () => {
    const dir = tempDir('ckpty-jobs-key');
    const term = await startShellSession({ cwd: dir, cols: 80, rows: 24, env: testEnvironment(dir, { LANG: 'C', MANPAGER: 'less', PAGER: 'less' }) });
    let mark = term.mark();
    term.type('man ls\r');
    await term.waitFor(/Manual page ls\(1\) line 1 /, { after: mark });
    term.type('120g');
    await term.waitFor(/Manual page ls\(1\) line 120 /, { after: mark });
    await ms(200);
    const page = await screenOf(term.output);
    mark = term.mark();
    term.type('\x05');
    const [, processes] = await term.waitFor(/ckpt: froze man\|less \((\d+) processes\) -> \S+\/man\.ckpt \([^)]*\)\r\n/, { after: mark });
    expect(Number(processes)).toBe(2);
    await term.prompt(mark);

    mark = term.mark();
    term.type('clear; ckpty thaw man.ckpt\r');
    await term.waitFor(/ckpty: thawed man\|less \(2 processes\)/, { after: mark });
    // The session stored the screen; the thaw paints it before less runs on: no key needed.
    const deadline = Date.now() + 5000;
    let shown = await screenOf(term.output);
    while (shown.join('\n') !== page.join('\n') && Date.now() < deadline) {
      await ms(50);
      shown = await screenOf(term.output);
    }
    expect(shown).toEqual(page);
    mark = term.mark();
    term.type('q');
    await term.prompt(mark);
    expect(await term.run('echo "rc=$?"')).toContain('rc=0');
  });
});

describe('a job image to tools', () => {
  it('ckpty info shows the tree; --extract writes the pager, a member other than the first, as a core gdb shows a backtrace of', async () => {
    const js = await startJobShell();
    js.shell.type('MANPAGER=less man ls\r');
    await js.shell.waitFor(/Manual page ls\(1\) line 1 /);
    await until(() => comms(groupMembers(js.shell.foreground())).join() === 'less,man', 5000, 'man and less alone');
    await jobReading(js, 'less');
    const { image, report } = await freezeForegroundJob(js, 'man.ckpt');
    const [man, less] = members(report);
    expect([man?.comm, less?.comm]).toEqual(['man', 'less']);
    const cli = join(js.root, 'bin/ckpty');
    const info = spawnSync(cli, ['info', image], { encoding: 'utf8' });
    expect(info.status).toBe(0);
    expect(info.stdout).toMatch(new RegExp(`^  ${man?.pid} +- +${man?.pid} +live +man$`, 'm'));
    expect(info.stdout).toMatch(new RegExp(`^   \\\\_ ${less?.pid} +${man?.pid} +${man?.pid} +live +less$`, 'm'));

    const core = join(js.dir, 'p.core');
    const extract = spawnSync(cli, ['info', '--extract', String(less?.pid), '-o', core, image], { encoding: 'utf8' });
    expect(extract.stderr).toBe('');
    expect(extract.status).toBe(0);
    const bt = gdb(core, '/usr/bin/less', ['bt']);
    // less waits for a key: in read(), called from its own code, started by libc.
    expect(bt).toMatch(/^#0 +0x[0-9a-f]+ in (__GI___libc_read|read|__libc_read)\b/m);
    expect(bt).toMatch(/__libc_start_main/);
    expect(bt).not.toMatch(/Cannot access memory|not in executable format/);
  });
});

describe('pipelines with a pager', () => {
  // One user is enough here: the pipes and the pager are what this adds to the cases above.
  it('sort | uniq -c | less frozen on its first page: thawed, G shows the same last line as a run without a freeze', async () => {
    const js = await startJobShell();
    const words = Array.from({ length: 200_000 }, (_, i) => `word${(i * 7919) % 5003}`).join('\n');
    writeFileSync(join(js.dir, 'big'), `${words}\n`);
    const expected = runAs(undefined, js.dir, 'sort big | uniq -c | tail -1').replace(/\n$/, '');
    js.shell.type('sort big | uniq -c | less\r');
    await untilScreen(js, (lines) => /^ +\d+ word0$/.test(lines[0] ?? ''), 'the first page');
    await jobReading(js, 'less');
    const { image, report } = await freezeForegroundJob(js, 'sort.ckpt');
    expect(comms(members(report))).toContain('less');
    await clearScreen(js);
    await thawInShell(js, image);
    await jobReading(js, 'less');
    js.shell.type('G');
    await untilScreen(js, (lines) => lines.some((l) => l === expected), `the last line ${JSON.stringify(expected)}`);
    js.shell.mark();
    js.shell.type('q');
    await js.shell.waitFor(/\$ $/);
    expect(await js.shell.status()).toBe(0);
  });
});

