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

export const CKPT_FORMAT_VERSION = 1;
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
  NT_CKPT_SCREEN: 0x434b0010,
} as const;
export type CkptNoteName = keyof typeof NoteType;

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
  CKPT_VMA_SHMEM: 7,
  CKPT_VMA_IMAGE: 8,
} as const;

/** ckpt_vma.flags */
export const VmaFlag = {
  CKPT_VMA_SHARED: 0x1,
  CKPT_VMA_GROWSDOWN: 0x2,
} as const;

/** enum ckpt_fd_kind */
export const FdKind = {
  CKPT_FD_REG: 0,
  CKPT_FD_DIR: 1,
  CKPT_FD_TTY: 2,
  CKPT_FD_CHR: 3,
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

export const CKPT_PROCESS = struct('struct ckpt_process', 480, [
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
  ['syscall_restart', 'u32'],
  ['orig_rax', 'i64'],
  ['syscall_ret', 'i64'],
  ['mm', CKPT_MM],
  ['rlimits', CKPT_RLIMIT, CKPT_NRLIMITS],
  ['rseq_addr', 'u64'],
  ['rseq_len', 'u32'],
  ['rseq_sig', 'u32'],
  ['vdso_size', 'u64'],
  ['vdso_hash', 'u64'],
  ['stored_bytes', 'u64'],
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

export const CKPT_FD = struct('struct ckpt_fd', 48, [
  ['fd', 'i32'],
  ['kind', 'u32'],
  ['flags', 'u32'],
  ['cloexec', 'u32'],
  ['pos', 'u64'],
  ['dev', 'u64'],
  ['ino', 'u64'],
  ['rdev', 'u32'],
  ['path', CKPT_STR],
] as const);

export const CKPT_SIGACTION = struct('struct ckpt_sigaction', 32, [
  ['handler', 'u64'],
  ['flags', 'u64'],
  ['restorer', 'u64'],
  ['mask', 'u64'],
] as const);

/** NT_CKPT_SIGACTIONS holds one ckpt_sigaction per signal 1..64. */
export const CKPT_NSIGACTIONS = 64;

export const CKPT_SIGNALS = struct('struct ckpt_signals', 32, [
  ['blocked', 'u64'],
  ['pending', 'u64'],
  ['shared_pending', 'u64'],
  ['nqueued', 'u32'],
  ['reserved', 'u32'],
] as const);

/** Size of a siginfo_t that follows struct ckpt_signals in NT_CKPT_SIGNALS. */
export const SIGINFO_SIZE = 128;

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
  CKPT_VMA,
  CKPT_FILE,
  CKPT_FD,
  CKPT_SIGACTION,
  CKPT_SIGNALS,
  CKPT_KERNEL_TERMIOS,
  CKPT_TTY,
];
