/**
 * `ckpty shell --record`: a real session on a real pty, typed into like a user would,
 * and its recording read back by our validator and by asciinema.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as nodePty from 'node-pty';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { asciinemaCat, CKPTY_CLI, eventually, hasAsciinema, markersOf, outputOf, readCast, removeScratchDirs, runCkpty, scratchDir } from './helpers/recorder.js';

afterAll(removeScratchDirs);

class RecordedShell {
  readonly pty: nodePty.IPty;
  output = '';
  exit: Promise<number>;

  constructor(args: string[], cwd: string) {
    this.pty = nodePty.spawn(CKPTY_CLI, ['shell', ...args, '--', 'bash', '--noprofile', '--norc', '-i'], {
      cols: 80,
      rows: 24,
      cwd,
      env: { ...process.env, PS1: '$ ', HISTFILE: '/dev/null', TERM: 'xterm-256color', SHELL: '/bin/bash' },
    });
    this.pty.onData((data) => (this.output += data));
    this.exit = new Promise((resolve) => this.pty.onExit(({ exitCode }) => resolve(exitCode)));
  }

  async type(text: string): Promise<void> {
    this.pty.write(text);
  }

  async waitFor(text: string | RegExp, timeoutMs = 15_000): Promise<void> {
    const found = () => (typeof text === 'string' ? this.output.includes(text) : text.test(this.output));
    await eventually(found, timeoutMs, `${text} in the session's output:\n${this.output}`);
  }
}

const shells: RecordedShell[] = [];
function start(args: string[], cwd: string): RecordedShell {
  const shell = new RecordedShell(args, cwd);
  shells.push(shell);
  return shell;
}
afterEach(() => {
  for (const shell of shells.splice(0)) shell.pty.kill('SIGKILL');
});

describe('ckpty shell --record', () => {
  it('records output and resizes, not input, in a valid asciicast v2 file', async () => {
    const dir = scratchDir();
    const path = join(dir, 's.cast');
    const shell = start(['--record', path], dir);
    await shell.waitFor('$ ');
    await shell.type('echo secret-typed-$((40+2))\r');
    await shell.waitFor('secret-typed-42');
    shell.pty.resize(100, 30);
    // ckpty passes the size on when its SIGWINCH arrives: ask the inner pty after that.
    await eventually(() => readFileSync(path, 'utf8').includes('"r","100x30"'), 15_000, 'the resize event');
    await shell.type('stty size\r');
    await shell.waitFor('30 100');
    await shell.type('exit\r');
    expect(await shell.exit).toBe(0);

    const cast = readCast(path);
    expect(cast.header).toMatchObject({ version: 2, width: 80, height: 24, env: { TERM: 'xterm-256color', SHELL: '/bin/bash' }, title: 'ckpty: bash' });
    expect(Math.abs((cast.header.timestamp ?? 0) - Date.now() / 1000)).toBeLessThan(120);
    expect(cast.events.filter((event) => event.code === 'r')).toEqual([expect.objectContaining({ data: '100x30' })]);
    expect(cast.events.some((event) => event.code === 'i')).toBe(false);
    const output = outputOf(cast);
    expect(output).toContain('secret-typed-42');
    expect(output).toContain('30 100');
    // The recording holds what the terminal showed, in order.
    expect(shell.output).toContain(output.slice(0, 200));
    if (hasAsciinema) {
      const cat = await asciinemaCat(path);
      expect(cat.exitCode).toBe(0);
      expect(cat.output).toBe(output);
    }
  });

  it('records keyboard input only with --record-input', async () => {
    const dir = scratchDir();
    const path = join(dir, 'i.cast');
    const shell = start(['--record', path, '--record-input'], dir);
    await shell.waitFor('$ ');
    await shell.type('echo abc\r');
    await shell.waitFor('abc\r\n');
    await shell.type('exit\r');
    await shell.exit;
    const input = readCast(path)
      .events.filter((event) => event.code === 'i')
      .map((event) => event.data)
      .join('');
    expect(input).toBe('echo abc\rexit\r');
  });

  it('puts a marker and the status line at a freeze and at a refusal, and a marker at a thaw', async () => {
    const dir = scratchDir();
    const path = join(dir, 'f.cast');
    const shell = start(['--record', path], dir);
    await shell.waitFor('$ ');
    // No `ulimit -c` needed: the session lifts Debian's soft core limit of 0 for its jobs.
    await shell.type('bc -q\r');
    await shell.type('x = 6 * 7\r');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await shell.type('\x05');
    await shell.waitFor(/ckpt: froze bc\[\d+\] -> .*bc\.ckpt/);
    await shell.type(`${CKPTY_CLI} thaw bc.ckpt\r`);
    await shell.waitFor(/thawed bc\[\d+\] from /);
    await shell.type('x + 1\r');
    await shell.waitFor(/^43\r$/m);
    await shell.type('quit\r');
    await shell.type('ulimit -c 0; sleep 100\r');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await shell.type('\x05');
    await shell.waitFor(/ckpt: sleep\[\d+\] not frozen: /);
    await shell.type('\x03exit\r');
    await shell.exit;

    const cast = readCast(path);
    const markers = markersOf(cast);
    expect(markers).toHaveLength(3);
    // Durations under 10 ms carry a tenth (formatMilliseconds): a freeze of bc can take 9.4 ms.
    expect(markers[0]).toMatch(new RegExp(`^froze bc\\[\\d+\\] -> ${dir}/bc\\.ckpt \\([\\d.]+ [KM]iB, \\d+(\\.\\d)? ms\\)$`));
    expect(markers[1]).toMatch(new RegExp(`^thawed bc\\[\\d+\\] from ${dir}/bc\\.ckpt$`));
    expect(markers[2]).toMatch(/^sleep\[\d+\] not frozen: .*RLIMIT_CORE/);
    const output = outputOf(cast);
    expect(output).toContain(`ckpt: ${markers[0]}\r\n`);
    expect(output).toContain(`ckpt: ${markers[2]}\r\n`);
    // Each checkpoint marker sits right after the status line that announced it.
    for (const marker of [markers[0], markers[2]]) {
      const index = cast.events.findIndex((event) => event.code === 'm' && event.data === marker);
      expect(cast.events.slice(0, index).map((event) => event.data).join('')).toContain(`ckpt: ${marker}`);
    }
  });

  it('refuses to start a session it cannot record', async () => {
    const dir = scratchDir();
    const started = Date.now();
    const result = await runCkpty(['shell', '--record', join(dir, 'no/such/dir/x.cast'), '--', 'sleep', '100']);
    expect(result.status).toBe(6);
    expect(result.stderr).toMatch(/^ckpty: .*\/no\/such\/dir\/x\.cast: cannot write: ENOENT/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('leaves a valid recording up to its last event when ckpty is killed with SIGKILL', async () => {
    const dir = scratchDir();
    const path = join(dir, 'k.cast');
    const shell = start(['--record', path], dir);
    await shell.waitFor('$ ');
    await shell.type('seq 1 3000000\r');
    await eventually(() => readFileSync(path, 'utf8').length > 200_000, 30_000, 'the recording to grow');
    shell.pty.kill('SIGKILL');
    await shell.exit;

    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const cast = readCast(path);
    expect(cast.truncatedLine).toBeUndefined();
    expect(cast.events.length).toBeGreaterThan(10);
    expect(outputOf(cast)).toContain('seq 1 3000000\r\n\x1b[?2004l\r1\r\n2\r\n3\r\n');
    if (hasAsciinema) {
      const cat = await asciinemaCat(path);
      expect(cat.exitCode).toBe(0);
      expect(cat.output).toBe(outputOf(cast));
    }
  });
});
