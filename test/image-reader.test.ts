/**
 * The reader on images built from the format (test/helpers/image-builder.ts): every
 * field of a job decoded, every rule of docs/image-format.md's "What a reader accepts"
 * refused with an ImageError that names it. Real images from the freezer are read in
 * image-info.test.ts.
 */
import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CkptyError, ExitCode } from '../src/base/errors.js';
import { ImageError } from '../src/image/errors.js';
import { checkFileIdentity, checkImageOwnership, openImage } from '../src/image/file.js';
import {
  CKPT_JOB,
  CKPT_MEMBER,
  CKPT_OBJECT,
  CKPT_OFILE,
  CKPT_PROCESS,
  CKPT_SIGNALS,
  CKPT_WATCH,
  ELF64_EHDR,
  ELF64_PHDR,
  NoteType,
} from '../src/image/format.js';
import type { MappedFile } from '../src/image/image.js';
import { parseImage, readImage, type ByteSource } from '../src/image/reader.js';
import {
  buildImage,
  buildJob,
  DEFAULT_OFILES,
  DEFAULT_PROCESS,
  EXE,
  LIBC,
  memberEntry,
  noteOf,
  patchField,
  ptyTermiosWithoutEcho,
  type BuiltImage,
  type VmaSpec,
} from './helpers/image-builder.js';
import { descriptorZoo, pipelineJob, ZOO } from './helpers/image-samples.js';

const work = mkdtempSync(join(tmpdir(), 'ckpty-image-reader-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The ImageError the reader throws for these bytes (fails if it succeeds or throws anything else). */
async function refusal(bytes: Uint8Array): Promise<ImageError> {
  try {
    await parseImage(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ImageError);
    return err as ImageError;
  }
  throw new Error('the reader accepted a bad image');
}

const message = async (bytes: Uint8Array): Promise<string> => (await refusal(bytes)).message;

function phdrField(built: BuiltImage, index: number, field: keyof typeof ELF64_PHDR.fields, core = 0): number {
  const layout = built.layout.cores[core];
  if (!layout) throw new Error(`no core ${core}`);
  return layout.phoff + index * ELF64_PHDR.size + ELF64_PHDR.fields[field].offset;
}

/** A built image with one field of the job note's member entry changed. */
function withMember(built: BuiltImage, index: number, field: keyof typeof CKPT_MEMBER.fields, value: number | bigint): BuiltImage {
  patchField(built, { note: 'NT_CKPT_JOB', at: memberEntry(index) }, CKPT_MEMBER, field, value);
  return built;
}

function withJob(built: BuiltImage, field: keyof typeof CKPT_JOB.fields, value: number | bigint): BuiltImage {
  patchField(built, { note: 'NT_CKPT_JOB' }, CKPT_JOB, field, value);
  return built;
}

describe('reading a well-formed image of one process', () => {
  it('decodes the job, the process, argv, threads and notes', async () => {
    const image = await parseImage(buildImage({ flags: 3, threads: [{ tid: 4242, syscallRestart: 1, origRax: 0n, syscallRet: -512n }] }).bytes);
    expect(image.version).toBe(2);
    expect(image.members).toEqual([
      { index: 0, pid: 4242, parent: null, pgid: 4242, sid: 0, state: 'live', waitStatus: 0, comm: 'fixture', core: { offset: 0, length: expect.any(Number) } },
    ]);
    expect(image.job).toMatchObject({ pgid: 4242, statusMember: 0, dataArea: { offset: image.fileSize, length: 0 } });
    expect(image.processes).toHaveLength(1);
    const [p] = image.processes;
    expect(p?.process).toMatchObject({
      pid: 4242,
      ppid: 4000,
      pgid: 4242,
      sid: 4000,
      uid: 1000,
      comm: 'fixture',
      exe: EXE,
      cwd: '/home/user/work',
      kernelRelease: '6.18.0-test',
      snapshot: true,
      wasStopped: true,
      umask: 0o022,
      storedBytes: 7 * 4096,
    });
    expect(p?.process.freezeTime.toISOString()).toBe('2025-11-27T13:26:40.123Z');
    expect(p?.process.mm.brk).toBe(0x1021000n);
    expect(p?.process.rlimits[7]).toEqual({ resource: 'RLIMIT_NOFILE', cur: 1024n, max: 4096n });
    expect(p?.process.rlimits[0]).toEqual({ resource: 'RLIMIT_CPU', cur: null, max: null });
    expect(p?.argv).toEqual(['fixture', '--count', 'two words']);
    expect(p?.threads).toHaveLength(1);
    expect(p?.threads[0]).toMatchObject({ tid: 4242, comm: 'fixture', restart: { kind: 'rewound', origRax: 0n, syscallRet: -512n }, rseq: null, xstateSize: null });
    expect(p?.threads[0]?.registers.rip).toBe(0x401234n);
    expect(p?.threads[0]?.registers.rsp).toBe(0x7ffd_0000_1f00n);
    expect(p?.standardNotes).toEqual(['NT_PRSTATUS', 'NT_PRPSINFO', 'NT_AUXV', 'NT_FPREGSET']);
    expect(p?.notes.map((note) => note.name)).toContain('NT_CKPT_JOB');
  });

  it('decodes mappings with their permissions, kinds, files and stored bytes', async () => {
    const built = buildImage();
    const [p] = (await parseImage(built.bytes)).processes;
    expect(p?.vmas.map((vma) => [vma.start, vma.end, vma.perms, vma.kind, vma.path, vma.stored])).toEqual([
      [0x400000n, 0x402000n, 'r-xp', 'file', EXE, 0],
      [0x402000n, 0x403000n, 'rw-p', 'file', EXE, 4096],
      [0x1000000n, 0x1021000n, 'rw-p', 'heap', '[heap]', 8192],
      [0x7f00_0000_0000n, 0x7f00_0000_4000n, 'r-xp', 'file', LIBC, 0],
      [0x7f00_0000_4000n, 0x7f00_0000_6000n, 'rw-p', 'anon', '', 4096],
      [0x7ffd_0000_0000n, 0x7ffd_0002_1000n, 'rw-p', 'stack', '[stack]', 12288],
      [0x7ffd_0010_0000n, 0x7ffd_0010_2000n, 'r-xp', 'vdso', '[vdso]', 0],
    ]);
    expect(p?.vmas[5]?.growsDown).toBe(true);
    expect(p?.vmas[1]?.pgoff).toBe(0x2000n);
    expect(p?.files[1]).toMatchObject({ path: LIBC, ino: 5678n, size: 1_922_136n, mtimeNs: 1_690_000_000_500_000_000n });
    expect(p?.loads.map((load) => [load.vaddr, load.filesz, load.offset])).toEqual(
      [0x402000n, 0x1000000n, 0x7f00_0000_4000n, 0x7ffd_0000_0000n].map((vaddr, i) => [vaddr, [4096, 8192, 4096, 12288][i], built.layout.cores[0]?.loads[i]?.offset]),
    );
  });

  it('decodes descriptors with their open files, signal dispositions, signal sets and the terminal', async () => {
    const image = await parseImage(buildImage({ threads: [{ tid: 4242, blocked: 1n << 9n, pending: 1n << 9n }] }).bytes);
    const [p] = image.processes;
    expect(p?.fds).toEqual([
      { fd: 0, cloexec: false, openFile: 0 },
      { fd: 1, cloexec: false, openFile: 0 },
      { fd: 2, cloexec: false, openFile: 0 },
      { fd: 3, cloexec: true, openFile: 1 },
    ]);
    expect(image.openFiles[1]).toMatchObject({
      index: 1,
      kind: 'file',
      path: '/home/user/work/log.txt',
      accessMode: 'O_RDWR',
      flagNames: ['O_RDWR', 'O_APPEND', 'O_LARGEFILE'],
      pos: 1234n,
      object: null,
      ino: 99n,
    });
    expect(image.openFiles[0]).toMatchObject({ kind: 'tty', path: '/dev/pts/3', rdev: 0x8803 });
    const sigint = p?.sigactions[1];
    expect(sigint).toMatchObject({ signal: 2, name: 'SIGINT', disposition: 'handler', handler: 0x401100n });
    expect(sigint?.flagNames).toEqual(['SA_RESTORER', 'SA_RESTART']);
    expect(sigint?.maskNames).toEqual(['SIGTERM']);
    expect(p?.sigactions[12]).toMatchObject({ name: 'SIGPIPE', disposition: 'ignore' });
    expect(p?.sigactions.filter((action) => action.disposition === 'default')).toHaveLength(62);
    expect(p?.threads[0]?.blockedNames).toEqual(['SIGUSR1']);
    expect(p?.threads[0]?.pendingNames).toEqual(['SIGUSR1']);
    expect(p?.signals.queued).toEqual([{ tid: 0, signal: 10, name: 'SIGUSR1', code: 0, errno: 0 }]);
    expect(p?.tty).toEqual({
      fd: 0,
      path: '/dev/pts/3',
      termios: { ...ptyTermiosWithoutEcho(), ckpt: 0 },
      size: { rows: 24, cols: 80, xpixel: 0, ypixel: 0 },
    });
  });

  it('has no terminal, timers or screen when the image has none', async () => {
    const image = await parseImage(buildImage({ tty: null }).bytes);
    expect(image.processes[0]?.tty).toBeNull();
    expect(image.processes[0]?.timers).toEqual([]);
    expect(image.screen).toBeNull();
  });

  it('takes a left-out table of the job or timers for an empty one', async () => {
    const image = await parseImage(buildImage({ fds: [], omit: ['NT_CKPT_OBJECTS', 'NT_CKPT_OFILES', 'NT_CKPT_WATCHES', 'NT_CKPT_TIMERS'] }).bytes);
    expect([image.objects, image.openFiles, image.watches, image.processes[0]?.timers]).toEqual([[], [], [], []]);
  });
});

describe('reading a job', () => {
  it('decodes members, parents, a zombie, the status member and each live member core', async () => {
    const built = pipelineJob();
    const image = await parseImage(built.bytes);
    expect(image.members.map((m) => [m.pid, m.parent, m.state, m.comm, m.core?.offset ?? null])).toEqual([
      [5000, null, 'live', 'sh', 0],
      [5001, 0, 'live', 'producer', built.layout.cores[1]?.offset],
      [5002, 0, 'live', 'consumer', built.layout.cores[2]?.offset],
      [5004, 0, 'zombie', 'true', null],
    ]);
    expect(image.members[3]?.waitStatus).toBe(0x100);
    expect(image.job).toMatchObject({ pgid: 5000, statusMember: 2, dataArea: { offset: built.layout.data.offset, length: 12 } });
    expect(image.processes.map((p) => [p.member, p.process.pid, p.threads.map((t) => t.tid)])).toEqual([
      [0, 5000, [5000]],
      [1, 5001, [5001, 5003]],
      [2, 5002, [5002]],
    ]);
    const producer = image.processes[1];
    expect(producer?.threads.map((t) => [t.comm, t.restart.origRax, t.xstateSize, t.blockedNames])).toEqual([
      ['producer', 1n, 832, []],
      ['producer:gen', 202n, 832, ['SIGINT']],
    ]);
    expect(producer?.signals.queued).toEqual([{ tid: 5003, signal: 10, name: 'SIGUSR1', code: -6, errno: 0 }]);
    // Offsets of a later member's PT_LOADs are in the file, past its core's start.
    expect(producer?.loads[0]?.offset).toBe(built.layout.cores[1]?.loads[0]?.offset);
    expect(producer?.notes[0]?.offset).toBeGreaterThan(built.layout.cores[1]?.offset ?? 0);
    expect(image.objects).toEqual([{ index: 0, kind: 'pipe', seals: 0, data: { offset: 0, length: 12 }, data2: { offset: 0, length: 0 }, size: 65536n, mode: 0, name: '' }]);
    expect(image.openFiles.map((f) => [f.kind, f.object, f.end, f.accessMode])).toEqual([
      ['tty', null, 0, 'O_RDWR'],
      ['pipe', 0, 0, 'O_RDONLY'],
      ['pipe', 0, 1, 'O_WRONLY'],
    ]);
    expect(image.processes[2]?.fds[0]).toEqual({ fd: 0, cloexec: false, openFile: 1 });
    expect(built.bytes.subarray(image.job.dataArea.offset).toString()).toBe('hello world\n');
  });

  it('decodes every kind of open file, the objects they and the mappings share, watches, timers and the screen', async () => {
    const image = await parseImage(descriptorZoo().bytes);
    expect(image.openFiles.map((f) => f.kind)).toEqual([
      'tty', 'object-file', 'object-file', 'socket', 'socket', 'eventfd', 'timerfd', 'signalfd', 'epoll', 'inotify', 'closed-socket', 'pipe',
    ]);
    expect(image.objects.map((o) => [o.kind, o.name, o.data.length, o.data2.length])).toEqual([
      ['memfd', 'memfd:cache', 8192, 0],
      ['deleted', '/tmp/scratch', 5, 0],
      ['stream-pair', '', 4, 5],
      ['shmem', '', 8192, 0],
      ['pipe', '/home/user/work/fifo', 6, 0],
    ]);
    expect(image.openFiles[ZOO.eventfd]).toMatchObject({ count: 3n, kindFlags: 1 });
    expect(image.openFiles[ZOO.timerfd]).toMatchObject({ clock: 1, valueNs: 1_500_000_000n, intervalNs: 2_000_000_000n, count: 1n });
    expect(image.openFiles[ZOO.signalfd]?.sigmaskNames).toEqual(['SIGINT', 'SIGTERM']);
    expect(image.openFiles[ZOO.closedSocket]?.path).toBe('127.0.0.1:5432');
    expect(image.watches).toEqual([
      { index: 0, owner: ZOO.epoll, target: ZOO.socket0, tfd: 5, events: 1, eventNames: ['EPOLLIN'], data: 0n, path: '' },
      { index: 1, owner: ZOO.epoll, target: ZOO.eventfd, tfd: 7, events: 0x80000001, eventNames: ['EPOLLIN', 'EPOLLET'], data: 0x55n, path: '' },
      { index: 2, owner: ZOO.inotify, target: null, tfd: 1, events: 0x102, eventNames: ['IN_MODIFY', 'IN_CREATE'], data: 0n, path: '/home/user/work' },
    ]);
    const [p] = image.processes;
    expect(p?.vmas.filter((vma) => vma.kind === 'object').map((vma) => [vma.object, vma.path, vma.shared])).toEqual([
      [0, 'memfd:cache', true],
      [3, '', true],
    ]);
    expect(p?.timers.map((t) => [t.kind, t.id, t.valueNs, t.intervalNs, t.notifyTid])).toEqual([
      ['posix', 0, 500_000_000n, 1_000_000_000n, 0],
      ['posix', 1, 0n, 0n, 6000],
      ['real', 0, 3_000_000_000n, 0n, 0],
    ]);
    expect(new TextDecoder().decode(image.screen ?? undefined)).toBe('\x1b[H\x1b[2Jzoo> ');
  });

  it('reads only the headers and the notes, never stored memory or the data area', async () => {
    const built = pipelineJob();
    const reads: [number, number][] = [];
    const source: ByteSource = {
      size: built.bytes.length,
      read: async (offset, length) => {
        reads.push([offset, offset + length]);
        return built.bytes.subarray(offset, offset + length);
      },
    };
    await readImage(source);
    const data = [...built.layout.cores.flatMap((core) => core.loads), { offset: built.layout.data.offset, size: built.layout.data.size }];
    for (const [start, end] of reads) {
      for (const piece of data) expect(end <= piece.offset || start >= piece.offset + piece.size, `read ${start}-${end}`).toBe(true);
    }
  });
});

describe('refusing what is not a ckpty image', () => {
  it('refuses an empty file, a text file and a program', async () => {
    expect(await message(new Uint8Array())).toBe('not a ckpty image: the file is empty');
    expect(await message(Buffer.from('hello, world\n'))).toBe('not a ckpty image: not an ELF file');
    expect(await message(readFileSync('/bin/sh'))).toMatch(/^not a ckpty image: an ELF file that is .*, not a core file$/);
  });

  it('refuses 32-bit, big-endian and non-x86_64 ELF files', async () => {
    const cases: [number, number, RegExp][] = [
      [4, 1, /a 32-bit ELF file/],
      [5, 2, /a big-endian ELF file/],
      [ELF64_EHDR.fields.e_machine.offset, 183, /a core file for ELF machine 183, not x86_64/],
    ];
    for (const [offset, value, pattern] of cases) {
      const { bytes } = buildImage();
      bytes[offset] = value;
      const error = await refusal(bytes);
      expect(error.problem).toBe('foreign');
      expect(error.message).toMatch(pattern);
    }
  });

  it('refuses a core file without ckpty notes', async () => {
    expect(await message(buildImage({ omit: Object.keys(NoteType) }).bytes)).toBe('not a ckpty image: no CKPTY notes (a core file from another tool?)');
  });

  it('refuses version 1 images and other versions, with the same words as the native loader', async () => {
    const v1 = await refusal(buildImage({ version: 1 }).bytes);
    expect(v1.problem).toBe('version');
    expect(v1.message).toBe('unsupported image version 1 (this ckpty reads version 2)');
    expect(await message(buildImage({ version: 7 }).bytes)).toBe('unsupported image version 7 (this ckpty reads version 2)');
  });
});

describe('refusing truncated images', () => {
  it('names the part that is cut off', async () => {
    const built = buildImage();
    const { bytes } = built;
    const core = built.layout.cores[0]!;
    const cases: [number, string][] = [
      [40, 'truncated image: the ELF header needs 64 bytes but the file has 40'],
      [100, `truncated image: program headers end at ${core.phoff + core.phnum * 56} but the file has 100 bytes`],
      [core.noteOffset + 10, `truncated image: the note segment ends at ${core.noteOffset + core.noteSize} but the file has ${core.noteOffset + 10} bytes`],
      [bytes.length - 1, `truncated image: the data area ends at ${bytes.length} but the file has ${bytes.length - 1} bytes`],
    ];
    for (const [size, expected] of cases) expect(await message(bytes.subarray(0, size))).toBe(expected);
  });

  it('names a member core that is cut off', async () => {
    const built = pipelineJob();
    const core = built.layout.cores[2]!;
    // The data area moved into what is left: only the core is cut.
    withJob(built, 'data_offset', 0n);
    withJob(built, 'data_size', 0n);
    const cut = built.bytes.subarray(0, core.offset + 4096);
    expect(await message(cut)).toBe(`corrupt image: member 0 (pid 5000) has its core end at ${built.layout.cores[0]?.size}, inside the data area (at 0)`);
    const keep = pipelineJob();
    expect(await message(keep.bytes.subarray(0, core.offset + 4096))).toMatch(/^truncated image: the data area ends at/);
  });
});

describe('refusing corrupt job tables', () => {
  it('checks the job note and its member count', async () => {
    expect(await message(buildImage({ omit: ['NT_CKPT_JOB'] }).bytes)).toBe('corrupt image: note NT_CKPT_JOB is missing');
    expect(await message(withJob(buildImage(), 'nmembers', 0).bytes)).toBe('corrupt image: a job of 0 members (1 to 4096)');
    expect(await message(withJob(buildImage(), 'nmembers', 5000).bytes)).toBe('corrupt image: a job of 5000 members (1 to 4096)');
    expect(await message(withJob(buildImage(), 'nmembers', 2).bytes)).toBe('corrupt image: note NT_CKPT_JOB has size 104, but 2 members need 160');
    expect(await message(withJob(buildImage(), 'data_offset', 100n).bytes)).toBe('corrupt image: the data area is at 100, not page-aligned');
  });

  it('checks each member: state, core, parent', async () => {
    const cases: [(b: BuiltImage) => BuiltImage, string][] = [
      [(b) => withMember(b, 1, 'state', 7), 'member 1 (pid 5001) has unknown state 7'],
      [(b) => withMember(b, 0, 'state', 1), 'member 0 is a zombie (its core must start the file)'],
      [(b) => withMember(b, 3, 'core_size', 4096n), 'member 3 (pid 5004) is a zombie but has a core'],
      [(b) => withMember(b, 0, 'core_offset', 4096n), "member 0's core is at 4096, not at the start of the file"],
      [(b) => withMember(b, 1, 'core_offset', 4097n), 'member 1 (pid 5001) has its core at 4097, not page-aligned'],
      [(b) => withMember(b, 1, 'core_size', 0n), 'member 1 (pid 5001) is live but has no core'],
      [(b) => withMember(b, 1, 'core_offset', 0n), 'member 1 (pid 5001) has its core at 0, before the end of the previous one (36864)'],
      [(b) => withMember(b, 1, 'parent', 4), 'member 1 (pid 5001) has parent 4, but the job has 4 members'],
      [(b) => withMember(b, 3, 'parent', -1), 'member 3 (pid 5004) is a zombie whose parent is not a member'],
      [(b) => withMember(withMember(b, 0, 'parent', 2), 2, 'parent', 0), 'member 0 (pid 5000) is its own ancestor (the parent links form a cycle)'],
      [(b) => withMember(b, 1, 'parent', 1), 'member 1 (pid 5001) is its own ancestor (the parent links form a cycle)'],
      [(b) => withJob(b, 'status_member', 4), "the job's status member is 4, but the job has 4 members"],
    ];
    for (const [damage, expected] of cases) expect(await message(damage(pipelineJob()).bytes)).toBe(`corrupt image: ${expected}`);
    const past = withMember(pipelineJob(), 2, 'core_size', 1n << 40n);
    expect(await message(past.bytes)).toMatch(/^truncated image: member 2 \(pid 5002\) has its core at \d+-\d+ but the file has \d+ bytes$/);
    const intoData = pipelineJob();
    const last = intoData.layout.cores[2]!;
    withJob(intoData, 'data_offset', BigInt(last.offset));
    expect(await message(intoData.bytes)).toBe(`corrupt image: member 2 (pid 5002) has its core end at ${last.offset + last.size}, inside the data area (at ${last.offset})`);
  });

  it("checks the objects, open files and watches against each other and the data area", async () => {
    const zoo = (): BuiltImage => descriptorZoo();
    const object = (b: BuiltImage, index: number, field: keyof typeof CKPT_OBJECT.fields, value: number | bigint): BuiltImage => {
      patchField(b, { note: 'NT_CKPT_OBJECTS', index }, CKPT_OBJECT, field, value);
      return b;
    };
    const ofile = (b: BuiltImage, index: number, field: keyof typeof CKPT_OFILE.fields, value: number | bigint): BuiltImage => {
      patchField(b, { note: 'NT_CKPT_OFILES', index }, CKPT_OFILE, field, value);
      return b;
    };
    const watch = (b: BuiltImage, index: number, field: keyof typeof CKPT_WATCH.fields, value: number | bigint): BuiltImage => {
      patchField(b, { note: 'NT_CKPT_WATCHES', index }, CKPT_WATCH, field, value);
      return b;
    };
    const dataSize = zoo().layout.data.size;
    const cases: [BuiltImage, string][] = [
      [object(zoo(), 1, 'kind', 9), 'object 1 has unknown kind 9'],
      [object(zoo(), 1, 'data_len', 1n << 20n), `object 1 has data outside the data area (${dataSize} bytes)`],
      [object(zoo(), 2, 'data2_offset', (1n << 64n) - 1n), `object 2 has data outside the data area (${dataSize} bytes)`],
      [object(zoo(), 0, 'name', 99999), 'string offset 99999 of NT_CKPT_OBJECTS[0].name is outside NT_CKPT_STRINGS'],
      [ofile(zoo(), 3, 'kind', 13), 'open file 3 has unknown kind 13'],
      [ofile(zoo(), 3, 'object', 4), 'open file 3 needs a socket pair, but object 4 has kind 0'],
      [ofile(zoo(), ZOO.fifo, 'object', 2), 'open file 11 needs a pipe, but object 2 has kind 1'],
      [ofile(zoo(), ZOO.memfd, 'object', 3), 'open file 1 needs a memfd or deleted file, but object 3 has kind 6'],
      [ofile(zoo(), ZOO.memfd, 'object', 5), 'open file 1 refers to object 5, but NT_CKPT_OBJECTS has 5'],
      [ofile(zoo(), ZOO.eventfd, 'object', 0), 'open file 5 (kind 7) refers to object 0'],
      [ofile(zoo(), ZOO.socket1, 'end', 2), 'open file 4 is end 2 (0 or 1)'],
      [watch(zoo(), 0, 'owner', 12), 'watch 0 belongs to open file 12, but NT_CKPT_OFILES has 12'],
      [watch(zoo(), 0, 'owner', ZOO.eventfd), 'watch 0 belongs to open file 5, neither an epoll nor an inotify instance'],
      [watch(zoo(), 1, 'target', -1), 'epoll watch 1 watches open file -1, but NT_CKPT_OFILES has 12'],
      [watch(zoo(), 2, 'target', 0), 'inotify watch 2 names open file 0 (inotify watches paths)'],
    ];
    for (const [built, expected] of cases) expect(await message(built.bytes)).toMatch(new RegExp(`^corrupt image: ${expected.replace(/[()[\].]/g, '\\$&')}`));
    const screen = buildImage({ screen: new Uint8Array((4 << 20) + 1) });
    expect(await message(screen.bytes)).toBe(`corrupt image: note NT_CKPT_SCREEN has size ${(4 << 20) + 1}, more than ${4 << 20}`);
  });
});

describe('refusing corrupt member cores', () => {
  it('names the member, and calls what would be foreign in the first core corrupt in a later one', async () => {
    const built = pipelineJob();
    built.bytes[built.layout.cores[1]?.offset ?? 0] = 0;
    expect(await message(built.bytes)).toBe('corrupt image: member 1 (pid 5001): not an ELF file');
    const noNotes = buildJob({
      members: [{ pid: 1 }, { pid: 2, parent: 0, process: { omit: Object.keys(NoteType) } }],
      ofiles: DEFAULT_OFILES,
    });
    expect(await message(noNotes.bytes)).toBe('corrupt image: member 1 (pid 2): no CKPTY notes (a core file from another tool?)');
  });

  it("refuses the job's notes, another version and another member's process note in a later core", async () => {
    const jobInOther = buildJob({
      members: [{ pid: 1 }, { pid: 2, parent: 0, process: { extraNotes: [{ owner: 'CKPTY', type: NoteType.NT_CKPT_SCREEN, desc: new Uint8Array(3) }] } }],
      ofiles: DEFAULT_OFILES,
    });
    expect(await message(jobInOther.bytes)).toBe("corrupt image: member 1 (pid 2): note NT_CKPT_SCREEN belongs in member 0's core only");
    const version = buildJob({ members: [{ pid: 1 }, { pid: 2, parent: 0, process: { version: 1 } }], ofiles: DEFAULT_OFILES });
    expect(await message(version.bytes)).toBe("corrupt image: member 1 (pid 2): NT_CKPT_PROCESS.version is 1 (the job's is 2)");
    const swapped = buildJob({ members: [{ pid: 1 }, { pid: 2, parent: 0, process: { member: 0 } }], ofiles: DEFAULT_OFILES });
    expect(await message(swapped.bytes)).toBe("corrupt image: member 1 (pid 2): NT_CKPT_PROCESS.member is 0, but the core is member 1's");
  });

  it('checks note sizes against the structs', async () => {
    const built = buildImage({ omit: ['NT_CKPT_VMAS'], extraNotes: [{ owner: 'CKPTY', type: NoteType.NT_CKPT_VMAS, desc: new Uint8Array(50) }] });
    expect(await message(built.bytes)).toBe('corrupt image: note NT_CKPT_VMAS has size 50, not a multiple of 48');
    expect(await message(buildImage({ omit: ['NT_CKPT_PROCESS'] }).bytes)).toBe('corrupt image: note NT_CKPT_PROCESS is missing');
    expect(await message(buildImage({ omit: ['NT_CKPT_THREADS'] }).bytes)).toBe('corrupt image: note NT_CKPT_THREADS is missing');
    const sigactions = buildImage({ omit: ['NT_CKPT_SIGACTIONS'], extraNotes: [{ owner: 'CKPTY', type: NoteType.NT_CKPT_SIGACTIONS, desc: new Uint8Array(64) }] });
    expect(await message(sigactions.bytes)).toBe('corrupt image: note NT_CKPT_SIGACTIONS has size 64, not 2048');
  });

  it('checks threads against their notes', async () => {
    const cases: [Parameters<typeof buildImage>[0], string][] = [
      [{ omit: ['NT_PRSTATUS', 'NT_FPREGSET'] }, '0 NT_PRSTATUS notes for 1 threads'],
      [{ nthreads: 2 }, '1 NT_PRSTATUS notes for 2 threads'],
      [{ nthreads: 0 }, 'a process of 0 threads (1 to 4096)'],
      [{ nthreads: 4097 }, 'a process of 4097 threads (1 to 4096)'],
      [{ threads: [{ tid: 4242 }, { tid: 4243 }], nthreads: 1 }, 'more NT_PRSTATUS notes than its 1 threads'],
      [{ omit: ['NT_FPREGSET'] }, 'thread 0 has no NT_FPREGSET'],
      [{ threads: [{ tid: 4242, xstateSize: 100 }] }, 'NT_X86_XSTATE of thread 0 has size 100, less than 576'],
      [{ threads: [{ tid: 4242 }, { tid: 4242 }] }, 'threads 0 and 1 both have tid 4242'],
      [{ threads: [{ tid: 4243 }, { tid: 4242 }] }, "thread 0 has tid 4243, not the process's pid 4242 (the leader comes first)"],
      [{ threads: [{ tid: 4242 }, { tid: -5 }] }, 'thread 1 has tid -5'],
      [{ threads: [{ tid: 4242, syscallRestart: 9 }] }, 'thread 0 has unknown syscall restart kind 9'],
      [{ threads: [{ tid: 4242, rseq: { addr: 0x1000n, len: 20, sig: 0 } }] }, 'thread 0 has an rseq area of 20 bytes (at least 32)'],
    ];
    for (const [spec, expected] of cases) expect(await message(buildImage(spec).bytes)).toBe(`corrupt image: ${expected}`);
  });

  it('refuses FP state before the first NT_PRSTATUS, and twice for one thread', async () => {
    // Reordered: the leader's NT_PRSTATUS left out, an NT_PRSTATUS appended after the FP state.
    const prstatus = buildImage();
    const note = noteOf(prstatus, 'NT_PRSTATUS');
    const desc = prstatus.bytes.subarray(note.descOffset, note.descOffset + note.descSize);
    const early = buildImage({ omit: ['NT_PRSTATUS'], extraNotes: [{ owner: 'CORE', type: 1, desc }] });
    expect(await message(early.bytes)).toBe('corrupt image: note NT_FPREGSET comes before the first NT_PRSTATUS');
    const twice = buildImage({ extraNotes: [{ owner: 'CORE', type: 2, desc: new Uint8Array(512) }] });
    expect(await message(twice.bytes)).toBe('corrupt image: thread 0 has more than one NT_FPREGSET');
  });

  it('checks queued signals against the size of NT_CKPT_SIGNALS and the threads', async () => {
    const built = buildImage();
    patchField(built, { note: 'NT_CKPT_SIGNALS' }, CKPT_SIGNALS, 'nqueued', 0xffffffff);
    expect(await message(built.bytes)).toMatch(/^corrupt image: note NT_CKPT_SIGNALS has size 152, but 4294967295 queued signals need/);
    expect(await message(buildImage({ queued: [{ tid: 77, signal: 10, code: 0, errno: 0 }] }).bytes)).toBe('corrupt image: queued signal 0 is for tid 77, not one of its threads');
  });

  it('checks timers', async () => {
    expect(await message(buildImage({ timers: [{ kind: 4 }] }).bytes)).toBe('corrupt image: timer 0 has unknown kind 4');
    expect(await message(buildImage({ timers: [{ kind: 0, notify: 4, notifyTid: 99 }] }).bytes)).toBe('corrupt image: timer 0 notifies tid 99, not one of its threads');
  });

  it('refuses a duplicated or unknown ckpty note, and a second NT_AUXV', async () => {
    const twice = buildImage({ extraNotes: [{ owner: 'CKPTY', type: NoteType.NT_CKPT_ARGV, desc: new Uint8Array(4) }] });
    expect(await message(twice.bytes)).toBe('corrupt image: note NT_CKPT_ARGV appears more than once');
    const unknown = buildImage({ extraNotes: [{ owner: 'CKPTY', type: 0x434b00ff, desc: new Uint8Array(4) }] });
    expect(await message(unknown.bytes)).toBe('corrupt image: unknown ckpty note type 0x434b00ff');
    const auxv = buildImage({ extraNotes: [{ owner: 'CORE', type: 6, desc: new Uint8Array(16) }] });
    expect(await message(auxv.bytes)).toBe('corrupt image: note NT_AUXV appears more than once');
  });

  it('keeps notes of other owners and unknown standard notes out of the way', async () => {
    const image = await parseImage(buildImage({ extraNotes: [{ owner: 'GNU', type: 1, desc: new Uint8Array(5) }] }).bytes);
    expect(image.processes[0]?.notes.at(-1)).toMatchObject({ owner: 'GNU', type: 1, name: null, size: 5 });
  });

  it('refuses a note that runs past the note segment', async () => {
    const built = buildImage();
    built.bytes.writeUInt32LE(1 << 20, noteOf(built, 'NT_CKPT_ARGV').headerOffset + 4);
    expect(await message(built.bytes)).toMatch(/^corrupt image: note \d+ at offset \d+ \(name 6 bytes, data 1048576 bytes\) runs past the end of the note segment$/);
  });

  it('checks string offsets', async () => {
    const built = buildImage();
    const strings = noteOf(built, 'NT_CKPT_STRINGS');
    patchField(built, { note: 'NT_CKPT_PROCESS' }, CKPT_PROCESS, 'exe', 99999);
    expect(await message(built.bytes)).toBe(`corrupt image: string offset 99999 of NT_CKPT_PROCESS.exe is outside NT_CKPT_STRINGS (${strings.descSize} bytes)`);
    const unterminated = buildImage();
    const table = noteOf(unterminated, 'NT_CKPT_STRINGS');
    unterminated.bytes[table.descOffset + table.descSize - 1] = 0x41;
    expect(await message(unterminated.bytes)).toBe('corrupt image: NT_CKPT_STRINGS does not end with a NUL');
  });

  it('checks mappings and what they map', async () => {
    const vmas = DEFAULT_PROCESS.vmas;
    const cases: [VmaSpec[], string][] = [
      [[vmas[0]!, { ...vmas[1]!, start: 0x401000n }], 'VMAs 0 (0x400000-0x402000) and 1 (0x401000-0x403000) overlap or are out of order'],
      [[{ ...vmas[0]!, end: 0x401800n }], 'VMA 0 (0x400000-0x401800) is not page-aligned'],
      [[{ ...vmas[0]!, kind: 12 }], 'VMA 0 (0x400000-0x402000) has unknown kind 12'],
      [[{ ...vmas[0]!, file: 5 }], 'VMA 0 (0x400000-0x402000) refers to file 5, but NT_CKPT_FILES has 2'],
      [[{ ...vmas[0]!, kind: 0 }], 'VMA 0 (0x400000-0x402000) names file 0 but is not file-backed'],
      [[{ ...vmas[0]!, kind: 7 }], 'VMA 0 (0x400000-0x402000) refers to object 0, but NT_CKPT_OBJECTS has 0'],
    ];
    for (const [list, expected] of cases) expect(await message(buildImage({ vmas: list }).bytes)).toBe(`corrupt image: ${expected}`);
    const pipe = buildImage({
      vmas: [{ start: 0x1000n, end: 0x2000n, prot: 3, kind: 7, flags: 1, file: 0 }],
      objects: [{ kind: 0 }],
    });
    expect(await message(pipe.bytes)).toBe('corrupt image: VMA 0 (0x1000-0x2000) maps object 0 of kind pipe (not memory or a file)');
  });

  it('checks the PT_LOADs against the core, the mappings and the stored sizes', async () => {
    const outside = buildImage();
    outside.bytes.writeBigUInt64LE(1n << 40n, phdrField(outside, 1, 'p_offset'));
    expect(await message(outside.bytes)).toMatch(/^corrupt image: PT_LOAD 1 \(0x402000-0x403000\) ends at 1099511631872, past its core \(\d+ bytes\)$/);

    const unmapped = buildImage();
    unmapped.bytes.writeBigUInt64LE(0x500000n, phdrField(unmapped, 1, 'p_vaddr'));
    expect(await message(unmapped.bytes)).toBe('corrupt image: PT_LOAD 1 (0x500000-0x501000) is not inside one mapping');
    // Runs never span two mappings: the thaw maps each by itself.
    const spanning = buildImage();
    spanning.bytes.writeBigUInt64LE(0x3000n, phdrField(spanning, 1, 'p_memsz'));
    expect(await message(spanning.bytes)).toBe('corrupt image: PT_LOAD 1 (0x402000-0x405000) is not inside one mapping');

    expect(await message(buildImage({ storedBytes: 4096n }).bytes)).toBe('corrupt image: NT_CKPT_PROCESS says 4096 bytes are stored, the PT_LOADs hold 28672');

    const order = buildImage();
    order.bytes.writeBigUInt64LE(0x7ffd_0000_0000n, phdrField(order, 1, 'p_vaddr'));
    expect(await message(order.bytes)).toBe('corrupt image: PT_LOADs 1 and 2 overlap or are out of address order');

    const other = buildImage();
    other.bytes.writeUInt32LE(0x6474e550, phdrField(other, 2, 'p_type'));
    expect(await message(other.bytes)).toBe('corrupt image: program header 2 has type 0x6474e550 (expected PT_LOAD)');

    const job = pipelineJob();
    job.bytes.writeBigUInt64LE(1n << 20n, phdrField(job, 1, 'p_offset', 1));
    expect(await message(job.bytes)).toMatch(/^corrupt image: member 1 \(pid 5001\): PT_LOAD 1 \(0x402000-0x403000\) ends at 1052672, past its core \(\d+ bytes\)$/);
  });

  it('checks fds and the open files they name', async () => {
    const twice = [...DEFAULT_PROCESS.fds, DEFAULT_PROCESS.fds[0]!];
    expect(await message(buildImage({ fds: twice }).bytes)).toBe('corrupt image: NT_CKPT_FDS[4] has fd 0 (the table is sorted, without repeats)');
    expect(await message(buildImage({ fds: [{ fd: 0, ofile: 2 }] }).bytes)).toBe('corrupt image: fd 0 refers to open file 2, but NT_CKPT_OFILES has 2');
  });

  it('refuses PN_XNUM: a ckpty image never needs more program headers than e_phnum holds', async () => {
    const { bytes } = buildImage();
    bytes.writeUInt16LE(0xffff, ELF64_EHDR.fields.e_phnum.offset);
    expect(await message(bytes)).toBe('corrupt image: e_phnum is PN_XNUM (a ckpty image has fewer than 65535 program headers)');
  });
});

describe('images on disk', () => {
  it('openImage names the file in errors and reports its owner', async () => {
    const path = join(work, 'good.ckpt');
    writeFileSync(path, buildImage().bytes, { mode: 0o600 });
    const image = await openImage(path);
    expect(image.processes[0]?.process.pid).toBe(4242);
    expect(image.file).toMatchObject({ path, uid: process.getuid?.() });
    expect(checkImageOwnership(image, image.file?.uid ?? -1)).toBeNull();
    expect(checkImageOwnership(image, 12345)).toBe(`${path} is owned by uid ${image.file?.uid}, not by uid 12345`);
    chmodSync(path, 0o664);
    const loose = await openImage(path);
    expect(checkImageOwnership(loose, loose.file?.uid ?? -1)).toBe(`${path} is writable by its group (mode 0664)`);

    const bad = join(work, 'bad.ckpt');
    writeFileSync(bad, buildImage().bytes.subarray(0, 100));
    await expect(openImage(bad)).rejects.toThrow(`${bad}: truncated image: program headers end at`);
    const missing = join(work, 'missing.ckpt');
    await expect(openImage(missing)).rejects.toMatchObject({ message: `${missing}: no such file`, exitCode: ExitCode.notFound });
    const directory = openImage(work);
    await expect(directory).rejects.toBeInstanceOf(CkptyError);
    await expect(directory).rejects.toMatchObject({ message: `${work}: not a ckpty image: a directory`, exitCode: ExitCode.badImage });
  });

  it('checkFileIdentity notices a changed, replaced or vanished file', async () => {
    const path = join(work, 'lib.so');
    writeFileSync(path, 'library v1');
    const identity = (): MappedFile => {
      const now = statSync(path, { bigint: true });
      return { index: 1, path, dev: now.dev, ino: now.ino, size: now.size, mtimeNs: now.mtimeNs, ctimeNs: now.ctimeNs, mode: Number(now.mode) };
    };
    const atFreeze = identity();
    expect(await checkFileIdentity(atFreeze)).toBeNull();

    utimesSync(path, new Date(2000, 0, 1), new Date(2000, 0, 1));
    expect(await checkFileIdentity(atFreeze)).toBe(`${path} changed since the freeze (mtime, ctime)`);

    const replacement = join(work, 'lib.so.new');
    writeFileSync(replacement, 'library v2!');
    renameSync(replacement, path);
    expect(await checkFileIdentity(atFreeze)).toMatch(new RegExp(`^${path} changed since the freeze \\(inode, size, .*\\)$`));

    rmSync(path);
    expect(await checkFileIdentity(atFreeze)).toBe(`${path} no longer exists`);
  });
});
