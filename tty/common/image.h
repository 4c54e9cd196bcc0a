/*
 * The ckpty image format, version 1: an ELF64 core file (ET_CORE, EM_X86_64).
 *
 * This header is the single definition of the format for the native freezer
 * (writer) and thawer (loader); src/image/format.ts mirrors it for the
 * TypeScript reader. Change both together and bump CKPT_FORMAT_VERSION.
 *
 * Layout of the file:
 *   Elf64_Ehdr
 *   Elf64_Phdr[]         one PT_NOTE, then PT_LOADs
 *   PT_NOTE data         standard notes first (gdb/readelf), then ckpty notes
 *   padding to 4096
 *   PT_LOAD data         one PT_LOAD per run of stored pages; p_offset and
 *                        p_vaddr page-aligned so the thawer can mmap it
 *
 * Standard notes, in the order the kernel writes them (owner "CORE" unless
 * said otherwise): NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE,
 * NT_FPREGSET, NT_X86_XSTATE (owner "LINUX"). NT_PRSTATUS holds the registers
 * the thaw loads (syscall restart applied, orig_rax -1). NT_X86_XSTATE is cut
 * after the last component XCR0 enables (AMX tiles only when in use): the size
 * gdb expects; a loader pads it with zeros to the kernel's full size.
 *
 * ckpty notes (owner CKPT_NOTE_OWNER), each at most once:
 *   NT_CKPT_PROCESS     struct ckpt_process
 *   NT_CKPT_STRINGS     NUL-terminated strings; other notes refer to them by
 *                       byte offset (ckpt_str), offset 0 is the empty string
 *   NT_CKPT_VMAS        struct ckpt_vma[]: every mapping of /proc/PID/maps
 *                       except [vsyscall], in address order
 *   NT_CKPT_FILES       struct ckpt_file[]: identity of the executable and of
 *                       every mapped file (index 0 is the executable)
 *   NT_CKPT_FDS         struct ckpt_fd[]: open descriptors (0-2 included, the
 *                       thawer decides what to do with them)
 *   NT_CKPT_SIGACTIONS  struct ckpt_sigaction[64], index = signal number - 1
 *   NT_CKPT_SIGNALS     struct ckpt_signals, then nqueued siginfo_t (128 bytes)
 *   NT_CKPT_TTY         struct ckpt_tty (absent when no fd is a terminal)
 *   NT_CKPT_ARGV        raw bytes of /proc/PID/cmdline
 *   NT_CKPT_SCREEN      what the terminal showed, as bytes that paint it again (escape
 *                       sequences, from the session host); absent outside a session
 *
 * All integers little-endian; structs are naturally aligned with explicit
 * padding so C and TypeScript agree on every offset (see static asserts).
 */
#ifndef CKPTY_IMAGE_H
#define CKPTY_IMAGE_H

#include <stdint.h>

#define CKPT_FORMAT_VERSION 1
#define CKPT_NOTE_OWNER "CKPTY"
#define CKPT_PAGE_SIZE 4096
/* Bounds a reader enforces before allocating (the largest real note is the xstate, a few KiB). */
#define CKPT_MAX_NOTES_SIZE (64u << 20)
#define CKPT_MAX_AUXV_SIZE 4096
/* The smallest XSAVE area: the legacy region and the header. */
#define CKPT_MIN_XSTATE_SIZE 576
/* A screen's repaint: a few hundred KiB even for a large, colourful one. */
#define CKPT_MAX_SCREEN_SIZE (4u << 20)

enum ckpt_note_type {
	NT_CKPT_PROCESS = 0x434b0001,
	NT_CKPT_STRINGS = 0x434b0002,
	NT_CKPT_VMAS = 0x434b0003,
	NT_CKPT_FILES = 0x434b0004,
	NT_CKPT_FDS = 0x434b0005,
	NT_CKPT_SIGACTIONS = 0x434b0006,
	NT_CKPT_SIGNALS = 0x434b0007,
	NT_CKPT_TTY = 0x434b0008,
	NT_CKPT_ARGV = 0x434b0009,
	NT_CKPT_SCREEN = 0x434b0010,
};

/* Offset of a string in NT_CKPT_STRINGS. */
typedef uint32_t ckpt_str;

/* ckpt_process.flags */
#define CKPT_PROC_SNAPSHOT 0x1 /* the process ran on after the image was written */
#define CKPT_PROC_WAS_STOPPED 0x2 /* it was in a job-control stop (^Z) when frozen */

/* ckpt_process.syscall_restart: what the freezer did to the registers. */
enum ckpt_restart {
	CKPT_RESTART_NONE = 0, /* not inside a syscall */
	CKPT_RESTART_REWOUND = 1, /* -ERESTART{SYS,NOINTR,NOHAND}: rip -= 2, rax = orig_rax */
	CKPT_RESTART_BLOCK = 2, /* -ERESTART_RESTARTBLOCK: rewound to re-enter the original syscall */
};

/* Same order as struct prctl_mm_map's address fields. */
struct ckpt_mm {
	uint64_t start_code, end_code;
	uint64_t start_data, end_data;
	uint64_t start_brk, brk;
	uint64_t start_stack;
	uint64_t arg_start, arg_end;
	uint64_t env_start, env_end;
};

struct ckpt_rlimit {
	uint64_t cur, max; /* RLIM_INFINITY as ~0 */
};

#define CKPT_NRLIMITS 16

struct ckpt_process {
	uint32_t version; /* CKPT_FORMAT_VERSION */
	uint32_t flags; /* CKPT_PROC_* */
	int32_t pid, ppid, pgid, sid;
	uint32_t uid, gid;
	uint32_t umask;
	uint32_t personality;
	uint64_t freeze_time_ns; /* CLOCK_REALTIME when the process was seized */
	char comm[16];
	ckpt_str exe; /* path of the executable (index 0 of NT_CKPT_FILES) */
	ckpt_str cwd;
	ckpt_str kernel_release; /* uname -r of the freezing machine */
	uint32_t syscall_restart; /* enum ckpt_restart */
	int64_t orig_rax; /* as seized */
	int64_t syscall_ret; /* rax as seized (e.g. -512 for -ERESTARTSYS) */
	struct ckpt_mm mm;
	struct ckpt_rlimit rlimits[CKPT_NRLIMITS];
	uint64_t rseq_addr; /* 0: no rseq registered */
	uint32_t rseq_len;
	uint32_t rseq_sig;
	uint64_t vdso_size; /* bytes of [vdso], for the thaw's compatibility check */
	uint64_t vdso_hash; /* FNV-1a 64 of the [vdso] bytes */
	uint64_t stored_bytes; /* sum of PT_LOAD p_filesz */
};

enum ckpt_vma_kind {
	CKPT_VMA_ANON = 0, /* private anonymous */
	CKPT_VMA_FILE = 1, /* file-backed (private or shared) */
	CKPT_VMA_HEAP = 2, /* [heap] */
	CKPT_VMA_STACK = 3, /* [stack] */
	CKPT_VMA_VDSO = 4,
	CKPT_VMA_VVAR = 5,
	CKPT_VMA_VVAR_VCLOCK = 6,
	CKPT_VMA_SHMEM = 7, /* shared anonymous (/dev/zero (deleted), memfd-less) */
	CKPT_VMA_IMAGE = 8, /* private mapping of a ckpty image (a thawed region): stored like anon */
};

/* ckpt_vma.flags */
#define CKPT_VMA_SHARED 0x1 /* 's' in maps; otherwise private */
#define CKPT_VMA_GROWSDOWN 0x2

struct ckpt_vma {
	uint64_t start, end; /* page-aligned, end exclusive */
	uint64_t pgoff; /* file offset in bytes for CKPT_VMA_FILE */
	uint32_t prot; /* PROT_READ | PROT_WRITE | PROT_EXEC */
	uint32_t flags; /* CKPT_VMA_* */
	uint32_t kind; /* enum ckpt_vma_kind */
	int32_t file; /* index into NT_CKPT_FILES, -1 if none */
	uint64_t stored; /* bytes of this mapping stored in PT_LOADs */
};

struct ckpt_file {
	uint64_t dev; /* st_dev */
	uint64_t ino;
	uint64_t size;
	int64_t mtime_sec, mtime_nsec;
	int64_t ctime_sec, ctime_nsec;
	uint32_t mode;
	ckpt_str path;
};

enum ckpt_fd_kind {
	CKPT_FD_REG = 0, /* regular file: reopened by path, flags, offset */
	CKPT_FD_DIR = 1,
	CKPT_FD_TTY = 2, /* a terminal: connected to the thawing terminal */
	CKPT_FD_CHR = 3, /* other character device (/dev/null, /dev/zero, /dev/urandom) */
};

struct ckpt_fd {
	int32_t fd;
	uint32_t kind; /* enum ckpt_fd_kind */
	uint32_t flags; /* open flags from /proc/PID/fdinfo (O_ACCMODE, O_APPEND, O_NONBLOCK…) */
	uint32_t cloexec; /* 1 if FD_CLOEXEC */
	uint64_t pos;
	uint64_t dev, ino;
	uint32_t rdev; /* for devices */
	ckpt_str path;
};

struct ckpt_sigaction {
	uint64_t handler; /* SIG_DFL 0, SIG_IGN 1, or an address */
	uint64_t flags; /* SA_* as the kernel holds them */
	uint64_t restorer;
	uint64_t mask;
};

struct ckpt_signals {
	uint64_t blocked;
	uint64_t pending; /* thread-private pending set */
	uint64_t shared_pending;
	uint32_t nqueued; /* siginfo_t records that follow (PTRACE_PEEKSIGINFO) */
	uint32_t reserved;
};

/* The kernel's struct termios (not glibc's), as TCGETS returns it. */
struct ckpt_kernel_termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[19];
};

struct ckpt_tty {
	int32_t fd; /* the first fd that is the terminal */
	uint32_t reserved;
	struct ckpt_kernel_termios termios;
	uint16_t rows, cols, xpixel, ypixel;
	ckpt_str path; /* e.g. /dev/pts/3 */
	uint32_t reserved2;
};

_Static_assert(sizeof(struct ckpt_mm) == 88, "ckpt_mm layout");
_Static_assert(sizeof(struct ckpt_process) == 480, "ckpt_process layout");
_Static_assert(sizeof(struct ckpt_vma) == 48, "ckpt_vma layout");
_Static_assert(sizeof(struct ckpt_file) == 64, "ckpt_file layout");
_Static_assert(sizeof(struct ckpt_fd) == 48, "ckpt_fd layout");
_Static_assert(sizeof(struct ckpt_sigaction) == 32, "ckpt_sigaction layout");
_Static_assert(sizeof(struct ckpt_signals) == 32, "ckpt_signals layout");
_Static_assert(sizeof(struct ckpt_kernel_termios) == 36, "kernel termios layout");
_Static_assert(sizeof(struct ckpt_tty) == 60, "ckpt_tty layout");

#endif
