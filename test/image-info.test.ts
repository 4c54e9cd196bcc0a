/**
 * `ckpty info`: built job images described as text and JSON (the tree of members, each
 * process's threads, descriptors and the state they carry); one member cut out with
 * `--extract` and read by readelf and gdb (the oracles for a core file); then real
 * images — `sleep`, `bc` and `python3` frozen by the freezer (snapshot, so they run on),
 * compared with what /proc said, the terminal modes with GNU stty — and the refusals: a
 * gdb core file, a text file, an empty file, a directory, a missing file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/base/errors.js';
import { freezeProcess } from '../src/freezer/freeze.js';
import { checkFileIdentity, openImage } from '../src/image/file.js';
import { formatInfo, infoJson } from '../src/image/info.js';
import { parseImage } from '../src/image/reader.js';
import { buildImage, LIBC } from './helpers/image-builder.js';
import { runCkpty } from './helpers/image-cli.js';
import { procTruth, spawnInPty, spawnQuiet, waitSettled, type ProcTruth, type RunningProcess } from './helpers/image-real.js';
import { descriptorZoo, pipelineJob } from './helpers/image-samples.js';

const work = mkdtempSync(join(tmpdir(), 'ckpty-image-info-'));
const running: RunningProcess[] = [];
afterAll(() => {
  for (const proc of running) proc.kill();
  rmSync(work, { recursive: true, force: true });
});

function saved(name: string, bytes: Uint8Array): string {
  const path = join(work, name);
  writeFileSync(path, bytes, { mode: 0o600 });
  return path;
}

describe('describing a job', () => {
  it('prints a process, its dispositions, descriptors and terminal modes in human form', async () => {
    const text = formatInfo(await parseImage(buildImage().bytes), 'fixture.ckpt');
    expect(text).toMatch(/^image {5}fixture\.ckpt \(ckpty image version 2, \d+ KiB\)$/m);
    expect(text).toContain('job       1 process, process group 4242\n');
    expect(text).toContain('frozen    2025-11-27T13:26:40.123Z (local ');
    expect(text).toContain('process fixture[4242], member 0\n');
    expect(text).toContain("  argv      fixture --count 'two words'\n");
    expect(text).not.toContain('members (');
    expect(text).toMatch(/^ {4}SIGINT +handler 0x401100, SA_RESTART, mask SIGTERM$/m);
    expect(text).toMatch(/^ {4}SIGPIPE +ignore$/m);
    expect(text).not.toMatch(/SIGHUP/);
    expect(text).toMatch(/^ {4}3 +file +#1 +O_RDWR\|O_APPEND\|O_CLOEXEC +\/home\/user\/work\/log\.txt, offset 1234$/m);
    expect(text).toMatch(/^ {4}0 +tty +#0 +O_RDWR +\/dev\/pts\/3$/m);
    expect(text).toMatch(/^ {4}1000000 +1021000 +rw-p +132 KiB +8\.0 KiB +heap +\[heap\]$/m);
    expect(text).toMatch(/^ {4}4242 +fixture +0x401234 +none +running \(not in a syscall\)$/m);
    expect(text).toContain('  queued    SIGUSR1 (code 0) for the process\n');
    expect(text).toContain('  terminal  /dev/pts/3 (fd 0), 24 rows, 80 columns\n');
    // Plain stty's words for what differs from sane: the builder's terminal has -echo.
    expect(text).toMatch(/^ {4}-echo$/m);
    expect(text).toContain('  stored    28 KiB of memory in 4 segments\n');
    expect(text).toContain('screen    not stored (frozen outside a session)\n');
  });

  it('shows a job as a tree, each thread where it waits, and pipe ends with their peers', async () => {
    const text = formatInfo(await parseImage(pipelineJob().bytes), 'job.ckpt');
    expect(text).toContain("job       3 processes and 1 zombie, process group 5000; its status is consumer[5002]'s\n");
    expect(text).toContain('stored    84 KiB of memory, 12 B of pipe, socket and file data\n');
    const tree = text.slice(text.indexOf('members (4)'), text.indexOf('process sh[5000]'));
    expect(tree.trimEnd().split('\n')).toEqual([
      'members (4)',
      '  PID       PARENT  PGID  STATE             COMM',
      '  5000      -       5000  live              sh',
      '   \\_ 5001  5000    5000  live, 2 threads   producer',
      '   \\_ 5002  5000    5000  live              consumer',
      '   \\_ 5004  5000    5000  zombie, exited 1  true',
    ]);
    expect(text).toMatch(/^ {4}5000 +sh +0x401234 +none +in wait4\(\) \(returned -512\): re-entered at the thaw$/m);
    expect(text).toMatch(/^ {4}5003 +producer:gen +0x401234 +SIGINT +in futex\(\) \(returned -512\): re-entered at the thaw$/m);
    expect(text).toMatch(/^ {4}1 +pipe +#2 +O_WRONLY +write end of pipe #0: 12 B buffered, capacity 64 KiB; other end: consumer\[5002\] fd 0$/m);
    expect(text).toMatch(/^ {4}0 +pipe +#1 +O_RDONLY +read end of pipe #0: 12 B buffered, capacity 64 KiB; other end: producer\[5001\] fd 1$/m);
    expect(text).toContain('  queued    SIGUSR1 (code -6) for thread 5003\n');
  });

  it('shows the state every kind of descriptor carries, timers, mapped objects and the screen', async () => {
    const text = formatInfo(await parseImage(descriptorZoo().bytes), 'zoo.ckpt');
    const lines = [
      /3 +object-file +#1 +O_RDWR\|O_CLOEXEC +memfd:cache: 8\.0 KiB stored, offset 100, seals F_SEAL_SHRINK\|F_SEAL_GROW/,
      /4 +object-file +#2 +O_RDWR\|O_CLOEXEC +\/tmp\/scratch \(deleted\): 5 B stored, offset 5/,
      /5 +socket +#3 +O_RDWR\|O_CLOEXEC +end 0 of stream socket pair #2: 4 B buffered to read here; peer: zoo\[6000\] fd 6/,
      /6 +socket +#4 .* end 1 of stream socket pair #2: 5 B buffered to read here; peer: zoo\[6000\] fd 5/,
      /7 +eventfd .* counter 3 \(EFD_SEMAPHORE\)/,
      /8 +timerfd .* CLOCK_MONOTONIC, 1\.5 s left, every 2 s, 1 expiration unread/,
      /9 +signalfd .* reads SIGINT SIGTERM/,
      /10 +epoll .* watches fd 5 \(EPOLLIN\), fd 7 \(EPOLLIN\|EPOLLET\), data 0x55/,
      /11 +inotify .* watches \/home\/user\/work \(IN_MODIFY\|IN_CREATE\)/,
      /12 +closed-socket .* connected to 127\.0\.0\.1:5432 outside the job: thawed closed/,
      /13 +pipe .* read end of FIFO \/home\/user\/work\/fifo, pipe #4: 6 B buffered, capacity 64 KiB; other end: none in the job/,
      /posix 0, CLOCK_MONOTONIC, SIGEV_SIGNAL SIGALRM: 500 ms left, every 1 s/,
      /posix 1, CLOCK_REALTIME, SIGEV_THREAD_ID SIGRTMIN to 6000: disarmed/,
      /ITIMER_REAL: 3 s left/,
      /7ffe10000000 +7ffe10002000 +rw-s +8\.0 KiB +- +memfd #0 +memfd:cache/,
      /7ffe20000000 +7ffe20002000 +rw-s +8\.0 KiB +- +shared memory #3/,
    ];
    for (const line of lines) expect(text).toMatch(new RegExp(`^ {4}${line.source}$`, 'm'));
    expect(text).toContain('screen    12 B to repaint it\n');
  });

  it('gives every field in JSON, 64-bit values as strings', async () => {
    const json = JSON.parse(JSON.stringify(infoJson(await parseImage(descriptorZoo().bytes), 'zoo.ckpt')));
    const [p] = json.processes;
    expect(p.freezeTimeNs).toBe('1764250000123456789');
    expect(p.threads[0].registers.rip).toBe('0x401234');
    expect(p.threads[0].restart).toEqual({ kind: 'none', syscall: null, origRax: '0', syscallRet: '0' });
    expect(p.vmas[2]).toMatchObject({ start: '0x1000000', end: '0x1021000', perms: 'rw-p', kind: 'heap', stored: 8192 });
    expect(p.vmas[7]).toMatchObject({ kind: 'object', object: 0, path: 'memfd:cache' });
    expect(p.sigactions).toHaveLength(64);
    expect(p.fds[3]).toEqual({ fd: 3, cloexec: true, openFile: 1 });
    expect(p.files[1]).toMatchObject({ path: LIBC, ino: '5678', mode: '100644' });
    expect(p.tty.stty).toMatch(/^speed 38400 baud; rows 24; columns 80; line = 0;\n/);
    expect(p.timers[0]).toMatchObject({ kind: 'posix', clock: 'CLOCK_MONOTONIC', notify: 'SIGEV_SIGNAL', signal: 'SIGALRM', valueNs: '500000000' });
    expect(json.openFiles[6]).toMatchObject({ kind: 'timerfd', clock: 'CLOCK_MONOTONIC', valueNs: '1500000000', intervalNs: '2000000000', count: '1' });
    expect(json.openFiles[3]).toMatchObject({ kind: 'socket', object: 2, end: 0, holders: [{ member: 0, pid: 6000, comm: 'zoo', fd: 5 }] });
    expect(json.openFiles[7]).toMatchObject({ sigmask: '0x4002', sigmaskNames: ['SIGINT', 'SIGTERM'] });
    expect(json.objects[0]).toMatchObject({ kind: 'memfd', size: '8192', mode: '100777', sealNames: ['F_SEAL_SHRINK', 'F_SEAL_GROW'] });
    expect(json.watches[1]).toMatchObject({ owner: 8, target: 5, eventNames: ['EPOLLIN', 'EPOLLET'], data: '0x55' });
    expect(json.job).toMatchObject({ pgid: 6000, statusMember: 0, monotonicNs: '123000000000' });
    expect(json.screenBytes).toBe(12);
    const job = JSON.parse(JSON.stringify(infoJson(await parseImage(pipelineJob().bytes), 'job.ckpt')));
    expect(job.members.map((m: { pid: number; parent: number | null; state: string; end: string | null }) => [m.pid, m.parent, m.state, m.end])).toEqual([
      [5000, null, 'live', null],
      [5001, 0, 'live', null],
      [5002, 0, 'live', null],
      [5004, 0, 'zombie', 'exited 1'],
    ]);
    expect(job.processes[1].threads.map((t: { tid: number; restart: { syscall: string } }) => [t.tid, t.restart.syscall])).toEqual([
      [5001, 'write'],
      [5003, 'futex'],
    ]);
  });

  it('ckpty info prints it, with --json too', () => {
    const path = saved('job.ckpt', pipelineJob().bytes);
    const text = runCkpty(['info', path]);
    expect(text.stderr).toBe('');
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('process producer[5001], member 1\n');
    const json = runCkpty(['info', '--json', path]);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout).processes).toHaveLength(3);
  });
});

describe('ckpty info --extract', () => {
  it("writes one member's core, which readelf and gdb read as that process with its threads", () => {
    const built = pipelineJob();
    const image = saved('extract.ckpt', built.bytes);
    const out = join(work, 'producer.core');
    const result = runCkpty(['info', image, '--extract', '5001', '-o', out]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`extracted producer[5001] (member 1) -> ${out} (36 KiB)\n`);
    expect(result.status).toBe(0);
    // A byte copy of its core, mode 0600 (it holds memory), no temporary file left.
    const core = built.layout.cores[1]!;
    expect(readFileSync(out).equals(built.bytes.subarray(core.offset, core.offset + core.size))).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(work).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const notes = execFileSync('readelf', ['-n', out], { encoding: 'utf8' });
    expect(notes.match(/NT_PRSTATUS/g)).toHaveLength(2);
    expect(notes.match(/NT_X86_XSTATE/g)).toHaveLength(2);
    const gdb = execFileSync('gdb', ['-batch', '-nx', '-ex', 'info threads', '-c', out, '/bin/true'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(gdb).toMatch(/^\* 1 +LWP 5001 +0x0000000000401234 in \?\? \(\)$/m);
    expect(gdb).toMatch(/^ {2}2 +LWP 5003 +0x0000000000401234 in \?\? \(\)$/m);

    const json = runCkpty(['info', image, '--json', '--extract', '5000', '-o', join(work, 'sh.core')]);
    expect(JSON.parse(json.stdout)).toEqual({ pid: 5000, comm: 'sh', member: 0, path: join(work, 'sh.core'), bytes: built.layout.cores[0]?.size });
  });

  it('refuses a zombie, a pid not in the job, and a missing -o, naming them', () => {
    const image = saved('refuse.ckpt', pipelineJob().bytes);
    const out = join(work, 'nothing.core');
    const cases: [string[], string, number][] = [
      [['--extract', '5004', '-o', out], `${image}: true[5004] is a zombie in this job: it has no core to extract`, ExitCode.unsupported],
      [['--extract', '77', '-o', out], `${image}: no member with pid 77 in this job (its members: 5000, 5001, 5002, 5004)`, ExitCode.notFound],
      [['--extract', '5001'], '--extract needs -o FILE: where to write the core', ExitCode.usage],
      [['--extract', 'x', '-o', out], "--extract: bad process id 'x'", ExitCode.usage],
      [['-o', out], '-o goes with --extract PID', ExitCode.usage],
    ];
    for (const [args, message, status] of cases) {
      const result = runCkpty(['info', image, ...args]);
      expect(result.stderr).toBe(`ckpty: ${message}\n`);
      expect(result.status).toBe(status);
    }
    expect(existsSync(out)).toBe(false);
  });
});

interface InfoJson {
  processes: {
    pid: number;
    comm: string;
    exe: string;
    cwd: string;
    freezeTime: string;
    snapshot: boolean;
    storedBytes: number;
    argv: string[];
    vmas: { start: string; end: string; perms: string; path: string; stored: number }[];
    fds: { fd: number; openFile: number }[];
    threads: { registers: Record<string, string> }[];
    tty: { path: string; rows: number; cols: number; stty: string } | null;
    standardNotes: string[];
  }[];
  openFiles: { kind: string; path: string }[];
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
  const p = info.processes[0] as InfoJson['processes'][number];
  expect(p).toMatchObject({ pid, comm: truth.comm, exe: truth.exe, cwd: truth.cwd, snapshot: true });
  expect(p.argv).toEqual(truth.argv);
  expect(p.vmas.map(({ start, end, perms, path }) => ({ start, end, perms, path }))).toEqual(truth.maps);
  expect(p.fds.map(({ fd, openFile }) => ({ fd, path: info.openFiles[openFile]?.path }))).toEqual(truth.fds);
  const frozenAt = Date.parse(p.freezeTime);
  expect(frozenAt).toBeGreaterThanOrEqual(before - 1);
  expect(frozenAt).toBeLessThanOrEqual(after + 1);
  // The registers point where they must: code being executed, and the stack.
  const inside = (address: string, where: (vma: (typeof p.vmas)[number]) => boolean): boolean =>
    p.vmas.some((vma) => where(vma) && BigInt(vma.start) <= BigInt(address) && BigInt(address) < BigInt(vma.end));
  expect(inside(p.threads[0]?.registers.rip ?? '', (vma) => vma.perms[2] === 'x')).toBe(true);
  expect(inside(p.threads[0]?.registers.rsp ?? '', (vma) => vma.path === '[stack]')).toBe(true);
  expect(p.storedBytes).toBe(p.vmas.reduce((sum, vma) => sum + vma.stored, 0));
  expect(p.standardNotes).toEqual(expect.arrayContaining(['NT_PRSTATUS', 'NT_PRPSINFO', 'NT_AUXV', 'NT_FILE']));
}

/** GNU stty's `-a` for the pty the process has as fd 0. */
function gnuSttyAll(truth: ProcTruth): string {
  const tty = truth.fds.find((fd) => fd.fd === 0)?.path ?? '';
  const env = { ...process.env };
  delete env.COLUMNS;
  return execFileSync('stty', ['-a', '-F', tty], { encoding: 'utf8', env });
}

// REAL IMAGES: these freeze real programs and wait for the freezer to write version 2
// (test/helpers/image-real.ts, V2_FREEZER_READY). Add a real job then: a pipeline
// (`sleep 1000 | cat`) and a program with threads, extracted and read by gdb with its exe.
describe('ckpty info on images made by the freezer', () => {
  it('shows sleep as /proc showed it, with no terminal', async () => {
    const sleep = spawnQuiet(['sleep', '1000'], work);
    const frozen = await snapshot(sleep, 'sleep', 'sleep');
    expectMatchesProc(frozen, sleep.pid);
    expect(frozen.info.processes[0]?.tty).toBeNull();
    expect(frozen.info.processes[0]?.fds.map((fd) => frozen.info.openFiles[fd.openFile]?.kind)).toEqual(['chr', 'chr', 'chr']);

    const text = runCkpty(['info', frozen.image]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`process sleep[${sleep.pid}], member 0`);
    expect(text.stdout).toContain('  argv      sleep 1000');
    expect(text.stdout).toMatch(/^ {2}exe {7}\/usr\/bin\/sleep$/m);
    expect(text.stdout).toMatch(/^ {2}terminal {2}none$/m);
    expect(text.stdout).toMatch(/^ {4}[0-9a-f]+ +[0-9a-f]+ +rw-p .* stack +\[stack\]$/m);

    const core = join(work, 'sleep.core');
    expect(runCkpty(['info', frozen.image, '--extract', String(sleep.pid), '-o', core]).status).toBe(0);
    const gdb = execFileSync('gdb', ['-batch', '-nx', '-ex', 'info threads', '-c', core, frozen.truth.exe], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(gdb).toMatch(new RegExp(`^\\* 1 +(?:Thread 0x[0-9a-f]+ \\()?LWP ${sleep.pid}\\b`, 'm'));
  });

  it('shows bc in a terminal, with the terminal modes GNU stty shows', async () => {
    const bc = spawnInPty(['bc', '-q'], work);
    const frozen = await snapshot(bc, 'bc', 'bc');
    expectMatchesProc(frozen, bc.pid);
    expect(frozen.info.processes[0]?.fds.map((fd) => frozen.info.openFiles[fd.openFile]?.kind)).toEqual(['tty', 'tty', 'tty']);
    expect(frozen.info.processes[0]?.tty).toMatchObject({ path: frozen.truth.fds[0]?.path, rows: 30, cols: 100 });
    expect(frozen.info.processes[0]?.tty?.stty).toBe(gnuSttyAll(frozen.truth));

    const text = runCkpty(['info', frozen.image]);
    expect(text.stdout).toMatch(new RegExp(`^  terminal  ${frozen.truth.fds[0]?.path} \\(fd 0\\), 30 rows, 100 columns$`, 'm'));
  });

  it('shows python3 with its signal handlers, and its files are unchanged since the freeze', async () => {
    const python = spawnInPty(['python3', '-q'], work);
    const frozen = await snapshot(python, 'python3', 'python3');
    expectMatchesProc(frozen, python.pid);
    expect(frozen.info.processes[0]?.tty?.stty).toBe(gnuSttyAll(frozen.truth));
    // Python catches SIGINT (KeyboardInterrupt) and ignores SIGPIPE.
    const text = runCkpty(['info', frozen.image]).stdout;
    expect(text).toMatch(/^ {4}SIGINT +handler 0x[0-9a-f]+/m);
    expect(text).toMatch(/^ {4}SIGPIPE +ignore$/m);

    const image = await openImage(frozen.image);
    const [p] = image.processes;
    expect(p?.files[0]?.path).toBe(frozen.truth.exe);
    for (const file of p?.files ?? []) expect(await checkFileIdentity(file)).toBeNull();
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
