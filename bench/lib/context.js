/**
 * The bench's environment: where ckpty and its build live, a scratch directory on the
 * bench directory's filesystem (images, gcore files, dd output: all removed at exit),
 * the compiled fixtures, and which features of ckpty and which tools are there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './cleanup.js';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
export const ROOT = join(BENCH_DIR, '..');
export const CLI = join(ROOT, 'bin', 'ckpty');
export const DIST = join(ROOT, 'dist');

export function createWorkDir(parent) {
  const dir = join(parent, `.work-${process.pid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  track.path(dir);
  return dir;
}

/** cc the C fixtures into the work dir (the same flags as tty/). */
export function compileFixtures(workDir) {
  const bin = join(workDir, 'bin');
  mkdirSync(bin, { recursive: true });
  const built = {};
  for (const name of ['launch', 'hog']) {
    built[name] = join(bin, name);
    execFileSync('cc', ['-O2', '-std=c11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror', '-o', built[name], join(BENCH_DIR, 'fixtures', `${name}.c`)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return built;
}

function which(name) {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  return undefined;
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Does `ckpty <command> --help` work? (The command is registered and the build is current.) */
function cliHas(command) {
  const result = spawnSync(CLI, [command, '--help'], { stdio: 'ignore', timeout: 20_000 });
  return result.status === 0;
}

const ok = { ok: true };
const missing = (reason) => ({ ok: false, reason });

/** Each feature: { ok } or { ok: false, reason } — the reason goes into the rows that need it. */
export function detectFeatures() {
  const built = existsSync(CLI) && existsSync(join(DIST, 'cli', 'main.js'));
  const notBuilt = missing('dist/ is not built (npx tsc -p tsconfig.json)');
  const tool = (name) => (which(name) ? { ok: true, path: which(name) } : missing(`${name} is not installed`));
  const freezer = join(ROOT, 'tty', 'bin', 'ckpty-freezer');
  const thawer = join(ROOT, 'tty', 'bin', 'ckpty-thawer');
  return {
    freezeFunction: !existsSync(freezer)
      ? missing('tty/bin/ckpty-freezer is not built (make -C tty)')
      : existsSync(join(DIST, 'freezer', 'freeze.js'))
        ? ok
        : missing('src/freezer (freezeProcess) is not built'),
    freezeCommand: !built ? notBuilt : cliHas('freeze') ? ok : missing('`ckpty freeze` does not exist yet'),
    thawCommand: !built ? notBuilt : cliHas('thaw') ? ok : missing('`ckpty thaw` does not exist yet'),
    thawer: executable(thawer) ? { ok: true, path: thawer } : missing('tty/bin/ckpty-thawer is not built'),
    session: existsSync(join(DIST, 'host', 'session.js')) ? ok : missing('src/host (Session) is not built'),
    shellCommand: !built ? notBuilt : cliHas('shell') ? ok : missing('`ckpty shell` does not exist yet'),
    fullScreen: existsSync(join(DIST, 'terminal', 'app.js')) ? ok : missing('the full-screen terminal (src/terminal) is not built'),
    gcore: tool('gcore'),
    tmux: which('tmux') ? tool('tmux') : missing('tmux is not installed (apt-get install tmux)'),
    dd: tool('dd'),
    bc: tool('bc'),
    python3: existsSync('/usr/bin/python3') ? { ok: true, path: '/usr/bin/python3' } : tool('python3'),
  };
}

/**
 * tmux is a baseline of the throughput and keystroke rows (issue 8: "installed by the
 * bench if missing"). Only root can install it; anyone else gets a row saying so.
 */
export function installTmuxIfMissing() {
  if (which('tmux') || process.geteuid?.() !== 0 || !which('apt-get')) return;
  process.stderr.write('bench: installing tmux (apt-get install tmux)\n');
  spawnSync('apt-get', ['install', '-y', '-qq', 'tmux'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
}

/** Bytes free for an unprivileged writer on DIR's filesystem. */
export function freeDisk(dir) {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** MemAvailable: what can be allocated without swapping or reclaiming hard. */
export function availableMemory() {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
