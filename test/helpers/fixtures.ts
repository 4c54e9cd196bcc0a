/**
 * C fixtures and the processes tests run them as.
 *
 *   const counter = await buildFixture('counter');      // test/fixtures/counter.c → binary
 *   const proc = startProcess(counter, ['20']);          // detached, output to a file
 *   await proc.waitFor(/ready pid=(\d+)/);
 *   ...
 *   afterEach(stopProcesses);                             // kills whatever is left
 *
 * Binaries are cached by source hash in a world-readable temporary directory, so
 * workers share them and an unprivileged test user can run them.
 * Processes get RLIMIT_CORE unlimited (through prlimit) unless told otherwise: some
 * tests need the kernel's own core dumps, others the checkpoint key's opt-out (0).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as nodePty from 'node-pty';

export const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE_SOURCES = resolve(ROOT, 'test/fixtures');
const CACHE = join(tmpdir(), 'ckpty-fixtures');

/** Compiler flags some fixtures need beyond the common ones. */
const EXTRA_FLAGS: Record<string, string[]> = {
  avx: ['-mavx'],
  compute: ['-mavx2'],
  threads: ['-pthread'],
  ids: ['-pthread'],
};

const built = new Map<string, Promise<string>>();

/** Compile test/fixtures/NAME.c (once per source version); resolves to the binary's path. */
export function buildFixture(name: string): Promise<string> {
  let binary = built.get(name);
  if (!binary) {
    binary = compile(name);
    built.set(name, binary);
  }
  return binary;
}

async function compile(name: string): Promise<string> {
  const source = join(FIXTURE_SOURCES, `${name}.c`);
  const flags = ['-std=gnu11', '-O1', '-g', '-fno-optimize-sibling-calls', '-Wall', '-Wextra', '-Werror', ...(EXTRA_FLAGS[name] ?? [])];
  const hash = createHash('sha256').update(readFileSync(source)).update(flags.join(' ')).digest('hex').slice(0, 16);
  // One directory per version, so the binary keeps the fixture's name (its comm names the image).
  const dir = join(CACHE, hash);
  const binary = join(dir, name);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(CACHE, 0o755);
  chmodSync(dir, 0o755);
  // Compile beside the final name, then rename: concurrent workers never see half a binary.
  const partial = `${binary}.${process.pid}.tmp`;
  await new Promise<void>((done, fail) => {
    const cc = spawn('cc', [...flags, '-o', partial, source], { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    cc.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    cc.on('error', fail);
    cc.on('close', (code) => (code === 0 ? done() : fail(new Error(`cc ${name}.c failed:\n${errors}`))));
  });
  chmodSync(partial, 0o755);
  renameSync(partial, binary);
  return binary;
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** The unprivileged user tests run things as (created on first use; needs root). */
export function testUser(name = 'ckpty-test'): TestUser {
  let id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  if (id.status !== 0) {
    const add = spawnSync('useradd', ['-m', '-s', '/bin/sh', name], { encoding: 'utf8' });
    // Another worker may have created it meanwhile (status 9: already exists).
    if (add.status !== 0 && add.status !== 9) throw new Error(`useradd ${name}: ${add.stderr}`);
    id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  }
  const uid = Number(id.stdout.trim());
  const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
  const home = spawnSync('sh', ['-c', `getent passwd ${name} | cut -d: -f6`], { encoding: 'utf8' }).stdout.trim();
  return { name, uid, gid, home };
}

const tempDirs: string[] = [];

/** A fresh temporary directory (removed by removeTempDirs); with a user, owned by them. */
export function tempDir(prefix: string, owner?: TestUser): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  tempDirs.push(dir);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, 0o755);
  return dir;
}

/** Remove the directories tempDir made (for afterAll: images can be large). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

export interface StartOptions {
  /** Run as this user instead of the test's. */
  user?: TestUser;
  cwd?: string;
  /** RLIMIT_CORE for the process, as prlimit takes it (default "unlimited"). */
  coreLimit?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TestProcess {
  readonly pid: number;
  /** Everything the process wrote so far. */
  output(): string;
  /** Resolves with the match once the output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has ended. */
  readonly exited: Promise<Exit>;
  isRunning(): boolean;
  /** One-letter state from /proc/PID/stat (S, R, T, Z …), undefined once reaped. */
  state(): string | undefined;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<{ kill(): void }>();

/** Wait until check() is true, polling. */
/** The processes `pid`'s main thread started (none once it is gone). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function wrapCommand(file: string, args: string[], coreLimit = 'unlimited'): [string, string[]] {
  // prlimit execs the program: the pid we get is the program's.
  return ['prlimit', [`--core=${coreLimit}`, '--', file, ...args]];
}

/** A process's state letter from /proc/PID/stat (R, S, T …); undefined once it is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** The number of the syscall the process is blocked in (/proc/PID/syscall), undefined when running. */
export function syscallOf(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/syscall`, 'latin1').split(' ')[0] ?? '';
    return /^\d+$/.test(first) ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

export const SYS_read = 0;
export const SYS_pause = 34;
export const SYS_clock_nanosleep = 230;

/** Start a program detached (own session, no terminal), stdin /dev/null, output to a file. */
export function startProcess(file: string, args: string[] = [], options: StartOptions = {}): TestProcess {
  const [command, argv] = wrapCommand(file, args, options.coreLimit);
  const log = join(tempDir('ckpty-out'), 'output');
  const fd = openSync(log, 'a', 0o644);
  const child = spawn(command, argv, { stdio: ['ignore', fd, fd], detached: true, cwd: options.cwd, uid: options.user?.uid, gid: options.user?.gid });
  closeSync(fd);
  const readOutput = (): string => readFileSync(log, 'latin1');
  return track(child, readOutput);
}

function track(child: ChildProcess, readOutput: () => string): TestProcess {
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn failed');
  let done = false;
  const exited = new Promise<Exit>((resolveExit) => {
    child.on('exit', (code, signal) => {
      done = true;
      resolveExit({ code, signal });
    });
  });
  // Its whole process group (it leads one, detached): a shell's pipeline goes with the shell.
  const entry = {
    kill: () => {
      if (done) return;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    },
  };
  running.add(entry);
  void exited.then(() => running.delete(entry));
  return {
    pid,
    output: readOutput,
    exited,
    isRunning: () => !done,
    state: () => (done ? undefined : procState(pid)),
    kill: (signal = 'SIGTERM') => {
      if (!done) child.kill(signal);
    },
    waitFor: async (pattern, timeoutMs = 5000) => {
      let match: RegExpMatchArray | null = null;
      await until(() => (match = readOutput().match(pattern)) !== null, timeoutMs, `output ${pattern} (have: ${JSON.stringify(readOutput().slice(-200))})`);
      return match as unknown as RegExpMatchArray;
    },
  };
}

export interface PtyProcess extends Omit<TestProcess, 'exited'> {
  write(text: string): void;
  readonly exited: Promise<{ code: number; signal?: number }>;
}

/** Start a program on a new pseudo-terminal (node-pty), as an interactive program runs. */
export function startOnPty(file: string, args: string[] = [], options: StartOptions = {}): PtyProcess {
  const [command, argv] = wrapCommand(file, args, options.coreLimit);
  const term = nodePty.spawn(command, argv, {
    name: 'xterm',
    cols: 80,
    rows: 24,
    cwd: options.cwd ?? tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm', HOME: options.user?.home ?? tmpdir(), LANG: 'C' },
    uid: options.user?.uid,
    gid: options.user?.gid,
  });
  let text = '';
  term.onData((data) => (text += data));
  let done = false;
  const exited = new Promise<{ code: number; signal?: number }>((resolveExit) => {
    term.onExit(({ exitCode, signal }) => {
      done = true;
      resolveExit({ code: exitCode, signal });
    });
  });
  const entry = { kill: () => !done && term.kill('SIGKILL') };
  running.add(entry);
  void exited.then(() => running.delete(entry));
  return {
    pid: term.pid,
    output: () => text,
    exited,
    isRunning: () => !done,
    state: () => (done ? undefined : procState(term.pid)),
    kill: (signal = 'SIGTERM') => {
      if (!done) term.kill(signal);
    },
    write: (data) => term.write(data),
    waitFor: async (pattern, timeoutMs = 5000) => {
      let match: RegExpMatchArray | null = null;
      await until(() => (match = text.match(pattern)) !== null, timeoutMs, `output ${pattern} (have: ${JSON.stringify(text.slice(-200))})`);
      return match as unknown as RegExpMatchArray;
    },
  };
}

/** Kill every process the helpers started that is still running (for afterEach). */
export function stopProcesses(): void {
  for (const entry of running) entry.kill();
  running.clear();
}

/**
 * A directory from which `user` can run the built CLI (bin/ckpty → dist/ and the
 * native binaries): the checkout itself when they can read it, else a copy.
 */
let userCliRoot: string | undefined;
export function cliRootFor(user: TestUser): string {
  const canRead = spawnSync('test', ['-r', join(ROOT, 'dist/cli/main.js'), '-a', '-x', join(ROOT, 'tty/bin')], {
    uid: user.uid,
    gid: user.gid,
  });
  if (canRead.status === 0) return ROOT;
  if (!userCliRoot) {
    const copy = tempDir('ckpty-cli');
    for (const part of ['package.json', 'bin', 'dist', 'tty/bin', 'node_modules/commander']) {
      cpSync(join(ROOT, part), join(copy, part), { recursive: true });
    }
    spawnSync('chmod', ['-R', 'a+rX', copy]);
    userCliRoot = copy;
  }
  return userCliRoot;
}
