/**
 * Installing ckpty the ecosystem's way, as a user would: `npm pack` a copy of this
 * checkout (what a fresh clone holds), `npm install -g` the tarball into a fresh
 * prefix, then run the `ckpty` that landed on that prefix's PATH. The install compiles
 * the native code (ckpty's `install` script) and node-pty from source: about a minute,
 * hence the long timeout, once per run.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FROZEN_EXIT_STATUS } from '../src/base/errors.js';
import { ROOT, buildFixture, startProcess, stopProcesses, tempDir } from './helpers/fixtures.js';
import { processesRunning, startThaw, stopThaws } from './helpers/thaw.js';

const INSTALL_TIMEOUT = 5 * 60_000;

afterEach(() => {
  stopThaws();
  stopProcesses();
});
/**
 * The environment of a user's shell: none of the npm_* settings `npm test` hands its
 * children (npm would take them as its own configuration, e.g. the project's prefix),
 * and no CKPTY_WERROR (a user's build does not turn warnings into errors).
 */
function userEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'CKPTY_WERROR'));
}

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: userEnvironment(), timeout: INSTALL_TIMEOUT });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stderr}`);
  return result;
}

/**
 * A copy of the checkout as a clone would have it: the files git tracks or would track
 * (ignored build outputs left out). Packing happens there because `npm pack` rebuilds
 * dist/, which the other tests use meanwhile; the dev dependencies it needs (tsc) come
 * from the checkout's node_modules.
 */
function cloneOfCheckout(): string {
  const clone = tempDir('ckpty-clone');
  const listed = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT).stdout.split('\0');
  for (const file of listed.filter((f) => f !== '' && existsSync(join(ROOT, f)))) {
    cpSync(join(ROOT, file), join(clone, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  return clone;
}

/** What the tarball may hold: the compiled JavaScript, the C sources and their Makefile, the docs. */
const SHIPPED = [
  /^package\.json$/,
  /^README\.md$/,
  /^bin\/ckpty$/,
  /^dist\/.+\.js$/,
  /^tty\/(Makefile|ckpty|stty)$/,
  /^tty\/(addon|common|freezer|thawer)\/[\w-]+\.[ch]$/,
];

let tarball: string;
let contents: string[];
let prefix: string;
let ckpty: string;

beforeAll(() => {
  const packed = tempDir('ckpty-pack');
  const [pack] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', packed], cloneOfCheckout()).stdout) as { filename: string }[];
  tarball = join(packed, pack?.filename ?? '');
  contents = run('tar', ['-tzf', tarball], packed)
    .stdout.split('\n')
    .filter((line) => line !== '' && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''));
  prefix = tempDir('ckpty-prefix');
  // npm 11 asks for install scripts to be allowed (ckpty's and node-pty's compile C); older npm ignores this.
  const allow = ['--allow-scripts=node-pty', `--allow-scripts=${tarball}`];
  run('npm', ['install', '-g', tarball, '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', ...allow], packed);
  ckpty = join(prefix, 'bin/ckpty');
}, INSTALL_TIMEOUT);

describe('the packed package', () => {
  it('holds the compiled JavaScript and the native sources, and no tests, results, demos or build outputs', () => {
    expect(contents.filter((file) => !SHIPPED.some((pattern) => pattern.test(file)))).toEqual([]);
    for (const needed of ['bin/ckpty', 'dist/cli/main.js', 'dist/host/stty-shim.js', 'tty/Makefile', 'tty/stty', 'tty/freezer/main.c', 'tty/addon/ckpty_native.c']) {
      expect(contents).toContain(needed);
    }
  });
});

describe('ckpty installed with npm install -g into a fresh prefix', () => {
  it('is on the prefix\'s PATH with its native programs built at install', () => {
    const installed = join(prefix, 'lib/node_modules/ckpty');
    expect(realpathSync(ckpty)).toBe(join(installed, 'bin/ckpty'));
    for (const program of ['ckpty-freezer', 'ckpty-thawer', 'ckpty_native.node']) expect(existsSync(join(installed, 'tty/bin', program))).toBe(true);
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(run(ckpty, ['--version'], prefix).stdout).toBe(`${version}\n`);
    const help = run(ckpty, ['--help'], prefix).stdout;
    for (const command of ['freeze', 'thaw', 'info', 'shell']) expect(help).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('freezes a process, shows its image and thaws it with its own native programs', async () => {
    const dir = tempDir('ckpty-installed');
    // Soft core limit 0, as for every program started from a plain Debian login shell.
    const counter = startProcess(await buildFixture('counter'), ['20'], { cwd: dir, coreLimit: '0:unlimited' });
    await counter.waitFor(/count 3\n/);
    const frozen = run(ckpty, ['freeze', String(counter.pid), '-o', 'counter.ckpt'], dir);
    expect(frozen.stdout).toMatch(new RegExp(`^froze counter\\[${counter.pid}\\] -> ${dir}/counter\\.ckpt `));
    expect((await counter.exited).code).toBe(FROZEN_EXIT_STATUS);
    const image = join(dir, 'counter.ckpt');
    const info = JSON.parse(run(ckpty, ['info', '--json', image], dir).stdout) as { processes: { pid: number; comm: string }[] };
    expect(info.processes[0]).toMatchObject({ pid: counter.pid, comm: 'counter' });

    const last = Number([...counter.output().matchAll(/count (\d+)\n/g)].pop()?.[1]);
    const thaw = startThaw(image, { cli: ckpty });
    await thaw.result;
    await counter.waitFor(new RegExp(`count ${last + 2}\\n`));
    // `ckpty thaw` is the installed native thawer, which stays with the program it brought back.
    expect(processesRunning(join(prefix, 'lib/node_modules/ckpty/tty/bin/ckpty-thawer'))).toEqual([thaw.pid]);
  });
});
