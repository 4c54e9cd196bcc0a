/**
 * The checkpoint key in a live `ckpty shell` session, driven through a real terminal
 * by typing, as a user would. The kernel's own line discipline (bash, od, python in
 * raw mode) and the real freezer are the oracles.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, tempDir, until } from './helpers/fixtures.js';
import { cleanLines, startShellSession, stopSessionsAndProcesses, type TestTerminal } from './helpers/host.js';

const CTRL_E = '\x05';
const FROZEN_STATUS = '161';

let counter: string;
beforeAll(async () => {
  counter = await buildFixture('counter');
});
afterEach(stopSessionsAndProcesses);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Start the counter as the foreground job; its pid and the count it has shown. */
async function startCounter(term: TestTerminal, interval = 100): Promise<number> {
  const mark = term.mark();
  term.type(`${counter} ${interval}\r`);
  const [, pid] = await term.waitFor(/ready pid=(\d+)/, { after: mark });
  await term.waitFor(/count 2\r\n/, { after: mark });
  return Number(pid);
}

function lastCount(text: string): number {
  const counts = [...text.matchAll(/count (\d+)/g)].map((match) => Number(match[1]));
  return counts.at(-1) ?? -1;
}

/** Bytes a program receives, shown by od: type `keys`, then Enter and ^D. */
async function bytesReceived(term: TestTerminal, keys: string): Promise<string> {
  const mark = term.mark();
  term.type('od -An -tx1\r');
  await term.waitFor(/od -An -tx1\r\n/, { after: mark });
  term.type(keys);
  term.type('\r\x04');
  await term.prompt(mark);
  const lines = cleanLines(term.since(mark)).split('\n');
  return lines.filter((line) => /^( [0-9a-f]{2})+$/.test(line)).join('').trim();
}

describe('the checkpoint key', () => {
  it('freezes the foreground job: image named by the template, job gone, status line, prompt back', async () => {
    const dir = tempDir('ckpty-host');
    const term = await startShellSession({ cwd: dir, cols: 160, ckptyArgs: ['--name-template', '%N-%P.ckpt'] });
    const pid = await startCounter(term);
    const mark = term.mark();
    term.type(CTRL_E);
    const [status] = await term.waitFor(/ckpt: froze counter\[\d+\] -> \S+ \([\d.]+ [KM]?i?B, [\d.]+ ms\)\r\n/, { after: mark });
    const image = join(dir, `counter-${pid}.ckpt`);
    expect(status).toContain(`counter[${pid}] -> ${image} (`);
    await term.prompt(mark);
    // On the screen the status line sits on its own line, after the key's echo and before the prompt.
    expect((await term.screen()).slice(-3)).toEqual([expect.stringMatching(/count \d+\^E$|^\^E$/), status.trim(), 'PROMPT$ ']);
    expect(existsSync(image)).toBe(true);
    expect(isAlive(pid)).toBe(false);
    expect(await term.run('echo status=$?')).toContain(`status=${FROZEN_STATUS}`);
  });

  it('leaves ^E to the shell at its own prompt (end of line in readline)', async () => {
    const dir = tempDir('ckpty-host');
    const term = await startShellSession({ cwd: dir });
    const mark = term.mark();
    // ^A (start of line), ^E (end of line), then c: "echo abc".
    term.type('echo ab\x01');
    term.type(CTRL_E);
    term.type('c\r');
    await term.prompt(mark);
    expect(cleanLines(term.since(mark))).toMatch(/\nabc\n/);
    expect(term.since(mark)).not.toContain('ckpt:');
    expect(readdirSync(dir).filter((name) => name.endsWith('.ckpt'))).toEqual([]);
  });

  it('passes ^E quoted by ^V (LNEXT) to a program in canonical mode, in one chunk or two', async () => {
    const term = await startShellSession({ cwd: tempDir('ckpty-host') });
    expect(await bytesReceived(term, `\x16${CTRL_E}`)).toBe('05 0a');
    const mark = term.mark();
    term.type('od -An -tx1\r');
    await term.waitFor(/od -An -tx1\r\n/, { after: mark });
    term.type('\x16');
    await new Promise((resolve) => setTimeout(resolve, 100));
    term.type(`${CTRL_E}x\r\x04`);
    await term.prompt(mark);
    expect(cleanLines(term.since(mark))).toContain(' 05 78 0a');
  });

  it('gives the byte to programs with ISIG off (stty -isig, raw mode)', async () => {
    const term = await startShellSession({ cwd: tempDir('ckpty-host') });
    await term.run('stty -isig');
    expect(await bytesReceived(term, CTRL_E)).toBe('05 0a');
    await term.run('stty isig');
    const mark = term.mark();
    term.type(
      `python3 -c 'import sys, tty; tty.setraw(0); print("raw", end="\\r\\n", flush=True); print(sys.stdin.buffer.read(1).hex(), end="\\r\\n")'\r`,
    );
    await term.waitFor(/\rraw\r\n/, { after: mark });
    term.type(CTRL_E);
    await term.waitFor(/\rraw\r\n05\r\n/, { after: mark });
    await term.prompt(mark);
  });

  it('switches keys with stty ckpt ^T, and stty ckpt undef disables the key', async () => {
    const dir = tempDir('ckpty-host');
    const term = await startShellSession({ cwd: dir });
    await term.run('stty ckpt ^T');
    expect(await bytesReceived(term, CTRL_E)).toBe('05 0a');
    const pid = await startCounter(term);
    let mark = term.mark();
    term.type('\x14');
    await term.waitFor(/\^T\r\nckpt: froze counter/, { after: mark });
    await term.prompt(mark);
    expect(isAlive(pid)).toBe(false);

    await term.run('stty ckpt undef');
    const second = await startCounter(term);
    mark = term.mark();
    term.type(`${CTRL_E}\x14`);
    await term.waitFor(/count \d+\r\ncount \d+\r\n/, { after: mark });
    expect(term.since(mark)).not.toContain('ckpt:');
    expect(isAlive(second)).toBe(true);
    term.type('\x03');
    await term.prompt(mark);
  });

  it('freezes a whole pipeline, a program with its child and a threaded program, each one job named by its programs', async () => {
    const dir = tempDir('ckpty-host');
    const term = await startShellSession({ cwd: dir, cols: 160 });
    const freezes = async (command: string, started: RegExp, status: RegExp): Promise<void> => {
      const mark = term.mark();
      term.type(`${command}\r`);
      await term.waitFor(started, { after: mark });
      await new Promise((resolve) => setTimeout(resolve, 300));
      term.type(CTRL_E);
      await term.waitFor(status, { after: mark });
      await term.prompt(mark);
    };
    await freezes('sleep 100 | cat', /sleep 100 \| cat\r\n/, /ckpt: froze sleep\|cat \(2 processes\) -> \S+\/sleep\.ckpt \(.*\)\r\n/);
    await freezes("bash -c 'sleep 100; true'", /true'\r\n/, /ckpt: froze bash\|sleep \(2 processes\) -> \S+\/bash\.ckpt \(.*\)\r\n/);
    await freezes(
      `python3 -c 'import threading, time; threading.Thread(target=time.sleep, args=(100,), daemon=True).start(); print("threads up"); time.sleep(100)'`,
      /threads up\r\n/,
      /ckpt: froze python3\[\d+\] -> \S+\/python3\.ckpt \(.*\)\r\n/,
    );
    // The pipeline comes back whole, in the foreground: ^C ends it as it would have.
    const mark = term.mark();
    term.type('ckpty thaw sleep.ckpt\r');
    await term.waitFor(/ckpty: thawed sleep\|cat \(2 processes\) from /, { after: mark });
    term.type('\x03');
    await term.prompt(mark);
    expect(await term.run('echo "rc=$?"')).toContain('rc=130');
  });

  it('refuses a job that opted out with ulimit -c 0, which runs on (`ckpty freeze PID` would not refuse it)', async () => {
    const term = await startShellSession({ cwd: tempDir('ckpty-host'), cols: 160 });
    await term.run('ulimit -S -c 0');
    const pid = await startCounter(term);
    const mark = term.mark();
    term.type(CTRL_E);
    await term.waitFor(/ckpt: counter\[\d+\] not frozen: its core file size limit \(RLIMIT_CORE, ulimit -c\) is 0: it opted out of the checkpoint key\r\n/, {
      after: mark,
    });
    const counted = lastCount(term.since(mark));
    await until(() => lastCount(term.since(mark)) > counted + 1, 3000, 'the counter to count on');
    expect(isAlive(pid)).toBe(true);
    term.type('\x03');
    await term.prompt(mark);
  });

  it('prints a refusal at once after `clear` (the job writes lines), holds it with a bell while a job places its text by position', async () => {
    const term = await startShellSession({ cwd: tempDir('ckpty-host'), cols: 160 });
    await term.run('ulimit -S -c 0');
    const refusal = /ckpt: counter\[\d+\] not frozen: its core file size limit/;
    let mark = term.mark();
    term.type(`clear; ${counter} 100\r`);
    await term.waitFor(/count 2\r\n/, { after: mark });
    term.type(CTRL_E);
    await term.waitFor(refusal, { after: mark });
    expect(term.since(mark)).not.toContain('\x07');
    term.type('\x03');
    await term.prompt(mark);

    mark = term.mark();
    term.type(`printf '\\033[5;1H'; ${counter} 100\r`);
    await term.waitFor(/count 2\r\n/, { after: mark });
    term.type(CTRL_E);
    await term.waitFor(/\x07/, { after: mark });
    const counted = lastCount(term.since(mark));
    await until(() => lastCount(term.since(mark)) > counted + 3, 3000, 'the counter to count on');
    expect(term.since(mark)).not.toMatch(refusal);
    term.type('\x03');
    await term.waitFor(refusal, { after: mark });
    await term.prompt(mark);
  });

  it('flushes typed-ahead input unless noflsh', async () => {
    const term = await startShellSession({ cwd: tempDir('ckpty-host') });
    await startCounter(term);
    let mark = term.mark();
    // Typed while the counter runs (it does not read): without the flush the shell would run it.
    term.type('echo LE""AK1\r');
    await new Promise((resolve) => setTimeout(resolve, 150));
    term.type(CTRL_E);
    await term.waitFor(/ckpt: froze/, { after: mark });
    await term.prompt(mark);
    expect(await term.run('echo after')).not.toContain('LEAK1');
    expect(term.since(mark)).not.toContain('LEAK1');

    await term.run('stty noflsh');
    await startCounter(term);
    mark = term.mark();
    term.type('echo LE""AK2\r');
    await new Promise((resolve) => setTimeout(resolve, 150));
    term.type(CTRL_E);
    await term.waitFor(/ckpt: froze/, { after: mark });
    await term.waitFor(/\rLEAK2\r\n/, { after: mark });
  });

  it('freezes once when the key is pressed twice quickly', async () => {
    const dir = tempDir('ckpty-host');
    const term = await startShellSession({ cwd: dir });
    await startCounter(term);
    const mark = term.mark();
    term.type(CTRL_E + CTRL_E);
    await term.waitFor(/ckpt: froze/, { after: mark });
    await term.prompt(mark);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(term.since(mark).match(/ckpt:/g)).toHaveLength(1);
    expect(await term.run('echo still here')).toContain('still here');
  });

  it("holds the terminal's output while a freeze is written (the stored screen is complete), then lets it go on: nothing lost", async () => {
    const memory = await buildFixture('memory');
    const term = await startShellSession({ cwd: tempDir('ckpty-host'), cols: 160 });
    let mark = term.mark();
    term.type('(i=0; while :; do i=$((i+1)); echo "flood $i"; sleep 0.01; done) &\r');
    await term.waitFor(/flood 3\r\n/, { after: mark });
    mark = term.mark();
    term.type(`${memory} anon 128\r`);
    await term.waitFor(/ready pid=\d+/, { after: mark });
    term.type(CTRL_E);
    await term.waitFor(/ckpt: froze memory\[\d+\] -> \S+ \(128 MiB/, { after: mark, timeoutMs: 30_000 });
    const during = term.since(mark).split('^E')[1]!.split('ckpt: froze')[0]!;
    // The background job's writes waited while the key's job was being frozen (a line it
    // wrote just before the key may still be read then, not a hundred ms of its output) ...
    expect(during.match(/flood \d+/g)?.length ?? 0).toBeLessThanOrEqual(2);
    // ... and went on after it: every number once, in order.
    const last = Number([...during.matchAll(/flood (\d+)/g)].pop()?.[1] ?? /.*flood (\d+)/s.exec(term.since(mark).split('^E')[0]!)![1]);
    await term.waitFor(new RegExp(`flood ${last + 3}\r\n`), { after: mark });
    const numbers = [...term.since(mark).matchAll(/flood (\d+)/g)].map((m) => Number(m[1]));
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
  });

  it('takes a snapshot with --snapshot: the job runs on; --quiet prints no status', async () => {
    const dir = tempDir('ckpty-host');
    const term = await startShellSession({ cwd: dir, ckptyArgs: ['--snapshot'] });
    const pid = await startCounter(term);
    let mark = term.mark();
    term.type(CTRL_E);
    await term.waitFor(/ckpt: snapshot of counter\[\d+\] -> .*\r\n/, { after: mark });
    mark = term.mark();
    await term.waitFor(/count \d+\r\ncount \d+\r\n/, { after: mark });
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(join(dir, 'counter.ckpt'))).toBe(true);

    const quiet = await startShellSession({ cwd: tempDir('ckpty-host'), ckptyArgs: ['--quiet'] });
    const quietPid = await startCounter(quiet);
    mark = quiet.mark();
    quiet.type(CTRL_E);
    await quiet.prompt(mark);
    await until(() => !isAlive(quietPid), 5000, 'the frozen counter to end');
    expect(quiet.since(mark)).not.toContain('ckpt:');
  });
});
