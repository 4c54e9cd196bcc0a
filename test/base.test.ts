/** The shared base: JSON-lines framing, the execvp-style program lookup, the command's end when its reader goes or its terminal hangs up. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nodePty from 'node-pty';
import { afterAll, describe, expect, it } from 'vitest';
import { findProgram } from '../src/base/find-program.js';
import { jsonLine, LineSplitter } from '../src/base/json-lines.js';
import { ROOT } from './helpers/fixtures.js';
import { CLI } from './helpers/thaw.js';

describe('JSON lines', () => {
  it('gives back each line once it is complete, wherever the chunks end', () => {
    const lines = new LineSplitter();
    const text = [jsonLine({ op: 'get' }), jsonLine({ op: 'set', ckpt: 20 }), '{"op":'].join('');
    const seen = [...text].flatMap((char) => lines.push(char));
    expect(seen).toEqual(['{"op":"get"}', '{"op":"set","ckpt":20}']);
    expect(lines.pendingLength).toBe('{"op":'.length);
    expect(lines.push('"get"}\n{"op"')).toEqual(['{"op":"get"}']);
  });
});

describe('findProgram', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpty-find-program-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const executable = (path: string): string => {
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, 0o755);
    return path;
  };

  it('finds the first executable file on PATH, skipping directories and files without x', () => {
    for (const sub of ['a', 'b', 'c']) mkdirSync(join(dir, sub));
    mkdirSync(join(dir, 'a', 'tool'));
    writeFileSync(join(dir, 'b', 'tool'), '');
    const found = executable(join(dir, 'c', 'tool'));
    const path = ['a', 'b', 'c'].map((sub) => join(dir, sub)).join(':');
    expect(findProgram('tool', path)).toBe(found);
    expect(findProgram('missing', path)).toBeUndefined();
  });

  it('takes a name with a slash as a path, and an empty PATH entry as the current directory', () => {
    const here = executable(join(dir, 'here'));
    expect(findProgram(here, '')).toBe(here);
    expect(findProgram(join(dir, 'nowhere'), '/usr/bin')).toBeUndefined();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(findProgram('here', `/nonexistent::/usr/bin`)).toBe(here);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('the ckpty command, read by a program that stops early', () => {
  it('ends quietly with the status of SIGPIPE when its reader is gone (`ckpty --help | head -1`)', () => {
    // The reader has ended before ckpty writes: its first write meets a closed pipe.
    const run = spawnSync('bash', ['-c', `{ sleep 0.3; '${CLI}' --help; } | true; echo "status \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`status ${128 + constants.signals.SIGPIPE}\n`);
  });
});

describe('a terminal that hangs up as ckpty ends', () => {
  // Node puts its terminals' modes back at exit and aborts (SIGABRT, or SIGSEGV printing
  // its backtrace) when one has hung up. A session can end just as its terminal goes: its
  // front end then ends by SIGHUP instead (dieOfHangUpAtExit). Here a Node process on a
  // pty whose master closes takes the SIGHUP, as a session front end does, and exits
  // normally 100 ms later; without the guard it shows what Node does (no core file).
  const how = (signal: number | undefined): string =>
    signal === constants.signals.SIGHUP ? 'SIGHUP' : signal === constants.signals.SIGABRT || signal === constants.signals.SIGSEGV ? 'crash' : `signal ${signal}`;
  it.each([
    ['with dieOfHangUpAtExit: ends by SIGHUP', true, 'SIGHUP'],
    ['without it: Node crashes', false, 'crash'],
  ])('%s', async (_name, guarded, expected) => {
    const program = [
      `const { dieOfHangUpAtExit } = await import(${JSON.stringify(join(ROOT, 'dist/base/hang-up.js'))});`,
      guarded ? 'dieOfHangUpAtExit();' : '',
      "process.on('SIGHUP', () => setTimeout(() => process.exit(0), 100));",
      "process.stdout.write('ready\\n');",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const term = nodePty.spawn('prlimit', ['--core=0', '--', process.execPath, '--input-type=module', '-e', program], { cols: 80, rows: 24, cwd: tmpdir() });
    const exit = new Promise<{ exitCode: number; signal?: number }>((resolve) => term.onExit(resolve));
    await new Promise<void>((resolve) => term.onData((data) => data.includes('ready') && resolve()));
    // node-pty's UnixTerminal.destroy (not in IPty's types) closes the master: the kernel hangs the terminal up.
    (term as unknown as { destroy(): void }).destroy();
    expect(how((await exit).signal)).toBe(expected);
  });
});
