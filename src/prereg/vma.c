// SPDX-License-Identifier: MIT
/*
 * Reading the process's own mappings for pre-registration and v1 pinning.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "prereg/vma.h"

struct vma {
	uint64_t start, end;
	char perms[5];
	const char *path;	/* points into the line buffer; "" if none */
};

static int parse_line(char *line, struct vma *v)
{
	unsigned long long start, end, off, inode;
	int n = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %*s %llu %n", &start, &end,
		   v->perms, &off, &inode, &n) < 5 || !n)
		return -1;
	v->start = start;
	v->end = end;
	v->path = line + n;
	line[strcspn(line, "\n")] = '\0';
	return 0;
}

/*
 * KernelPageSize of the mapping that starts at @start, from smaps; 0 when
 * not found. Only asked for file-backed mappings (hugetlbfs files, MAP_HUGETLB
 * "/anon_hugepage", SysV shm): smaps walks page tables, maps does not.
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

static unsigned int vma_shift(const struct vma *v, unsigned int host_shift)
{
	long real = sysconf(_SC_PAGESIZE);
	uint64_t kps;

	if (!v->path[0] || v->path[0] == '[')
		return host_shift;	/* anonymous, heap, stack */
	kps = smaps_kernel_page(v->start);
	/* Larger than the real base page: a hugetlbfs page. */
	if (kps && real > 0 && kps > (uint64_t)real && stce_is_pow2(kps))
		return (unsigned int)stce_max64(stce_ilog2(kps), host_shift);
	return host_shift;
}

int stce_vma_scan(uint64_t start, uint64_t size, bool write,
		  unsigned int host_shift, unsigned int *backing_shift)
{
	/* Lines of /proc/self/maps hold at most a path after ~75 bytes. */
	char line[4096 + 128];
	uint64_t cur = start, last = start + size - 1;
	unsigned int shift = 63;
	FILE *f;
	int ret = -EFAULT;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -EIO;
	while (fgets(line, sizeof(line), f)) {
		struct vma v;
		unsigned int vs;

		if (parse_line(line, &v))
			continue;
		if (v.end <= cur)
			continue;
		if (v.start > cur)
			break;	/* a hole */
		if (v.perms[0] != 'r' || (write && v.perms[1] != 'w'))
			break;
		vs = vma_shift(&v, host_shift);
		if (vs < shift)
			shift = vs;
		if (v.end - 1 >= last) {
			ret = 0;
			break;
		}
		cur = v.end;
	}
	fclose(f);
	if (!ret)
		*backing_shift = shift;
	return ret;
}
