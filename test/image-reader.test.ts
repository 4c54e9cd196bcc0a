/**
 * The reader on images built from the format (test/helpers/image-builder.ts): every
 * field decoded, every kind of damage refused with an ImageError that names it.
 * Real images from the freezer are read in image-info.test.ts.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageError } from '../src/image/errors.js';
import { checkFileIdentity, checkImageOwnership, openImage } from '../src/image/file.js';
import { CKPT_PROCESS, CKPT_SIGNALS, ELF64_EHDR, ELF64_PHDR, NoteType } from '../src/image/format.js';
import type { MappedFile } from '../src/image/image.js';
import { parseImage, readImage, type ByteSource } from '../src/image/reader.js';
import { CkptyError, ExitCode } from '../src/base/errors.js';
import { formatInfo, infoJson } from '../src/image/info.js';
import { buildImage, DEFAULT_SPEC, EXE, LIBC, ptyTermiosWithoutEcho, type BuiltImage } from './helpers/image-builder.js';

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

function noteDesc(built: BuiltImage, name: string): { offset: number; size: number } {
  const note = built.layout.notes.find((entry) => entry.name === name);
  if (!note) throw new Error(`no ${name} in the built image`);
  return { offset: note.descOffset, size: note.descSize };
}

function phdrField(built: BuiltImage, index: number, field: keyof typeof ELF64_PHDR.fields): number {
  return built.layout.phoff + index * ELF64_PHDR.size + ELF64_PHDR.fields[field].offset;
}

describe('reading a well-formed image', () => {
  it('decodes the process, argv, registers and notes', async () => {
    const image = await parseImage(buildImage({ flags: 3, syscallRestart: 1, origRax: 0n, syscallRet: -512n }).bytes);
    expect(image.version).toBe(1);
    expect(image.process).toMatchObject({
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
      restart: { kind: 'rewound', origRax: 0n, syscallRet: -512n },
      storedBytes: 7 * 4096,
      rseq: null,
    });
    expect(image.process.freezeTime.toISOString()).toBe('2025-11-27T13:26:40.123Z');
    expect(image.process.mm.brk).toBe(0x1021000n);
    expect(image.process.rlimits[7]).toEqual({ resource: 'RLIMIT_NOFILE', cur: 1024n, max: 4096n });
    expect(image.process.rlimits[0]).toEqual({ resource: 'RLIMIT_CPU', cur: null, max: null });
    expect(image.argv).toEqual(['fixture', '--count', 'two words']);
    expect(image.registers.rip).toBe(0x401234n);
    expect(image.registers.rsp).toBe(0x7ffd_0000_1f00n);
    expect(image.registers.rax).toBe(0xfffffffffffffe00n);
    expect(image.standardNotes).toEqual(['NT_PRSTATUS', 'NT_PRPSINFO', 'NT_AUXV', 'NT_FPREGSET']);
    expect(image.notes.map((note) => note.name)).toContain('NT_CKPT_TTY');
  });

  it('decodes mappings with their permissions, kinds, files and stored bytes', async () => {
    const image = await parseImage(buildImage().bytes);
    expect(image.vmas.map((vma) => [vma.start, vma.end, vma.perms, vma.kind, vma.path, vma.stored])).toEqual([
      [0x400000n, 0x402000n, 'r-xp', 'file', EXE, 0],
      [0x402000n, 0x403000n, 'rw-p', 'file', EXE, 4096],
      [0x1000000n, 0x1021000n, 'rw-p', 'heap', '[heap]', 8192],
      [0x7f00_0000_0000n, 0x7f00_0000_4000n, 'r-xp', 'file', LIBC, 0],
      [0x7f00_0000_4000n, 0x7f00_0000_6000n, 'rw-p', 'anon', '', 4096],
      [0x7ffd_0000_0000n, 0x7ffd_0002_1000n, 'rw-p', 'stack', '[stack]', 12288],
      [0x7ffd_0010_0000n, 0x7ffd_0010_2000n, 'r-xp', 'vdso', '[vdso]', 0],
    ]);
    expect(image.vmas[5]?.growsDown).toBe(true);
    expect(image.vmas[1]?.pgoff).toBe(0x2000n);
    expect(image.files[1]).toMatchObject({ path: LIBC, ino: 5678n, size: 1_922_136n, mtimeNs: 1_690_000_000_500_000_000n });
    expect(image.loads.map((load) => [load.vaddr, load.filesz])).toEqual([
      [0x402000n, 4096],
      [0x1000000n, 8192],
      [0x7f00_0000_4000n, 4096],
      [0x7ffd_0000_0000n, 12288],
    ]);
    expect(image.loads.every((load) => load.offset % 4096 === 0)).toBe(true);
  });

  it('decodes fds, signal dispositions, signal sets and the terminal', async () => {
    const image = await parseImage(buildImage().bytes);
    expect(image.fds[3]).toMatchObject({
      fd: 3,
      kind: 'file',
      path: '/home/user/work/log.txt',
      accessMode: 'O_RDWR',
      flagNames: ['O_RDWR', 'O_APPEND', 'O_LARGEFILE'],
      pos: 1234n,
      cloexec: true,
    });
    expect(image.fds[0]).toMatchObject({ kind: 'tty', path: '/dev/pts/3', rdev: 0x8803 });
    const sigint = image.sigactions[1];
    expect(sigint).toMatchObject({ signal: 2, name: 'SIGINT', disposition: 'handler', handler: 0x401100n });
    expect(sigint?.flagNames).toEqual(['SA_RESTORER', 'SA_RESTART']);
    expect(sigint?.maskNames).toEqual(['SIGTERM']);
    expect(image.sigactions[12]).toMatchObject({ name: 'SIGPIPE', disposition: 'ignore' });
    expect(image.sigactions.filter((action) => action.disposition === 'default')).toHaveLength(62);
    expect(image.signals.blockedNames).toEqual(['SIGUSR1']);
    expect(image.signals.pendingNames).toEqual(['SIGUSR1']);
    expect(image.signals.queued).toEqual([{ signal: 10, name: 'SIGUSR1', code: 0, errno: 0 }]);
    const termios = ptyTermiosWithoutEcho();
    expect(image.tty).toEqual({
      fd: 0,
      path: '/dev/pts/3',
      termios: { ...termios, ckpt: 0 },
      size: { rows: 24, cols: 80, xpixel: 0, ypixel: 0 },
    });
  });

  it('has no terminal when the image has no NT_CKPT_TTY', async () => {
    expect((await parseImage(buildImage({ tty: null }).bytes)).tty).toBeNull();
  });

  it('reads only the headers and the notes, never the stored memory', async () => {
    const built = buildImage();
    const reads: [number, number][] = [];
    const source: ByteSource = {
      size: built.bytes.length,
      read: async (offset, length) => {
        reads.push([offset, offset + length]);
        return built.bytes.subarray(offset, offset + length);
      },
    };
    await readImage(source);
    const firstData = Math.min(...built.layout.loads.map((load) => load.offset));
    expect(Math.max(...reads.map(([, end]) => end))).toBeLessThanOrEqual(firstData);
  });
});

describe('refusing what is not a ckpty image', () => {
  it('refuses an empty file, a text file and a program', async () => {
    expect((await refusal(new Uint8Array())).message).toBe('not a ckpty image: the file is empty');
    expect((await refusal(Buffer.from('hello, world\n'))).message).toBe('not a ckpty image: not an ELF file');
    expect((await refusal(readFileSync('/bin/sh'))).message).toMatch(/^not a ckpty image: an ELF file that is .*, not a core file$/);
  });

  it('refuses 32-bit, big-endian and non-x86_64 ELF files', async () => {
    const cases: [number, number, RegExp][] = [
      [4, 1, /a 32-bit ELF file/],
      [5, 2, /a big-endian ELF file/],
      [ELF64_EHDR.fields.e_machine.offset, 183, /a core file for ELF machine 183, not x86_64/],
    ];
    for (const [offset, value, message] of cases) {
      const { bytes } = buildImage();
      bytes[offset] = value;
      const error = await refusal(bytes);
      expect(error.problem).toBe('foreign');
      expect(error.message).toMatch(message);
    }
  });

  it('refuses a core file without ckpty notes', async () => {
    const omit = Object.keys(NoteType);
    const error = await refusal(buildImage({ omit }).bytes);
    expect(error.message).toBe('not a ckpty image: no CKPTY notes (a core file from another tool?)');
  });

  it('refuses other versions of the format', async () => {
    const error = await refusal(buildImage({ version: 7 }).bytes);
    expect(error.problem).toBe('version');
    expect(error.message).toBe('unsupported image version 7 (this ckpty reads version 1)');
  });
});

describe('refusing truncated images', () => {
  it('names the part that is cut off', async () => {
    const built = buildImage();
    const { bytes, layout } = built;
    const cases: [number, string][] = [
      [40, 'truncated image: the ELF header needs 64 bytes but the file has 40'],
      [100, `truncated image: program headers end at ${layout.phoff + layout.phnum * 56} but the file has 100 bytes`],
      [layout.noteOffset + 10, `truncated image: the note segment ends at ${layout.noteOffset + layout.noteSize} but the file has ${layout.noteOffset + 10} bytes`],
      [bytes.length - 1, `truncated image: PT_LOAD 4 (0x7ffd00000000-0x7ffd00003000) ends at ${bytes.length} but the file has ${bytes.length - 1} bytes`],
    ];
    for (const [size, message] of cases) {
      expect((await refusal(bytes.subarray(0, size))).message).toBe(message);
    }
  });
});

describe('refusing corrupt images', () => {
  it('checks note sizes against the structs', async () => {
    const built = buildImage({
      omit: ['NT_CKPT_VMAS'],
      extraNotes: [{ owner: 'CKPTY', type: NoteType.NT_CKPT_VMAS, desc: new Uint8Array(50) }],
    });
    expect((await refusal(built.bytes)).message).toBe('corrupt image: note NT_CKPT_VMAS has size 50, not a multiple of 48');
    const noProcess = buildImage({ omit: ['NT_CKPT_PROCESS'] });
    expect((await refusal(noProcess.bytes)).message).toBe('corrupt image: note NT_CKPT_PROCESS is missing');
    const noRegisters = buildImage({ omit: ['NT_PRSTATUS'] });
    expect((await refusal(noRegisters.bytes)).message).toBe('corrupt image: note NT_PRSTATUS is missing');
  });

  it('checks queued signals against the size of NT_CKPT_SIGNALS', async () => {
    const built = buildImage();
    const signals = noteDesc(built, 'NT_CKPT_SIGNALS');
    built.bytes.writeUInt32LE(0xffffffff, signals.offset + CKPT_SIGNALS.fields.nqueued.offset);
    expect((await refusal(built.bytes)).message).toMatch(/^corrupt image: note NT_CKPT_SIGNALS has size 160, but 4294967295 queued signals need/);
  });

  it('refuses a duplicated or unknown ckpty note', async () => {
    const twice = buildImage({ extraNotes: [{ owner: 'CKPTY', type: NoteType.NT_CKPT_ARGV, desc: new Uint8Array(4) }] });
    expect((await refusal(twice.bytes)).message).toBe('corrupt image: note NT_CKPT_ARGV appears more than once');
    const unknown = buildImage({ extraNotes: [{ owner: 'CKPTY', type: 0x434b00ff, desc: new Uint8Array(4) }] });
    expect((await refusal(unknown.bytes)).message).toBe('corrupt image: unknown ckpty note type 0x434b00ff');
  });

  it('keeps notes of other owners and unknown standard notes out of the way', async () => {
    const image = await parseImage(buildImage({ extraNotes: [{ owner: 'GNU', type: 1, desc: new Uint8Array(5) }] }).bytes);
    expect(image.notes.at(-1)).toMatchObject({ owner: 'GNU', type: 1, name: null, size: 5 });
  });

  it('refuses a note that runs past the note segment', async () => {
    const built = buildImage();
    const argv = built.layout.notes.find((note) => note.name === 'NT_CKPT_ARGV');
    built.bytes.writeUInt32LE(1 << 20, (argv?.headerOffset ?? 0) + 4);
    expect((await refusal(built.bytes)).message).toMatch(/^corrupt image: note 11 at offset \d+ \(name 6 bytes, data 1048576 bytes\) runs past the end of the note segment$/);
  });

  it('checks string offsets', async () => {
    const built = buildImage();
    const process = noteDesc(built, 'NT_CKPT_PROCESS');
    const strings = noteDesc(built, 'NT_CKPT_STRINGS');
    built.bytes.writeUInt32LE(99999, process.offset + CKPT_PROCESS.fields.exe.offset);
    expect((await refusal(built.bytes)).message).toBe(
      `corrupt image: string offset 99999 of NT_CKPT_PROCESS.exe is outside NT_CKPT_STRINGS (${strings.size} bytes)`,
    );
    const unterminated = buildImage();
    const table = noteDesc(unterminated, 'NT_CKPT_STRINGS');
    unterminated.bytes[table.offset + table.size - 1] = 0x41;
    expect((await refusal(unterminated.bytes)).message).toBe('corrupt image: NT_CKPT_STRINGS does not end with a NUL');
  });

  it('checks mappings', async () => {
    const vmas = DEFAULT_SPEC.vmas;
    const overlap = [vmas[0]!, { ...vmas[1]!, start: 0x401000n }];
    expect((await refusal(buildImage({ vmas: overlap }).bytes)).message).toBe(
      'corrupt image: VMAs 0 (0x400000-0x402000) and 1 (0x401000-0x403000) overlap or are out of order',
    );
    const unaligned = [{ ...vmas[0]!, end: 0x401800n }];
    expect((await refusal(buildImage({ vmas: unaligned }).bytes)).message).toBe('corrupt image: VMA 0 (0x400000-0x401800) is not page-aligned');
    const badKind = [{ ...vmas[0]!, kind: 12 }];
    expect((await refusal(buildImage({ vmas: badKind }).bytes)).message).toBe('corrupt image: VMA 0 (0x400000-0x402000) has unknown kind 12');
    const badFile = [{ ...vmas[0]!, file: 5 }];
    expect((await refusal(buildImage({ vmas: badFile }).bytes)).message).toBe(
      'corrupt image: VMA 0 (0x400000-0x402000) refers to file 5, but NT_CKPT_FILES has 2',
    );
  });

  it('checks the PT_LOADs against the file, the mappings and the stored sizes', async () => {
    const outside = buildImage();
    outside.bytes.writeBigUInt64LE(1n << 40n, phdrField(outside, 1, 'p_offset'));
    expect((await refusal(outside.bytes)).message).toMatch(/^truncated image: PT_LOAD 1 \(0x402000-0x403000\) ends at 1099511631872 but the file has \d+ bytes$/);

    const unmapped = buildImage();
    unmapped.bytes.writeBigUInt64LE(0x500000n, phdrField(unmapped, 1, 'p_vaddr'));
    expect((await refusal(unmapped.bytes)).message).toBe('corrupt image: PT_LOAD 1 (0x500000-0x501000) is not inside one mapping');
    // Runs never span two mappings: the thaw maps each by itself.
    const spanning = buildImage();
    spanning.bytes.writeBigUInt64LE(0x3000n, phdrField(spanning, 1, 'p_memsz'));
    expect((await refusal(spanning.bytes)).message).toBe('corrupt image: PT_LOAD 1 (0x402000-0x405000) is not inside one mapping');

    const claimed = buildImage({ storedBytes: 4096n });
    expect((await refusal(claimed.bytes)).message).toBe('corrupt image: NT_CKPT_PROCESS says 4096 bytes are stored, the PT_LOADs hold 28672');

    const order = buildImage();
    order.bytes.writeBigUInt64LE(0x7ffd_0000_0000n, phdrField(order, 1, 'p_vaddr'));
    expect((await refusal(order.bytes)).message).toBe('corrupt image: PT_LOADs 1 and 2 overlap or are out of address order');

    const other = buildImage();
    other.bytes.writeUInt32LE(0x6474e550, phdrField(other, 2, 'p_type'));
    expect((await refusal(other.bytes)).message).toBe('corrupt image: program header 2 has type 0x6474e550 (expected PT_LOAD)');
  });

  it('checks fds', async () => {
    const twice = [...DEFAULT_SPEC.fds, DEFAULT_SPEC.fds[0]!];
    expect((await refusal(buildImage({ fds: twice }).bytes)).message).toBe('corrupt image: NT_CKPT_FDS[4] has fd 0 (the table is sorted, without repeats)');
    const kind = [{ ...DEFAULT_SPEC.fds[0]!, kind: 9 }];
    expect((await refusal(buildImage({ fds: kind }).bytes)).message).toBe('corrupt image: fd 0 has unknown kind 9');
  });

  it('refuses PN_XNUM: a ckpty image never needs more program headers than e_phnum holds', async () => {
    const { bytes } = buildImage();
    bytes.writeUInt16LE(0xffff, ELF64_EHDR.fields.e_phnum.offset);
    expect((await refusal(bytes)).message).toBe('corrupt image: e_phnum is PN_XNUM (a ckpty image has fewer than 65535 program headers)');
  });
});

describe('images on disk', () => {
  it('openImage names the file in errors and reports its owner', async () => {
    const path = join(work, 'good.ckpt');
    writeFileSync(path, buildImage().bytes, { mode: 0o600 });
    const image = await openImage(path);
    expect(image.process.pid).toBe(4242);
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

describe('describing an image', () => {
  it('prints dispositions, fds and terminal modes in human form', async () => {
    const text = formatInfo(await parseImage(buildImage().bytes), 'fixture.ckpt');
    expect(text).toContain("argv      fixture --count 'two words'\n");
    expect(text).toContain('frozen    2025-11-27T13:26:40.123Z (local ');
    expect(text).toMatch(/^ {2}SIGINT +handler 0x401100, SA_RESTART, mask SIGTERM$/m);
    expect(text).toMatch(/^ {2}SIGPIPE +ignore$/m);
    expect(text).not.toMatch(/SIGHUP/);
    expect(text).toMatch(/^ {2}3 +file +O_RDWR\|O_APPEND\|O_CLOEXEC +1234 +\/home\/user\/work\/log.txt$/m);
    expect(text).toMatch(/^ {2}1000000 +1021000 +rw-p +132 KiB +8.0 KiB +heap +\[heap\]$/m);
    expect(text).toContain('blocked   SIGUSR1\npending   SIGUSR1\n');
    expect(text).toContain('terminal  /dev/pts/3 (fd 0), 24 rows, 80 columns\n');
    // Plain stty's words for what differs from sane: the builder's terminal has -echo.
    expect(text).toMatch(/^ {2}-echo$/m);
    expect(text).toContain('stored    28 KiB of memory in 4 segments\n');
  });

  it('gives every field in JSON, 64-bit values as strings', async () => {
    const roundTrip = JSON.parse(JSON.stringify(infoJson(await parseImage(buildImage().bytes), 'fixture.ckpt')));
    expect(roundTrip.process.freezeTimeNs).toBe('1764250000123456789');
    expect(roundTrip.registers.rip).toBe('0x401234');
    expect(roundTrip.vmas[2]).toMatchObject({ start: '0x1000000', end: '0x1021000', perms: 'rw-p', kind: 'heap', stored: 8192 });
    expect(roundTrip.sigactions).toHaveLength(64);
    expect(roundTrip.fds[3]).toMatchObject({ flags: '0102002', flagNames: ['O_RDWR', 'O_APPEND', 'O_LARGEFILE'], pos: '1234' });
    expect(roundTrip.files[1]).toMatchObject({ path: LIBC, ino: '5678', mode: '100644' });
    expect(roundTrip.tty.stty).toMatch(/^speed 38400 baud; rows 24; columns 80; line = 0;\n/);
  });
});
