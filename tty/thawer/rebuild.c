/*
 * Rebuild the program inside the stopped child, by syscalls injected at a
 * `syscall` instruction of the vdso (infect_use_syscall_insn: syscall stops,
 * no signal raised, no byte of the child written for the injection itself).
 *
 * Order matters:
 *   1. drop the freshly exec'd memory; move [vvar], [vvar_vclock], [vdso] to
 *      the image's addresses (the injection point moves with the vdso);
 *   2. a scratch area in a hole of the image's layout, for syscall arguments;
 *   3. every mapping at its address: anonymous, heap, stack, shared, files;
 *   4. the stored pages: large runs of anonymous memory mapped privately from
 *      the image (lazy: thaw time does not grow with them), the rest copied in
 *      through /proc/PID/mem;
 *   5. mm fields and auxv (PR_SET_MM_MAP), comm, rseq;
 *   6. sigactions, then the pending signals (all blocked until the end);
 *   7. close-on-exec flags, close our helper fds, drop the scratch area.
 */
#include "fault.h"
#include "procfs.h"
#include "thawer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Runs of stored anonymous pages at least this large are mapped from the image instead of copied. */
#define LAZY_MIN (256u << 10)
#define SCRATCH_SIZE (2 * CKPT_PAGE_SIZE)
#define AUXV_AT 256 /* where the auxv goes in the scratch area, after struct prctl_mm_map */
#define COPY_CHUNK (4u << 20)
/* Larger than any XSAVE area (11008 bytes with AMX tiles); the kernel says how much it uses. */
#define XSTATE_MAX (64u << 10)

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

struct rebuild {
	struct thaw *t;
	struct infect *tr;
	struct ck_error *e;
	uint64_t scratch;
};

/* Run syscall nr in the child: its return value, or -errno if the injection itself failed. */
static long sys(struct rebuild *r, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	long args[6] = { a0, a1, a2, a3, a4, a5 }, ret;
	int err = infect_syscall(r->tr, nr, args, &ret);
	return err ? err : ret;
}

static bool failed(long ret)
{
	return (unsigned long)ret > -4096ul;
}

static int refused(struct rebuild *r, long ret, const char *stage, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A syscall failed in the child: record what, with its errno. */
static int refused(struct rebuild *r, long ret, const char *stage, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	int err = (int)-ret;
	return ck_fail(r->e, err == ESRCH ? CK_INTERNAL : CK_UNSUPPORTED, err, stage, "", "%s: %s", what,
			 strerror(err));
}

static bool is_vdso_kind(uint32_t kind)
{
	return kind == CKPT_VMA_VDSO || kind == CKPT_VMA_VVAR || kind == CKPT_VMA_VVAR_VCLOCK;
}

static int move_vdso(struct rebuild *r, const struct vdso_layout *from, const struct vdso_layout *to)
{
	/* The vdso itself last: the syscalls run from it. */
	static const int order[3] = { VDSO_SLOT(CKPT_VMA_VVAR), VDSO_SLOT(CKPT_VMA_VVAR_VCLOCK), VDSO_SLOT(CKPT_VMA_VDSO) };
	for (int i = 0; i < 3; i++) {
		int k = order[i];
		if (!from->size[k] || from->start[k] == to->start[k])
			continue;
		long ret = sys(r, SYS_mremap, (long)from->start[k], (long)from->size[k], (long)from->size[k],
			       MREMAP_MAYMOVE | MREMAP_FIXED, (long)to->start[k], 0);
		if (failed(ret))
			return refused(r, ret, "vdso", "cannot move the vdso to 0x%llx", (unsigned long long)to->start[k]);
	}
	/* The injection point moves with it. */
	infect_use_syscall_insn(r->tr, to->start[0] + r->t->syscall_offset);
	return 0;
}

static void block_bounds(const struct vdso_layout *l, uint64_t *lo, uint64_t *hi)
{
	*lo = ~0ull;
	*hi = 0;
	for (int k = 0; k < 3; k++) {
		if (!l->size[k])
			continue;
		if (l->start[k] < *lo)
			*lo = l->start[k];
		if (l->start[k] + l->size[k] > *hi)
			*hi = l->start[k] + l->size[k];
	}
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* Mappings that stay: the vdso family, and [vsyscall], which cannot be unmapped. */
static bool kept(const struct procfs_vma *v)
{
	return !strcmp(v->path, "[vsyscall]") || is_vdso_name(v->path);
}

/* Step 1: only the vdso family survives, at the image's addresses. */
static int clear_memory(struct rebuild *r)
{
	struct procfs_maps maps;
	int err = procfs_maps_read(r->tr->pid, &maps);
	if (err)
		return ck_fail(r->e, CK_INTERNAL, -err, "memory", "", "cannot read the new process's maps");
	struct vdso_layout cur;
	vdso_layout_of(&maps, &cur);
	int ret = 0;
	if (cur.size[0])
		infect_use_syscall_insn(r->tr, cur.start[0] + r->t->syscall_offset);
	else
		ret = ck_fail(r->e, CK_INTERNAL, 0, "memory", "", "the new process has no vdso");
	/* Unmap runs of neighbouring mappings in one call each (the holes between them do not matter). */
	for (size_t i = 0; i < maps.count && !ret;) {
		if (kept(&maps.vmas[i])) {
			i++;
			continue;
		}
		uint64_t start = maps.vmas[i].start, end = maps.vmas[i].end;
		for (i++; i < maps.count && !kept(&maps.vmas[i]); i++)
			end = maps.vmas[i].end;
		long rv = sys(r, SYS_munmap, (long)start, (long)(end - start), 0, 0, 0, 0);
		if (failed(rv))
			ret = refused(r, rv, "memory", "cannot unmap 0x%llx-0x%llx", (unsigned long long)start,
				      (unsigned long long)end);
	}
	procfs_maps_free(&maps);
	if (ret)
		return ret;

	const struct vdso_layout *want = &r->t->image_vdso;
	uint64_t cur_lo, cur_hi, want_lo, want_hi;
	block_bounds(&cur, &cur_lo, &cur_hi);
	block_bounds(want, &want_lo, &want_hi);
	if (cur_lo == want_lo)
		return 0;
	if (overlaps(cur_lo, cur_hi, want_lo, want_hi)) {
		/* Sliding onto itself: park the block somewhere free first. */
		struct vdso_layout park = cur;
		uint64_t base = 1ull << 32;
		while (overlaps(base, base + (cur_hi - cur_lo), cur_lo, cur_hi) ||
		       overlaps(base, base + (cur_hi - cur_lo), want_lo, want_hi))
			base <<= 1;
		for (int k = 0; k < 3; k++)
			park.start[k] = cur.start[k] - cur_lo + base;
		if ((ret = move_vdso(r, &cur, &park)))
			return ret;
		cur = park;
	}
	return move_vdso(r, &cur, want);
}

/* Step 2: a hole of the image's layout (nothing else is mapped now but the vdso, already in place). */
static int make_scratch(struct rebuild *r)
{
	const struct ckpt_image *img = &r->t->img;
	unsigned long long min_addr = 65536;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");
	if (f) {
		if (fscanf(f, "%llu", &min_addr) != 1)
			min_addr = 65536;
		fclose(f);
	}
	min_addr = (min_addr + CKPT_PAGE_SIZE - 1) & ~(uint64_t)(CKPT_PAGE_SIZE - 1);
	uint64_t at = min_addr;
	for (size_t i = 0; i <= img->nvmas; i++) {
		uint64_t next = i < img->nvmas ? img->vmas[i].start : (1ull << 47) - CKPT_PAGE_SIZE;
		/* Leave a stack's guard gap alone: its growth must not meet our page. */
		uint64_t guard = i < img->nvmas && (img->vmas[i].flags & CKPT_VMA_GROWSDOWN) ? (1ull << 20) : 0;
		if (next > at && next - at >= SCRATCH_SIZE + guard) {
			long ret = sys(r, SYS_mmap, (long)at, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (!failed(ret)) {
				r->scratch = (uint64_t)ret;
				return 0;
			}
		}
		if (i < img->nvmas && img->vmas[i].end > at)
			at = img->vmas[i].end;
	}
	return ck_fail(r->e, CK_UNSUPPORTED, ENOMEM, "memory", "", "no room for a scratch page in the image's layout");
}

/* The protection a mapping is created with: writable while a shared one is filled (/proc/PID/mem cannot force that). */
static uint32_t fill_prot(const struct ckpt_vma *v)
{
	bool shared_fill = v->kind == CKPT_VMA_SHMEM && v->stored;
	return shared_fill ? v->prot | PROT_WRITE : v->prot;
}

/* Step 3. */
static int map_vmas(struct rebuild *r)
{
	const struct ckpt_image *img = &r->t->img;
	for (size_t i = 0; i < img->nvmas; i++) {
		const struct ckpt_vma *v = &img->vmas[i];
		if (is_vdso_kind(v->kind))
			continue;
		long flags = MAP_FIXED_NOREPLACE, fd = -1, off = 0;
		switch (v->kind) {
		case CKPT_VMA_FILE:
			flags |= v->flags & CKPT_VMA_SHARED ? MAP_SHARED : MAP_PRIVATE;
			fd = r->t->file_fds[v->file];
			off = (long)v->pgoff;
			break;
		case CKPT_VMA_SHMEM:
			flags |= MAP_SHARED | MAP_ANONYMOUS;
			break;
		case CKPT_VMA_STACK:
			flags |= MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN;
			break;
		default: /* anonymous, heap, and pages of an earlier image (all stored) */
			flags |= MAP_PRIVATE | MAP_ANONYMOUS;
			break;
		}
		long ret = sys(r, SYS_mmap, (long)v->start, (long)(v->end - v->start), fill_prot(v), flags, fd, off);
		if (failed(ret) || (uint64_t)ret != v->start) {
			const char *path = v->file >= 0 ? image_string(img, img->files[v->file].path) : "anonymous memory";
			return refused(r, failed(ret) ? ret : -EEXIST, "memory", "cannot map %s at 0x%llx-0x%llx", path,
				       (unsigned long long)v->start, (unsigned long long)v->end);
		}
	}
	return 0;
}

static int copy_run(struct rebuild *r, const Elf64_Phdr *l, uint8_t *chunk)
{
	for (uint64_t done = 0; done < l->p_filesz;) {
		size_t n = l->p_filesz - done < COPY_CHUNK ? l->p_filesz - done : COPY_CHUNK;
		ssize_t got = pread(r->t->image_fd, chunk, n, (off_t)(l->p_offset + done));
		if (got != (ssize_t)n)
			return ck_fail(r->e, CK_IO, got < 0 ? errno : EIO, "memory", r->t->image_path,
					 "cannot read the image");
		int err = infect_write(r->tr, l->p_vaddr + done, chunk, n);
		if (err)
			return ck_fail(r->e, CK_INTERNAL, -err, "memory", "", "cannot write the memory at 0x%llx",
					 (unsigned long long)(l->p_vaddr + done));
		done += n;
	}
	return 0;
}

/* Step 4. */
static int fill_memory(struct rebuild *r)
{
	const struct ckpt_image *img = &r->t->img;
	uint8_t *chunk = NULL;
	int ret = 0;
	for (size_t i = 0; i < img->nloads && !ret; i++) {
		const Elf64_Phdr *l = &img->loads[i];
		const struct ckpt_vma *v = image_vma_of(img, l->p_vaddr, l->p_filesz);
		/* The vdso is this kernel's (checked); a shared file mapping's data is the file's. */
		if (is_vdso_kind(v->kind) || (v->kind == CKPT_VMA_FILE && (v->flags & CKPT_VMA_SHARED)))
			continue;
		if ((v->kind == CKPT_VMA_ANON || v->kind == CKPT_VMA_IMAGE) && l->p_filesz >= LAZY_MIN) {
			long ret2 = sys(r, SYS_mmap, (long)l->p_vaddr, (long)l->p_filesz, v->prot, MAP_PRIVATE | MAP_FIXED,
					r->t->image_fd, (long)l->p_offset);
			if (!failed(ret2)) {
				r->t->stats.lazy_bytes += l->p_filesz;
				continue;
			}
			/* e.g. PROT_EXEC from an image on a noexec mount: copy instead. */
		}
		if (!chunk && !(chunk = malloc(COPY_CHUNK)))
			ret = ck_fail(r->e, CK_INTERNAL, ENOMEM, "memory", "", "out of memory");
		else if (!(ret = copy_run(r, l, chunk)))
			r->t->stats.copied_bytes += l->p_filesz;
	}
	free(chunk);
	for (size_t i = 0; i < img->nvmas && !ret; i++) {
		const struct ckpt_vma *v = &img->vmas[i];
		if (is_vdso_kind(v->kind) || fill_prot(v) == v->prot)
			continue;
		long rv = sys(r, SYS_mprotect, (long)v->start, (long)(v->end - v->start), v->prot, 0, 0, 0);
		if (failed(rv))
			ret = refused(r, rv, "memory", "cannot protect 0x%llx-0x%llx", (unsigned long long)v->start,
				      (unsigned long long)v->end);
	}
	return ret;
}

static int put_scratch(struct rebuild *r, uint64_t offset, const void *data, size_t len)
{
	int err = infect_write(r->tr, r->scratch + offset, data, len);
	return err ? ck_fail(r->e, CK_INTERNAL, -err, "inject", "", "cannot write the scratch page") : 0;
}

/* Step 5. */
static int set_mm(struct rebuild *r)
{
	const struct ckpt_image *img = &r->t->img;
	const struct ckpt_process *p = img->process;
	_Static_assert(AUXV_AT >= sizeof(struct prctl_mm_map), "auxv after the map");
	struct prctl_mm_map map = {
		.start_code = p->mm.start_code, .end_code = p->mm.end_code,
		.start_data = p->mm.start_data, .end_data = p->mm.end_data,
		.start_brk = p->mm.start_brk, .brk = p->mm.brk,
		.start_stack = p->mm.start_stack,
		.arg_start = p->mm.arg_start, .arg_end = p->mm.arg_end,
		.env_start = p->mm.env_start, .env_end = p->mm.env_end,
		.auxv = (__u64 *)(uintptr_t)(r->scratch + AUXV_AT),
		.auxv_size = (uint32_t)(img->auxv_len * 16),
		.exe_fd = (uint32_t)-1, /* the exec already made /proc/PID/exe the program's */
	};
	if (img->auxv_len * 16 > SCRATCH_SIZE - AUXV_AT)
		return ck_fail(r->e, CK_BAD_IMAGE, 0, "mm", "", "the auxiliary vector is too large");
	if (put_scratch(r, 0, &map, sizeof map) || put_scratch(r, AUXV_AT, img->auxv, img->auxv_len * 16))
		return -1;
	long ret = sys(r, SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)r->scratch, sizeof map, 0, 0);
	if (failed(ret))
		return refused(r, ret, "mm", "the kernel refused the memory layout (PR_SET_MM_MAP)");

	char comm[sizeof p->comm + 1] = { 0 };
	memcpy(comm, p->comm, sizeof p->comm);
	if (put_scratch(r, 0, comm, sizeof comm))
		return -1;
	ret = sys(r, SYS_prctl, PR_SET_NAME, (long)r->scratch, 0, 0, 0, 0);
	if (failed(ret))
		return refused(r, ret, "mm", "cannot set the process name");

	if (p->rseq_addr) {
		ret = sys(r, SYS_rseq, (long)p->rseq_addr, p->rseq_len, 0, p->rseq_sig, 0, 0);
		if (failed(ret))
			return refused(r, ret, "rseq", "cannot register the rseq area at 0x%llx",
				       (unsigned long long)p->rseq_addr);
	}
	return 0;
}

static bool has_bit(uint64_t set, int sig)
{
	return set & (1ull << (sig - 1));
}

/* Step 6. */
static int set_signals(struct rebuild *r)
{
	const struct ckpt_image *img = &r->t->img;
	static const struct ckpt_sigaction dfl;
	for (int sig = 1; sig <= 64; sig++) {
		const struct ckpt_sigaction *sa = &img->sigactions[sig - 1];
		/* The child reset every disposition to SIG_DFL before the exec. */
		if (sig == SIGKILL || sig == SIGSTOP || !memcmp(sa, &dfl, sizeof dfl))
			continue;
		if (put_scratch(r, 0, sa, sizeof *sa))
			return -1;
		long ret = sys(r, SYS_rt_sigaction, sig, (long)r->scratch, 0, sizeof(uint64_t), 0, 0);
		if (failed(ret))
			return refused(r, ret, "signals", "cannot set the action of signal %d", sig);
	}

	/* Queued signals with their siginfo; then any pending one that had no record. */
	const struct ckpt_signals *s = img->signals;
	pid_t pid = r->tr->pid;
	uint64_t requeued = 0;
	for (uint32_t i = 0; i < s->nqueued; i++) {
		const uint8_t *info = img->queued + (size_t)i * CKPT_SIGINFO_SIZE;
		int32_t sig;
		memcpy(&sig, info, sizeof sig);
		if (sig < 1 || sig > 64 || sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (put_scratch(r, 0, info, CKPT_SIGINFO_SIZE))
			return -1;
		bool shared = has_bit(s->shared_pending, sig) && !has_bit(s->pending, sig);
		long ret = shared ? sys(r, SYS_rt_sigqueueinfo, pid, sig, (long)r->scratch, 0, 0, 0)
				  : sys(r, SYS_rt_tgsigqueueinfo, pid, pid, sig, (long)r->scratch, 0, 0);
		if (failed(ret))
			return refused(r, ret, "signals", "cannot queue signal %d again", sig);
		requeued |= 1ull << (sig - 1);
	}
	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || has_bit(requeued, sig) || !has_bit(s->pending | s->shared_pending, sig))
			continue;
		long ret = has_bit(s->pending, sig) ? sys(r, SYS_tgkill, pid, pid, sig, 0, 0, 0)
						    : sys(r, SYS_kill, pid, sig, 0, 0, 0, 0);
		if (failed(ret))
			return refused(r, ret, "signals", "cannot make signal %d pending again", sig);
	}
	return 0;
}

/* Step 7. */
static int tidy_up(struct rebuild *r)
{
	const struct ckpt_image *img = &r->t->img;
	for (size_t i = 0; i < img->nfds; i++) {
		if (!img->fds[i].cloexec)
			continue;
		long ret = sys(r, SYS_fcntl, img->fds[i].fd, F_SETFD, FD_CLOEXEC, 0, 0, 0);
		if (failed(ret))
			return refused(r, ret, "fds", "cannot set close-on-exec on fd %d", img->fds[i].fd);
	}
	long ret = sys(r, SYS_close_range, r->t->helper_base, ~0u, 0, 0, 0, 0);
	if (failed(ret))
		return refused(r, ret, "fds", "cannot close the thaw's own descriptors");
	ret = sys(r, SYS_munmap, (long)r->scratch, SCRATCH_SIZE, 0, 0, 0, 0);
	if (failed(ret))
		return refused(r, ret, "memory", "cannot unmap the scratch page");
	return 0;
}

/*
 * Step 8: the registers infect_resume() loads, and the FPU/SSE/AVX state. The image
 * keeps the XSAVE area only up to the last component in use; the kernel takes
 * exactly its own full size (regset.c: xstateregs_set), so pad it with zeros,
 * the init state of the components left out.
 */
static int load_registers(struct rebuild *r)
{
	const struct ckpt_image *img = &r->t->img;
	pid_t pid = r->tr->pid;
	bool loaded = false;
	uint8_t *area = calloc(1, XSTATE_MAX);
	struct iovec iov = { area, XSTATE_MAX };
	if (!area)
		return ck_fail(r->e, CK_INTERNAL, ENOMEM, "registers", "", "out of memory");
	if (img->xstate && ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov) == 0 && img->xstate_len <= iov.iov_len) {
		memset(area, 0, iov.iov_len);
		memcpy(area, img->xstate, img->xstate_len);
		loaded = ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, &iov) == 0;
	}
	free(area);
	/* Another CPU's XSAVE layout: the x87/SSE state at least. */
	if (!loaded && img->fpregs && ptrace(PTRACE_SETFPREGS, pid, 0, img->fpregs) == 0) {
		r->t->stats.fpu_only = true;
		loaded = true;
	}
	if (!loaded)
		return ck_fail(r->e, CK_UNSUPPORTED, errno, "registers", "", "cannot load the floating-point registers");
	r->tr->regs = img->regs;
	/* Not inside a syscall as far as the kernel is concerned: no restart logic on the way out. */
	r->tr->regs.orig_rax = (unsigned long long)-1;
	r->tr->sigmask = img->signals->blocked;
	return 0;
}

int thaw_rebuild(struct thaw *t, struct infect *tracee, struct ck_error *e)
{
	struct rebuild r = { .t = t, .tr = tracee, .e = e };
	if (clear_memory(&r) || make_scratch(&r) || map_vmas(&r) || (fault_point("rebuilding"), 0) || fill_memory(&r) || set_mm(&r) ||
	    set_signals(&r) || tidy_up(&r) || load_registers(&r))
		return -1;
	return 0;
}
