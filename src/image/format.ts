/**
 * The ckpty image format, mirrored from tty/common/image.h (the definition), plus
 * the ELF and kernel structures a core file is made of.
 *
 * Every struct is declared here in C's member order with C's member names; offsets
 * are computed with C's natural alignment and the total size is checked against the
 * size image.h asserts. test/image-format.test.ts compiles a C program that prints
 * sizeof/offsetof/signedness of every member and every constant and compares them
 * with this file, so the two cannot drift apart.
 *
 * Pure module: no IO.
 */

export const CKPT_FORMAT_VERSION = 2;
export const CKPT_NOTE_OWNER = 'CKPTY';
export const CKPT_PAGE_SIZE = 4096;
export const CKPT_NRLIMITS = 16;

/** Limits that image.h and the format imply, as named numbers (checked against C). */
export const FormatConstant = {
  CKPT_FORMAT_VERSION,
  CKPT_PAGE_SIZE,
  CKPT_NRLIMITS,
  CKPT_MAX_NOTES_SIZE: 64 << 20,
  CKPT_MAX_AUXV_SIZE: 4096,
  CKPT_MIN_XSTATE_SIZE: 576,
  CKPT_MAX_SCREEN_SIZE: 4 << 20,
  CKPT_MAX_MEMBERS: 4096,
  CKPT_MAX_THREADS: 4096,
} as const;

export const NoteType = {
  NT_CKPT_PROCESS: 0x434b0001,
  NT_CKPT_STRINGS: 0x434b0002,
  NT_CKPT_VMAS: 0x434b0003,
  NT_CKPT_FILES: 0x434b0004,
  NT_CKPT_FDS: 0x434b0005,
  NT_CKPT_SIGACTIONS: 0x434b0006,
  NT_CKPT_SIGNALS: 0x434b0007,
  NT_CKPT_TTY: 0x434b0008,
  NT_CKPT_ARGV: 0x434b0009,
  NT_CKPT_THREADS: 0x434b000a,
  NT_CKPT_TIMERS: 0x434b000b,
  NT_CKPT_JOB: 0x434b000c,
  NT_CKPT_OBJECTS: 0x434b000d,
  NT_CKPT_OFILES: 0x434b000e,
  NT_CKPT_WATCHES: 0x434b000f,
  NT_CKPT_SCREEN: 0x434b0010,
} as const;
export type CkptNoteName = keyof typeof NoteType;

/** The job's notes: only member 0's core holds them. */
export const JOB_NOTES: readonly CkptNoteName[] = ['NT_CKPT_JOB', 'NT_CKPT_OBJECTS', 'NT_CKPT_OFILES', 'NT_CKPT_WATCHES', 'NT_CKPT_SCREEN'];

/** Standard core-file notes (<elf.h>), in the order the kernel writes them. */
export const StandardNoteType = {
  NT_PRSTATUS: 1,
  NT_PRPSINFO: 3,
  NT_SIGINFO: 0x53494749,
  NT_AUXV: 6,
  NT_FILE: 0x46494c45,
  NT_FPREGSET: 2,
  NT_X86_XSTATE: 0x202,
} as const;
export type StandardNoteName = keyof typeof StandardNoteType;

/** ckpt_process.flags */
export const ProcessFlag = {
  CKPT_PROC_SNAPSHOT: 0x1,
  CKPT_PROC_WAS_STOPPED: 0x2,
} as const;

/** enum ckpt_restart */
export const Restart = {
  CKPT_RESTART_NONE: 0,
  CKPT_RESTART_REWOUND: 1,
  CKPT_RESTART_BLOCK: 2,
} as const;

/** enum ckpt_vma_kind */
export const VmaKind = {
  CKPT_VMA_ANON: 0,
  CKPT_VMA_FILE: 1,
  CKPT_VMA_HEAP: 2,
  CKPT_VMA_STACK: 3,
  CKPT_VMA_VDSO: 4,
  CKPT_VMA_VVAR: 5,
  CKPT_VMA_VVAR_VCLOCK: 6,
  CKPT_VMA_OBJECT: 7,
  CKPT_VMA_IMAGE: 8,
} as const;

/** ckpt_vma.flags */
export const VmaFlag = {
  CKPT_VMA_SHARED: 0x1,
  CKPT_VMA_GROWSDOWN: 0x2,
} as const;

/** enum ckpt_timer_kind */
export const TimerKind = {
  CKPT_TIMER_POSIX: 0,
  CKPT_TIMER_REAL: 1,
  CKPT_TIMER_VIRTUAL: 2,
  CKPT_TIMER_PROF: 3,
} as const;

/** enum ckpt_member_state */
export const MemberState = {
  CKPT_MEMBER_LIVE: 0,
  CKPT_MEMBER_ZOMBIE: 1,
} as const;

/** enum ckpt_object_kind */
export const ObjectKind = {
  CKPT_OBJ_PIPE: 0,
  CKPT_OBJ_STREAM_PAIR: 1,
  CKPT_OBJ_DGRAM_PAIR: 2,
  CKPT_OBJ_SEQPACKET_PAIR: 3,
  CKPT_OBJ_MEMFD: 4,
  CKPT_OBJ_DELETED: 5,
  CKPT_OBJ_SHMEM: 6,
} as const;

/** enum ckpt_ofile_kind */
export const OfileKind = {
  CKPT_OF_REG: 0,
  CKPT_OF_DIR: 1,
  CKPT_OF_TTY: 2,
  CKPT_OF_CHR: 3,
  CKPT_OF_PIPE: 4,
  CKPT_OF_SOCKET: 5,
  CKPT_OF_OBJECT_FILE: 6,
  CKPT_OF_EVENTFD: 7,
  CKPT_OF_TIMERFD: 8,
  CKPT_OF_SIGNALFD: 9,
  CKPT_OF_EPOLL: 10,
  CKPT_OF_INOTIFY: 11,
  CKPT_OF_CLOSED_SOCKET: 12,
} as const;

/** The few <elf.h> values the reader checks. */
export const Elf = {
  ELFCLASS64: 2,
  ELFDATA2LSB: 1,
  ET_CORE: 4,
  EM_X86_64: 62,
  PT_LOAD: 1,
  PT_NOTE: 4,
  PN_XNUM: 0xffff,
  PF_X: 1,
  PF_W: 2,
  PF_R: 4,
} as const;

// ---- struct layouts --------------------------------------------------------------

export type ScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64';

const SCALAR_SIZE: Record<ScalarType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8 };

export interface FieldLayout {
  readonly offset: number;
  /** Bytes of the whole member (all elements of an array). */
  readonly size: number;
  /** A scalar type, or the layout of a nested struct. */
  readonly type: ScalarType | StructLayout;
  /** Number of elements; 1 for a plain member. */
  readonly count: number;
}

export interface StructLayout<F extends string = string> {
  /** The C type, e.g. `struct ckpt_vma`. */
  readonly cType: string;
  readonly size: number;
  readonly align: number;
  readonly fields: { readonly [name in F]: FieldLayout };
}

type MemberType = ScalarType | StructLayout;
/** A C member: name and type, or name, type and array length. */
type Member = readonly [string, MemberType] | readonly [string, MemberType, number];

const sizeOf = (type: MemberType): number => (typeof type === 'string' ? SCALAR_SIZE[type] : type.size);
const alignOf = (type: MemberType): number => (typeof type === 'string' ? SCALAR_SIZE[type] : type.align);
const alignUp = (value: number, align: number): number => Math.ceil(value / align) * align;

/**
 * Lays out members as a C compiler does (natural alignment, tail padding) and checks
 * the size that the C header asserts: a mismatch is a bug in this file.
 */
function struct<const M extends readonly Member[]>(
  cType: string,
  expectedSize: number,
  members: M,
): StructLayout<M[number][0]> {
  const fields: Record<string, FieldLayout> = {};
  let offset = 0;
  let align = 1;
  for (const [name, type, count = 1] of members) {
    offset = alignUp(offset, alignOf(type));
    fields[name] = { offset, size: sizeOf(type) * count, type, count };
    offset += sizeOf(type) * count;
    align = Math.max(align, alignOf(type));
  }
  const size = alignUp(offset, align);
  if (size !== expectedSize) throw new Error(`format.ts: ${cType} is ${size} bytes, image.h says ${expectedSize}`);
  return { cType, size, align, fields: fields as { [name in M[number][0]]: FieldLayout } };
}

// ELF (<elf.h>)

export const ELF64_EHDR = struct('Elf64_Ehdr', 64, [
  ['e_ident', 'u8', 16],
  ['e_type', 'u16'],
  ['e_machine', 'u16'],
  ['e_version', 'u32'],
  ['e_entry', 'u64'],
  ['e_phoff', 'u64'],
  ['e_shoff', 'u64'],
  ['e_flags', 'u32'],
  ['e_ehsize', 'u16'],
  ['e_phentsize', 'u16'],
  ['e_phnum', 'u16'],
  ['e_shentsize', 'u16'],
  ['e_shnum', 'u16'],
  ['e_shstrndx', 'u16'],
] as const);

export const ELF64_PHDR = struct('Elf64_Phdr', 56, [
  ['p_type', 'u32'],
  ['p_flags', 'u32'],
  ['p_offset', 'u64'],
  ['p_vaddr', 'u64'],
  ['p_paddr', 'u64'],
  ['p_filesz', 'u64'],
  ['p_memsz', 'u64'],
  ['p_align', 'u64'],
] as const);

/** Section header 0 holds the real program header count when e_phnum is PN_XNUM. */
export const ELF64_SHDR = struct('Elf64_Shdr', 64, [
  ['sh_name', 'u32'],
  ['sh_type', 'u32'],
  ['sh_flags', 'u64'],
  ['sh_addr', 'u64'],
  ['sh_offset', 'u64'],
  ['sh_size', 'u64'],
  ['sh_link', 'u32'],
  ['sh_info', 'u32'],
  ['sh_addralign', 'u64'],
  ['sh_entsize', 'u64'],
] as const);

export const ELF64_NHDR = struct('Elf64_Nhdr', 12, [
  ['n_namesz', 'u32'],
  ['n_descsz', 'u32'],
  ['n_type', 'u32'],
] as const);

/** Names and descriptors of notes are padded to this in core files. */
export const NOTE_ALIGN = 4;

/** NT_FPREGSET's descriptor: the legacy FXSAVE area (elf_fpregset_t). */
export const FPREGSET_SIZE = 512;
/** One entry of NT_AUXV: type and value. */
export const AUXV_ENTRY_SIZE = 16;

// Kernel core-dump structures (<sys/procfs.h>, <sys/user.h>)

/** struct user_regs_struct: the general registers, in the kernel's order. */
export const USER_REGS = struct('struct user_regs_struct', 216, [
  ['r15', 'u64'],
  ['r14', 'u64'],
  ['r13', 'u64'],
  ['r12', 'u64'],
  ['rbp', 'u64'],
  ['rbx', 'u64'],
  ['r11', 'u64'],
  ['r10', 'u64'],
  ['r9', 'u64'],
  ['r8', 'u64'],
  ['rax', 'u64'],
  ['rcx', 'u64'],
  ['rdx', 'u64'],
  ['rsi', 'u64'],
  ['rdi', 'u64'],
  ['orig_rax', 'u64'],
  ['rip', 'u64'],
  ['cs', 'u64'],
  ['eflags', 'u64'],
  ['rsp', 'u64'],
  ['ss', 'u64'],
  ['fs_base', 'u64'],
  ['gs_base', 'u64'],
  ['ds', 'u64'],
  ['es', 'u64'],
  ['fs', 'u64'],
  ['gs', 'u64'],
] as const);
export type RegisterName = keyof typeof USER_REGS.fields;

export const ELF_SIGINFO = struct('struct elf_siginfo', 12, [
  ['si_signo', 'i32'],
  ['si_code', 'i32'],
  ['si_errno', 'i32'],
] as const);

/** NT_PRSTATUS's descriptor; pr_reg is a user_regs_struct (elf_gregset_t in C). */
export const ELF_PRSTATUS = struct('struct elf_prstatus', 336, [
  ['pr_info', ELF_SIGINFO],
  ['pr_cursig', 'i16'],
  ['pr_sigpend', 'u64'],
  ['pr_sighold', 'u64'],
  ['pr_pid', 'i32'],
  ['pr_ppid', 'i32'],
  ['pr_pgrp', 'i32'],
  ['pr_sid', 'i32'],
  ['pr_utime', 'i64', 2],
  ['pr_stime', 'i64', 2],
  ['pr_cutime', 'i64', 2],
  ['pr_cstime', 'i64', 2],
  ['pr_reg', 'u64', 27],
  ['pr_fpvalid', 'i32'],
] as const);

/** NT_PRPSINFO's descriptor. */
export const ELF_PRPSINFO = struct('struct elf_prpsinfo', 136, [
  ['pr_state', 'i8'],
  ['pr_sname', 'i8'],
  ['pr_zomb', 'i8'],
  ['pr_nice', 'i8'],
  ['pr_flag', 'u64'],
  ['pr_uid', 'u32'],
  ['pr_gid', 'u32'],
  ['pr_pid', 'i32'],
  ['pr_ppid', 'i32'],
  ['pr_pgrp', 'i32'],
  ['pr_sid', 'i32'],
  ['pr_fname', 'i8', 16],
  ['pr_psargs', 'i8', 80],
] as const);

// ckpty's own notes (tty/common/image.h)

/** Offset of a NUL-terminated string in NT_CKPT_STRINGS; 0 is the empty string. */
const CKPT_STR: ScalarType = 'u32';

export const CKPT_MM = struct('struct ckpt_mm', 88, [
  ['start_code', 'u64'],
  ['end_code', 'u64'],
  ['start_data', 'u64'],
  ['end_data', 'u64'],
  ['start_brk', 'u64'],
  ['brk', 'u64'],
  ['start_stack', 'u64'],
  ['arg_start', 'u64'],
  ['arg_end', 'u64'],
  ['env_start', 'u64'],
  ['env_end', 'u64'],
] as const);
export type MmFieldName = keyof typeof CKPT_MM.fields;

export const CKPT_RLIMIT = struct('struct ckpt_rlimit', 16, [
  ['cur', 'u64'],
  ['max', 'u64'],
] as const);

export const CKPT_PROCESS = struct('struct ckpt_process', 456, [
  ['version', 'u32'],
  ['flags', 'u32'],
  ['pid', 'i32'],
  ['ppid', 'i32'],
  ['pgid', 'i32'],
  ['sid', 'i32'],
  ['uid', 'u32'],
  ['gid', 'u32'],
  ['umask', 'u32'],
  ['personality', 'u32'],
  ['freeze_time_ns', 'u64'],
  ['comm', 'i8', 16],
  ['exe', CKPT_STR],
  ['cwd', CKPT_STR],
  ['kernel_release', CKPT_STR],
  ['nthreads', 'u32'],
  ['mm', CKPT_MM],
  ['rlimits', CKPT_RLIMIT, CKPT_NRLIMITS],
  ['vdso_size', 'u64'],
  ['vdso_hash', 'u64'],
  ['stored_bytes', 'u64'],
  ['member', 'i32'],
  ['reserved', 'u32'],
] as const);

export const CKPT_THREAD = struct('struct ckpt_thread', 120, [
  ['tid', 'i32'],
  ['syscall_restart', 'u32'],
  ['orig_rax', 'i64'],
  ['syscall_ret', 'i64'],
  ['blocked', 'u64'],
  ['pending', 'u64'],
  ['rseq_addr', 'u64'],
  ['rseq_len', 'u32'],
  ['rseq_sig', 'u32'],
  ['robust_list', 'u64'],
  ['robust_len', 'u64'],
  ['clear_child_tid', 'u64'],
  ['altstack_sp', 'u64'],
  ['altstack_size', 'u64'],
  ['altstack_flags', 'i32'],
  ['reserved', 'u32'],
  ['comm', 'i8', 16],
] as const);

export const CKPT_VMA = struct('struct ckpt_vma', 48, [
  ['start', 'u64'],
  ['end', 'u64'],
  ['pgoff', 'u64'],
  ['prot', 'u32'],
  ['flags', 'u32'],
  ['kind', 'u32'],
  ['file', 'i32'],
  ['stored', 'u64'],
] as const);

export const CKPT_FILE = struct('struct ckpt_file', 64, [
  ['dev', 'u64'],
  ['ino', 'u64'],
  ['size', 'u64'],
  ['mtime_sec', 'i64'],
  ['mtime_nsec', 'i64'],
  ['ctime_sec', 'i64'],
  ['ctime_nsec', 'i64'],
  ['mode', 'u32'],
  ['path', CKPT_STR],
] as const);

export const CKPT_FD = struct('struct ckpt_fd', 16, [
  ['fd', 'i32'],
  ['cloexec', 'u32'],
  ['ofile', 'i32'],
  ['reserved', 'u32'],
] as const);

export const CKPT_SIGACTION = struct('struct ckpt_sigaction', 32, [
  ['handler', 'u64'],
  ['flags', 'u64'],
  ['restorer', 'u64'],
  ['mask', 'u64'],
] as const);

/** NT_CKPT_SIGACTIONS holds one ckpt_sigaction per signal 1..64. */
export const CKPT_NSIGACTIONS = 64;

export const CKPT_SIGNALS = struct('struct ckpt_signals', 16, [
  ['shared_pending', 'u64'],
  ['nqueued', 'u32'],
  ['reserved', 'u32'],
] as const);

/** Size of the kernel's siginfo_t, which each struct ckpt_queued holds. */
export const SIGINFO_SIZE = 128;

export const CKPT_QUEUED = struct('struct ckpt_queued', 136, [
  ['tid', 'i32'],
  ['reserved', 'u32'],
  ['info', 'u8', SIGINFO_SIZE],
] as const);

export const CKPT_TIMER = struct('struct ckpt_timer', 48, [
  ['kind', 'u32'],
  ['id', 'i32'],
  ['clock', 'i32'],
  ['notify', 'i32'],
  ['signo', 'i32'],
  ['notify_tid', 'i32'],
  ['sigev_value', 'u64'],
  ['value_ns', 'u64'],
  ['interval_ns', 'u64'],
] as const);

export const SIGINFO_HEAD = struct('siginfo_t (head)', 12, [
  ['si_signo', 'i32'],
  ['si_errno', 'i32'],
  ['si_code', 'i32'],
] as const);

export const CKPT_KERNEL_TERMIOS = struct('struct ckpt_kernel_termios', 36, [
  ['c_iflag', 'u32'],
  ['c_oflag', 'u32'],
  ['c_cflag', 'u32'],
  ['c_lflag', 'u32'],
  ['c_line', 'u8'],
  ['c_cc', 'u8', 19],
] as const);

export const CKPT_TTY = struct('struct ckpt_tty', 60, [
  ['fd', 'i32'],
  ['reserved', 'u32'],
  ['termios', CKPT_KERNEL_TERMIOS],
  ['rows', 'u16'],
  ['cols', 'u16'],
  ['xpixel', 'u16'],
  ['ypixel', 'u16'],
  ['path', CKPT_STR],
  ['reserved2', 'u32'],
] as const);

// The job (member 0's notes)

export const CKPT_JOB = struct('struct ckpt_job', 48, [
  ['nmembers', 'u32'],
  ['flags', 'u32'],
  ['pgid', 'i32'],
  ['status_member', 'i32'],
  ['monotonic_ns', 'u64'],
  ['boottime_ns', 'u64'],
  ['data_offset', 'u64'],
  ['data_size', 'u64'],
] as const);

export const CKPT_MEMBER = struct('struct ckpt_member', 56, [
  ['pid', 'i32'],
  ['parent', 'i32'],
  ['pgid', 'i32'],
  ['sid', 'i32'],
  ['state', 'u32'],
  ['wait_status', 'i32'],
  ['core_offset', 'u64'],
  ['core_size', 'u64'],
  ['comm', 'i8', 16],
] as const);

export const CKPT_OBJECT = struct('struct ckpt_object', 56, [
  ['kind', 'u32'],
  ['seals', 'u32'],
  ['data_offset', 'u64'],
  ['data_len', 'u64'],
  ['data2_offset', 'u64'],
  ['data2_len', 'u64'],
  ['size', 'u64'],
  ['mode', 'u32'],
  ['name', CKPT_STR],
] as const);

export const CKPT_OFILE = struct('struct ckpt_ofile', 104, [
  ['kind', 'u32'],
  ['flags', 'u32'],
  ['pos', 'u64'],
  ['object', 'i32'],
  ['end', 'u32'],
  ['dev', 'u64'],
  ['ino', 'u64'],
  ['size', 'u64'],
  ['mtime_ns', 'i64'],
  ['rdev', 'u32'],
  ['clock', 'u32'],
  ['count', 'u64'],
  ['value_ns', 'u64'],
  ['interval_ns', 'u64'],
  ['sigmask', 'u64'],
  ['kind_flags', 'u32'],
  ['path', CKPT_STR],
] as const);

export const CKPT_WATCH = struct('struct ckpt_watch', 32, [
  ['owner', 'i32'],
  ['target', 'i32'],
  ['tfd', 'i32'],
  ['events', 'u32'],
  ['data', 'u64'],
  ['path', CKPT_STR],
  ['reserved', 'u32'],
] as const);

/** Every layout, for the C cross-check (siginfo head: its own check against <signal.h>). */
export const ALL_LAYOUTS: readonly StructLayout[] = [
  ELF64_EHDR,
  ELF64_PHDR,
  ELF64_SHDR,
  ELF64_NHDR,
  USER_REGS,
  ELF_SIGINFO,
  ELF_PRSTATUS,
  ELF_PRPSINFO,
  CKPT_MM,
  CKPT_RLIMIT,
  CKPT_PROCESS,
  CKPT_THREAD,
  CKPT_VMA,
  CKPT_FILE,
  CKPT_FD,
  CKPT_SIGACTION,
  CKPT_SIGNALS,
  CKPT_QUEUED,
  CKPT_TIMER,
  CKPT_KERNEL_TERMIOS,
  CKPT_TTY,
  CKPT_JOB,
  CKPT_MEMBER,
  CKPT_OBJECT,
  CKPT_OFILE,
  CKPT_WATCH,
];
