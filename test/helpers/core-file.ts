/**
 * A deliberately small ELF core walker for the freezer tests: program headers and
 * notes, read straight from the bytes, so the tests check images without ckpty's
 * own reader (src/image). Offsets of ckpty structs are those of tty/common/image.h.
 */
import { readFileSync } from 'node:fs';

export interface Segment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface Note {
  owner: string;
  type: number;
  desc: Buffer;
}

export interface CoreFile {
  bytes: Buffer;
  type: number;
  segments: Segment[];
  notes: Note[];
  loads: Segment[];
  note(owner: string, type: number): Buffer | undefined;
}

export const PT_LOAD = 1;
export const PT_NOTE = 4;

export const NT = {
  PRSTATUS: 1,
  FPREGSET: 2,
  PRPSINFO: 3,
  AUXV: 6,
  X86_XSTATE: 0x202,
  SIGINFO: 0x53494749,
  FILE: 0x46494c45,
  CKPT_PROCESS: 0x434b0001,
  CKPT_STRINGS: 0x434b0002,
  CKPT_VMAS: 0x434b0003,
  CKPT_FILES: 0x434b0004,
  CKPT_FDS: 0x434b0005,
  CKPT_SIGACTIONS: 0x434b0006,
  CKPT_SIGNALS: 0x434b0007,
  CKPT_TTY: 0x434b0008,
  CKPT_ARGV: 0x434b0009,
  CKPT_THREADS: 0x434b000a,
  CKPT_JOB: 0x434b000c,
  CKPT_OBJECTS: 0x434b000d,
  CKPT_OFILES: 0x434b000e,
} as const;

function num(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`value too large: ${value}`);
  return Number(value);
}

export function readCore(path: string): CoreFile {
  const bytes = readFileSync(path);
  if (bytes.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path}: not ELF`);
  const phoff = num(bytes.readBigUInt64LE(32));
  const phentsize = bytes.readUInt16LE(54);
  const phnum = bytes.readUInt16LE(56);
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    segments.push({
      type: bytes.readUInt32LE(at),
      flags: bytes.readUInt32LE(at + 4),
      offset: num(bytes.readBigUInt64LE(at + 8)),
      vaddr: num(bytes.readBigUInt64LE(at + 16)),
      filesz: num(bytes.readBigUInt64LE(at + 32)),
      memsz: num(bytes.readBigUInt64LE(at + 40)),
    });
  }
  const notes: Note[] = [];
  for (const seg of segments.filter((s) => s.type === PT_NOTE)) {
    for (let at = seg.offset; at < seg.offset + seg.filesz; ) {
      const namesz = bytes.readUInt32LE(at);
      const descsz = bytes.readUInt32LE(at + 4);
      const type = bytes.readUInt32LE(at + 8);
      const owner = bytes.toString('latin1', at + 12, at + 12 + namesz).replace(/\0+$/, '');
      const descAt = at + 12 + ((namesz + 3) & ~3);
      notes.push({ owner, type, desc: bytes.subarray(descAt, descAt + descsz) });
      at = descAt + ((descsz + 3) & ~3);
    }
  }
  return {
    bytes,
    type: bytes.readUInt16LE(16),
    segments,
    notes,
    loads: segments.filter((s) => s.type === PT_LOAD),
    note: (owner, type) => notes.find((n) => n.owner === owner && n.type === type)?.desc,
  };
}

/** The bytes the image stores for [addr, addr + len), or undefined if any part is not stored. */
export function storedBytes(core: CoreFile, addr: number, len: number): Buffer | undefined {
  const parts: Buffer[] = [];
  for (let at = addr; at < addr + len; ) {
    const seg = core.loads.find((s) => s.vaddr <= at && at < s.vaddr + s.filesz);
    if (!seg) return undefined;
    const take = Math.min(addr + len, seg.vaddr + seg.filesz) - at;
    parts.push(core.bytes.subarray(seg.offset + (at - seg.vaddr), seg.offset + (at - seg.vaddr) + take));
    at += take;
  }
  return Buffer.concat(parts);
}

/**
 * The contents of shared memory at [addr, addr + len): a mapping of kind OBJECT (7)
 * shows a job object (struct ckpt_object, 56 bytes), whose bytes are in the job's data
 * area (struct ckpt_job's data_offset) at the object's data_offset plus the mapping's pgoff.
 */
export function objectBytes(core: CoreFile, addr: number, len: number): Buffer | undefined {
  const vma = vmas(core).find((v) => v.kind === 7 && v.start <= addr && addr + len <= v.end);
  const objects = core.note('CKPTY', NT.CKPT_OBJECTS);
  const job = core.note('CKPTY', NT.CKPT_JOB);
  if (!vma || !objects || !job) return undefined;
  const dataArea = num(job.readBigUInt64LE(32));
  const object = vma.file * 56;
  const at = dataArea + num(objects.readBigUInt64LE(object + 8)) + vma.pgoff + (addr - vma.start);
  return core.bytes.subarray(at, at + len);
}

export function ckptyString(core: CoreFile, offset: number): string {
  const strings = core.note('CKPTY', NT.CKPT_STRINGS) ?? Buffer.alloc(1);
  return strings.toString('latin1', offset, strings.indexOf(0, offset));
}

export interface SigactionRecord {
  handler: bigint;
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}

/** struct ckpt_sigaction[64], index = signal - 1. */
export function sigactions(core: CoreFile): SigactionRecord[] {
  const desc = core.note('CKPTY', NT.CKPT_SIGACTIONS);
  if (!desc) throw new Error('no NT_CKPT_SIGACTIONS');
  return Array.from({ length: desc.length / 32 }, (_, i) => ({
    handler: desc.readBigUInt64LE(i * 32),
    flags: desc.readBigUInt64LE(i * 32 + 8),
    restorer: desc.readBigUInt64LE(i * 32 + 16),
    mask: desc.readBigUInt64LE(i * 32 + 24),
  }));
}

/**
 * The first thread's blocked and private pending sets (struct ckpt_thread), and struct
 * ckpt_signals with its struct ckpt_queued records (signo, and the si_value int at byte 24 of the siginfo).
 */
export function signalState(core: CoreFile): { blocked: bigint; pending: bigint; shared: bigint; queued: { signo: number; value: number }[] } {
  const desc = core.note('CKPTY', NT.CKPT_SIGNALS);
  const thread = core.note('CKPTY', NT.CKPT_THREADS);
  if (!desc || !thread) throw new Error('no NT_CKPT_SIGNALS or NT_CKPT_THREADS');
  const count = desc.readUInt32LE(8);
  return {
    blocked: thread.readBigUInt64LE(24),
    pending: thread.readBigUInt64LE(32),
    shared: desc.readBigUInt64LE(0),
    queued: Array.from({ length: count }, (_, i) => ({
      signo: desc.readInt32LE(16 + i * 136 + 8),
      value: desc.readInt32LE(16 + i * 136 + 8 + 24),
    })),
  };
}

export interface FdRecord {
  fd: number;
  kind: number;
  flags: number;
  cloexec: number;
  pos: number;
  path: string;
}

/** struct ckpt_fd[] (16 bytes each), each joined with its struct ckpt_ofile (104 bytes) of NT_CKPT_OFILES. */
export function fds(core: CoreFile): FdRecord[] {
  const desc = core.note('CKPTY', NT.CKPT_FDS);
  const ofiles = core.note('CKPTY', NT.CKPT_OFILES);
  if (!desc || !ofiles) throw new Error('no NT_CKPT_FDS or NT_CKPT_OFILES');
  return Array.from({ length: desc.length / 16 }, (_, i) => {
    const at = i * 16;
    const of = desc.readInt32LE(at + 8) * 104;
    return {
      fd: desc.readInt32LE(at),
      cloexec: desc.readUInt32LE(at + 4),
      kind: ofiles.readUInt32LE(of),
      flags: ofiles.readUInt32LE(of + 4),
      pos: num(ofiles.readBigUInt64LE(of + 8)),
      path: ckptyString(core, ofiles.readUInt32LE(of + 100)),
    };
  });
}

/** A few fields of struct ckpt_process, and of its first thread's struct ckpt_thread. */
export interface ProcessRecord {
  version: number;
  flags: number;
  pid: number;
  uid: number;
  umask: number;
  comm: string;
  exe: string;
  cwd: string;
  nthreads: number;
  /** The first thread's enum ckpt_restart. */
  restart: number;
  /** struct ckpt_mm in order: start_code … env_end. */
  mm: number[];
  /** [cur, max] per RLIMIT_*, RLIM_INFINITY as -1n. */
  rlimits: [bigint, bigint][];
  /** The first thread's rseq registration. */
  rseq: { addr: bigint; len: number; sig: number };
  storedBytes: number;
}

export function processNote(core: CoreFile): ProcessRecord {
  const desc = core.note('CKPTY', NT.CKPT_PROCESS);
  const thread = core.note('CKPTY', NT.CKPT_THREADS);
  if (!desc || !thread) throw new Error('no NT_CKPT_PROCESS or NT_CKPT_THREADS');
  return {
    version: desc.readUInt32LE(0),
    flags: desc.readUInt32LE(4),
    pid: desc.readInt32LE(8),
    uid: desc.readUInt32LE(24),
    umask: desc.readUInt32LE(32),
    comm: desc.toString('latin1', 48, 64).replace(/\0.*$/s, ''),
    exe: ckptyString(core, desc.readUInt32LE(64)),
    cwd: ckptyString(core, desc.readUInt32LE(68)),
    nthreads: desc.readUInt32LE(76),
    mm: Array.from({ length: 11 }, (_, i) => num(desc.readBigUInt64LE(80 + 8 * i))),
    rlimits: Array.from({ length: 16 }, (_, i) => [desc.readBigInt64LE(168 + 16 * i), desc.readBigInt64LE(176 + 16 * i)]),
    storedBytes: num(desc.readBigUInt64LE(440)),
    restart: thread.readUInt32LE(4),
    rseq: { addr: thread.readBigUInt64LE(40), len: thread.readUInt32LE(48), sig: thread.readUInt32LE(52) },
  };
}

export interface VmaRecord {
  start: number;
  end: number;
  pgoff: number;
  prot: number;
  flags: number;
  kind: number;
  file: number;
  stored: number;
}

/** struct ckpt_vma[] (48 bytes each). */
export function vmas(core: CoreFile): VmaRecord[] {
  const desc = core.note('CKPTY', NT.CKPT_VMAS);
  if (!desc) throw new Error('no NT_CKPT_VMAS');
  return Array.from({ length: desc.length / 48 }, (_, i) => {
    const at = i * 48;
    return {
      start: num(desc.readBigUInt64LE(at)),
      end: num(desc.readBigUInt64LE(at + 8)),
      pgoff: num(desc.readBigUInt64LE(at + 16)),
      prot: desc.readUInt32LE(at + 24),
      flags: desc.readUInt32LE(at + 28),
      kind: desc.readUInt32LE(at + 32),
      file: desc.readInt32LE(at + 36),
      stored: num(desc.readBigUInt64LE(at + 40)),
    };
  });
}
