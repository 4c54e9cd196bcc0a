/** The shared base: JSON-lines framing and the execvp-style program lookup. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findProgram } from '../src/base/find-program.js';
import { jsonLine, LineSplitter } from '../src/base/json-lines.js';

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
