/* Before anything starts: is this kernel's vdso the image's, and is every file the image needs unchanged? */
#include "fnv.h"
#include "procfs.h"
#include "thawer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

static int own_vdso(struct vdso_layout *own, struct thaw_error *e)
{
	struct procfs_maps maps;
	int err = procfs_maps_read(getpid(), &maps);
	if (err)
		return thaw_fail(e, THAW_INTERNAL, -err, "prepare", "", "cannot read /proc/self/maps");
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
static int check_vdso(struct thaw *t, struct thaw_error *e)
{
	struct vdso_layout own;
	if (own_vdso(&own, e))
		return -1;
	memset(&t->image_vdso, 0, sizeof t->image_vdso);
	for (size_t i = 0; i < t->img.nvmas; i++) {
		const struct ckpt_vma *v = &t->img.vmas[i];
		if (v->kind == CKPT_VMA_VDSO || v->kind == CKPT_VMA_VVAR || v->kind == CKPT_VMA_VVAR_VCLOCK) {
			t->image_vdso.start[VDSO_SLOT(v->kind)] = v->start;
			t->image_vdso.size[VDSO_SLOT(v->kind)] = v->end - v->start;
		}
	}
	const struct ckpt_process *p = t->img.process;
	const uint8_t *code = (const uint8_t *)(uintptr_t)own.start[0];
	if (!own.size[0] || !t->image_vdso.size[0])
		return thaw_fail(e, THAW_UNSUPPORTED, 0, "compat", "", "no vdso %s", own.size[0] ? "in the image" : "in this process");
	if (p->vdso_size != own.size[0] || fnv1a64(code, own.size[0]) != p->vdso_hash)
		return thaw_fail(e, THAW_UNSUPPORTED, 0, "compat", "",
				 "the image was made on another kernel (its vdso differs from this kernel's)");
	for (int k = 0; k < 3; k++) {
		bool same = own.size[k] == t->image_vdso.size[k] &&
			    own.start[k] - own.start[0] == t->image_vdso.start[k] - t->image_vdso.start[0];
		if (!same)
			return thaw_fail(e, THAW_UNSUPPORTED, 0, "compat", "",
					 "the image was made on another kernel (%s is laid out differently)", vdso_names[k]);
	}
	const uint8_t *insn = memmem(code, own.size[0], "\x0f\x05", 2);
	if (!insn)
		return thaw_fail(e, THAW_UNSUPPORTED, 0, "compat", "", "this kernel's vdso holds no syscall instruction");
	t->syscall_offset = (uint64_t)(insn - code);
	return 0;
}

static bool same_identity(const struct stat *st, const struct ckpt_file *f)
{
	return st->st_dev == f->dev && st->st_ino == f->ino && (uint64_t)st->st_size == f->size &&
	       st->st_mtim.tv_sec == f->mtime_sec && st->st_mtim.tv_nsec == f->mtime_nsec &&
	       st->st_ctim.tv_sec == f->ctime_sec && st->st_ctim.tv_nsec == f->ctime_nsec;
}

/* fd moved into the helper range (close-on-exec here; the child clears the flag where needed). */
static int to_helper_range(struct thaw *t, int fd)
{
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, t->helper_base);
	int err = errno;
	close(fd);
	errno = err;
	return moved;
}

static enum thaw_class class_of_open_errno(int err)
{
	return err == ENOENT || err == ENOTDIR ? THAW_CHANGED : err == EACCES || err == EPERM ? THAW_PERMISSION : THAW_IO;
}

/*
 * Open the executable and every mapped file now, in this process, and check
 * each is the file the image saw: the child maps exactly these open files, so
 * nothing can be swapped in between the check and the use.
 */
static int open_files(struct thaw *t, struct thaw_error *e)
{
	const struct ckpt_image *img = &t->img;
	t->file_fds = malloc(img->nfiles * sizeof *t->file_fds);
	uint8_t *need = calloc(img->nfiles, 1); /* 1 read, 2 read and write */
	if (!t->file_fds || !need) {
		free(need);
		return thaw_fail(e, THAW_INTERNAL, ENOMEM, "prepare", "", "out of memory");
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
	for (size_t i = 0; i < img->nfiles; i++)
		t->file_fds[i] = -1;
	for (size_t i = 0; i < img->nfiles && !ret; i++) {
		if (!need[i])
			continue;
		const struct ckpt_file *f = &img->files[i];
		const char *path = image_string(img, f->path);
		const char *what = i == 0 ? "the executable" : "the mapped file";
		int fd = open(path, (need[i] == 2 ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		struct stat st;
		if (fd < 0) {
			ret = thaw_fail(e, class_of_open_errno(errno), errno, "files", path, "cannot open %s %s", what, path);
		} else if (fstat(fd, &st) < 0) {
			ret = thaw_fail(e, THAW_IO, errno, "files", path, "cannot inspect %s %s", what, path);
			close(fd);
		} else if (!same_identity(&st, f)) {
			ret = thaw_fail(e, THAW_CHANGED, 0, "files", path, "%s %s changed since the freeze", what, path);
			close(fd);
		} else if ((t->file_fds[i] = to_helper_range(t, fd)) < 0) {
			ret = thaw_fail(e, THAW_IO, errno, "files", path, "cannot keep %s open", path);
		}
	}
	free(need);
	return ret;
}

static int find_terminal(struct thaw *t, struct thaw_error *e)
{
	t->term_fd = -1;
	t->term_helper_fd = -1;
	for (int fd = 0; fd <= 2 && t->term_fd < 0; fd++)
		if (isatty(fd))
			t->term_fd = fd;
	/* Terminal fds 0-2 are inherited as they are; higher ones become copies of our terminal. */
	for (size_t i = 0; i < t->img.nfds; i++) {
		const struct ckpt_fd *f = &t->img.fds[i];
		if (f->kind != CKPT_FD_TTY || f->fd <= 2 || t->term_helper_fd >= 0)
			continue;
		if (t->term_fd < 0)
			return thaw_fail(e, THAW_UNSUPPORTED, 0, "terminal", image_string(&t->img, f->path),
					 "the program had a terminal open as fd %d: thaw it from a terminal", f->fd);
		t->term_helper_fd = fcntl(t->term_fd, F_DUPFD_CLOEXEC, t->helper_base);
		if (t->term_helper_fd < 0)
			return thaw_fail(e, THAW_IO, errno, "terminal", "", "cannot duplicate the terminal");
	}
	return 0;
}

int thaw_prepare(struct thaw *t, struct thaw_error *e)
{
	if (check_vdso(t, e))
		return -1;
	/* Helpers go above every fd the program had, so arranging its fds never hits one. */
	int top = 2;
	for (size_t i = 0; i < t->img.nfds; i++)
		if (t->img.fds[i].fd > top)
			top = t->img.fds[i].fd;
	t->helper_base = top + 1;
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	if ((t->image_fd = to_helper_range(t, t->image_fd)) < 0)
		return thaw_fail(e, THAW_IO, errno, "prepare", t->image_path,
				 "cannot keep the image open (fd %d needs a higher RLIMIT_NOFILE)", top);
	if (open_files(t, e))
		return -1;
	return find_terminal(t, e);
}
