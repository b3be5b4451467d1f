// SPDX-License-Identifier: MIT
/*
 * Serving the tree sysfs.c describes, as the kernel's sysfs and devtmpfs
 * answer (tests/preload/sysfs-kernel.txt has what Linux 6.12 showed):
 *
 * - Paths are walked a component at a time: the real part lexically
 *   until a root of the tree, then through the tree's nodes, following
 *   its links where the kernel would (".." after a link climbs from the
 *   link's target, as on the kernel).
 * - A file opens as a memfd holding the content as of the open (sysfs
 *   makes it at the first read), reopened with the caller's access mode,
 *   so read, pread, fread and lseek work natively and a write on a
 *   read-only descriptor is the kernel's EBADF. A directory opens as an
 *   empty memfd. A table indexed by descriptor remembers which node each
 *   one is (with the memfd's inode, so that a descriptor libc closed
 *   behind our back - fclose of an fdopen - is recognised as stale).
 * - Listings are made on the fly from a cursor (no allocation after
 *   opendir), so readdir, telldir/seekdir and getdents64 share one
 *   notion of position.
 *
 * Nothing here is on a hot path; nothing here runs in read/write/close
 * but atomic loads and stores.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <spapr_tce/vfio.h>

#include "preload_internal.h"
#include "vfs.h"

#define MAX_FDS		65536	/* as the host's descriptor table */
#define MAX_DIRS	256	/* open served DIR streams */
#define MAX_LINKS	40	/* symlinks a walk follows (the kernel's) */
#define MAX_DEPTH	32	/* components of a node's path (ours have < 10) */

/* st_dev of the file systems, as on the oracle's kernel. */
#define SYSFS_DEV	makedev(0, 20)
#define DEVTMPFS_DEV	makedev(0, 6)
#define ANON_DEV	makedev(0, 15)
#define SYSFS_MAGIC	0x62656572
#define TMPFS_MAGIC	0x01021994
#define ANON_INODE_FS_MAGIC 0x09041934
#define STATFS_VALID	0x0020	/* the kernel's f_flags bits */
#define STATFS_RELATIME	0x1000

/* ---- The tree of the current host ---------------------------------- */

struct owned_tree {
	struct stce_platform *plat;
	struct owned_tree *prev;	/* the one it replaced, kept */
	struct vtree tree;
};

static struct owned_tree *_Atomic current;

/*
 * The tree for the current host's platform, made on first need (NULL when
 * there is no host: its topology could not be read). A new platform (the
 * host's in a fork child) gets a new tree; the old one stays allocated,
 * as other threads of the parent might have been reading it.
 */
const struct vtree *vfs_tree(void)
{
	struct stce_host *h = preload_host();
	struct stce_platform *plat;
	struct owned_tree *t, *n;

	if (!h)
		return NULL;
	plat = stce_host_platform(h);
	t = atomic_load_explicit(&current, memory_order_acquire);
	if (t && t->plat == plat)
		return &t->tree;
	n = malloc(sizeof(*n));
	if (!n)
		return NULL;
	n->plat = plat;
	n->prev = t;
	vtree_init(&n->tree, plat);
	if (!atomic_compare_exchange_strong(&current, &t, n)) {
		free(n);
		return t && t->plat == plat ? &t->tree : NULL;
	}
	return &n->tree;
}

/* ---- Nodes ---------------------------------------------------------- */

static const struct vkind *kind_of(vnode_t n)
{
	return vtree_kind(VNODE_KIND(n));
}

unsigned int vfs_node_type(vnode_t n)
{
	const struct vattr *a = vtree_attr(n);
	const struct vkind *k = kind_of(n);

	if (n == VNODE_ANON_DEVICE)
		return VT_NONE;
	return a ? a->type : k ? k->type : VT_NONE;
}

static unsigned int node_mode(vnode_t n)
{
	const struct vattr *a = vtree_attr(n);

	return a ? a->mode : kind_of(n)->mode;
}

static unsigned int node_fs(vnode_t n)
{
	return kind_of(n)->fs;
}

static void node_name(const struct vtree *t, vnode_t n, char *buf, size_t len)
{
	const struct vattr *a = vtree_attr(n);
	const struct vkind *k = kind_of(n);

	if (a)
		snprintf(buf, len, "%s", a->name);
	else if (k->name)
		snprintf(buf, len, "%s", k->name);
	else
		k->get_name(t, n, buf, len);
}

/* The directory holding @n; VNODE_NONE for a root of the tree. */
static vnode_t node_parent(const struct vtree *t, vnode_t n)
{
	const struct vkind *k = kind_of(n);

	if (VNODE_ENTRY(n))
		return VNODE(VNODE_KIND(n), VNODE_INST(n), 0);
	return k->parent ? k->parent(t, n) : VNODE_NONE;
}

static vnode_t link_target(const struct vtree *t, vnode_t n)
{
	const struct vattr *a = vtree_attr(n);

	return a ? a->link(t, n) : kind_of(n)->target(t, n);
}

/* The @idx-th entry of directory @dir: its static entries (those its
 * instance has), then its dynamic children. */
static bool dir_entry(const struct vtree *t, vnode_t dir, unsigned int idx,
		      vnode_t *out)
{
	const struct vkind *k = kind_of(dir);
	unsigned int inst = VNODE_INST(dir);

	for (unsigned int e = 0; e < k->nr_attrs; e++) {
		if (!vtree_attr_present(&k->attrs[e], inst) || idx--)
			continue;
		if (k->attrs[e].type == VT_DIR)
			*out = VNODE(k->attrs[e].child, inst, 0);
		else
			*out = VNODE(VNODE_KIND(dir), inst, e + 1);
		return true;
	}
	return k->child && k->child(t, dir, idx, out);
}

static vnode_t dir_lookup(const struct vtree *t, vnode_t dir, const char *name)
{
	char buf[NAME_MAX + 1];
	vnode_t n;

	for (unsigned int i = 0; dir_entry(t, dir, i, &n); i++) {
		node_name(t, n, buf, sizeof(buf));
		if (!strcmp(buf, name))
			return n;
	}
	return VNODE_NONE;
}

static const char *root_dir(vnode_t root)
{
	return kind_of(root)->root;
}

static size_t node_path_at(const struct vtree *t, vnode_t n, char *buf,
			   size_t len)
{
	vnode_t p = node_parent(t, n);
	char name[NAME_MAX + 1];
	size_t at;

	at = p ? node_path_at(t, p, buf, len)
	       : (size_t)snprintf(buf, len, "%s", root_dir(n));
	node_name(t, n, name, sizeof(name));
	if (at < len)
		at += (size_t)snprintf(buf + at, len - at, "/%s", name);
	return at;
}

void vfs_node_path(const struct vtree *t, vnode_t n, char *buf, size_t len)
{
	node_path_at(t, n, buf, len);
}

/* Split @path ("/a/b") into its components, in place. Their number. */
static unsigned int components(char *path, char **comp, unsigned int max)
{
	unsigned int n = 0;
	char *save;

	for (char *p = strtok_r(path, "/", &save); p && n < max;
	     p = strtok_r(NULL, "/", &save))
		comp[n++] = p;
	return n;
}

/*
 * The target of link @n as readlink(2) shows it: relative, up from the
 * link's directory to the common ancestor of that directory and the
 * target's parent, then down to the target (the kernel's form).
 */
size_t vfs_link_text(const struct vtree *t, vnode_t n, char *buf, size_t len)
{
	char from[PATH_MAX], to[PATH_MAX], *f[MAX_DEPTH], *d[MAX_DEPTH];
	unsigned int nf, nd, common = 0;
	size_t out = 0;

	vfs_node_path(t, node_parent(t, n), from, sizeof(from));
	vfs_node_path(t, link_target(t, n), to, sizeof(to));
	nf = components(from, f, MAX_DEPTH);
	nd = components(to, d, MAX_DEPTH);
	while (common < nf && common + 1 < nd && !strcmp(f[common], d[common]))
		common++;
	buf[0] = 0;
	for (unsigned int i = common; i < nf && out < len; i++)
		out += (size_t)snprintf(buf + out, len - out, "../");
	for (unsigned int i = common; i < nd && out < len; i++)
		out += (size_t)snprintf(buf + out, len - out, "%s%s", d[i],
					i + 1 < nd ? "/" : "");
	return out < len ? out : len - 1;
}

/* ---- Walking a path ------------------------------------------------- */

/* Is @name in real directory @dir a root of the tree? */
static vnode_t root_at(const struct vtree *t, const char *dir, const char *name)
{
	char buf[NAME_MAX + 1];
	vnode_t r;

	for (unsigned int i = 0; vtree_root(t, i, &r); i++) {
		if (strcmp(root_dir(r), dir))
			continue;
		node_name(t, r, buf, sizeof(buf));
		if (!strcmp(buf, name))
			return r;
	}
	return VNODE_NONE;
}

/* Could @name in real directory @dir be a root? (Without the topology:
 * programs that never touch VFIO paths must not make the host.) */
static bool maybe_root(const char *dir, const char *name)
{
	if (!strcmp(dir, "/sys/devices"))
		return !strncmp(name, "pci", 3);
	if (!strcmp(dir, "/sys/bus"))
		return !strcmp(name, "pci");
	if (!strcmp(dir, "/sys/kernel"))
		return !strcmp(name, "iommu_groups");
	if (!strcmp(dir, "/dev"))
		return !strcmp(name, "vfio") || !strcmp(name, "iommu");
	return (!strcmp(dir, "/sys/module") || !strcmp(dir, "/sys/class") ||
		!strcmp(dir, "/sys/devices/virtual")) && !strncmp(name, "vfio", 4);
}

struct walk {
	const struct vtree *t;
	vnode_t node;		/* where the walk is: VNODE_NONE in the real part */
	char *real;		/* the real part, lexically ("" is "/"): PATH_MAX */
	bool entered;		/* the walk went through the tree */
	int links;
};

static void real_push(struct walk *w, const char *name)
{
	size_t n = strlen(w->real);

	snprintf(w->real + n, PATH_MAX - n, "/%s", name);
}

static void real_pop(struct walk *w)
{
	char *slash = strrchr(w->real, '/');

	if (slash)
		*slash = 0;
}

/* One component @name of the walk. 0, or a negative errno. */
static int step(struct walk *w, const char *name, bool follow)
{
	vnode_t n;

	if (!strcmp(name, "."))
		return w->node && vfs_node_type(w->node) != VT_DIR ? -ENOTDIR : 0;
	if (w->node && vfs_node_type(w->node) != VT_DIR)
		return -ENOTDIR;
	if (!strcmp(name, "..")) {
		if (!w->node) {
			real_pop(w);
			return 0;
		}
		n = node_parent(w->t, w->node);
		if (!n)
			snprintf(w->real, PATH_MAX, "%s", root_dir(w->node));
		w->node = n;
		return 0;
	}
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	if (!w->node) {
		n = VNODE_NONE;
		if (maybe_root(w->real, name)) {
			if (!w->t)
				w->t = vfs_tree();
			/* No host (its topology is bad): /dev/vfio and
			 * /dev/iommu fail with why; sysfs is the real one. */
			if (!w->t && !strcmp(w->real, "/dev"))
				return errno ? -errno : -ENOMEM;
			n = w->t ? root_at(w->t, w->real, name) : VNODE_NONE;
		}
		if (!n) {
			real_push(w, name);
			return 0;
		}
		w->entered = true;
	} else {
		n = dir_lookup(w->t, w->node, name);
		if (!n)
			return -ENOENT;
	}
	w->node = n;
	if (follow && vfs_node_type(n) == VT_LINK) {
		if (++w->links > MAX_LINKS)
			return -ELOOP;
		w->node = link_target(w->t, n);
	}
	return 0;
}

/*
 * Resolve @path (relative to @base when that is a served directory, else
 * absolute). Fills @r: FS_LIBC (with the path to hand libc), FS_NODE or
 * FS_ERR. Follows a final link unless FS_NOFOLLOW.
 */
void vfs_resolve(vnode_t base, const char *path, unsigned int flags,
		 struct fs_ref *r)
{
	struct walk w = { .node = base, .entered = base != VNODE_NONE,
			  .real = r->real };
	char name[NAME_MAX + 2];
	const char *p = path, *top;
	int err = 0;

	r->what = FS_LIBC;
	r->path = path;
	r->missing_last = false;
	r->real[0] = 0;
	if (!path || (!base && path[0] != '/') || strlen(path) >= PATH_MAX)
		return;
	/* The common case, at the cost of a few compares: not /sys or /dev. */
	top = path + strspn(path, "/");
	if (!base && strncmp(top, "sys", 3) && strncmp(top, "dev", 3) &&
	    !strstr(path, "/."))
		return;
	if (base)
		w.t = vfs_tree();
	while (!err && *p) {
		size_t len = strcspn(p, "/");
		const char *next = p + len;
		bool last;

		while (*next == '/')
			next++;
		last = !*next;
		if (!len) {
			p = next;
			continue;
		}
		if (len > NAME_MAX) {
			err = w.node || w.entered ? -ENAMETOOLONG : 0;
			if (!err)
				return;
			break;
		}
		memcpy(name, p, len);
		name[len] = 0;
		err = step(&w, name, !last || !(flags & FS_NOFOLLOW) ||
				     p[len] == '/');
		w.entered |= err != 0;
		if (err == -ENOENT && last)
			r->missing_last = true;
		p = next;
	}
	if (!w.entered)
		return;
	if (!err && w.node && path[strlen(path) - 1] == '/' &&
	    vfs_node_type(w.node) != VT_DIR)
		err = -ENOTDIR;
	r->t = w.t;
	if (err) {
		r->what = FS_ERR;
		r->err = -err;
		return;
	}
	if (!w.node) {
		/* Out of the tree again ("/sys/bus/pci/../.."): the rest is
		 * the real file system's. */
		if (!r->real[0])
			snprintf(r->real, sizeof(r->real), "/");
		r->path = r->real;
		return;
	}
	r->what = FS_NODE;
	r->node = w.node;
}

/* ---- The descriptor table ------------------------------------------ */

/* (memfd inode << 32) | node, 0 when the descriptor is not served. */
static _Atomic uint64_t fds[MAX_FDS];

/* What identifies the file behind @fd: its inode and device, hashed. */
static uint32_t fd_ino(int fd)
{
	struct stat st;

	if (REAL(fstat)(fd, &st))
		return 0;
	return (uint32_t)(st.st_ino * 31 + st.st_dev) | 1;
}

void vfs_fd_set(int fd, vnode_t node)
{
	if (preload_fd_set_tag(fd, node))
		return;		/* a host descriptor keeps it itself */
	if (fd < 0 || fd >= MAX_FDS)
		return;
	atomic_store(&fds[fd], ((uint64_t)fd_ino(fd) << 32) | node);
}

/* The node @fd serves, without asking the kernel (VNODE_NONE if none). */
vnode_t vfs_fd_peek(int fd)
{
	if (fd < 0 || fd >= MAX_FDS)
		return VNODE_NONE;
	return (vnode_t)atomic_load_explicit(&fds[fd], memory_order_relaxed);
}

/* The node @fd serves, checked against the descriptor's inode: a stale
 * entry (libc closed it internally) is dropped. */
vnode_t vfs_fd_node(int fd)
{
	vnode_t host_node = preload_fd_tag(fd);
	uint64_t v;
	int saved = errno;

	if (host_node)
		return host_node;
	if (fd < 0 || fd >= MAX_FDS)
		return VNODE_NONE;
	v = atomic_load(&fds[fd]);
	if (!v)
		return VNODE_NONE;
	if ((uint32_t)(v >> 32) != fd_ino(fd)) {
		atomic_compare_exchange_strong(&fds[fd], &v, 0);
		errno = saved;
		return VNODE_NONE;
	}
	errno = saved;
	return (vnode_t)v;
}

void vfs_fd_forget(int fd)
{
	if (fd >= 0 && fd < MAX_FDS)
		atomic_store(&fds[fd], 0);
}

void vfs_fd_dup(int oldfd, int newfd)
{
	uint64_t v;

	if (newfd < 0 || newfd >= MAX_FDS || oldfd == newfd)
		return;
	v = oldfd >= 0 && oldfd < MAX_FDS ? atomic_load(&fds[oldfd]) : 0;
	atomic_store(&fds[newfd], v);
}

bool vfs_fd_is_dir(int fd)
{
	vnode_t n = vfs_fd_peek(fd);

	return n && vfs_node_type(n) == VT_DIR && vfs_fd_node(fd);
}

/* ---- stat ----------------------------------------------------------- */

static unsigned int type_bits(unsigned int type)
{
	switch (type) {
	case VT_DIR: return S_IFDIR;
	case VT_FILE: return S_IFREG;
	case VT_LINK: return S_IFLNK;
	case VT_CHR: return S_IFCHR;
	}
	return 0;
}

static unsigned long dir_nlink(const struct vtree *t, vnode_t dir,
			       unsigned int *entries)
{
	unsigned long nlink = 2;
	vnode_t c;

	*entries = 0;
	for (unsigned int i = 0; dir_entry(t, dir, i, &c); i++) {
		nlink += vfs_node_type(c) == VT_DIR;
		(*entries)++;
	}
	return nlink;
}

/* Character devices belong to the caller, as after the chown that VFIO
 * without root needs; everything else to root. */
static void node_owner(vnode_t n, uid_t *uid, gid_t *gid)
{
	bool mine = vfs_node_type(n) == VT_CHR;

	*uid = mine ? geteuid() : 0;
	*gid = mine ? getegid() : 0;
}

static void anon_stat(const struct vtree *t, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = ANON_DEV;
	st->st_ino = 1;
	st->st_mode = 0600;	/* an anonymous inode has no file type */
	st->st_nlink = 1;
	st->st_blksize = t ? t->page_size : 65536;
}

void vfs_node_stat(const struct vtree *t, vnode_t n, struct stat *st)
{
	const struct vattr *a = vtree_attr(n);
	unsigned int type = vfs_node_type(n), entries = 0;

	if (n == VNODE_ANON_DEVICE) {
		anon_stat(t, st);
		return;
	}
	memset(st, 0, sizeof(*st));
	st->st_dev = node_fs(n) == VFS_SYSFS ? SYSFS_DEV : DEVTMPFS_DEV;
	st->st_ino = (ino_t)n + 0x10000;
	st->st_mode = type_bits(type) | node_mode(n);
	st->st_nlink = type == VT_DIR ? dir_nlink(t, n, &entries) : 1;
	node_owner(n, &st->st_uid, &st->st_gid);
	if (type == VT_CHR)
		st->st_rdev = a ? a->rdev(t, n) : kind_of(n)->rdev(t, n);
	if (type == VT_FILE)
		st->st_size = a->size ? a->size : t->page_size;
	/* tmpfs counts 20 bytes a directory entry, "." and ".." included. */
	if (type == VT_DIR && node_fs(n) == VFS_DEVTMPFS)
		st->st_size = 20 * (2 + entries);
	st->st_blksize = t->page_size;
	st->st_atim = st->st_mtim = st->st_ctim = t->time;
}

void vfs_node_statfs(const struct vtree *t, vnode_t n, struct statfs *sf)
{
	memset(sf, 0, sizeof(*sf));
	sf->f_type = n == VNODE_ANON_DEVICE ? ANON_INODE_FS_MAGIC :
		     node_fs(n) == VFS_SYSFS ? SYSFS_MAGIC : TMPFS_MAGIC;
	sf->f_bsize = sf->f_frsize = t->page_size;
	sf->f_namelen = NAME_MAX;
	sf->f_flags = STATFS_VALID | STATFS_RELATIME;
}

/* ---- Permissions ---------------------------------------------------- */

/*
 * May the caller (its effective ids with @effective, else its real ones)
 * access @n for @want (R_OK|W_OK|X_OK)? Root may read and write anything
 * and execute what has an x bit or is a directory, as CAP_DAC_OVERRIDE
 * allows. 0 or -EACCES.
 */
int vfs_permission(vnode_t n, int want, bool effective)
{
	unsigned int mode = node_mode(n), bits;
	uid_t uid = effective ? geteuid() : getuid(), owner;
	gid_t gid = effective ? getegid() : getgid(), group;

	node_owner(n, &owner, &group);
	if (!uid) {
		if ((want & X_OK) && vfs_node_type(n) != VT_DIR && !(mode & 0111))
			return -EACCES;
		return 0;
	}
	bits = uid == owner ? mode >> 6 : gid == group ? mode >> 3 : mode;
	return (want & 7 & ~bits) ? -EACCES : 0;
}

/* ---- open ----------------------------------------------------------- */

static int memfd_with(const char *data, size_t len)
{
	int fd = memfd_create("spapr-tce-sysfs", MFD_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len) {
		n = REAL(write)(fd, data, len);
		if (n <= 0) {
			REAL(close)(fd);
			return n < 0 ? -errno : -EIO;
		}
		data += n;
		len -= (size_t)n;
	}
	return fd;
}

/* The memfd again with the caller's access mode and flags (so a write on
 * a read-only descriptor fails as the kernel's would: EBADF). */
static int reopen(int fd, int flags)
{
	char path[32];
	int ret, keep = flags & (O_ACCMODE | O_CLOEXEC | O_NONBLOCK | O_PATH |
				 O_APPEND);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = REAL(open)(path, keep);
	if (ret < 0 && errno == ENOENT)
		return fd;	/* no /proc: the read-write memfd will do */
	if (ret < 0)
		ret = -errno;
	REAL(close)(fd);
	return ret;
}

size_t vfs_node_content(const struct vtree *t, vnode_t n, char *buf,
			size_t len)
{
	const struct vattr *a = vtree_attr(n);

	if (!a || a->type != VT_FILE)
		return 0;
	if (a->text)
		return (size_t)snprintf(buf, len, "%s", a->text);
	return a->show(t, n, buf, len);
}

/*
 * May @n be opened with @flags? The kernel's order: a directory for
 * writing is EISDIR, O_DIRECTORY on anything else ENOTDIR, a final link
 * under O_NOFOLLOW ELOOP, O_CREAT|O_EXCL EEXIST; a sysfs attribute
 * without the read or write bits for what is asked is EACCES even for
 * root; then the permission bits.
 */
static int open_check(vnode_t n, int flags)
{
	unsigned int type = vfs_node_type(n), mode = node_mode(n);
	int acc = flags & O_ACCMODE, want = 0;

	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return -EEXIST;
	if (type == VT_LINK)
		return (flags & O_PATH) ? 0 : -ELOOP;
	if (type == VT_DIR && (acc != O_RDONLY || (flags & O_CREAT)))
		return -EISDIR;
	if ((flags & O_DIRECTORY) && type != VT_DIR)
		return -ENOTDIR;
	if (flags & O_PATH)
		return 0;
	want = (acc == O_RDONLY || acc == O_RDWR ? R_OK : 0) |
	       (acc == O_WRONLY || acc == O_RDWR ? W_OK : 0);
	if (type == VT_FILE && (((want & W_OK) && !(mode & 0222)) ||
				((want & R_OK) && !(mode & 0444))))
		return -EACCES;
	return vfs_permission(n, want, true);
}

/*
 * open(2) of a served file or directory (not a character device: the
 * host opens those). A descriptor, or a negative errno.
 */
int vfs_open_node(const struct vtree *t, vnode_t n, int flags)
{
	char buf[4096];
	size_t len = 0;
	int fd, ret = open_check(n, flags);

	if (ret)
		return ret;
	if (vfs_node_type(n) == VT_FILE)
		len = vfs_node_content(t, n, buf, sizeof(buf));
	fd = memfd_with(buf, len);
	if (fd < 0)
		return fd;
	fd = reopen(fd, vfs_node_type(n) == VT_DIR ? (flags & ~O_ACCMODE) : flags);
	if (fd < 0)
		return fd;
	if (fd >= MAX_FDS) {
		REAL(close)(fd);
		return -EMFILE;
	}
	vfs_fd_set(fd, n);
	return fd;
}

/* ---- Listings ------------------------------------------------------- */

/*
 * The entry at @cursor of directory @dir: ".", "..", then dir_entry()'s.
 * Its name, inode and type; false past the last.
 */
bool vfs_dir_read(const struct vtree *t, vnode_t dir, unsigned long cursor,
		  char *name, size_t len, ino_t *ino, unsigned char *type)
{
	static const unsigned char dtypes[] = {
		[VT_DIR] = DT_DIR, [VT_FILE] = DT_REG, [VT_LINK] = DT_LNK,
		[VT_CHR] = DT_CHR,
	};
	vnode_t n;

	if (cursor < 2) {
		snprintf(name, len, cursor ? ".." : ".");
		n = cursor ? node_parent(t, dir) : dir;
		*ino = n ? (ino_t)n + 0x10000 : 2;
		*type = DT_DIR;
		return true;
	}
	if (!dir_entry(t, dir, (unsigned int)(cursor - 2), &n))
		return false;
	node_name(t, n, name, len);
	*ino = (ino_t)n + 0x10000;
	*type = dtypes[vfs_node_type(n)];
	return true;
}
