// SPDX-License-Identifier: MIT
/*
 * The entry points that take a path or a DIR: the stat family, access,
 * readlink, realpath, statfs, reading extended attributes, directory
 * listings, stdio's fopen. Each
 * resolves the path first (vfs.c); a path the tree does not serve goes
 * to the next definition untouched, with the caller's errno.
 *
 * The *_chk forms are glibc's _FORTIFY_SOURCE entry points: the buffer
 * check first (__chk_fail, as glibc), then the plain call.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <spapr_tce/vfio.h>

#include "preload_internal.h"
#include "vfs.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_DIRS 256

/* glibc's fortified and compatibility entry points, which its headers
 * declare only under _FORTIFY_SOURCE (or no longer). */
void __chk_fail(void) __attribute__((noreturn));
ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int atfd, const char *path, char *buf, size_t len,
			 size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int atfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int atfd, const char *path, struct stat64 *st,
		 int flags);
int eaccess(const char *path, int mode);

/* Fail the call with @err (errno), returning @ret. */
#define FAIL(err, ret) ({ errno = (err); ret; })

/*
 * Resolve @path relative to @atfd as the *at calls do: an absolute path
 * ignores it, a relative one is served only under a served directory
 * descriptor (ENOTDIR for a served file). False when libc should have
 * it (r->path), else r is FS_NODE or FS_ERR.
 */
static bool resolve_at(int atfd, const char *path, unsigned int flags,
		       struct fs_ref *r)
{
	vnode_t base = VNODE_NONE;

	if (path && path[0] != '/' && atfd != AT_FDCWD) {
		base = vfs_fd_node(atfd);
		if (base && vfs_node_type(base) != VT_DIR) {
			r->what = FS_ERR;
			r->err = ENOTDIR;
			return true;
		}
	}
	vfs_resolve(base, path, flags, r);
	return r->what != FS_LIBC;
}

/* ---- open ----------------------------------------------------------- */

bool fs_open(int atfd, const char *path, int flags, int *ret, struct fs_ref *r)
{
	int saved = errno, fd;
	char canon[PATH_MAX];

	if (!resolve_at(atfd, path, flags & O_NOFOLLOW ? FS_NOFOLLOW : 0, r))
		return false;
	if (r->what == FS_ERR) {
		fd = -(r->err == ENOENT && r->missing_last && (flags & O_CREAT) ?
		       EACCES : r->err);
	} else if (vfs_node_type(r->node) == VT_CHR) {
		vfs_node_path(r->t, r->node, canon, sizeof(canon));
		fd = flags & O_DIRECTORY ? -ENOTDIR :
		     (flags & O_CREAT) && (flags & O_EXCL) ? -EEXIST :
		     preload_host_open(canon, flags);
		if (fd == -1)
			fd = -errno;
		if (fd >= 0)
			vfs_fd_set(fd, r->node);
	} else {
		fd = vfs_open_node(r->t, r->node, flags);
	}
	*ret = fd < 0 ? -1 : fd;
	errno = fd < 0 ? -fd : saved;
	trace_open(path, flags, *ret, fd < 0 ? -fd : 0);
	return true;
}

/* ---- The stat family ------------------------------------------------ */

/* fstat(2) of a served or host descriptor; false for others. */
static bool fd_stat(int fd, struct stat *st)
{
	vnode_t n = vfs_fd_node(fd);
	const struct vtree *t;

	if (!n)
		return false;
	t = vfs_tree();
	if (!t)
		return false;
	vfs_node_stat(t, n, st);
	return true;
}

/* fstatat(2): false when libc should answer (r->path); else *ret. */
static bool stat_at(int atfd, const char *path, struct stat *st, int flags,
		    int *ret, struct fs_ref *r)
{
	int saved = errno;

	r->path = path;
	if ((flags & AT_EMPTY_PATH) && path && !*path) {
		if (!fd_stat(atfd, st))
			return false;
		*ret = 0;
		return true;
	}
	if (!resolve_at(atfd, path, flags & AT_SYMLINK_NOFOLLOW ? FS_NOFOLLOW : 0, r))
		return false;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) {
		*ret = FAIL(EINVAL, -1);
		return true;
	}
	if (r->what == FS_ERR) {
		*ret = FAIL(r->err, -1);
		return true;
	}
	vfs_node_stat(r->t, r->node, st);
	errno = saved;
	*ret = 0;
	return true;
}

#define DEFINE_STAT(fn, type, nofollow)					\
EXPORT int fn(const char *path, type *st)				\
{									\
	struct fs_ref r;						\
	int ret;							\
									\
	if (stat_at(AT_FDCWD, path, (struct stat *)st,			\
		    nofollow ? AT_SYMLINK_NOFOLLOW : 0, &ret, &r))	\
		return ret;						\
	return REAL(fn)(r.path, st);					\
}
DEFINE_STAT(stat, struct stat, false)
DEFINE_STAT(stat64, struct stat64, false)
DEFINE_STAT(lstat, struct stat, true)
DEFINE_STAT(lstat64, struct stat64, true)

#define DEFINE_FSTATAT(fn, type)					\
EXPORT int fn(int atfd, const char *path, type *st, int flags)		\
{									\
	struct fs_ref r;						\
	int ret;							\
									\
	if (stat_at(atfd, path, (struct stat *)st, flags, &ret, &r))	\
		return ret;						\
	return REAL(fn)(atfd, r.path, st, flags);			\
}
DEFINE_FSTATAT(fstatat, struct stat)
DEFINE_FSTATAT(fstatat64, struct stat64)

#define DEFINE_FSTAT(fn, type)						\
EXPORT int fn(int fd, type *st)						\
{									\
	uint64_t gen = preload_fd_generation();				\
	int saved = errno;						\
									\
	if (fd_stat(fd, (struct stat *)st)) {				\
		errno = saved;						\
		return 0;						\
	}								\
	if (REAL(fn)(fd, st))						\
		return -1;						\
	/* Maybe a host descriptor (an O_PATH of "/") made at this	\
	 * number since fd_stat() asked. */				\
	if (S_ISDIR(st->st_mode))					\
		switch (preload_fd_recheck(fd, gen)) {			\
		case 1:	/* ours (unless closed again: EBADF) */	\
			if (!fd_stat(fd, (struct stat *)st))		\
				return FAIL(EBADF, -1);			\
			errno = saved;					\
			break;						\
		case -1:						\
			return FAIL(EBADF, -1);				\
		}							\
	return 0;							\
}
DEFINE_FSTAT(fstat, struct stat)
DEFINE_FSTAT(fstat64, struct stat64)

/* Binaries built against glibc before 2.33 call these (the version
 * argument is 1 on x86_64, whose struct stat is the kernel's). */
EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	return stat(path, st);
}

EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	return stat64(path, st);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	return lstat(path, st);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	return lstat64(path, st);
}

EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	return fstat(fd, st);
}

EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	return fstat64(fd, st);
}

EXPORT int __fxstatat(int ver, int atfd, const char *path, struct stat *st,
		      int flags)
{
	return fstatat(atfd, path, st, flags);
}

EXPORT int __fxstatat64(int ver, int atfd, const char *path,
			struct stat64 *st, int flags)
{
	return fstatat64(atfd, path, st, flags);
}

static void to_statx(const struct stat *st, unsigned int fs, struct statx *x)
{
	memset(x, 0, sizeof(*x));
	/* The basic fields and the mount id; tmpfs adds the birth time. */
	x->stx_mask = STATX_BASIC_STATS | 0x1000 | (fs == VFS_DEVTMPFS ? STATX_BTIME : 0);
	x->stx_blksize = (uint32_t)st->st_blksize;
	x->stx_attributes_mask = 0x203000;	/* automount, mount root, dax */
	x->stx_nlink = (uint32_t)st->st_nlink;
	x->stx_uid = st->st_uid;
	x->stx_gid = st->st_gid;
	x->stx_mode = (uint16_t)st->st_mode;
	x->stx_ino = st->st_ino;
	x->stx_size = (uint64_t)st->st_size;
	x->stx_blocks = (uint64_t)st->st_blocks;
	x->stx_atime.tv_sec = st->st_atim.tv_sec;
	x->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
	x->stx_btime = x->stx_ctime = x->stx_mtime = x->stx_atime;
	x->stx_rdev_major = major(st->st_rdev);
	x->stx_rdev_minor = minor(st->st_rdev);
	x->stx_dev_major = major(st->st_dev);
	x->stx_dev_minor = minor(st->st_dev);
}

EXPORT int statx(int atfd, const char *path, int flags, unsigned int mask,
		 struct statx *x)
{
	struct stat st;
	struct fs_ref r;
	int ret;

	if (!stat_at(atfd, path, &st, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH),
		     &ret, &r))
		return REAL(statx)(atfd, r.path, flags, mask, x);
	if (!ret)
		to_statx(&st, major(st.st_dev) == 0 && minor(st.st_dev) == 6 ?
			 VFS_DEVTMPFS : VFS_SYSFS, x);
	return ret;
}

/* ---- statfs --------------------------------------------------------- */

static bool fd_statfs(int fd, struct statfs *sf)
{
	vnode_t n = vfs_fd_node(fd);
	const struct vtree *t = n ? vfs_tree() : NULL;

	if (!t)
		return false;
	vfs_node_statfs(t, n, sf);
	return true;
}

/* statfs(2) of a path: false for libc's (r->path), else *ret. */
static bool path_statfs(const char *path, struct statfs *sf, int *ret,
			struct fs_ref *r)
{
	int saved = errno;

	if (!resolve_at(AT_FDCWD, path, 0, r))
		return false;
	if (r->what == FS_ERR) {
		*ret = FAIL(r->err, -1);
		return true;
	}
	vfs_node_statfs(r->t, r->node, sf);
	errno = saved;
	*ret = 0;
	return true;
}

static void to_statvfs(const struct statfs *sf, struct statvfs *v)
{
	memset(v, 0, sizeof(*v));
	v->f_bsize = (unsigned long)sf->f_bsize;
	v->f_frsize = (unsigned long)sf->f_frsize;
	v->f_namemax = (unsigned long)sf->f_namelen;
	v->f_flag = (unsigned long)sf->f_flags & ~0x20ul;	/* not ST_VALID */
}

#define DEFINE_STATFS(fn, type)						\
EXPORT int fn(const char *path, type *sf)				\
{									\
	struct fs_ref r;						\
	int ret;							\
									\
	if (path_statfs(path, (struct statfs *)sf, &ret, &r))		\
		return ret;						\
	return REAL(fn)(r.path, sf);					\
}
DEFINE_STATFS(statfs, struct statfs)
DEFINE_STATFS(statfs64, struct statfs64)

#define DEFINE_FSTATFS(fn, type)					\
EXPORT int fn(int fd, type *sf)						\
{									\
	int saved = errno;						\
									\
	if (fd_statfs(fd, (struct statfs *)sf)) {			\
		errno = saved;						\
		return 0;						\
	}								\
	return REAL(fn)(fd, sf);					\
}
DEFINE_FSTATFS(fstatfs, struct statfs)
DEFINE_FSTATFS(fstatfs64, struct statfs64)

#define DEFINE_STATVFS(fn, type)					\
EXPORT int fn(const char *path, type *v)				\
{									\
	struct statfs sf;						\
	struct fs_ref r;						\
	int ret;							\
									\
	if (!path_statfs(path, &sf, &ret, &r))				\
		return REAL(fn)(r.path, v);				\
	if (!ret)							\
		to_statvfs(&sf, (struct statvfs *)v);			\
	return ret;							\
}
DEFINE_STATVFS(statvfs, struct statvfs)
DEFINE_STATVFS(statvfs64, struct statvfs64)

#define DEFINE_FSTATVFS(fn, type)					\
EXPORT int fn(int fd, type *v)						\
{									\
	struct statfs sf;						\
	int saved = errno;						\
									\
	if (!fd_statfs(fd, &sf))					\
		return REAL(fn)(fd, v);					\
	to_statvfs(&sf, (struct statvfs *)v);				\
	errno = saved;							\
	return 0;							\
}
DEFINE_FSTATVFS(fstatvfs, struct statvfs)
DEFINE_FSTATVFS(fstatvfs64, struct statvfs64)

/* ---- access --------------------------------------------------------- */

/* faccessat(2) of a served path: false for libc's. */
static bool access_at(int atfd, const char *path, int mode, int flags,
		      int *ret, struct fs_ref *r)
{
	int saved = errno, err;

	if (!resolve_at(atfd, path, flags & AT_SYMLINK_NOFOLLOW ? FS_NOFOLLOW : 0, r))
		return false;
	if ((mode & ~(R_OK | W_OK | X_OK)) ||
	    (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)))
		err = EINVAL;
	else if (r->what == FS_ERR)
		err = r->err;
	else
		err = mode ? -vfs_permission(r->node, mode, flags & AT_EACCESS) : 0;
	*ret = err ? FAIL(err, -1) : 0;
	if (!err)
		errno = saved;
	return true;
}

EXPORT int access(const char *path, int mode)
{
	struct fs_ref r;
	int ret;

	if (access_at(AT_FDCWD, path, mode, 0, &ret, &r))
		return ret;
	return REAL(access)(r.path, mode);
}

EXPORT int faccessat(int atfd, const char *path, int mode, int flags)
{
	struct fs_ref r;
	int ret;

	if (access_at(atfd, path, mode, flags, &ret, &r))
		return ret;
	return REAL(faccessat)(atfd, r.path, mode, flags);
}

EXPORT int euidaccess(const char *path, int mode)
{
	struct fs_ref r;
	int ret;

	if (access_at(AT_FDCWD, path, mode, AT_EACCESS, &ret, &r))
		return ret;
	return REAL(euidaccess)(r.path, mode);
}

EXPORT int eaccess(const char *path, int mode)
{
	return euidaccess(path, mode);
}

/* ---- readlink, realpath --------------------------------------------- */

/* readlinkat(2) of a served path: false for libc's, else *ret. */
static bool readlink_at(int atfd, const char *path, char *buf, size_t len,
			ssize_t *ret, struct fs_ref *r)
{
	char text[PATH_MAX];
	size_t n;
	int saved = errno;

	if (!resolve_at(atfd, path, FS_NOFOLLOW, r))
		return false;
	if (r->what == FS_ERR) {
		*ret = FAIL(r->err, -1);
		return true;
	}
	if (vfs_node_type(r->node) != VT_LINK || !len) {
		*ret = FAIL(EINVAL, -1);
		return true;
	}
	n = vfs_link_text(r->t, r->node, text, sizeof(text));
	if (n > len)
		n = len;
	memcpy(buf, text, n);
	errno = saved;
	*ret = (ssize_t)n;
	return true;
}

EXPORT ssize_t readlink(const char *path, char *buf, size_t len)
{
	struct fs_ref r;
	ssize_t ret;

	if (readlink_at(AT_FDCWD, path, buf, len, &ret, &r))
		return ret;
	return REAL(readlink)(r.path, buf, len);
}

EXPORT ssize_t readlinkat(int atfd, const char *path, char *buf, size_t len)
{
	struct fs_ref r;
	ssize_t ret;

	if (readlink_at(atfd, path, buf, len, &ret, &r))
		return ret;
	return REAL(readlinkat)(atfd, r.path, buf, len);
}

EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t len,
			      size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return readlink(path, buf, len);
}

EXPORT ssize_t __readlinkat_chk(int atfd, const char *path, char *buf,
				size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return readlinkat(atfd, path, buf, len);
}

/* realpath(3) of a served path: false for libc's, else *ret. */
static bool realpath_served(const char *path, char *resolved, char **ret,
			    struct fs_ref *r)
{
	char canon[PATH_MAX];
	int saved = errno;

	if (!resolve_at(AT_FDCWD, path, 0, r))
		return false;
	if (r->what == FS_ERR) {
		*ret = FAIL(r->err, NULL);
		return true;
	}
	vfs_node_path(r->t, r->node, canon, sizeof(canon));
	*ret = resolved ? strcpy(resolved, canon) : strdup(canon);
	if (*ret)
		errno = saved;
	return true;
}

EXPORT char *realpath(const char *path, char *resolved)
{
	struct fs_ref r;
	char *ret;

	if (realpath_served(path, resolved, &ret, &r))
		return ret;
	return REAL(realpath)(r.path, resolved);
}

EXPORT char *__realpath_chk(const char *path, char *resolved,
			    size_t resolvedlen)
{
	struct fs_ref r;
	char *ret;

	if (resolvedlen < PATH_MAX)
		__chk_fail();
	if (realpath_served(path, resolved, &ret, &r))
		return ret;
	return REAL(__realpath_chk)(r.path, resolved, resolvedlen);
}

EXPORT char *canonicalize_file_name(const char *path)
{
	struct fs_ref r;
	char *ret;

	if (realpath_served(path, NULL, &ret, &r))
		return ret;
	return REAL(canonicalize_file_name)(r.path);
}

/* ---- Extended attributes (reading them) ----------------------------- */

/*
 * sysfs and tmpfs keep extended attributes, and a served file has none:
 * getxattr is ENODATA, listxattr an empty list (what ls -l and
 * libselinux ask). Setting one is the host's (a metadata change).
 */
static bool xattr_at(int fd, const char *path, bool nofollow, bool list,
		     ssize_t *ret, struct fs_ref *r)
{
	int saved = errno;

	r->path = path;
	if (!path) {
		if (!vfs_fd_node(fd))
			return false;
	} else if (!resolve_at(AT_FDCWD, path, nofollow ? FS_NOFOLLOW : 0, r)) {
		return false;
	}
	if (path && r->what == FS_ERR) {
		*ret = FAIL(r->err, -1);
		return true;
	}
	if (!list) {
		*ret = FAIL(ENODATA, -1);
		return true;
	}
	errno = saved;
	*ret = 0;
	return true;
}

#define DEFINE_GETXATTR(fn, nofollow)					\
EXPORT ssize_t fn(const char *path, const char *name, void *value,	\
		  size_t size)						\
{									\
	struct fs_ref r;						\
	ssize_t ret;							\
									\
	if (xattr_at(-1, path, nofollow, false, &ret, &r))		\
		return ret;						\
	return REAL(fn)(r.path, name, value, size);			\
}
DEFINE_GETXATTR(getxattr, false)
DEFINE_GETXATTR(lgetxattr, true)

#define DEFINE_LISTXATTR(fn, nofollow)					\
EXPORT ssize_t fn(const char *path, char *list, size_t size)		\
{									\
	struct fs_ref r;						\
	ssize_t ret;							\
									\
	if (xattr_at(-1, path, nofollow, true, &ret, &r))		\
		return ret;						\
	return REAL(fn)(r.path, list, size);				\
}
DEFINE_LISTXATTR(listxattr, false)
DEFINE_LISTXATTR(llistxattr, true)

EXPORT ssize_t fgetxattr(int fd, const char *name, void *value, size_t size)
{
	struct fs_ref r;
	ssize_t ret;

	if (xattr_at(fd, NULL, false, false, &ret, &r))
		return ret;
	return REAL(fgetxattr)(fd, name, value, size);
}

EXPORT ssize_t flistxattr(int fd, char *list, size_t size)
{
	struct fs_ref r;
	ssize_t ret;

	if (xattr_at(fd, NULL, false, true, &ret, &r))
		return ret;
	return REAL(flistxattr)(fd, list, size);
}

/* ---- Directories ---------------------------------------------------- */

/* A served DIR stream: its descriptor (a served directory) and where it
 * is in the listing. readdir fills @ent. */
struct vdir {
	int fd;
	vnode_t node;
	unsigned long cursor;
	struct dirent64 ent;
};

static struct vdir *_Atomic dirs[MAX_DIRS];
static _Atomic unsigned int nr_dirs;

/* Is @d one of ours? One atomic load while none is open. */
static struct vdir *vdir_of(void *d)
{
	if (!d || !atomic_load_explicit(&nr_dirs, memory_order_acquire))
		return NULL;
	for (unsigned int i = 0; i < MAX_DIRS; i++)
		if (atomic_load_explicit(&dirs[i], memory_order_acquire) == d)
			return d;
	return NULL;
}

/* A stream on served directory descriptor @fd (which it then owns). */
static DIR *vdir_new(int fd, vnode_t node)
{
	struct vdir *d = calloc(1, sizeof(*d)), *none;

	if (!d)
		return FAIL(ENOMEM, NULL);
	d->fd = fd;
	d->node = node;
	atomic_fetch_add(&nr_dirs, 1);
	for (unsigned int i = 0; i < MAX_DIRS; i++) {
		none = NULL;
		if (atomic_compare_exchange_strong(&dirs[i], &none, d))
			return (DIR *)d;
	}
	atomic_fetch_sub(&nr_dirs, 1);
	free(d);
	return FAIL(EMFILE, NULL);
}

static void vdir_free(struct vdir *d)
{
	struct vdir *self;

	for (unsigned int i = 0; i < MAX_DIRS; i++) {
		self = d;
		if (atomic_compare_exchange_strong(&dirs[i], &self, NULL))
			break;
	}
	atomic_fetch_sub(&nr_dirs, 1);
	free(d);
}

/* opendir(3) of a served path: false for libc's, else *ret. */
static bool opendir_at(int atfd, const char *path, DIR **ret, struct fs_ref *r)
{
	int saved = errno, fd;

	if (!resolve_at(atfd, path, 0, r))
		return false;
	if (r->what == FS_ERR) {
		*ret = FAIL(r->err, NULL);
		return true;
	}
	fd = vfs_open_node(r->t, r->node, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		*ret = FAIL(-fd, NULL);
		return true;
	}
	*ret = vdir_new(fd, r->node);
	if (!*ret) {
		saved = errno;
		close(fd);
	}
	errno = saved;
	return true;
}

EXPORT DIR *opendir(const char *path)
{
	struct fs_ref r;
	DIR *ret;

	if (opendir_at(AT_FDCWD, path, &ret, &r))
		return ret;
	return REAL(opendir)(r.path);
}

EXPORT DIR *fdopendir(int fd)
{
	vnode_t n = vfs_fd_node(fd);

	if (!n)
		return REAL(fdopendir)(fd);
	if (vfs_node_type(n) != VT_DIR)
		return FAIL(ENOTDIR, NULL);
	return vdir_new(fd, n);
}

/* The next entry of @d into its dirent; NULL at the end (errno kept). */
static struct dirent64 *vdir_read(struct vdir *d)
{
	const struct vtree *t = vfs_tree();
	struct dirent64 *e = &d->ent;
	unsigned char type;
	ino_t ino;

	if (!t || !vfs_dir_read(t, d->node, d->cursor, e->d_name,
				sizeof(e->d_name), &ino, &type))
		return NULL;
	e->d_ino = ino;
	e->d_off = (off64_t)++d->cursor;
	e->d_reclen = sizeof(*e);
	e->d_type = type;
	return e;
}

/* One layout for dirent and dirent64 on 64-bit glibc. */
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64),
	       "dirent and dirent64 differ");

EXPORT struct dirent *readdir(DIR *dir)
{
	struct vdir *d = vdir_of(dir);

	return d ? (struct dirent *)vdir_read(d) : REAL(readdir)(dir);
}

EXPORT struct dirent64 *readdir64(DIR *dir)
{
	struct vdir *d = vdir_of(dir);

	return d ? vdir_read(d) : REAL(readdir64)(dir);
}

static int vdir_read_r(struct vdir *d, struct dirent64 *entry,
		       struct dirent64 **result)
{
	struct dirent64 *e = vdir_read(d);

	if (e)
		memcpy(entry, e, sizeof(*e));
	*result = e ? entry : NULL;
	return 0;
}

/* readdir_r is deprecated, but programs still call it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
EXPORT int readdir_r(DIR *dir, struct dirent *entry, struct dirent **result)
{
	struct vdir *d = vdir_of(dir);

	if (!d)
		return REAL(readdir_r)(dir, entry, result);
	return vdir_read_r(d, (struct dirent64 *)entry, (struct dirent64 **)result);
}

EXPORT int readdir64_r(DIR *dir, struct dirent64 *entry,
		       struct dirent64 **result)
{
	struct vdir *d = vdir_of(dir);

	if (!d)
		return REAL(readdir64_r)(dir, entry, result);
	return vdir_read_r(d, entry, result);
}
#pragma GCC diagnostic pop

EXPORT void rewinddir(DIR *dir)
{
	struct vdir *d = vdir_of(dir);

	if (d)
		d->cursor = 0;
	else
		REAL(rewinddir)(dir);
}

EXPORT void seekdir(DIR *dir, long loc)
{
	struct vdir *d = vdir_of(dir);

	if (d)
		d->cursor = (unsigned long)loc;
	else
		REAL(seekdir)(dir, loc);
}

EXPORT long telldir(DIR *dir)
{
	struct vdir *d = vdir_of(dir);

	return d ? (long)d->cursor : REAL(telldir)(dir);
}

EXPORT int dirfd(DIR *dir)
{
	struct vdir *d = vdir_of(dir);

	return d ? d->fd : REAL(dirfd)(dir);
}

EXPORT int closedir(DIR *dir)
{
	struct vdir *d = vdir_of(dir);
	int fd;

	if (!d)
		return REAL(closedir)(dir);
	fd = d->fd;
	vdir_free(d);
	return close(fd);
}

/* scandir(3) over a served stream: every entry @filter keeps, each in
 * its own allocation as glibc makes them, sorted by @compar. */
static int vdir_scan(DIR *dir, struct dirent64 ***list,
		     int (*filter)(const struct dirent64 *),
		     int (*compar)(const struct dirent64 **,
				   const struct dirent64 **))
{
	struct dirent64 **v = NULL, **grown, *e, *copy;
	size_t n = 0, cap = 0;

	while ((e = vdir_read((struct vdir *)dir))) {
		if (filter && !filter(e))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown)
				goto nomem;
			v = grown;
		}
		copy = malloc(sizeof(*copy));
		if (!copy)
			goto nomem;
		memcpy(copy, e, sizeof(*copy));
		v[n++] = copy;
	}
	if (compar && n)
		qsort(v, n, sizeof(*v),
		      (int (*)(const void *, const void *))compar);
	closedir(dir);
	*list = v;
	return (int)n;
nomem:
	while (n)
		free(v[--n]);
	free(v);
	closedir(dir);
	return FAIL(ENOMEM, -1);
}

/* scandirat of a served directory: false for libc's, else *ret. */
static bool scan_at(int atfd, const char *path, struct dirent64 ***list,
		    int (*filter)(const struct dirent64 *),
		    int (*compar)(const struct dirent64 **,
				  const struct dirent64 **),
		    int *ret, struct fs_ref *r)
{
	DIR *d;

	if (!opendir_at(atfd, path, &d, r))
		return false;
	*ret = d ? vdir_scan(d, list, filter, compar) : -1;
	return true;
}

#define DEFINE_SCANDIR(fn, ent)						\
EXPORT int fn(const char *path, struct ent ***list,			\
	      int (*filter)(const struct ent *),			\
	      int (*compar)(const struct ent **, const struct ent **))	\
{									\
	struct fs_ref r;						\
	int ret;							\
									\
	if (scan_at(AT_FDCWD, path, (struct dirent64 ***)list,		\
		    (int (*)(const struct dirent64 *))filter,		\
		    (int (*)(const struct dirent64 **,			\
			     const struct dirent64 **))compar, &ret, &r)) \
		return ret;						\
	return REAL(fn)(r.path, list, filter, compar);			\
}
DEFINE_SCANDIR(scandir, dirent)
DEFINE_SCANDIR(scandir64, dirent64)

#define DEFINE_SCANDIRAT(fn, ent)					\
EXPORT int fn(int atfd, const char *path, struct ent ***list,		\
	      int (*filter)(const struct ent *),			\
	      int (*compar)(const struct ent **, const struct ent **))	\
{									\
	struct fs_ref r;						\
	int ret;							\
									\
	if (scan_at(atfd, path, (struct dirent64 ***)list,		\
		    (int (*)(const struct dirent64 *))filter,		\
		    (int (*)(const struct dirent64 **,			\
			     const struct dirent64 **))compar, &ret, &r)) \
		return ret;						\
	return REAL(fn)(atfd, r.path, list, filter, compar);		\
}
DEFINE_SCANDIRAT(scandirat, dirent)
DEFINE_SCANDIRAT(scandirat64, dirent64)

/* getdents64(2) on a served directory descriptor: the listing from the
 * descriptor's file position (the cursor), which it then advances. */
EXPORT ssize_t getdents64(int fd, void *buf, size_t len)
{
	const struct vtree *t;
	vnode_t n = vfs_fd_node(fd);
	char name[NAME_MAX + 1];
	size_t done = 0, rec;
	unsigned char type;
	off_t cursor;
	ino_t ino;
	int saved = errno;

	if (!n)
		return REAL(getdents64)(fd, buf, len);
	if (vfs_node_type(n) != VT_DIR)
		return FAIL(ENOTDIR, -1);
	t = vfs_tree();
	cursor = REAL(lseek)(fd, 0, SEEK_CUR);
	while (t && cursor >= 0 &&
	       vfs_dir_read(t, n, (unsigned long)cursor, name, sizeof(name),
			    &ino, &type)) {
		struct dirent64 *e = (struct dirent64 *)((char *)buf + done);

		rec = (offsetof(struct dirent64, d_name) + strlen(name) + 1 + 7) & ~7ul;
		if (done + rec > len)
			break;
		e->d_ino = ino;
		e->d_off = ++cursor;
		e->d_reclen = (unsigned short)rec;
		e->d_type = type;
		memcpy(e->d_name, name, strlen(name) + 1);
		done += rec;
	}
	if (!done && t && cursor >= 0 &&
	    vfs_dir_read(t, n, (unsigned long)cursor, name, sizeof(name), &ino, &type))
		return FAIL(EINVAL, -1);	/* no room for one entry */
	REAL(lseek)(fd, cursor, SEEK_SET);
	errno = saved;
	return (ssize_t)done;
}

/* ---- stdio ---------------------------------------------------------- */

/* fopen's mode as open(2) flags; -1 for a mode glibc refuses. */
static int mode_flags(const char *mode)
{
	int flags;

	switch (mode ? mode[0] : 0) {
	case 'r': flags = O_RDONLY; break;
	case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
	case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
	default: return -1;
	}
	for (const char *m = mode + 1; *m && *m != ','; m++) {
		if (*m == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'e')
			flags |= O_CLOEXEC;
		else if (*m == 'x')
			flags |= O_EXCL;
	}
	return flags;
}

static bool is_own_status(const char *path)
{
	char mine[64];

	if (!path)
		return false;
	if (!strcmp(path, "/proc/self/status") ||
	    !strcmp(path, "/proc/thread-self/../status"))
		return true;
	snprintf(mine, sizeof(mine), "/proc/%d/status", (int)getpid());
	return !strcmp(path, mine);
}

/*
 * fopen(3) of a served path: a stream on the served descriptor (glibc's
 * fopen opens with an internal call we would not see). False for libc's.
 */
static bool fopen_served(const char *path, const char *mode, FILE **ret,
			 struct fs_ref *r)
{
	int flags = mode_flags(mode), fd, err;

	r->path = path;
	if (flags < 0 || !fs_open(AT_FDCWD, path, flags, &fd, r))
		return false;
	if (fd < 0) {
		*ret = NULL;
		return true;
	}
	*ret = fdopen(fd, mode);
	/* glibc checks the mode against F_GETFL, which it asks the kernel
	 * itself: a host descriptor's O_PATH one reads as O_RDONLY. */
	if (!*ret && errno == EINVAL && preload_fd_tag(fd))
		*ret = fdopen(fd, "r");
	if (!*ret) {
		err = errno;
		close(fd);
		errno = err;
	}
	return true;
}

#define DEFINE_FOPEN(fn)						\
EXPORT FILE *fn(const char *path, const char *mode)			\
{									\
	struct fs_ref r;						\
	FILE *ret;							\
									\
	if (is_own_status(path) && mode && mode[0] == 'r' &&		\
	    !strchr(mode, '+'))						\
		return stce_proc_status_open();				\
	if (fopen_served(path, mode, &ret, &r))				\
		return ret;						\
	return REAL(fn)(r.path, mode);					\
}
DEFINE_FOPEN(fopen)
DEFINE_FOPEN(fopen64)

/* freopen(3): the stream reopens our descriptor through /proc (glibc
 * opens the new file itself, keeping the FILE object). */
#define DEFINE_FREOPEN(fn)						\
EXPORT FILE *fn(const char *path, const char *mode, FILE *stream)	\
{									\
	char proc[32];							\
	struct fs_ref r = { .path = path };				\
	FILE *ret;							\
	int fd, flags = mode_flags(mode), err;				\
									\
	if (!path || flags < 0 || !fs_open(AT_FDCWD, path, flags, &fd, &r)) \
		return REAL(fn)(r.path, mode, stream);			\
	if (fd < 0) {							\
		err = errno;						\
		fclose(stream);						\
		return FAIL(err, NULL);					\
	}								\
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);		\
	ret = REAL(fn)(proc, mode, stream);				\
	err = errno;							\
	close(fd);							\
	errno = err;							\
	return ret;							\
}
DEFINE_FREOPEN(freopen)
DEFINE_FREOPEN(freopen64)
