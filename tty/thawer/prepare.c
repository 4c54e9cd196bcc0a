/*
 * Before anything starts: is this kernel's vdso the image's, and is everything the
 * process depends on outside the image (its executable, mapped files, the files its
 * descriptors had open, its working directory) still there as it was?
 */
#include "fnv.h"
#include "procfs.h"
#include "thawer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Indexed by VDSO_SLOT(kind). */
static const char *const vdso_names[3] = { "[vdso]", "[vvar]", "[vvar_vclock]" };

bool is_vdso_name(const char *path)
{
	return !strcmp(path, vdso_names[0]) || !strcmp(path, vdso_names[1]) || !strcmp(path, vdso_names[2]);
}

void vdso_layout_of(const struct procfs_maps *maps, struct vdso_layout *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < maps->count; i++)
		for (int k = 0; k < 3; k++)
			if (!strcmp(maps->vmas[i].path, vdso_names[k])) {
				out->start[k] = maps->vmas[i].start;
				out->size[k] = maps->vmas[i].end - maps->vmas[i].start;
			}
}

void image_vdso_layout(const struct ckpt_process_image *p, struct vdso_layout *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < p->nvmas; i++) {
		const struct ckpt_vma *v = &p->vmas[i];
		if (v->kind == CKPT_VMA_VDSO || v->kind == CKPT_VMA_VVAR || v->kind == CKPT_VMA_VVAR_VCLOCK) {
			out->start[VDSO_SLOT(v->kind)] = v->start;
			out->size[VDSO_SLOT(v->kind)] = v->end - v->start;
		}
	}
}

static int own_vdso(struct vdso_layout *own, struct ck_error *e)
{
	struct procfs_maps maps;
	int err = procfs_maps_read(getpid(), &maps);
	if (err)
		return ck_fail(e, CK_INTERNAL, -err, "prepare", "", "cannot read /proc/self/maps");
	vdso_layout_of(&maps, own);
	procfs_maps_free(&maps);
	return 0;
}

/*
 * The vdso is code the kernel provides; the program may hold pointers into it
 * (glibc does), so it must be byte for byte the one the image was made with,
 * and [vvar]/[vvar_vclock], which it reads at fixed distances, must sit the
 * same way around it. Then it can simply be moved to the image's addresses.
 */
static int check_vdso(struct thaw *t, struct ck_error *e)
{
	struct vdso_layout own;
	if (own_vdso(&own, e))
		return -1;
	/*
	 * Every member was made on one kernel: the first one's vdso stands for all as to
	 * its contents and layout (each member has it at an address of its own, which
	 * rebuild.c moves it to: image_vdso_layout()).
	 */
	const struct ckpt_process_image *first = &t->img.processes[0];
	image_vdso_layout(first, &t->image_vdso);
	const struct ckpt_process *p = first->process;
	const uint8_t *code = (const uint8_t *)(uintptr_t)own.start[0];
	if (!own.size[0] || !t->image_vdso.size[0])
		return ck_fail(e, CK_UNSUPPORTED, 0, "compat", "", "no vdso %s", own.size[0] ? "in the image" : "in this process");
	if (p->vdso_size != own.size[0] || fnv1a64(code, own.size[0]) != p->vdso_hash)
		return ck_fail(e, CK_UNSUPPORTED, 0, "compat", "",
			       "the image was made on another kernel (its vdso differs from this kernel's)");
	for (int k = 0; k < 3; k++) {
		bool same = own.size[k] == t->image_vdso.size[k] &&
			    own.start[k] - own.start[0] == t->image_vdso.start[k] - t->image_vdso.start[0];
		if (!same)
			return ck_fail(e, CK_UNSUPPORTED, 0, "compat", "",
				       "the image was made on another kernel (%s is laid out differently)", vdso_names[k]);
	}
	for (size_t i = 1; i < t->img.nprocesses; i++) {
		struct vdso_layout other;
		image_vdso_layout(&t->img.processes[i], &other);
		for (int k = 0; k < 3; k++)
			if (other.size[k] != own.size[k] || other.start[k] - other.start[0] != own.start[k] - own.start[0])
				return ck_fail(e, CK_UNSUPPORTED, 0, "compat", "",
					       "the image was made on another kernel (%s is laid out differently)", vdso_names[k]);
	}
	const uint8_t *insn = memmem(code, own.size[0], "\x0f\x05", 2);
	if (!insn)
		return ck_fail(e, CK_UNSUPPORTED, 0, "compat", "", "this kernel's vdso holds no syscall instruction");
	t->syscall_offset = (uint64_t)(insn - code);
	return 0;
}

/* How many problems one message names before it summarises the rest. */
#define NAMED_PROBLEMS 3

void problem(struct problems *p, bool changed, const char *fmt, ...)
{
	p->changed = p->changed || changed;
	if (p->count++ >= NAMED_PROBLEMS)
		return;
	if (p->len && p->len < sizeof p->text)
		p->len += (size_t)snprintf(p->text + p->len, sizeof p->text - p->len, "; ");
	va_list ap;
	va_start(ap, fmt);
	if (p->len < sizeof p->text)
		p->len += (size_t)vsnprintf(p->text + p->len, sizeof p->text - p->len, fmt, ap);
	va_end(ap);
}

static int fail_with(const struct problems *p, const char *image, struct ck_error *e)
{
	if (!p->count)
		return 0;
	char more[64] = "";
	if (p->count > NAMED_PROBLEMS)
		snprintf(more, sizeof more, "; and %d more", p->count - NAMED_PROBLEMS);
	return ck_fail(e, p->changed ? CK_CHANGED : CK_PERMISSION, 0, "outside", "", "cannot thaw %s: %s%s", image, p->text,
		       more);
}

/*
 * Paths in an image are canonical (the kernel's own, from /proc): opened without
 * following any symlink, so no one can point them elsewhere meanwhile, and without
 * blocking, so a FIFO put in a file's place cannot hang the thaw.
 */
int open_recorded(const char *path, int flags)
{
	/* openat2 refuses O_PATH with any flag an O_PATH open ignores (O_NONBLOCK). */
	struct open_how how = {
		.flags = (uint64_t)(flags | (flags & O_PATH ? 0 : O_NONBLOCK) | O_CLOEXEC),
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
}

/* ", mtime, ctime": the identity fields of st that differ from the freeze's. */
static void identity_changes(const struct stat *st, const struct ckpt_file *f, char *out, size_t size)
{
	const struct {
		bool same;
		const char *name;
	} fields[] = {
		{ st->st_dev == f->dev, "device" },
		{ st->st_ino == f->ino, "inode" },
		{ (uint64_t)st->st_size == f->size, "size" },
		{ st->st_mtim.tv_sec == f->mtime_sec && st->st_mtim.tv_nsec == f->mtime_nsec, "mtime" },
		{ st->st_ctim.tv_sec == f->ctime_sec && st->st_ctim.tv_nsec == f->ctime_nsec, "ctime" },
	};
	size_t len = 0;
	out[0] = 0;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (!fields[i].same && len < size)
			len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "", fields[i].name);
}

/* fd moved into the helper range (close-on-exec here; the child clears the flag where needed). */
int to_helper_range(const struct thaw *t, int fd)
{
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, t->helper_base);
	int err = errno;
	close(fd);
	errno = err;
	return moved;
}

/*
 * Open member m's executable and every file it maps now, in this process, and check
 * each is the file the image saw: its pre-exec copy executes and maps exactly these
 * open files, so nothing can be swapped in between the check and the use.
 */
static int open_files(struct thaw *t, struct member_thaw *m, struct problems *p, struct ck_error *e)
{
	const struct ckpt_process_image *img = m->image;
	m->file_fds = malloc((img->nfiles ? img->nfiles : 1) * sizeof *m->file_fds);
	for (size_t i = 0; m->file_fds && i < img->nfiles; i++)
		m->file_fds[i] = -1;
	uint8_t *need = calloc(img->nfiles ? img->nfiles : 1, 1); /* 1 read, 2 read and write */
	if (!m->file_fds || !need) {
		free(need);
		return ck_fail(e, CK_INTERNAL, ENOMEM, "prepare", "", "out of memory");
	}
	need[0] = 1;
	for (size_t i = 0; i < img->nvmas; i++) {
		const struct ckpt_vma *v = &img->vmas[i];
		if (v->kind != CKPT_VMA_FILE)
			continue; /* CKPT_VMA_IMAGE: all pages are stored, the old image file is not needed */
		bool writes = (v->flags & CKPT_VMA_SHARED) && (v->prot & PROT_WRITE);
		if (need[v->file] < (writes ? 2 : 1))
			need[v->file] = writes ? 2 : 1;
	}
	int ret = 0;
	for (size_t i = 0; i < img->nfiles && !ret; i++) {
		if (!need[i])
			continue;
		const struct ckpt_file *f = &img->files[i];
		const char *path = image_string(img, f->path);
		int fd = open_recorded(path, need[i] == 2 ? O_RDWR : O_RDONLY);
		struct stat st;
		char changes[64];
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				problem(p, true, "%s no longer exists", path);
			else if (errno == EACCES || errno == EPERM)
				problem(p, false, "%s cannot be opened for %s", path, need[i] == 2 ? "writing" : "reading");
			else
				problem(p, true, "%s cannot be checked: %s", path, strerror(errno));
			continue;
		}
		bool usable = false;
		if (fstat(fd, &st) < 0)
			problem(p, true, "%s cannot be checked: %s", path, strerror(errno));
		else if (identity_changes(&st, f, changes, sizeof changes), changes[0])
			problem(p, true, "%s changed since the freeze (%s)", path, changes);
		else if (!S_ISREG(st.st_mode) || fcntl(fd, F_SETFL, 0) < 0)
			problem(p, true, "%s is not a regular file", path);
		else
			usable = true;
		if (!usable)
			close(fd);
		else if ((m->file_fds[i] = to_helper_range(t, fd)) < 0)
			ret = ck_fail(e, CK_IO, errno, "files", path, "cannot keep %s open", path);
	}
	free(need);
	return ret;
}

static void check_cwd(const struct ckpt_process_image *img, struct problems *p)
{
	const char *cwd = image_string(img, img->process->cwd);
	struct stat st;
	if (stat(cwd, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			problem(p, true, "the working directory %s no longer exists", cwd);
		else
			problem(p, false, "cannot enter the working directory %s", cwd);
	} else if (!S_ISDIR(st.st_mode)) {
		problem(p, true, "the working directory %s is no longer a directory", cwd);
	} else if (access(cwd, X_OK) < 0) {
		problem(p, false, "cannot enter the working directory %s", cwd);
	}
}

/* Our terminal, for the job's terminal descriptors (files.c) and its modes. */
static void find_terminal(struct thaw *t)
{
	t->term_fd = -1;
	for (int fd = 0; fd <= 2 && t->term_fd < 0; fd++)
		if (isatty(fd))
			t->term_fd = fd;
}

void thaw_free(struct thaw *t)
{
	const struct ckpt_image *img = &t->img;
	for (size_t i = 0; t->members && i < img->job->nmembers; i++) {
		struct member_thaw *m = &t->members[i];
		for (size_t k = 0; m->image && m->file_fds && k < m->image->nfiles; k++)
			if (m->file_fds[k] >= 0)
				close(m->file_fds[k]);
		free(m->file_fds);
		free(m->threads);
	}
	free(t->members);
	t->members = NULL;
	for (size_t i = 0; t->ofile_fds && i < img->nofiles; i++)
		if (t->ofile_fds[i] >= 0)
			close(t->ofile_fds[i]);
	for (size_t i = 0; t->object_fds && i < img->nobjects; i++)
		if (t->object_fds[i] >= 0)
			close(t->object_fds[i]);
	free(t->ofile_fds);
	free(t->object_fds);
	t->ofile_fds = t->object_fds = NULL;
	if (t->image_fd >= 0)
		close(t->image_fd);
	t->image_fd = -1;
	image_free(&t->img);
}

int thaw_prepare(struct thaw *t, struct ck_error *e)
{
	const struct ckpt_image *img = &t->img;
	if (check_vdso(t, e))
		return -1;
	size_t n = img->job->nmembers;
	t->members = calloc(n, sizeof *t->members);
	t->ofile_fds = malloc((img->nofiles ? img->nofiles : 1) * sizeof *t->ofile_fds);
	t->object_fds = malloc((img->nobjects ? img->nobjects : 1) * sizeof *t->object_fds);
	if (!t->members || !t->ofile_fds || !t->object_fds)
		return ck_fail(e, CK_INTERNAL, ENOMEM, "prepare", "", "out of memory");
	for (size_t i = 0; i < img->nofiles; i++)
		t->ofile_fds[i] = -1;
	for (size_t i = 0; i < img->nobjects; i++)
		t->object_fds[i] = -1;
	/* Helpers go above every fd any member had, so arranging their fds never hits one. */
	int top = 2;
	for (size_t i = 0; i < n; i++) {
		t->members[i].member = &img->members[i];
		t->members[i].image = image_process_of(img, (int)i);
		t->members[i].go[0] = t->members[i].go[1] = -1;
		const struct ckpt_process_image *p = t->members[i].image;
		for (size_t k = 0; p && k < p->nfds; k++)
			if (p->fds[k].fd > top)
				top = p->fds[k].fd;
	}
	t->helper_base = top + 1;
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	if ((t->image_fd = to_helper_range(t, t->image_fd)) < 0)
		return ck_fail(e, CK_IO, errno, "prepare", t->image_path,
			       "cannot keep the image open (fd %d needs a higher RLIMIT_NOFILE)", top);
	find_terminal(t);
	struct problems p = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (!t->members[i].image)
			continue;
		if (open_files(t, &t->members[i], &p, e))
			return -1;
		check_cwd(t->members[i].image, &p);
	}
	if (files_check(t, &p, e))
		return -1;
	return fail_with(&p, t->image_path, e);
}
