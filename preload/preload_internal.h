/* SPDX-License-Identifier: MIT */
/*
 * The preload library's parts: preload.c (the host and the entry points
 * that take a descriptor), fs.c (those that take a path or a DIR),
 * vfs.c and sysfs.c (the served sysfs and /dev/vfio tree: vfs.h),
 * trace.c (SPAPR_TCE_TRACE output), stats.c (SPAPR_TCE_STATS). Internal.
 */
#ifndef STCE_PRELOAD_INTERNAL_H
#define STCE_PRELOAD_INTERNAL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <spapr_tce/vfio.h>

#define PRELOAD_ENV_TRACE	"SPAPR_TCE_TRACE"

/*
 * The real libc function @name, found with dlsym(RTLD_NEXT) on first use
 * (interposed calls may come before our constructor runs).
 */
void *preload_real(void *_Atomic *slot, const char *name);
#define REAL(name)							\
	({								\
		static void *_Atomic real_##name;			\
		(__typeof__(&name))preload_real(&real_##name, #name);	\
	})

/* The host, created on first need (NULL with errno set when the topology
 * cannot be read); preload_host_peek() never creates it. */
struct stce_host *preload_host(void);
struct stce_host *preload_host_peek(void);

/* A host descriptor's tag: the vfs node it was opened as, kept with its
 * object (so its duplicates and a fork child's copies have it). 0 for
 * other descriptors; _set is false for them. */
uint32_t preload_fd_tag(int fd);
bool preload_fd_set_tag(int fd, uint32_t tag);

/* After a libc call on @fd, which was not a host descriptor when the
 * host's generation was @gen, answered about an O_PATH descriptor: 1
 * when it is one of ours now (ask the host), -1 when it was one of ours
 * made and closed since (answer EBADF), 0 when it is the program's. */
uint64_t preload_fd_generation(void);
int preload_fd_recheck(int fd, uint64_t gen);

/* ---- mm.c ---- */

/*
 * mmap(2) for descriptors that are not the host's: MAP_FIXED over pinned
 * pages keeps them (src/hostmem); anything else is @real's.
 */
void *preload_mm_mmap(void *(*real)(void *, size_t, int, int, int, off_t),
		      void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);

/* ---- vfs.c: the served sysfs and /dev/vfio tree (vfs.h) ---- */

struct vtree;
typedef uint32_t vnode_t;

/* A VFIO device descriptor from VFIO_GROUP_GET_DEVICE_FD: an anonymous
 * inode on the kernel, not a node of the tree. */
#define VNODE_ANON_DEVICE	0xff000000u

enum { FS_LIBC, FS_NODE, FS_ERR };
#define FS_NOFOLLOW	1u	/* do not follow a final symlink */

/* What a path is: libc's (hand it @path), a node of the tree, or an
 * error the walk met in the tree (errno @err). */
struct fs_ref {
	int what;
	vnode_t node;
	int err;
	bool missing_last;	/* ENOENT for the last component only */
	const struct vtree *t;
	const char *path;	/* FS_LIBC: the caller's path or @real */
	char real[4096];
};

/* The tree of the current host (NULL without one). */
const struct vtree *vfs_tree(void);
/* Resolve @path, relative to directory node @base (VNODE_NONE: an
 * absolute path; relative ones are libc's). */
void vfs_resolve(vnode_t base, const char *path, unsigned int flags,
		 struct fs_ref *r);
unsigned int vfs_node_type(vnode_t n);
void vfs_node_path(const struct vtree *t, vnode_t n, char *buf, size_t len);
size_t vfs_link_text(const struct vtree *t, vnode_t n, char *buf, size_t len);
size_t vfs_node_content(const struct vtree *t, vnode_t n, char *buf,
			size_t len);
void vfs_node_stat(const struct vtree *t, vnode_t n, struct stat *st);
void vfs_node_statfs(const struct vtree *t, vnode_t n, struct statfs *sf);
int vfs_permission(vnode_t n, int want, bool effective);
/* open(2) of a served file or directory: a descriptor or -errno. */
int vfs_open_node(const struct vtree *t, vnode_t n, int flags);
bool vfs_dir_read(const struct vtree *t, vnode_t dir, unsigned long cursor,
		  char *name, size_t len, ino_t *ino, unsigned char *type);

/* Which node a descriptor serves: set at open (and for host descriptors,
 * what they were opened as), copied by dup, dropped by close. _peek is
 * one atomic load; _node checks the entry is not stale. */
void vfs_fd_set(int fd, vnode_t node);
vnode_t vfs_fd_peek(int fd);
vnode_t vfs_fd_node(int fd);
void vfs_fd_forget(int fd);
void vfs_fd_dup(int oldfd, int newfd);
bool vfs_fd_is_dir(int fd);

/* ---- fs.c: the path-based entry points' common parts ---- */

/* open(2) of @path relative to @dirfd: FS_LIBC (*libc_path to hand
 * libc), or done (*ret the descriptor or -1 with errno). */
bool fs_open(int dirfd, const char *path, int flags, int *ret,
	     struct fs_ref *r);
/* The host's open of a character device node (preload.c). */
int preload_host_open(const char *path, int flags);

/* ---- trace.c ---- */

bool trace_enabled(void);
void trace_open(const char *path, int flags, int ret, int err);
void trace_close(int fd, int ret, int err);
void trace_dup(const char *call, int oldfd, int ret, int err);
void trace_ioctl(enum stce_host_fd_kind kind, int fd, unsigned long request,
		 void *arg, int ret, int err);
void trace_rw(const char *call, int fd, size_t count, off_t off,
	      ssize_t ret, int err);
void trace_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An ioctl's name as the trace prints it; NULL for one it does not know. */
const char *trace_ioctl_name(unsigned long req, enum stce_host_fd_kind kind);

/* ---- stats.c: SPAPR_TCE_STATS ---- */

/* A served call starts: its start time, 0 when the statistics are off
 * (then the _ioctl/_call that ends it does nothing). */
uint64_t stats_start(void);
/* It ended: count it under its ioctl (@kind: the descriptor's) or call
 * name (@call: a string that lives as long as the process). */
void stats_ioctl(enum stce_host_fd_kind kind, unsigned long req, uint64_t t0);
void stats_call(const char *call, uint64_t t0);
/* Write the report (at exit; the destructor calls it). */
void stats_report(void);
/* fork child: forget the parent's counts. */
void stats_fork_child(void);

#endif /* STCE_PRELOAD_INTERNAL_H */
