/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the conformance clients.
 *
 * Every client is written only against <linux/vfio.h> and libc, so the same
 * source runs unchanged against the real kernel (the oracle) and against
 * spapr-tce. Output rules (docs/conformance.md):
 *   - one line per step: "<label> = <ret> <ERRNO>[  fields]";
 *   - errno is set to 0 before each call and printed as a name, "-" when the
 *     call left it untouched (so a positive return without errno is visible);
 *   - nothing that depends on where memory or fds landed is ever printed:
 *     fds become "fd", user addresses are given relative to the client's own
 *     buffers, locked memory is printed as a delta of VmLck (kB).
 */
#ifndef CONF_H
#define CONF_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vmlck.h"

#define SZ_4K	0x1000ULL
#define SZ_64K	0x10000ULL
#define SZ_1M	0x100000ULL
#define SZ_2M	0x200000ULL
#define SZ_16M	0x1000000ULL
#define SZ_1G	0x40000000ULL
#define WIN64	(1ULL << 59)	/* where the 64-bit window is expected */

static long g_ret;
static int g_err;

/* Run one call with errno cleared; keep its return and errno for show(). */
#define TRY(expr) (errno = 0, keep((long)(expr)))

static inline long keep(long ret)
{
	g_err = errno;
	g_ret = ret;
	return ret;
}

static inline const char *ename(int e)
{
	static char buf[16];

	switch (e) {
	case 0: return "-";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EBADFD: return "EBADFD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case EOVERFLOW: return "EOVERFLOW";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	snprintf(buf, sizeof(buf), "E#%d", e);
	return buf;
}

static inline const char *lbl(const char *fmt, ...)
{
	/* A few rotating buffers, so lbl() may be nested in lbl()'s arguments. */
	static char buf[4][160];
	static unsigned int n;
	char *b = buf[n++ % 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(buf[0]), fmt, ap);
	va_end(ap);
	return b;
}

static inline void vshow(const char *label, int is_fd, const char *fmt, va_list ap)
{
	if (is_fd && g_ret >= 0)
		printf("%-46s = fd %s", label, ename(g_err));
	else
		printf("%-46s = %ld %s", label, g_ret, ename(g_err));
	if (fmt && *fmt) {
		fputs("  ", stdout);
		vprintf(fmt, ap);
	}
	putchar('\n');
}

/* Print the last TRY() as one step line; fmt adds output fields. */
static inline void show(const char *label, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vshow(label, 0, fmt, ap);
	va_end(ap);
}

/* Same, for calls that return a file descriptor on success. */
static inline void show_fd(const char *label, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vshow(label, 1, fmt, ap);
	va_end(ap);
}

static inline void note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline void die(const char *what)
{
	printf("SETUP FAILED: %s: %s\n", what, ename(errno));
	exit(2);
}

static inline const char *container_path(void)
{
	const char *p = getenv("SPAPR_TCE_CONTAINER");

	return p && *p ? p : "/dev/vfio/vfio";
}

/* $<prefix><n>, or NULL when unset or empty. */
static inline const char *env_n(const char *prefix, unsigned int n)
{
	char var[32];
	const char *p;

	snprintf(var, sizeof(var), "%s%u", prefix, n);
	p = getenv(var);
	return p && *p ? p : NULL;
}

/*
 * Group @n (0 or 1): $SPAPR_TCE_GROUP for group 0, else $VFIO_GROUP<n>
 * (the oracle exports both groups' paths), else /dev/vfio/<n>.
 */
static inline const char *group_path_n(unsigned int n)
{
	static char def[2][32];
	const char *p = n ? NULL : getenv("SPAPR_TCE_GROUP");

	if (p && *p)
		return p;
	p = env_n("VFIO_GROUP", n);
	if (p)
		return p;
	snprintf(def[n & 1], sizeof(def[0]), "/dev/vfio/%u", n);
	return def[n & 1];
}

static inline const char *group_path(void)
{
	return group_path_n(0);
}

/*
 * The device of group @n: $SPAPR_TCE_DEVICE for group 0, else
 * $VFIO_DEVICE<n>, else the one entry of the group's sysfs list.
 */
static inline const char *device_name_n(unsigned int n)
{
	static char name[2][256];
	char *b = name[n & 1];
	const char *p = n ? NULL : getenv("SPAPR_TCE_DEVICE");
	const char *g = strrchr(group_path_n(n), '/');
	struct dirent *de;
	DIR *d;

	if (p && *p)
		return p;
	p = env_n("VFIO_DEVICE", n);
	if (p)
		return p;
	snprintf(b, sizeof(name[0]), "/sys/kernel/iommu_groups/%s/devices",
		 g ? g + 1 : group_path_n(n));
	d = opendir(b);
	if (!d)
		return NULL;
	b[0] = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(b, sizeof(name[0]), "%s", de->d_name);
			break;
		}
	closedir(d);
	return b[0] ? b : NULL;
}

static inline const char *device_name(void)
{
	return device_name_n(0);
}

static inline void conf_init(void)
{
	/* Line-buffered: if the kernel wedges, the lines so far still get out. */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline int open_container(void)
{
	int fd = open(container_path(), O_RDWR);

	if (fd < 0)
		die("open container");
	return fd;
}

static inline int open_group_n(unsigned int n)
{
	int fd = open(group_path_n(n), O_RDWR);

	if (fd < 0)
		die(n ? "open group 1" : "open group");
	return fd;
}

static inline int open_group(void)
{
	return open_group_n(0);
}

/* Container + group + SET_CONTAINER + SET_IOMMU(type): set-up, not a step. */
static inline void setup(int type, int *cfd, int *gfd)
{
	*cfd = open_container();
	*gfd = open_group();
	if (ioctl(*gfd, VFIO_GROUP_SET_CONTAINER, cfd))
		die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(*cfd, VFIO_SET_IOMMU, type))
		die("VFIO_SET_IOMMU");
}

/* GET_DEVICE_FD of group @g's device (group @n's name), shown as @what. */
static inline int get_device(int g, unsigned int n, const char *what)
{
	const char *name = device_name_n(n);

	TRY(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name ? name : "none"));
	show_fd(what, NULL);
	return (int)g_ret;
}

static inline void teardown(int cfd, int gfd)
{
	close(gfd);
	close(cfd);
}

/* size bytes of anonymous memory aligned to align (a power of two), touched. */
static inline uint8_t *alloc_aligned(uint64_t size, uint64_t align, int prot)
{
	uint8_t *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		die("mmap");
	a = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	memset(a, 0x5a, size);
	if (prot != (PROT_READ | PROT_WRITE) && mprotect(a, size, prot))
		die("mprotect");
	return a;
}

/*
 * A PROT_NONE reservation of @total bytes, 2M aligned, whose first @rw
 * bytes are made writable and touched: whatever follows a range in it is
 * known (PROT_NONE), and holes can be carved out of it.
 */
static inline uint8_t *reserve(uint64_t total, uint64_t rw)
{
	uint8_t *p = mmap(NULL, total + SZ_2M, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		die("mmap reservation");
	a = (uint8_t *)(((uintptr_t)p + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1));
	if (mprotect(a, rw, PROT_READ | PROT_WRITE))
		die("mprotect");
	memset(a, 0x5a, rw);
	return a;
}

static inline long do_map(int c, uint32_t argsz, uint32_t flags, const void *vaddr,
		   uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = argsz, .flags = flags,
		.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};

	return TRY(ioctl(c, VFIO_IOMMU_MAP_DMA, &m));
}

static inline long do_unmap(int c, uint32_t argsz, uint32_t flags, uint64_t iova,
		     uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = argsz, .flags = flags, .iova = iova, .size = size,
	};

	return TRY(ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u));
}

static inline long do_reg(int c, unsigned long cmd, uint32_t argsz, uint32_t flags,
		   const void *vaddr, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = argsz, .flags = flags,
		.vaddr = (uintptr_t)vaddr, .size = size,
	};

	return TRY(ioctl(c, cmd, &r));
}

#define MAPSZ	((uint32_t)sizeof(struct vfio_iommu_type1_dma_map))
#define UNMAPSZ	((uint32_t)sizeof(struct vfio_iommu_type1_dma_unmap))
#define REGSZ	((uint32_t)sizeof(struct vfio_iommu_spapr_register_memory))
#define CREATESZ ((uint32_t)sizeof(struct vfio_iommu_spapr_tce_create))
#define REMOVESZ ((uint32_t)sizeof(struct vfio_iommu_spapr_tce_remove))
#define RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* MAP (read-write) and UNMAP as one step line each, with the VmLck delta. */
static inline void show_map(int c, const char *what, const void *va, uint64_t iova,
			    uint64_t size)
{
	long before = vmlck_kb();

	do_map(c, MAPSZ, RW, va, iova, size);
	show(lbl("MAP %s", what), "vmlck%+ld", vmlck_kb() - before);
}

static inline void show_unmap(int c, const char *what, uint64_t iova, uint64_t size)
{
	long before = vmlck_kb();

	do_unmap(c, UNMAPSZ, 0, iova, size);
	show(lbl("UNMAP %s", what), "vmlck%+ld", vmlck_kb() - before);
}

/* TCE_CREATE; the window's start comes back through *start (may be NULL). */
static inline long do_create(int c, uint32_t argsz, uint32_t flags, uint32_t shift,
		      uint64_t wsize, uint32_t levels, uint64_t *start)
{
	struct vfio_iommu_spapr_tce_create cr = {
		.argsz = argsz, .flags = flags, .page_shift = shift,
		.window_size = wsize, .levels = levels,
		.start_addr = 0xdeadbeefULL,
	};

	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr));
	if (start)
		*start = cr.start_addr;
	return g_ret;
}

static inline long do_remove(int c, uint32_t argsz, uint32_t flags, uint64_t start)
{
	struct vfio_iommu_spapr_tce_remove rm = {
		.argsz = argsz, .flags = flags, .start_addr = start,
	};

	return TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm));
}

static inline long group_status(int g, uint32_t argsz, uint32_t *flags)
{
	struct vfio_group_status st = { .argsz = argsz, .flags = 0xa5a5a5a5 };

	TRY(ioctl(g, VFIO_GROUP_GET_STATUS, &st));
	*flags = st.flags;
	return g_ret;
}

/*
 * The kernel's host page size, asked of the ABI itself (the build host's
 * page size says nothing about the emulated one): REGISTER needs host page
 * alignment, so a 64K region at a 4K-aligned address registers only with
 * 4K host pages. Uses group 0 in a container of its own: call it before
 * setup(). 64K when the probe cannot run.
 */
static inline uint64_t host_page_probe(void)
{
	uint8_t *p = mmap(NULL, 3 * SZ_64K, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t hp = SZ_64K;
	uint8_t *a;
	int c, g;

	if (p == MAP_FAILED)
		return hp;
	a = (uint8_t *)(((uintptr_t)p + SZ_64K - 1) & ~(uintptr_t)(SZ_64K - 1)) + SZ_4K;
	memset(a, 0x5a, SZ_64K);
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	if (do_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, a, SZ_64K) == 0)
		hp = SZ_4K;
	teardown(c, g);
	munmap(p, 3 * SZ_64K);
	return hp;
}

#endif /* CONF_H */
