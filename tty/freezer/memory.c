/* The mappings, the identity of mapped files, and which pages the image stores. */
#include "freezer.h"
#include "fnv.h"
#include "procfs.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61) /* a page of the file or of shared memory, not a private copy */

/*
 * e_phnum is 16 bits and 0xffff is PN_XNUM (the real count then lives in a section
 * header, which the image does not have): at most 0xfffe program headers, one of
 * them the PT_NOTE.
 */
#define MAX_RUNS ((size_t)0xfffe - 1)

enum store_policy {
	STORE_NOTHING, /* the data lives elsewhere (shared file, vvar) or there is none (PROT_NONE) */
	STORE_TOUCHED, /* pages that exist: present or swapped */
	STORE_PRIVATE_COPIES, /* private file mapping: only the pages written since (anonymous copies) */
	STORE_ALL, /* every page: [vdso], and a mapping of a ckpty image whose data lives in that image */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* Is the file at path a ckpty image: an ELF core with a CKPTY note among the first notes? */
static bool is_ckpty_image(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return false;
	bool found = false;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	/* The standard notes come first (about 6 KiB); ours follow them. */
	static uint8_t notes[64 * 1024];
	if (pread(fd, &eh, sizeof eh, 0) == sizeof eh && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_type == ET_CORE && eh.e_phnum > 0 &&
	    pread(fd, &ph, sizeof ph, (off_t)eh.e_phoff) == sizeof ph && ph.p_type == PT_NOTE) {
		size_t want = ph.p_filesz < sizeof notes ? ph.p_filesz : sizeof notes;
		ssize_t n = pread(fd, notes, want, (off_t)ph.p_offset);
		for (size_t at = 0; n > 0 && at + sizeof(Elf64_Nhdr) <= (size_t)n && !found;) {
			Elf64_Nhdr nh;
			memcpy(&nh, notes + at, sizeof nh);
			size_t name_at = at + sizeof nh;
			found = nh.n_namesz == sizeof CKPT_NOTE_OWNER && name_at + nh.n_namesz <= (size_t)n &&
				!memcmp(notes + name_at, CKPT_NOTE_OWNER, sizeof CKPT_NOTE_OWNER);
			at = name_at + ((nh.n_namesz + 3) & ~3u) + ((nh.n_descsz + 3) & ~3u);
		}
	}
	close(fd);
	return found;
}

struct file_table {
	struct job *job;
	struct capture *c;
	struct buf is_image; /* bool per file */
};

/* Index of the file in NT_CKPT_FILES, added on first sight; -1 and errno when it cannot be inspected. */
static int file_index(struct file_table *ft, const char *path, const char *stat_path)
{
	struct stat st;
	if (stat(stat_path, &st) < 0)
		return -1;
	struct ckpt_file *files = (struct ckpt_file *)ft->c->files.data;
	size_t n = ft->c->files.len / sizeof *files;
	for (size_t i = 0; i < n; i++)
		if (files[i].dev == st.st_dev && files[i].ino == st.st_ino)
			return (int)i;
	struct ckpt_file f = {
		.dev = st.st_dev,
		.ino = st.st_ino,
		.size = (uint64_t)st.st_size,
		.mtime_sec = st.st_mtim.tv_sec,
		.mtime_nsec = st.st_mtim.tv_nsec,
		.ctime_sec = st.st_ctim.tv_sec,
		.ctime_nsec = st.st_ctim.tv_nsec,
		.mode = st.st_mode,
		.path = capture_string(ft->c, path),
	};
	bool image = S_ISREG(st.st_mode) && is_ckpty_image(path);
	if (buf_append(&ft->c->files, &f, sizeof f) || buf_append(&ft->is_image, &image, sizeof image)) {
		errno = ENOMEM;
		return -1;
	}
	return (int)n;
}

static bool is_shared_anonymous(const struct procfs_vma *v)
{
	return v->shared && (!strcmp(v->path, "/dev/zero (deleted)") || !strncmp(v->path, "/SYSV", 5) ||
			     !strncmp(v->path, "[anon_shmem:", 12));
}

/* Fill kind, flags and file of vma; returns the store policy, or -1 with e set. */
static int classify(struct file_table *ft, const struct procfs_vma *v, struct ckpt_vma *vma, struct ck_error *e)
{
	vma->file = -1;
	vma->flags = v->shared ? CKPT_VMA_SHARED : 0;
	if (!strcmp(v->path, "[heap]")) {
		vma->kind = CKPT_VMA_HEAP;
	} else if (!strcmp(v->path, "[stack]")) {
		vma->kind = CKPT_VMA_STACK;
		vma->flags |= CKPT_VMA_GROWSDOWN;
	} else if (!strcmp(v->path, "[vdso]")) {
		vma->kind = CKPT_VMA_VDSO;
		return STORE_ALL;
	} else if (!strcmp(v->path, "[vvar]")) {
		vma->kind = CKPT_VMA_VVAR;
		return STORE_NOTHING;
	} else if (!strcmp(v->path, "[vvar_vclock]")) {
		vma->kind = CKPT_VMA_VVAR_VCLOCK;
		return STORE_NOTHING;
	} else if (is_shared_anonymous(v)) {
		/* One object however many mappings (or members) share it; its pages go to the data area. */
		dev_t dev = makedev(v->dev_major, v->dev_minor);
		int object = object_find(ft->job, dev, v->ino);
		if (object < 0) {
			struct ckpt_object o = { .kind = CKPT_OBJ_SHMEM, .name = job_string(ft->job, v->path) };
			object = object_add(ft->job, &o, dev, v->ino, -1);
		}
		int member = (int)(ft->c - ft->job->members);
		if (object < 0 || object_add_mapping(ft->job, object, member, v->start, v->end, v->pgoff))
			return ck_fail(e, CK_INTERNAL, ENOMEM, "maps", "", "out of memory");
		vma->kind = CKPT_VMA_OBJECT;
		vma->file = object;
		vma->pgoff = v->pgoff;
		return STORE_NOTHING;
	} else if (v->path[0] == '/' && ends_with(v->path, " (deleted)")) {
		/* A memfd or a deleted file: mapped again from the file the thaw recreates (files.c). */
		int object = object_of_mapping(ft->job, (int)(ft->c - ft->job->members), v);
		if (object == -E2BIG)
			return ck_fail(e, CK_UNSUPPORTED, 0, "maps", "", "the mapped file %s is larger than --max-contents allows", v->path);
		if (object == -ENOMEM)
			return ck_fail(e, CK_INTERNAL, ENOMEM, "maps", "", "out of memory");
		if (object < 0) {
			vma->kind = CKPT_VMA_ANON;
			return STORE_ALL;
		}
		vma->kind = CKPT_VMA_OBJECT;
		vma->file = object;
		vma->pgoff = v->pgoff;
		return v->shared ? STORE_NOTHING : STORE_PRIVATE_COPIES;
	} else if (v->path[0] == '/') {
		char map_file[128];
		snprintf(map_file, sizeof map_file, "/proc/%d/map_files/%llx-%llx", (int)ft->c->pid,
			 (unsigned long long)v->start, (unsigned long long)v->end);
		/* map_files names the mapped inode itself (root only); the path is the fallback. */
		int index = file_index(ft, v->path, map_file);
		if (index < 0)
			index = file_index(ft, v->path, v->path);
		if (index < 0)
			return ck_fail(e, errno == ENOENT ? CK_UNSUPPORTED : ck_class_of_errno(errno), errno, "maps", "", "cannot inspect the mapped file %s", v->path);
		vma->file = index;
		vma->pgoff = v->pgoff;
		vma->kind = CKPT_VMA_FILE;
		if (!v->shared && ((bool *)ft->is_image.data)[index]) {
			vma->kind = CKPT_VMA_IMAGE;
			return STORE_ALL;
		}
		return v->shared ? STORE_NOTHING : STORE_PRIVATE_COPIES;
	} else if (v->shared) {
		return ck_fail(e, CK_UNSUPPORTED, 0, "maps", "", "unknown shared mapping %s", v->path);
	} else {
		vma->kind = CKPT_VMA_ANON; /* also [anon:name] */
	}
	return STORE_TOUCHED;
}

/*
 * Runs never span two mappings: the thaw maps each mapping by itself. A run belongs to
 * the mapping being planned, which is appended to c->vmas once its runs are known.
 */
static int add_run(struct capture *c, uint64_t start, uint64_t len, uint32_t prot, bool via_mem)
{
	if (!len)
		return 0;
	struct frz_run run = { start, len, prot, (uint32_t)(c->vmas.len / sizeof(struct ckpt_vma)), via_mem };
	return buf_append(&c->runs, &run, sizeof run);
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * More runs than ELF has program headers (a sparsely touched mapping): join runs of
 * the same mapping across the smallest gaps until they fit. The gap pages are stored
 * too, read as the process would read them (zeros, or the file's contents).
 */
static int coalesce_runs(struct capture *c)
{
	struct frz_run *runs = (struct frz_run *)c->runs.data;
	size_t n = c->runs.len / sizeof *runs;
	if (n <= MAX_RUNS)
		return 0;
	uint64_t *gaps = malloc(n * sizeof *gaps);
	if (!gaps)
		return -ENOMEM;
	size_t ngaps = 0;
	for (size_t i = 1; i < n; i++)
		if (runs[i].vma == runs[i - 1].vma)
			gaps[ngaps++] = runs[i].start - (runs[i - 1].start + runs[i - 1].len);
	size_t excess = n - MAX_RUNS;
	if (ngaps < excess) {
		free(gaps);
		return -E2BIG;
	}
	qsort(gaps, ngaps, sizeof *gaps, compare_u64);
	/* Exactly `excess` joins: every gap narrower than the widest one joined, and as many of that width as needed. */
	uint64_t widest = gaps[excess - 1];
	size_t widest_joins = 0;
	for (size_t i = 0; i < excess; i++)
		widest_joins += gaps[i] == widest;
	free(gaps);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		struct frz_run *last = kept ? &runs[kept - 1] : NULL;
		uint64_t gap = last ? runs[i].start - (last->start + last->len) : 0;
		if (last && last->vma == runs[i].vma && (gap < widest || (gap == widest && widest_joins > 0))) {
			widest_joins -= gap == widest;
			last->len = runs[i].start + runs[i].len - last->start;
			continue;
		}
		runs[kept++] = runs[i];
	}
	c->runs.len = kept * sizeof *runs;
	/* Stored sizes grew by the gaps. */
	struct ckpt_vma *vmas = (struct ckpt_vma *)c->vmas.data;
	for (size_t v = 0; v < c->vmas.len / sizeof *vmas; v++)
		vmas[v].stored = 0;
	c->stored_bytes = 0;
	for (size_t i = 0; i < kept; i++) {
		vmas[runs[i].vma].stored += runs[i].len;
		c->stored_bytes += runs[i].len;
	}
	return 0;
}

static bool page_is_stored(int policy, uint64_t entry)
{
	switch (policy) {
	case STORE_ALL:
		return true;
	case STORE_TOUCHED:
		return entry & (PM_PRESENT | PM_SWAPPED);
	case STORE_PRIVATE_COPIES:
		return (entry & PM_SWAPPED) || ((entry & PM_PRESENT) && !(entry & PM_FILE));
	default:
		return false;
	}
}

/* PAGEMAP_SCAN (Linux 6.7): the kernel returns the matching ranges itself, and knows the zero page. */
#define PAGEMAP_SCAN_ _IOWR('f', 16, struct pm_scan_arg_)
#define PAGE_IS_FILE_ (1 << 2)
#define PAGE_IS_PRESENT_ (1 << 3)
#define PAGE_IS_SWAPPED_ (1 << 4)
#define PAGE_IS_PFNZERO_ (1 << 5)

struct page_region_ {
	uint64_t start, end, categories;
};

struct pm_scan_arg_ {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

/*
 * Like plan_pages_by_pagemap, and pages that map the shared zero page (read but never
 * written) are not stored either: the thaw's fresh mapping reads as zeros the same way.
 * Returns -ENOTTY where the kernel lacks PAGEMAP_SCAN.
 */
static int64_t plan_pages_by_scan(struct capture *c, int pagemap, const struct procfs_vma *v, int policy, bool via_mem)
{
	struct page_region_ regions[512];
	uint64_t must_be_clear = PAGE_IS_PFNZERO_ | (policy == STORE_PRIVATE_COPIES ? PAGE_IS_FILE_ : 0);
	struct pm_scan_arg_ arg = {
		.size = sizeof arg,
		.start = v->start,
		.end = v->end,
		.vec = (uint64_t)(uintptr_t)regions,
		.vec_len = sizeof regions / sizeof regions[0],
		.category_inverted = must_be_clear,
		.category_mask = must_be_clear,
		.category_anyof_mask = PAGE_IS_PRESENT_ | PAGE_IS_SWAPPED_,
	};
	int64_t stored = 0;
	while (arg.start < v->end) {
		int n = ioctl(pagemap, PAGEMAP_SCAN_, &arg);
		if (n < 0)
			return errno == EINVAL ? -ENOTTY : -errno;
		for (int i = 0; i < n; i++) {
			int err = add_run(c, regions[i].start, regions[i].end - regions[i].start, v->prot, via_mem);
			if (err)
				return err;
			stored += (int64_t)(regions[i].end - regions[i].start);
		}
		arg.start = arg.walk_end;
	}
	return stored;
}

/* Add the runs of pages of v that the policy stores; returns the stored bytes or -errno. */
static int64_t plan_pages_by_pagemap(struct capture *c, int pagemap, const struct procfs_vma *v, int policy, bool via_mem)
{
	uint64_t entries[8192];
	uint64_t run_start = 0, run_len = 0;
	int64_t stored = 0;
	for (uint64_t addr = v->start; addr < v->end;) {
		size_t want = (v->end - addr) / CKPT_PAGE_SIZE;
		if (want > 8192)
			want = 8192;
		ssize_t got = pread(pagemap, entries, want * 8, (off_t)(addr / CKPT_PAGE_SIZE * 8));
		if (got < 0)
			return -errno;
		if (got < 8)
			return -EIO;
		for (size_t i = 0; i < (size_t)got / 8; i++, addr += CKPT_PAGE_SIZE) {
			if (!page_is_stored(policy, entries[i]))
				continue;
			stored += CKPT_PAGE_SIZE;
			if (run_len && run_start + run_len == addr) {
				run_len += CKPT_PAGE_SIZE;
				continue;
			}
			int err = add_run(c, run_start, run_len, v->prot, via_mem);
			if (err)
				return err;
			run_start = addr;
			run_len = CKPT_PAGE_SIZE;
		}
	}
	int err = add_run(c, run_start, run_len, v->prot, via_mem);
	return err ? err : stored;
}

static int64_t plan_pages(struct capture *c, int pagemap, const struct procfs_vma *v, int policy, bool via_mem)
{
	static bool no_scan;
	if (policy == STORE_ALL) {
		int err = add_run(c, v->start, v->end - v->start, v->prot, via_mem);
		return err ? err : (int64_t)(v->end - v->start);
	}
	if (!no_scan) {
		int64_t stored = plan_pages_by_scan(c, pagemap, v, policy, via_mem);
		if (stored != -ENOTTY)
			return stored;
		no_scan = true;
	}
	return plan_pages_by_pagemap(c, pagemap, v, policy, via_mem);
}

static int hash_vdso(struct infect *t, struct capture *c, const struct procfs_vma *v)
{
	size_t len = v->end - v->start;
	uint8_t *bytes = malloc(len);
	if (!bytes)
		return -ENOMEM;
	int err = infect_read(t, v->start, bytes, len);
	if (!err) {
		c->vdso_size = len;
		c->vdso_hash = fnv1a64(bytes, len);
	}
	free(bytes);
	return err;
}

int capture_memory(struct job *job, struct capture *c, struct ck_error *e)
{
	struct infect *t = &c->threads[0].t;
	struct file_table ft = { .job = job, .c = c };
	char exe_link[64], exe[PATH_MAX];
	snprintf(exe_link, sizeof exe_link, "/proc/%d/exe", (int)t->pid);
	/* Index 0 is the executable (copied: adding strings may move the table). */
	snprintf(exe, sizeof exe, "%s", (const char *)c->strings.data + c->exe);
	if (file_index(&ft, exe, exe_link) != 0)
		return ck_fail(e, ck_class_of_errno(errno), errno, "maps", "", "cannot inspect the executable");

	struct procfs_maps maps;
	int err = procfs_maps_read(t->pid, &maps);
	if (err) {
		buf_free(&ft.is_image);
		return ck_fail(e, ck_class_of_errno(-err), -err, "maps", "", "cannot read /proc/%d/maps", (int)t->pid);
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)t->pid);
	int pagemap = open(path, O_RDONLY | O_CLOEXEC);
	int ret = 0;
	if (pagemap < 0)
		ret = ck_fail(e, ck_class_of_errno(errno), errno, "maps", "", "cannot open %s", path);

	for (size_t i = 0; i < maps.count && !ret; i++) {
		const struct procfs_vma *v = &maps.vmas[i];
		if (!strcmp(v->path, "[vsyscall]"))
			continue; /* the same fixed page in every process, and unreadable */
		struct ckpt_vma vma = { .start = v->start, .end = v->end, .prot = v->prot };
		int policy = classify(&ft, v, &vma, e);
		if (policy < 0) {
			ret = -1;
			break;
		}
		/* PROT_NONE areas (guard pages, reservations) hold no data worth keeping. */
		if (!(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
			policy = STORE_NOTHING;
		if (vma.kind == CKPT_VMA_VDSO && (err = hash_vdso(t, c, v))) {
			ret = ck_fail(e, ck_class_of_errno(-err), -err, "memory", "", "cannot read the vdso");
			break;
		}
		if (policy != STORE_NOTHING) {
			bool via_mem = !(v->prot & PROT_READ) || vma.kind == CKPT_VMA_VDSO;
			int64_t stored = plan_pages(c, pagemap, v, policy, via_mem);
			if (stored < 0)
				ret = ck_fail(e, ck_class_of_errno((int)-stored), (int)-stored, "memory", "", "cannot read %s", path);
			else
				vma.stored = (uint64_t)stored;
			c->stored_bytes += vma.stored;
		}
		if (!ret && buf_append(&c->vmas, &vma, sizeof vma))
			ret = ck_fail(e, CK_INTERNAL, ENOMEM, "memory", "", "out of memory");
	}
	if (!ret && (err = coalesce_runs(c)))
		ret = ck_fail(e, err == -E2BIG ? CK_UNSUPPORTED : CK_INTERNAL, -err, "memory", "", "memory is too fragmented (more than %zu mappings with pages to store)", MAX_RUNS);
	if (pagemap >= 0)
		close(pagemap);
	procfs_maps_free(&maps);
	buf_free(&ft.is_image);
	return ret;
}
