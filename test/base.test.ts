/** The shared base: JSON-lines framing, the execvp-style program lookup, the command's end when its reader goes. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findProgram } from '../src/base/find-program.js';
import { jsonLine, LineSplitter } from '../src/base/json-lines.js';
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
