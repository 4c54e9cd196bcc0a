/**
 * Threads, and every process and thread back under its own PID and TID: real programs
 * in bash on a real pty, frozen with `ckpty freeze --job` and thawed by typing
 * `ckpty thaw` — as root (in this pid namespace, when the numbers are free) and as an
 * unprivileged user (in a user + pid namespace of the thaw's own).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildFixture, childPids, stopProcesses, until } from './helpers/fixtures.js';
import { gdb } from './helpers/freezer.js';
import { AS, freezeForegroundJob, isThawer, startJobShell, thawInShell, type JobShell } from './helpers/job-shell.js';

afterEach(stopProcesses);
/** The NSpid line: one pid per pid namespace the process is in, outermost first. */
function nsPids(pid: number): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'latin1').match(/^NSpid:\s*(.*)$/m)?.[1] ?? '';
  return line.split(/\s+/).filter(Boolean).map(Number);
}

function readdirNumbers(dir: string): number[] {
  return readdirSync(dir).map(Number).sort((a, b) => a - b);
}

/** Processes running ckpty's thawer below the shell: the thaw, and its reaper in a namespace. */
function thawersBelow(js: JobShell): number {
  const below = (pid: number): number[] => childPids(pid).flatMap((kid) => [kid, ...below(kid)]);
  return below(js.shell.pty.pid).filter(isThawer).length;
}

const THREADS_PY = `
import threading, time
counts = [0, 0, 0]
def work(i):
    while True:
        counts[i] += 1
        time.sleep(0.05)
for i in range(3):
    threading.Thread(target=work, args=(i,), daemon=True).start()
threading.Timer(3.0, lambda: print('timer fired', flush=True)).start()
print('ready', flush=True)
while True:
    time.sleep(0.2)
    print('counts', *counts, flush=True)
`;

function lastCounts(text: string): number[] | undefined {
  const all = [...text.matchAll(/counts (\d+) (\d+) (\d+)/g)];
  const last = all[all.length - 1];
  return last ? [Number(last[1]), Number(last[2]), Number(last[3])] : undefined;
}

describe.each(AS)('threads and exact IDs, as $who', ({ user }) => {
  it('a C program: getpid, gettid in each thread, an error-checking mutex and a robust mutex held across the freeze', async () => {
    const js = await startJobShell(user());
    js.shell.type(`${await buildFixture('ids')}\r`);
    const [, pid, tids] = await js.shell.waitFor(/ready pid=(\d+) tids=([\d,]+)/);
    const { image, report } = await freezeForegroundJob(js, 'ids.ckpt');
    expect(report).toMatchObject({ processes: 1, threads: 4 });

    const line = await thawInShell(js, image);
    expect(line).toContain(`ids[${pid}]`);
    const outer = js.shell.foreground();
    expect(nsPids(outer).at(-1)).toBe(Number(pid));
    // Seen from its own namespace, every thread has its TID again.
    const inner = readdirNumbers(`/proc/${outer}/task`).map((tid) => nsPids(tid).at(-1));
    expect(inner.sort()).toEqual([Number(pid), ...(tids ?? '').split(',').map(Number)].sort());
    js.shell.mark();
    process.kill(outer, 'SIGUSR1');
    await js.shell.waitFor(/ids ok/);
  });

  it('python3 with 3 counting threads and a threading.Timer: each thread goes on from its own value, the timer fires once', async () => {
    const js = await startJobShell(user());
    writeFileSync(join(js.dir, 'threads.py'), THREADS_PY);
    js.shell.type('python3 threads.py\r');
    await js.shell.waitFor(/ready[\s\S]*counts[\s\S]*counts \d+ \d+ \d+\r\n/);
    const { image, report } = await freezeForegroundJob(js, 'py.ckpt');
    expect(report).toMatchObject({ processes: 1, threads: 5 });
    const before = lastCounts(js.shell.pty.output());
    expect(js.shell.pty.output()).not.toContain('timer fired');

    await thawInShell(js, image);
    await js.shell.waitFor(/counts \d+ \d+ \d+\r\n[\s\S]*counts \d+ \d+ \d+\r\n/);
    const after = lastCounts(js.shell.since()) ?? [];
    before?.forEach((count, i) => {
      // Started again from 0 it would be far below; each goes on, at its own pace.
      expect(after[i]).toBeGreaterThan(count);
      expect(after[i]).toBeLessThan(count + 40);
    });
    await js.shell.waitFor(/timer fired/, 6000);
    js.shell.type('\x03');
    await js.shell.waitFor(/\$ $/);
    expect(js.shell.since().match(/timer fired/g)).toHaveLength(1);
  });

  it('perl -de0 sees the same $$ after the thaw: no "forked" session', async () => {
    const js = await startJobShell(user());
    js.shell.type('perl -de0\r');
    await js.shell.waitFor(/DB<1>/);
    await js.shell.waitingForInput(await js.shell.child());
    js.shell.type('p $$\r');
    const [, pid] = await js.shell.waitFor(/^(?:\x1b\[0m)*(\d+)\r\n[^\r\n]*DB<2>/m);
    const { image } = await freezeForegroundJob(js, 'perl.ckpt');

    await thawInShell(js, image);
    js.shell.type('\r'); // the debugger's prompt again
    await js.shell.waitFor(/DB<\d+>[^\r\n]*$/);
    js.shell.mark();
    js.shell.type('p $$\r');
    const [, again] = await js.shell.waitFor(/^(?:\x1b\[0m)*(\d+)\r\n[^\r\n]*DB<\d+>/m);
    expect(again).toBe(pid);
    expect(js.shell.since()).not.toMatch(/fork/i);
    js.shell.type('q\r');
    await js.shell.waitFor(/\$ $/);
    expect(await js.shell.status()).toBe(0);
  });

  it('the node REPL (11 threads, epolls, eventfds, pipes): a variable set before the freeze is there after', async () => {
    const js = await startJobShell(user());
    // The REPL's prompt last, with the cursor moved after it when the terminal is not dumb.
    const prompt = /\n(?:\x1b\[\d*[GJ])*> (?:\x1b\[\d+G)?$/;
    js.shell.type(`${process.execPath}\r`);
    await js.shell.waitFor(prompt);
    js.shell.mark();
    js.shell.type('let x = 41\r');
    await js.shell.waitFor(/undefined/);
    await js.shell.waitFor(prompt);
    const { image, report } = await freezeForegroundJob(js, 'node.ckpt');
    expect(report.threads).toBeGreaterThan(4);

    await thawInShell(js, image);
    js.shell.type('x + 1\r');
    await js.shell.waitFor(/^(?:\x1b\[\d+m)*42(?:\x1b\[\d+m)*\r$/m); // coloured on a colour terminal
    js.shell.type('.exit\r');
    await js.shell.waitFor(/\$ $/);
    expect(await js.shell.status()).toBe(0);
  });

  it("vim -u NONE with unsaved text: thawed, :wq saves it", async () => {
    const js = await startJobShell(user());
    js.shell.type('vim -u NONE -N notes.txt\r');
    await js.shell.waitFor(/notes\.txt/);
    js.shell.type('ihello from before the freeze\x1b');
    await js.shell.waitFor(/hello from before the freeze/);
    const { image } = await freezeForegroundJob(js, 'vim.ckpt');

    await thawInShell(js, image);
    js.shell.type(':wq\r');
    await js.shell.waitFor(/\$ $/);
    expect(readFileSync(join(js.dir, 'notes.txt'), 'utf8')).toBe('hello from before the freeze\n');
    expect(await js.shell.status()).toBe(0);
  });
});

describe('a threaded image in gdb', () => {
  it('lists every thread, each with a backtrace', async () => {
    const js = await startJobShell();
    writeFileSync(join(js.dir, 'threads.py'), THREADS_PY);
    js.shell.type('python3 threads.py\r');
    await js.shell.waitFor(/counts \d+ \d+ \d+\r\n/);
    const { image } = await freezeForegroundJob(js, 'py.ckpt');
    const out = gdb(image, '/usr/bin/python3', ['info threads', 'thread apply all bt 2']);
    expect(out.match(/^\*?\s+\d+\s+(?:Thread|LWP) /gm)).toHaveLength(5);
    expect(out.match(/^Thread \d+ \(.*LWP \d+.*\):\r?\n#0 /gm)).toHaveLength(5);
  });
});

describe('freeze and thaw again and again', () => {
  it('20 cycles as an unprivileged user: the same PID, no deeper namespaces, no more helper processes', async () => {
    const js = await startJobShell(AS[1]?.user());
    writeFileSync(join(js.dir, 'threads.py'), THREADS_PY);
    js.shell.type('python3 threads.py\r');
    await js.shell.waitFor(/counts \d+ \d+ \d+\r\n/);
    const pid = js.shell.foreground();
    for (let cycle = 1; cycle <= 20; cycle++) {
      const { image } = await freezeForegroundJob(js, 'cycle.ckpt');
      await thawInShell(js, image);
      js.shell.mark();
      await js.shell.waitFor(/counts \d+ \d+ \d+\r\n/);
      const outer = js.shell.foreground();
      expect(nsPids(outer)).toEqual([outer, pid]);
      expect(thawersBelow(js)).toBe(2);
    }
    js.shell.type('\x03');
    await js.shell.waitFor(/\$ $/);
    expect(await js.shell.status()).toBe(130);
    await until(() => thawersBelow(js) === 0, 3000, 'the thaw and its reaper to end');
  }, 120_000);
});

describe('--new-ids', () => {
  it('is refused for a threaded image, with the reason', async () => {
    const js = await startJobShell();
    js.shell.type(`${await buildFixture('threads')}\r`);
    await js.shell.waitFor(/tick 2/);
    const { image } = await freezeForegroundJob(js, 'threads.ckpt');
    js.shell.mark();
    js.shell.type(`ckpty thaw --new-ids ${image}\r`);
    await js.shell.waitFor(/--new-ids thaws a single process with a single thread; this image holds 1 process with 2 threads/);
    expect(await js.shell.status()).toBe(2);
  });
});
