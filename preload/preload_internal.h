/* SPDX-License-Identifier: MIT */
/*
 * The preload library's parts: preload.c (the interposed libc entry
 * points and the host), sysfs.c (the topology's sysfs entries), trace.c
 * (SPAPR_TCE_TRACE output). Internal.
 */
#ifndef STCE_PRELOAD_INTERNAL_H
#define STCE_PRELOAD_INTERNAL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
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

/* ---- mm.c ---- */

/*
 * mmap(2) for descriptors that are not the host's: MAP_FIXED over pinned
 * pages keeps them (src/hostmem); anything else is @real's.
 */
void *preload_mm_mmap(void *(*real)(void *, size_t, int, int, int, off_t),
		      void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);

/* ---- sysfs.c ---- */

/* readlink(2) of /sys/bus/pci/devices/<bdf>/iommu_group for a topology
 * device: true and the result (as readlink: no NUL, truncated to @len)
 * in *@ret; false for any other path. */
bool sysfs_readlink(const char *path, char *buf, size_t len, ssize_t *ret);

/* opendir(3) of /sys/kernel/iommu_groups[/N/devices]: true and a
 * private DIR in *@dir (NULL with errno when it fails); false for any
 * other path. */
bool sysfs_opendir(const char *path, DIR **dir);

/* Is @dir one of ours? Then the readdir/closedir/rewinddir/dirfd
 * answers. */
bool sysfs_is_dir(DIR *dir);
struct dirent *sysfs_readdir(DIR *dir);
int sysfs_closedir(DIR *dir);
void sysfs_rewinddir(DIR *dir);

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

#endif /* STCE_PRELOAD_INTERNAL_H */
