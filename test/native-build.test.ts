/**
 * The native code (tty/) compiles without a single warning under -Wall -Wextra, checked
 * with -Werror as development and CI build it; a user's `npm install` builds without
 * -Werror, so that a newer compiler's new warning cannot break the install.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers/fixtures.js';

/** `make -C tty ARGS`, with CKPTY_WERROR only as given here (not inherited from CI). */
function make(args: string[], werror: boolean): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.CKPTY_WERROR;
  if (werror) env.CKPTY_WERROR = '1';
  return spawnSync('make', ['-C', join(ROOT, 'tty'), ...args], { encoding: 'utf8', env });
}

describe('the native build', () => {
  it('compiles every program with -Werror (CKPTY_WERROR=1)', () => {
    const bin = tempDir('ckpty-native');
    // -B: everything, whatever tty/bin holds; into a scratch BIN, so the checkout's binaries stay.
    const build = make(['-s', '-B', `BIN=${bin}`], true);
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    expect(readdirSync(bin).sort()).toEqual(['ckpty-freezer', 'ckpty-thawer', 'ckpty_native.node']);
  });

  it('adds -Werror only when asked', () => {
    const commands = (werror: boolean): string[] => {
      const dryRun = make(['-n', '-B', `BIN=${tempDir('ckpty-native')}`], werror);
      expect(dryRun.status, dryRun.stderr).toBe(0);
      // The compiler commands make would run (each has the warning flags).
      return dryRun.stdout.split('\n').filter((line) => line.includes('-Wextra'));
    };
    const plain = commands(false);
    expect(plain).toHaveLength(3);
    for (const line of plain) expect(line).toMatch(/-Wall -Wextra(?!.*-Werror)/);
    for (const line of commands(true)) expect(line).toContain('-Werror');
  });
});
