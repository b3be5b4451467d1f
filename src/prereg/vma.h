/* SPDX-License-Identifier: MIT */
/*
 * Internal: what the process's mappings say about a user range, read from
 * /proc/self/maps (cheap: no page-table walk), and from /proc/self/smaps
 * only for file-backed mappings, which may be hugetlbfs.
 */
#ifndef STCE_PREREG_VMA_H
#define STCE_PREREG_VMA_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Check that [start, start + size) is entirely mapped readable (and
 * writable when @write), and return in *@backing_shift the smallest page
 * shift backing it: the hugetlbfs page shift for hugetlbfs mappings, else
 * @host_shift. -EFAULT: a hole or a missing permission. -EIO: the maps
 * file could not be read.
 */
int stce_vma_scan(uint64_t start, uint64_t size, bool write,
		  unsigned int host_shift, unsigned int *backing_shift);

#endif /* STCE_PREREG_VMA_H */
