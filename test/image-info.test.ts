/**
 * `ckpty info` on real images: `sleep`, `bc` and `python3` frozen by the freezer
 * (snapshot, so they run on), compared with what /proc said before the freeze, and
 * the terminal modes compared with GNU stty on the same pty. Then the refusals: a
 * gdb core file, a text file, an empty file, a directory, a missing file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/base/errors.js';
import { freezeProcess } from '../src/freezer/freeze.js';
import { checkFileIdentity, openImage } from '../src/image/file.js';
import { runCkpty } from './helpers/image-cli.js';
import { procTruth, spawnInPty, spawnQuiet, waitSettled, type ProcTruth, type RunningProcess } from './helpers/image-real.js';

const work = mkdtempSync(join(tmpdir(), 'ckpty-image-info-'));
const running: RunningProcess[] = [];
afterAll(() => {
  for (const proc of running) proc.kill();
  rmSync(work, { recursive: true, force: true });
});

interface InfoJson {
  process: { pid: number; comm: string; exe: string; cwd: string; freezeTime: string; snapshot: boolean };
  argv: string[];
  vmas: { start: string; end: string; perms: string; path: string; stored: number }[];
  fds: { fd: number; kind: string; path: string }[];
  registers: Record<string, string>;
  tty: { path: string; rows: number; cols: number; stty: string } | null;
  storedBytes: number;
  standardNotes: string[];
}

interface Frozen {
  truth: ProcTruth;
  image: string;
  info: InfoJson;
  before: number;
  after: number;
}

async function snapshot(proc: RunningProcess, comm: string, name: string): Promise<Frozen> {
  running.push(proc);
  const truth = await waitSettled(proc.pid, comm);
  const image = join(work, `${name}.ckpt`);
  const before = Date.now();
  await freezeProcess(proc.pid, { output: image, snapshot: true });
  const after = Date.now();
  const result = runCkpty(['info', '--json', image]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return { truth, image, info: JSON.parse(result.stdout) as InfoJson, before, after };
}

/** The fields every frozen program must show as /proc did. */
function expectMatchesProc({ truth, info, before, after }: Frozen, pid: number): void {
  expect(info.process).toMatchObject({ pid, comm: truth.comm, exe: truth.exe, cwd: truth.cwd, snapshot: true });
  expect(info.argv).toEqual(truth.argv);
  expect(info.vmas.map(({ start, end, perms, path }) => ({ start, end, perms, path }))).toEqual(truth.maps);
  expect(info.fds.map(({ fd, path }) => ({ fd, path }))).toEqual(truth.fds);
  const frozenAt = Date.parse(info.process.freezeTime);
  expect(frozenAt).toBeGreaterThanOrEqual(before - 1);
  expect(frozenAt).toBeLessThanOrEqual(after + 1);
  // The registers point where they must: code being executed, and the stack.
  const inside = (address: string, where: (vma: InfoJson['vmas'][number]) => boolean): boolean =>
    info.vmas.some((vma) => where(vma) && BigInt(vma.start) <= BigInt(address) && BigInt(address) < BigInt(vma.end));
  expect(inside(info.registers.rip ?? '', (vma) => vma.perms[2] === 'x')).toBe(true);
  expect(inside(info.registers.rsp ?? '', (vma) => vma.path === '[stack]')).toBe(true);
  expect(info.storedBytes).toBe(info.vmas.reduce((sum, vma) => sum + vma.stored, 0));
  expect(info.standardNotes).toEqual(expect.arrayContaining(['NT_PRSTATUS', 'NT_PRPSINFO', 'NT_AUXV', 'NT_FILE']));
}

/** GNU stty's `-a` for the pty the process has as fd 0. */
function gnuSttyAll(truth: ProcTruth): string {
  const tty = truth.fds.find((fd) => fd.fd === 0)?.path ?? '';
  const env = { ...process.env };
  delete env.COLUMNS;
  return execFileSync('stty', ['-a', '-F', tty], { encoding: 'utf8', env });
}

describe('ckpty info on images made by the freezer', () => {
  it('shows sleep as /proc showed it, with no terminal', async () => {
    const sleep = spawnQuiet(['sleep', '1000'], work);
    const frozen = await snapshot(sleep, 'sleep', 'sleep');
    expectMatchesProc(frozen, sleep.pid);
    expect(frozen.info.tty).toBeNull();
    expect(frozen.info.fds.map((fd) => fd.kind)).toEqual(['chr', 'chr', 'chr']);

    const text = runCkpty(['info', frozen.image]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`process   sleep, pid ${sleep.pid}`);
    expect(text.stdout).toContain('argv      sleep 1000');
    expect(text.stdout).toMatch(/^exe {7}\/usr\/bin\/sleep$/m);
    expect(text.stdout).toMatch(/^terminal {2}none$/m);
    expect(text.stdout).toMatch(/^ {2}[0-9a-f]+ +[0-9a-f]+ +rw-p .* stack +\[stack\]$/m);
  });

  it('shows bc in a terminal, with the terminal modes GNU stty shows', async () => {
    const bc = spawnInPty(['bc', '-q'], work);
    const frozen = await snapshot(bc, 'bc', 'bc');
    expectMatchesProc(frozen, bc.pid);
    expect(frozen.info.fds.map((fd) => fd.kind)).toEqual(['tty', 'tty', 'tty']);
    expect(frozen.info.tty).toMatchObject({ path: frozen.truth.fds[0]?.path, rows: 30, cols: 100 });
    expect(frozen.info.tty?.stty).toBe(gnuSttyAll(frozen.truth));

    const text = runCkpty(['info', frozen.image]);
    expect(text.stdout).toMatch(new RegExp(`^terminal  ${frozen.truth.fds[0]?.path} \\(fd 0\\), 30 rows, 100 columns$`, 'm'));
  });

  it('shows python3 with its signal handlers, and its files are unchanged since the freeze', async () => {
    const python = spawnInPty(['python3', '-q'], work);
    const frozen = await snapshot(python, 'python3', 'python3');
    expectMatchesProc(frozen, python.pid);
    expect(frozen.info.tty?.stty).toBe(gnuSttyAll(frozen.truth));
    // Python catches SIGINT (KeyboardInterrupt) and ignores SIGPIPE.
    const text = runCkpty(['info', frozen.image]).stdout;
    expect(text).toMatch(/^ {2}SIGINT +handler 0x[0-9a-f]+/m);
    expect(text).toMatch(/^ {2}SIGPIPE +ignore$/m);

    const image = await openImage(frozen.image);
    expect(image.files[0]?.path).toBe(frozen.truth.exe);
    for (const file of image.files) expect(await checkFileIdentity(file)).toBeNull();
  });
});

describe('ckpty info refuses what is not an image', () => {
  it('refuses a core file made by gdb', { timeout: 60_000 }, async () => {
    const sleep = spawnQuiet(['sleep', '1000'], work);
    running.push(sleep);
    await waitSettled(sleep.pid, 'sleep');
    const cores = join(work, 'gcore');
    mkdirSync(cores);
    execFileSync('gcore', ['-o', join(cores, 'core'), String(sleep.pid)], { stdio: 'ignore' });
    const [core] = readdirSync(cores);
    expect(core).toBe(`core.${sleep.pid}`);
    const path = join(cores, core ?? '');
    const result = runCkpty(['info', path]);
    expect(result.stderr).toBe(`ckpty: ${path}: not a ckpty image: no CKPTY notes (a core file from another tool?)\n`);
    expect(result.status).toBe(ExitCode.badImage);
    expect(procTruth(sleep.pid).comm).toBe('sleep');
  });

  it('refuses text, empty and missing files and directories, naming them', () => {
    const text = join(work, 'notes.txt');
    writeFileSync(text, 'not an image\n');
    const empty = join(work, 'empty.ckpt');
    writeFileSync(empty, '');
    const missing = join(work, 'missing.ckpt');
    expect(existsSync(missing)).toBe(false);
    const cases: [string, string, number][] = [
      [text, 'not a ckpty image: not an ELF file', ExitCode.badImage],
      [empty, 'not a ckpty image: the file is empty', ExitCode.badImage],
      [work, 'not a ckpty image: a directory', ExitCode.badImage],
      [missing, 'no such file', ExitCode.notFound],
    ];
    for (const [path, message, status] of cases) {
      const result = runCkpty(['info', path]);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`ckpty: ${path}: ${message}\n`);
      expect(result.status).toBe(status);
    }
  });
});
