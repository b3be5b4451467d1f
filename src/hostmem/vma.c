// SPDX-License-Identifier: MIT
/*
 * What backs an address: the VMA that holds it, from one /proc/self/maps
 * descriptor opened once and kept (checked with fstat before each use: a
 * program may close it). PROCMAP_QUERY (Linux 6.11+) answers one VMA per
 * ioctl, page size included; older kernels get the file read through the
 * same descriptor (pread from 0: no descriptor per call either) and, for
 * file-backed VMAs only, smaps for the hugetlbfs page.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/common.h"
#include "common/lockdep.h"
#include "hostmem/hostmem_internal.h"

/* <linux/fs.h> of Linux 6.11 (the build host's headers may be older). */
struct hm_procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};

#define HM_PROCMAP_QUERY	_IOWR('f', 17, struct hm_procmap_query)
#define HM_VMA_READABLE		0x01
#define HM_VMA_WRITABLE		0x02
#define HM_VMA_SHARED		0x08

static pthread_mutex_t vma_lock = PTHREAD_MUTEX_INITIALIZER;
static int maps_fd = -1;
static dev_t maps_dev;
static ino_t maps_ino;
static int query_works = -1;	/* -1 unknown, 0 no (older kernel), 1 yes */

/* See hostmem/hostmem_internal.h. */
uint64_t hm_page(void)
{
	static uint64_t page;

	if (!page) {
		long p = sysconf(_SC_PAGESIZE);

		page = p > 0 ? (uint64_t)p : 4096;
	}
	return page;
}

/* The kept descriptor, (re)opened when the program closed or replaced it. */
static int maps_desc_locked(void)
{
	struct stat st;

	stce_assert_held(&vma_lock);
	if (maps_fd >= 0 && !fstat(maps_fd, &st) && st.st_dev == maps_dev &&
	    st.st_ino == maps_ino)
		return maps_fd;
	maps_fd = (int)hm_sys(SYS_openat, AT_FDCWD, (long)"/proc/self/maps",
			      O_RDONLY | O_CLOEXEC, 0, 0, 0);
	if (maps_fd < 0 || fstat(maps_fd, &st)) {
		maps_fd = -1;
		return -1;
	}
	maps_dev = st.st_dev;
	maps_ino = st.st_ino;
	return maps_fd;
}

/* See hostmem/hostmem_internal.h. */
void hm_vma_forget(void)
{
	pthread_mutex_init(&vma_lock, NULL);
	if (maps_fd >= 0)
		close(maps_fd);
	maps_fd = -1;
}

static int query_vma(int fd, uint64_t addr, struct hm_vma *v)
{
	struct hm_procmap_query q = { .size = sizeof(q), .query_addr = addr };

	if (ioctl(fd, HM_PROCMAP_QUERY, &q))
		return -errno;
	v->start = q.vma_start;
	v->end = q.vma_end;
	v->read = q.vma_flags & HM_VMA_READABLE;
	v->write = q.vma_flags & HM_VMA_WRITABLE;
	v->shared = q.vma_flags & HM_VMA_SHARED;
	v->page_size = q.vma_page_size ? q.vma_page_size : hm_page();
	v->inode = q.inode;
	return 0;
}

/*
 * KernelPageSize of the mapping that starts at @start, from smaps; 0 when
 * not found. Older kernels only, and only for file-backed mappings
 * (hugetlbfs files, MAP_HUGETLB, SysV shm): smaps walks page tables.
 */
static uint64_t smaps_kernel_page(uint64_t start)
{
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "re");
	bool in = false;
	uint64_t kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, val;

		if (sscanf(line, "%llx-%llx ", &s, &e) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			if (in)
				break;
			in = s == start;
			continue;
		}
		if (in && sscanf(line, "KernelPageSize: %llu kB", &val) == 1) {
			kb = val;
			break;
		}
	}
	fclose(f);
	return kb * 1024;
}

/* One maps line into @v; the path decides whether smaps is asked. */
static bool parse_line(const char *line, uint64_t addr, struct hm_vma *v)
{
	unsigned long long start, end, off, inode;
	char perms[5];
	int n = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %*s %llu %n", &start, &end,
		   perms, &off, &inode, &n) < 5 || !n)
		return false;
	if (addr < start || addr >= end)
		return false;
	v->start = start;
	v->end = end;
	v->read = perms[0] == 'r';
	v->write = perms[1] == 'w';
	v->shared = perms[3] == 's';
	v->page_size = hm_page();
	v->inode = inode;
	if (line[n] && line[n] != '\n' && line[n] != '[') {
		uint64_t kps = smaps_kernel_page(start);

		if (kps > hm_page() && stce_is_pow2(kps))
			v->page_size = kps;
	}
	return true;
}

/* Older kernels: read the whole file through the kept descriptor. */
static int scan_vma(int fd, uint64_t addr, struct hm_vma *v)
{
	char buf[8192], line[4096 + 128];
	size_t used = 0;
	off_t off = 0;
	ssize_t got;

	while ((got = pread(fd, buf, sizeof(buf), off)) > 0) {
		off += got;
		for (ssize_t i = 0; i < got; i++) {
			if (used < sizeof(line) - 1)
				line[used++] = buf[i];
			if (buf[i] != '\n')
				continue;
			line[used] = '\0';
			used = 0;
			if (parse_line(line, addr, v))
				return 0;
		}
	}
	return got < 0 ? -EIO : -ENOENT;
}

/* See hostmem/hostmem_internal.h. */
int hm_vma_at(uint64_t addr, struct hm_vma *v)
{
	int fd, ret;

	pthread_mutex_lock(&vma_lock);
	fd = maps_desc_locked();
	if (fd < 0) {
		ret = -EIO;
		goto out;
	}
	if (query_works) {
		ret = query_vma(fd, addr, v);
		if (ret != -ENOTTY && ret != -EINVAL) {
			query_works = 1;
			goto out;
		}
		query_works = 0;
	}
	ret = scan_vma(fd, addr, v);
out:
	pthread_mutex_unlock(&vma_lock);
	return ret;
}

/* See <spapr_tce/hostmem.h>. */
int stce_hostmem_backing(uint64_t ua, uint64_t size, bool write,
			 unsigned int base_shift, unsigned int *page_shift)
{
	uint64_t cur = ua, last = ua + (size - 1);
	unsigned int shift = 63;

	if (!size || !stce_range_fits(ua, size))
		return -EINVAL;
	for (;;) {
		struct hm_vma v;
		unsigned int vs = base_shift;
		int ret = hm_vma_at(cur, &v);

		if (ret == -ENOENT)
			return -EFAULT;
		if (ret == -EIO) {
			/*
			 * No descriptor to be had (RLIMIT_NOFILE before the
			 * first pin): pinning still finds holes and missing
			 * permissions; hugetlbfs pages count as base pages.
			 */
			*page_shift = base_shift;
			return 0;
		}
		if (ret)
			return ret;
		if (!v.read || (write && !v.write))
			return -EFAULT;
		if (v.page_size > hm_page() && stce_is_pow2(v.page_size))
			vs = (unsigned int)stce_max64(stce_ilog2(v.page_size),
						      base_shift);
		if (vs < shift)
			shift = vs;
		if (v.end - 1 >= last)
			break;
		cur = v.end;
	}
	*page_shift = shift;
	return 0;
}
