/*
 * The ckpty image format, version 2: a job of processes, each an ELF64 core file
 * (ET_CORE, EM_X86_64). docs/image-format.md describes it for readers; this header
 * is its single definition for the native freezer (writer) and thawer (loader), and
 * src/image/format.ts mirrors it for the TypeScript reader (test/image-format.test.ts
 * checks every size, offset and constant against this file).
 *
 * Layout of the file:
 *   member 0's core      at offset 0: what gdb and readelf open
 *   member 1's core …    each at a page-aligned offset, complete in itself: its
 *                        offsets are relative to its own start, so any member can
 *                        be cut out as a standalone core (ckpty info --extract)
 *   the job's data area  page-aligned, after the last core: bytes that belong to no
 *                        process's memory (pipe and socket buffers, the contents of
 *                        deleted files, memfds and shared memory), referred to by
 *                        (offset from the start of the area, length)
 * A single process is a job of one member.
 *
 * One member's core, as the freezer writes it (readers take each segment where its
 * program header says; images up to 2026-12-04 have the notes before the pages):
 *   Elf64_Ehdr
 *   Elf64_Phdr[]         one PT_NOTE, then PT_LOADs (at most 0xfffe in all: 0xffff
 *                        is PN_XNUM)
 *   padding to 4096
 *   PT_LOAD data         one PT_LOAD per run of stored pages, within one mapping;
 *                        p_offset and p_vaddr page-aligned so the thawer can mmap it
 *   PT_NOTE data         standard notes first (gdb/readelf), then ckpty notes; after
 *                        the pages, so that member 0's are written while the session
 *                        makes the screen (NT_CKPT_SCREEN)
 *   padding to 4096
 *
 * Standard notes, in the order the kernel writes them (owner "CORE", NT_X86_XSTATE
 * "LINUX"): for the first thread NT_PRSTATUS, then NT_PRPSINFO, NT_SIGINFO, NT_AUXV,
 * NT_FILE, then NT_FPREGSET and NT_X86_XSTATE; for every other thread NT_PRSTATUS,
 * NT_FPREGSET, NT_X86_XSTATE. gdb shows one thread per NT_PRSTATUS. NT_PRSTATUS
 * holds the registers the thaw loads (a syscall restart applied, orig_rax -1).
 * NT_X86_XSTATE is cut after the last component XCR0 enables (AMX tiles only when in
 * use): the size gdb expects; a loader pads it with zeros to the kernel's size.
 *
 * ckpty notes (owner CKPT_NOTE_OWNER), each at most once per member:
 *   NT_CKPT_PROCESS     struct ckpt_process
 *   NT_CKPT_STRINGS     NUL-terminated strings; other notes refer to them by byte
 *                       offset (ckpt_str); offset 0 is the empty string. The job
 *                       notes use member 0's table.
 *   NT_CKPT_THREADS     struct ckpt_thread[], in the order of the NT_PRSTATUS notes
 *   NT_CKPT_VMAS        struct ckpt_vma[]: every mapping of /proc/PID/maps except
 *                       [vsyscall], in address order
 *   NT_CKPT_FILES       struct ckpt_file[]: identity of the executable and of every
 *                       mapped regular file (index 0 is the executable)
 *   NT_CKPT_FDS         struct ckpt_fd[]: descriptor numbers, each naming an open
 *                       file of NT_CKPT_OFILES (0-2 included)
 *   NT_CKPT_SIGACTIONS  struct ckpt_sigaction[64], index = signal number - 1
 *   NT_CKPT_SIGNALS     struct ckpt_signals, then nqueued struct ckpt_queued
 *   NT_CKPT_TIMERS      struct ckpt_timer[]: POSIX timers and interval timers
 *   NT_CKPT_TTY         struct ckpt_tty (absent when no fd is a terminal)
 *   NT_CKPT_ARGV        raw bytes of /proc/PID/cmdline
 * and in member 0's notes only, the job's:
 *   NT_CKPT_JOB         struct ckpt_job, then nmembers struct ckpt_member
 *   NT_CKPT_OBJECTS     struct ckpt_object[]: pipes, socket pairs, file contents
 *   NT_CKPT_OFILES      struct ckpt_ofile[]: open file descriptions, shared by the
 *                       descriptors (of any member) that refer to them
 *   NT_CKPT_WATCHES     struct ckpt_watch[]: what epoll and inotify instances watch
 *   NT_CKPT_SCREEN      what the terminal showed, as bytes that paint it again (escape
 *                       sequences, from the session host); absent outside a session
 *
 * All integers little-endian; structs are naturally aligned with explicit padding
 * so C and TypeScript agree on every offset (see the static asserts).
 */
#ifndef CKPTY_IMAGE_H
#define CKPTY_IMAGE_H

#include <stdint.h>

#define CKPT_FORMAT_VERSION 2
#define CKPT_NOTE_OWNER "CKPTY"
#define CKPT_PAGE_SIZE 4096
/* Bounds a reader enforces before allocating (the largest real note is the xstate, a few KiB). */
#define CKPT_MAX_NOTES_SIZE (64u << 20)
#define CKPT_MAX_AUXV_SIZE 4096
/* The smallest XSAVE area: the legacy region and the header. */
#define CKPT_MIN_XSTATE_SIZE 576
/* A screen's repaint: a few hundred KiB even for a large, colourful one. */
#define CKPT_MAX_SCREEN_SIZE (4u << 20)
/* More than any terminal job has; bounds what a reader allocates. */
#define CKPT_MAX_MEMBERS 4096
#define CKPT_MAX_THREADS 4096

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
	NT_CKPT_THREADS = 0x434b000a,
	NT_CKPT_TIMERS = 0x434b000b,
	NT_CKPT_JOB = 0x434b000c,
	NT_CKPT_OBJECTS = 0x434b000d,
	NT_CKPT_OFILES = 0x434b000e,
	NT_CKPT_WATCHES = 0x434b000f,
	NT_CKPT_SCREEN = 0x434b0010,
};

/* Offset of a string in NT_CKPT_STRINGS. */
typedef uint32_t ckpt_str;

/* ckpt_process.flags */
#define CKPT_PROC_SNAPSHOT 0x1 /* the process ran on after the image was written */
#define CKPT_PROC_WAS_STOPPED 0x2 /* it was in a job-control stop (^Z) when frozen */

/* ckpt_thread.syscall_restart: what the freezer did to the thread's registers. */
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

/*
 * IDs are as the process itself saw them: the ones of its innermost pid namespace
 * (0 where the group or session is not visible there).
 */
struct ckpt_process {
	uint32_t version; /* CKPT_FORMAT_VERSION */
	uint32_t flags; /* CKPT_PROC_* */
	int32_t pid, ppid, pgid, sid;
	uint32_t uid, gid;
	uint32_t umask;
	uint32_t personality;
	uint64_t freeze_time_ns; /* CLOCK_REALTIME when the job was seized */
	char comm[16];
	ckpt_str exe; /* path of the executable (index 0 of NT_CKPT_FILES) */
	ckpt_str cwd;
	ckpt_str kernel_release; /* uname -r of the freezing machine */
	uint32_t nthreads; /* entries of NT_CKPT_THREADS, and NT_PRSTATUS notes */
	struct ckpt_mm mm;
	struct ckpt_rlimit rlimits[CKPT_NRLIMITS];
	uint64_t vdso_size; /* bytes of [vdso], for the thaw's compatibility check */
	uint64_t vdso_hash; /* FNV-1a 64 of the [vdso] bytes */
	uint64_t stored_bytes; /* sum of this member's PT_LOAD p_filesz */
	int32_t member; /* its index in NT_CKPT_JOB */
	uint32_t reserved;
};

/* One thread's state beyond its registers (NT_PRSTATUS, NT_FPREGSET, NT_X86_XSTATE). */
struct ckpt_thread {
	int32_t tid; /* as the process saw it */
	uint32_t syscall_restart; /* enum ckpt_restart */
	int64_t orig_rax; /* as seized */
	int64_t syscall_ret; /* rax as seized (e.g. -512 for -ERESTARTSYS) */
	uint64_t blocked; /* its signal mask */
	uint64_t pending; /* its private pending set */
	uint64_t rseq_addr; /* 0: no rseq registered */
	uint32_t rseq_len;
	uint32_t rseq_sig;
	uint64_t robust_list, robust_len; /* set_robust_list() */
	uint64_t clear_child_tid; /* set_tid_address() */
	uint64_t altstack_sp, altstack_size; /* sigaltstack(); flags SS_DISABLE when none */
	int32_t altstack_flags;
	uint32_t reserved;
	char comm[16]; /* /proc/PID/task/TID/comm */
};

enum ckpt_vma_kind {
	CKPT_VMA_ANON = 0, /* private anonymous */
	CKPT_VMA_FILE = 1, /* a regular file still there (private or shared); file: NT_CKPT_FILES */
	CKPT_VMA_HEAP = 2, /* [heap] */
	CKPT_VMA_STACK = 3, /* [stack] */
	CKPT_VMA_VDSO = 4,
	CKPT_VMA_VVAR = 5,
	CKPT_VMA_VVAR_VCLOCK = 6,
	CKPT_VMA_OBJECT = 7, /* shared memory, a memfd or a deleted file; file: NT_CKPT_OBJECTS */
	CKPT_VMA_IMAGE = 8, /* private mapping of a ckpty image (a thawed region): stored like anon; file: NT_CKPT_FILES */
};

/* ckpt_vma.flags */
#define CKPT_VMA_SHARED 0x1 /* 's' in maps; otherwise private */
#define CKPT_VMA_GROWSDOWN 0x2

struct ckpt_vma {
	uint64_t start, end; /* page-aligned, end exclusive */
	uint64_t pgoff; /* offset in the file or object in bytes */
	uint32_t prot; /* PROT_READ | PROT_WRITE | PROT_EXEC */
	uint32_t flags; /* CKPT_VMA_* */
	uint32_t kind; /* enum ckpt_vma_kind */
	int32_t file; /* index into NT_CKPT_FILES or NT_CKPT_OBJECTS (see kind), -1 if none */
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

/* A descriptor number and the open file description behind it. */
struct ckpt_fd {
	int32_t fd;
	uint32_t cloexec; /* 1 if FD_CLOEXEC */
	int32_t ofile; /* index into NT_CKPT_OFILES (member 0's) */
	uint32_t reserved;
};

struct ckpt_sigaction {
	uint64_t handler; /* SIG_DFL 0, SIG_IGN 1, or an address */
	uint64_t flags; /* SA_* as the kernel holds them */
	uint64_t restorer;
	uint64_t mask;
};

struct ckpt_signals {
	uint64_t shared_pending; /* the process-wide pending set (each thread's own: ckpt_thread) */
	uint32_t nqueued; /* struct ckpt_queued records that follow (PTRACE_PEEKSIGINFO) */
	uint32_t reserved;
};

/* A queued signal with its siginfo (the kernel's siginfo_t, 128 bytes). */
struct ckpt_queued {
	int32_t tid; /* the thread it is queued for; 0: the process (shared queue) */
	uint32_t reserved;
	uint8_t info[128];
};

enum ckpt_timer_kind {
	CKPT_TIMER_POSIX = 0, /* timer_create() */
	CKPT_TIMER_REAL = 1, /* setitimer(ITIMER_REAL), alarm() */
	CKPT_TIMER_VIRTUAL = 2,
	CKPT_TIMER_PROF = 3,
};

struct ckpt_timer {
	uint32_t kind; /* enum ckpt_timer_kind */
	int32_t id; /* POSIX: the timer_t the process holds */
	int32_t clock; /* POSIX: clockid */
	int32_t notify; /* POSIX: SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID */
	int32_t signo;
	int32_t notify_tid; /* SIGEV_THREAD_ID: the thread, as the process saw it */
	uint64_t sigev_value;
	uint64_t value_ns; /* time left until it fires; 0: disarmed */
	uint64_t interval_ns;
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

/* ---- the job (member 0's notes) ---- */

struct ckpt_job {
	uint32_t nmembers; /* struct ckpt_member records that follow */
	uint32_t flags;
	int32_t pgid; /* the job's process group, as its members saw it */
	int32_t status_member; /* whose end the shell reports for the job (a pipeline's last) */
	uint64_t monotonic_ns; /* CLOCK_MONOTONIC as the job saw it when seized */
	uint64_t boottime_ns; /* CLOCK_BOOTTIME likewise */
	uint64_t data_offset; /* the data area, from the start of the file, page-aligned */
	uint64_t data_size;
};

enum ckpt_member_state {
	CKPT_MEMBER_LIVE = 0, /* a process with a core */
	CKPT_MEMBER_ZOMBIE = 1, /* ended, its parent (a member) has not collected it: no core */
};

struct ckpt_member {
	int32_t pid; /* as the job saw it */
	int32_t parent; /* index of its parent member; -1: its parent was outside the job */
	int32_t pgid, sid;
	uint32_t state; /* enum ckpt_member_state */
	int32_t wait_status; /* a zombie's status, as wait() reports it */
	uint64_t core_offset, core_size; /* from the start of the file; 0 for a zombie */
	char comm[16];
};

enum ckpt_object_kind {
	CKPT_OBJ_PIPE = 0, /* data: the bytes buffered in it */
	CKPT_OBJ_STREAM_PAIR = 1, /* a unix stream socket pair; data: end 0's receive queue, data2: end 1's */
	CKPT_OBJ_DGRAM_PAIR = 2, /* datagrams: each queued message as u32 length, bytes, padding to 4 */
	CKPT_OBJ_SEQPACKET_PAIR = 3, /* likewise */
	CKPT_OBJ_MEMFD = 4, /* data: its contents */
	CKPT_OBJ_DELETED = 5, /* a regular file no longer in any directory; data: its contents */
	CKPT_OBJ_SHMEM = 6, /* shared anonymous memory (or SysV); data: its contents */
};

struct ckpt_object {
	uint32_t kind; /* enum ckpt_object_kind */
	uint32_t seals; /* memfd: F_GET_SEALS */
	uint64_t data_offset, data_len; /* in the data area */
	uint64_t data2_offset, data2_len;
	uint64_t size; /* pipe: capacity (F_GETPIPE_SZ); files: size; shmem: bytes */
	uint32_t mode; /* files: st_mode */
	ckpt_str name; /* memfd: its name; deleted: the path it had; FIFO pipe: its path */
};

enum ckpt_ofile_kind {
	CKPT_OF_REG = 0, /* a regular file, reopened by path */
	CKPT_OF_DIR = 1,
	CKPT_OF_TTY = 2, /* a terminal: connected to the thawing terminal */
	CKPT_OF_CHR = 3, /* another character device (/dev/null, /dev/zero, /dev/urandom…) */
	CKPT_OF_PIPE = 4, /* an end of a pipe object; a FIFO's when the object has a name */
	CKPT_OF_SOCKET = 5, /* an end of a socket pair object */
	CKPT_OF_OBJECT_FILE = 6, /* a memfd or a deleted file, open */
	CKPT_OF_EVENTFD = 7,
	CKPT_OF_TIMERFD = 8,
	CKPT_OF_SIGNALFD = 9,
	CKPT_OF_EPOLL = 10, /* what it watches: NT_CKPT_WATCHES */
	CKPT_OF_INOTIFY = 11, /* likewise */
	CKPT_OF_CLOSED_SOCKET = 12, /* connected to a peer outside the job; thawed closed (opted in) */
};

struct ckpt_ofile {
	uint32_t kind; /* enum ckpt_ofile_kind */
	uint32_t flags; /* status flags and access mode (O_*), as /proc/PID/fdinfo shows them */
	uint64_t pos;
	int32_t object; /* PIPE, SOCKET, OBJECT_FILE: index into NT_CKPT_OBJECTS; -1 otherwise */
	uint32_t end; /* PIPE: 1 only writes, 0 otherwise (flags' access mode decides); SOCKET: 0 or 1 */
	uint64_t dev, ino; /* REG, DIR: the file's identity */
	uint64_t size; /* REG: its size at the freeze */
	int64_t mtime_ns; /* REG: its mtime at the freeze */
	uint32_t rdev; /* CHR, TTY */
	uint32_t clock; /* TIMERFD: clockid */
	uint64_t count; /* EVENTFD: the counter; TIMERFD: expirations not yet read */
	uint64_t value_ns, interval_ns; /* TIMERFD: time left, period */
	uint64_t sigmask; /* SIGNALFD */
	/* EVENTFD: EFD_SEMAPHORE; TIMERFD: TFD_TIMER_* settime flags; SOCKET: its shutdown (1 receive, 2 send);
	   CLOSED_SOCKET: its type (SOCK_STREAM…). CLOSED_SOCKET's count: queued bytes not kept */
	uint32_t kind_flags;
	ckpt_str path; /* REG, DIR, CHR, TTY: the path; PIPE: a FIFO's; OBJECT_FILE: the object's name; CLOSED_SOCKET: the peer's */
};

struct ckpt_watch {
	int32_t owner; /* the epoll or inotify open file (NT_CKPT_OFILES) */
	int32_t target; /* epoll: the watched open file; inotify: -1 */
	int32_t tfd; /* epoll: the descriptor number it was added as; inotify: the watch descriptor */
	uint32_t events; /* epoll: events; inotify: mask */
	uint64_t data; /* epoll: the user data */
	ckpt_str path; /* inotify: the watched file */
	uint32_t reserved;
};

_Static_assert(sizeof(struct ckpt_mm) == 88, "ckpt_mm layout");
_Static_assert(sizeof(struct ckpt_process) == 456, "ckpt_process layout");
_Static_assert(sizeof(struct ckpt_thread) == 120, "ckpt_thread layout");
_Static_assert(sizeof(struct ckpt_vma) == 48, "ckpt_vma layout");
_Static_assert(sizeof(struct ckpt_file) == 64, "ckpt_file layout");
_Static_assert(sizeof(struct ckpt_fd) == 16, "ckpt_fd layout");
_Static_assert(sizeof(struct ckpt_sigaction) == 32, "ckpt_sigaction layout");
_Static_assert(sizeof(struct ckpt_signals) == 16, "ckpt_signals layout");
_Static_assert(sizeof(struct ckpt_queued) == 136, "ckpt_queued layout");
_Static_assert(sizeof(struct ckpt_timer) == 48, "ckpt_timer layout");
_Static_assert(sizeof(struct ckpt_kernel_termios) == 36, "kernel termios layout");
_Static_assert(sizeof(struct ckpt_tty) == 60, "ckpt_tty layout");
_Static_assert(sizeof(struct ckpt_job) == 48, "ckpt_job layout");
_Static_assert(sizeof(struct ckpt_member) == 56, "ckpt_member layout");
_Static_assert(sizeof(struct ckpt_object) == 56, "ckpt_object layout");
_Static_assert(sizeof(struct ckpt_ofile) == 104, "ckpt_ofile layout");
_Static_assert(sizeof(struct ckpt_watch) == 32, "ckpt_watch layout");

#endif
