/* SPDX-License-Identifier: MIT */
/* Helpers shared by the iommufd tests. */
#ifndef STCE_IOMMUFD_TEST_H
#define STCE_IOMMUFD_TEST_H

#include <spapr_tce/iommufd.h>
#include <spapr_tce/pe.h>

#include "../lib/pe_test_util.h"
#include "../lib/prereg_test.h"

#define GB		(1024ULL * MB)
#define WIN1		(1ULL << 59)
#define W0_SIZE		(256 * MB)
#define W1_SIZE		(1 * GB)
#define RW		(STCE_IOAS_MAP_READABLE | STCE_IOAS_MAP_WRITEABLE)
#define FIXED_RW	(STCE_IOAS_MAP_FIXED_IOVA | RW)

/* Window 0: 256M of 4K pages, one level; window 1: 1G of 64K, two. */
static inline struct iommu_hwpt_spapr_tce test_geometry(void)
{
	struct iommu_hwpt_spapr_tce g = {
		.window = {
			{ .page_shift = 12, .levels = 1, .window_size = W0_SIZE },
			{ .page_shift = 16, .levels = 2, .window_size = W1_SIZE },
		},
	};
	return g;
}

#endif
