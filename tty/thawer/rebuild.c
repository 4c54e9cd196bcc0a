/*
 * Rebuild a member's process image inside its freshly exec'd process, by syscalls
 * injected at a `syscall` instruction of the vdso (infect_use_syscall_insn: syscall
 * stops, no signal raised, no byte of the process written for the injection itself).
 *
 * Order matters:
 *   1. drop the exec'd memory; move [vvar], [vvar_vclock], [vdso] to the image's
 *      addresses (the injection point moves with the vdso);
 *   2. a scratch area in a hole of the image's layout, for syscall arguments (kept
 *      for threads.c, which drops it when the member is whole);
 *   3. every mapping at its address: anonymous, heap, stack, files, objects;
 *   4. the stored pages: large runs of anonymous memory mapped privately from the
 *      image (lazy: thaw time does not grow with them), the rest copied in through
 *      /proc/PID/mem;
 *   5. mm fields and auxv (PR_SET_MM_MAP), the process's name;
 *   6. sigactions.
 * threads.c goes on with the threads, signals, timers and registers.
 */
#include "fault.h"
#include "inject.h"
#include "procfs.h"
#include "thawer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Runs of stored anonymous pages at least this large are mapped from the image instead of copied. */
#define LAZY_MIN (256u << 10)
#define COPY_CHUNK (4u << 20)
#define AUXV_AT 256 /* where the auxv goes in the scratch area, after struct prctl_mm_map */

struct rebuild {
	struct thaw *t;
	struct member_thaw *m;
	const struct ckpt_process_image *p;
	struct infect *tr; /* the member's leader */
	struct ck_error *e;
};

/* A syscall in the member's leader; see inject_call(). */
static int sys(struct rebuild *r, long *ret, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	return inject_call(r->tr, r->e, ret, nr, a0, a1, a2, a3, a4, a5);
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
		long ret;
		if (sys(r, &ret, SYS_mremap, (long)from->start[k], (long)from->size[k], (long)from->size[k],
			MREMAP_MAYMOVE | MREMAP_FIXED, (long)to->start[k], 0))
			return -1;
		if (inject_failed(ret))
			return inject_refused(r->e, ret, "vdso", "cannot move the vdso to 0x%llx", (unsigned long long)to->start[k]);
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
		long rv;
		if (sys(r, &rv, SYS_munmap, (long)start, (long)(end - start), 0, 0, 0, 0))
			ret = -1;
		else if (inject_failed(rv))
			ret = inject_refused(r->e, rv, "memory", "cannot unmap 0x%llx-0x%llx", (unsigned long long)start,
					     (unsigned long long)end);
	}
	procfs_maps_free(&maps);
	if (ret)
		return ret;

	/* Its own addresses, not member 0's: the program holds pointers into its vdso (glibc does). */
	struct vdso_layout own;
	image_vdso_layout(r->p, &own);
	const struct vdso_layout *want = &own;
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
	const struct ckpt_process_image *p = r->p;
	unsigned long long min_addr = 65536;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");
	if (f) {
		if (fscanf(f, "%llu", &min_addr) != 1)
			min_addr = 65536;
		fclose(f);
	}
	min_addr = (min_addr + CKPT_PAGE_SIZE - 1) & ~(uint64_t)(CKPT_PAGE_SIZE - 1);
	uint64_t at = min_addr;
	for (size_t i = 0; i <= p->nvmas; i++) {
		uint64_t next = i < p->nvmas ? p->vmas[i].start : (1ull << 47) - CKPT_PAGE_SIZE;
		/* Leave a stack's guard gap alone: its growth must not meet our page. */
		uint64_t guard = i < p->nvmas && (p->vmas[i].flags & CKPT_VMA_GROWSDOWN) ? (1ull << 20) : 0;
		if (next > at && next - at >= THAW_SCRATCH_SIZE + guard) {
			long ret;
			if (sys(r, &ret, SYS_mmap, (long)at, THAW_SCRATCH_SIZE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0))
				return -1;
			if (!inject_failed(ret)) {
				r->m->scratch = (uint64_t)ret;
				return 0;
			}
		}
		if (i < p->nvmas && p->vmas[i].end > at)
			at = p->vmas[i].end;
	}
	return ck_fail(r->e, CK_UNSUPPORTED, ENOMEM, "memory", "", "no room for a scratch page in the image's layout");
}

/* Step 3. */
static int map_vmas(struct rebuild *r)
{
	const struct ckpt_process_image *p = r->p;
	for (size_t i = 0; i < p->nvmas; i++) {
		const struct ckpt_vma *v = &p->vmas[i];
		if (is_vdso_kind(v->kind))
			continue;
		long flags = MAP_FIXED_NOREPLACE, fd = -1, off = 0;
		const char *what = "anonymous memory";
		switch (v->kind) {
		case CKPT_VMA_FILE:
			flags |= v->flags & CKPT_VMA_SHARED ? MAP_SHARED : MAP_PRIVATE;
			fd = r->m->file_fds[v->file];
			off = (long)v->pgoff;
			what = image_string(p, p->files[v->file].path);
			break;
		case CKPT_VMA_OBJECT:
			/* Shared memory, a memfd, a deleted file: the object made once for the whole job (files.c). */
			flags |= v->flags & CKPT_VMA_SHARED ? MAP_SHARED : MAP_PRIVATE;
			fd = r->t->object_fds[v->file];
			off = (long)v->pgoff;
			what = image_job_string(&r->t->img, r->t->img.objects[v->file].name);
			break;
		case CKPT_VMA_STACK:
			flags |= MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN;
			break;
		default: /* anonymous, heap, and pages of an earlier image (all stored) */
			flags |= MAP_PRIVATE | MAP_ANONYMOUS;
			break;
		}
		long ret;
		if (sys(r, &ret, SYS_mmap, (long)v->start, (long)(v->end - v->start), v->prot, flags, fd, off))
			return -1;
		if (inject_failed(ret) || (uint64_t)ret != v->start)
			return inject_refused(r->e, inject_failed(ret) ? ret : -EEXIST, "memory", "cannot map %s at 0x%llx-0x%llx", what,
					      (unsigned long long)v->start, (unsigned long long)v->end);
	}
	return 0;
}

static int copy_run(struct rebuild *r, const Elf64_Phdr *l, uint8_t *chunk)
{
	uint64_t base = r->p->base;
	for (uint64_t done = 0; done < l->p_filesz;) {
		size_t n = l->p_filesz - done < COPY_CHUNK ? l->p_filesz - done : COPY_CHUNK;
		ssize_t got = pread(r->t->image_fd, chunk, n, (off_t)(base + l->p_offset + done));
		if (got != (ssize_t)n)
			return ck_fail(r->e, CK_IO, got < 0 ? errno : EIO, "memory", r->t->image_path, "cannot read the image");
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
	const struct ckpt_process_image *p = r->p;
	uint8_t *chunk = NULL;
	int ret = 0;
	for (size_t i = 0; i < p->nloads && !ret; i++) {
		const Elf64_Phdr *l = &p->loads[i];
		const struct ckpt_vma *v = image_vma_of(p, l->p_vaddr, l->p_filesz);
		/* The vdso is this kernel's (checked); a shared file mapping's data is the file's. */
		if (is_vdso_kind(v->kind) || (v->kind == CKPT_VMA_FILE && (v->flags & CKPT_VMA_SHARED)))
			continue;
		if ((v->kind == CKPT_VMA_ANON || v->kind == CKPT_VMA_IMAGE) && l->p_filesz >= LAZY_MIN) {
			long mapped;
			if (sys(r, &mapped, SYS_mmap, (long)l->p_vaddr, (long)l->p_filesz, v->prot, MAP_PRIVATE | MAP_FIXED,
				r->t->image_fd, (long)(p->base + l->p_offset))) {
				ret = -1;
				break;
			}
			if (!inject_failed(mapped)) {
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
	return ret;
}

/* Step 5. */
static int set_mm(struct rebuild *r)
{
	const struct ckpt_process_image *p = r->p;
	const struct ckpt_process *proc = p->process;
	uint64_t scratch = r->m->scratch;
	_Static_assert(AUXV_AT >= sizeof(struct prctl_mm_map), "auxv after the map");
	struct prctl_mm_map map = {
		.start_code = proc->mm.start_code, .end_code = proc->mm.end_code, .start_data = proc->mm.start_data, .end_data = proc->mm.end_data, .start_brk = proc->mm.start_brk, .brk = proc->mm.brk, .start_stack = proc->mm.start_stack, .arg_start = proc->mm.arg_start, .arg_end = proc->mm.arg_end, .env_start = proc->mm.env_start, .env_end = proc->mm.env_end, .auxv = (__u64 *)(uintptr_t)(scratch + AUXV_AT), .auxv_size = (uint32_t)(p->auxv_len * 16), .exe_fd = (uint32_t)-1, /* the exec already made /proc/PID/exe the program's */
	};
	if (p->auxv_len * 16 > THAW_SCRATCH_SIZE - AUXV_AT)
		return ck_fail(r->e, CK_BAD_IMAGE, 0, "mm", "", "the auxiliary vector is too large");
	if (inject_put(r->tr, r->e, scratch, &map, sizeof map) ||
	    inject_put(r->tr, r->e, scratch + AUXV_AT, p->auxv, p->auxv_len * 16))
		return -1;
	long ret;
	if (sys(r, &ret, SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)scratch, sizeof map, 0, 0))
		return -1;
	if (inject_failed(ret))
		return inject_refused(r->e, ret, "mm", "the kernel refused the memory layout (PR_SET_MM_MAP)");
	return 0;
}

/* Step 6. */
static int set_sigactions(struct rebuild *r)
{
	static const struct ckpt_sigaction dfl;
	for (int sig = 1; sig <= 64; sig++) {
		const struct ckpt_sigaction *sa = &r->p->sigactions[sig - 1];
		/* The pre-exec copy reset every disposition to SIG_DFL. */
		if (sig == SIGKILL || sig == SIGSTOP || !memcmp(sa, &dfl, sizeof dfl))
			continue;
		long ret;
		if (inject_put(r->tr, r->e, r->m->scratch, sa, sizeof *sa) ||
		    sys(r, &ret, SYS_rt_sigaction, sig, (long)r->m->scratch, 0, sizeof(uint64_t), 0, 0))
			return -1;
		if (inject_failed(ret))
			return inject_refused(r->e, ret, "signals", "cannot set the action of signal %d", sig);
	}
	return 0;
}

int thaw_rebuild(struct thaw *t, struct member_thaw *m, struct ck_error *e)
{
	struct rebuild r = { .t = t, .m = m, .p = m->image, .tr = &m->threads[0], .e = e };
	if (clear_memory(&r) || make_scratch(&r) || map_vmas(&r))
		return -1;
	fault_point("rebuilding");
	return fill_memory(&r) || set_mm(&r) || set_sigactions(&r);
}
