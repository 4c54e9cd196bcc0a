/**
 * What the C and the TypeScript sides must agree on, checked from both sides' own
 * sources and programs: the failure classes (tty/common/error.h) against ckpty's exit
 * codes, and the wording of sizes, durations and jobs (tty/common/words.c against
 * src/base/format.ts), which a user sees from either side.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/base/errors.js';
import { formatBytes, formatMilliseconds, jobLabel } from '../src/base/format.js';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { seededRandom } from './helpers/prng.js';

/** The enum ck_class of error.h, by name. */
function nativeClasses(): Map<string, number> {
  const header = readFileSync(join(ROOT, 'tty/common/error.h'), 'utf8');
  const body = /enum ck_class \{([\s\S]*?)\};/.exec(header)?.[1] ?? '';
  return new Map([...body.matchAll(/(CK_\w+) = (\d+)/g)].map((m) => [m[1] as string, Number(m[2])]));
}

describe('failure classes', () => {
  it("every class of the native programs is ckpty's exit code of the same meaning", () => {
    const classes = nativeClasses();
    const expected: Record<string, number> = {
      CK_OK: ExitCode.ok,
      CK_USAGE: ExitCode.usage,
      CK_UNSUPPORTED: ExitCode.unsupported,
      CK_PERMISSION: ExitCode.permission,
      CK_BAD_IMAGE: ExitCode.badImage,
      CK_IO: ExitCode.io,
      CK_CHANGED: ExitCode.changed,
      CK_NOT_FOUND: ExitCode.notFound,
      // The freezer's own two, which tty/freezer/main.c (exit_code_of) maps to io and failure.
      CK_TARGET: 9,
      CK_NOT_RESTORED: 10,
      CK_INTERNAL: ExitCode.internal,
    };
    expect(Object.fromEntries(classes)).toEqual(expected);
    const ckptyCodes = new Set<number>(Object.values(ExitCode));
    expect(ckptyCodes.has(9) || ckptyCodes.has(10)).toBe(false);
  });
});

describe('wording', () => {
  /** The native words for each request line (tty/test/words.c). */
  function nativeWords(requests: string[]): string[] {
    const binary = join(tempDir('ckpty-words'), 'words');
    const cc = spawnSync('cc', ['-std=c11', '-D_GNU_SOURCE', '-Wall', '-Werror', '-I', join(ROOT, 'tty/common'), '-o', binary,
      join(ROOT, 'tty/test/words.c'), join(ROOT, 'tty/common/words.c'), '-lm'], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
    const run = spawnSync(binary, [], { input: `${requests.join('\n')}\n`, encoding: 'utf8' });
    return run.stdout.split('\n').slice(0, requests.length);
  }

  it('sizes, durations and job names read the same from C and from TypeScript', () => {
    const random = seededRandom(20261201);
    // Edges where rounding decides: ties, unit changes, one decimal or none.
    const bytes = [0, 1, 1023, 1024, 1535, 1536, 10 * 1024 - 52, 10 * 1024 - 51, 10239, 10240, 1048524, 1048525, 1048576, 2 ** 40, 2 ** 53 - 1];
    for (let i = 0; i < 300; i++) bytes.push(Math.floor(random() ** 3 * 2 ** 36));
    const ms = [0, 0.05, 0.15, 0.25, 9.949, 9.95, 9.96, 10, 10.5, 11.5, 1234.5];
    for (let i = 0; i < 300; i++) ms.push(Math.round(random() ** 2 * 2000 * 1000) / 1000);
    const names = ['man', 'less', 'groff', 'sort', 'uniq', 'sh'];
    const jobs: { pid: number; names: string[]; processes: number }[] = [{ pid: 1, names: ['bc'], processes: 1 }];
    for (let i = 0; i < 100; i++) {
      const n = 1 + Math.floor(random() * 8);
      const members = Array.from({ length: n }, () => names[Math.floor(random() * names.length)] as string);
      jobs.push({ pid: 100 + i, names: members, processes: n - Math.floor(random() * n) });
    }
    const requests = [
      ...bytes.map((b) => `bytes ${b}`),
      ...ms.map((m) => `ms ${m}`),
      ...jobs.map((j) => `job ${j.pid} ${j.processes} ${j.names.join(' ')}`),
    ];
    const expected = [
      ...bytes.map((b) => formatBytes(b)),
      ...ms.map((m) => formatMilliseconds(m)),
      ...jobs.map((j) => jobLabel(j.pid, j.names, j.processes)),
    ];
    const native = nativeWords(requests);
    const differences = requests.flatMap((request, i) => (native[i] === expected[i] ? [] : [`${request}: C "${native[i]}", TypeScript "${expected[i]}"`]));
    expect(differences).toEqual([]);
  });
});
