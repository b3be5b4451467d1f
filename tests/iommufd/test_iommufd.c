// SPDX-License-Identifier: MIT
/*
 * The iommufd C API: IOAS, the two-window domain, map/unmap/copy and
 * their errors, attach/detach (atomic under fault injection), shared
 * pinning with pre-registration, the legacy container's state (groups,
 * its domain, EEH), accounting back to zero.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>

#include "common/alloc.h"
#include "iommufd_test.h"

#define MEM	(16 * MB)

struct fixture {
	struct stce_pe *pe[2];
	struct stce_pe *odd;		/* different capabilities */
	struct stce_iommufd *ictx;
	uint64_t mem;
	uint32_t ioas, dev[2];
};

static int setup(void **state)
{
	static struct fixture f;
	struct stce_pe_caps caps;

	memset(&f, 0, sizeof(f));
	f.pe[0] = tu_pe(0);
	f.pe[1] = tu_pe(1);
	stce_pe_caps_default(&caps);
	caps.max_levels = 4;
	assert_int_equal(stce_pe_create(&caps, 2, &f.odd), 0);
	f.mem = map_anon(MEM);
	assert_true(f.mem != 0);
	memset((void *)(uintptr_t)f.mem, 0x5a, MEM);
	assert_int_equal(stce_iommufd_create(&f.ictx), 0);
	assert_int_equal(stce_iommufd_ioas_alloc(f.ictx, &f.ioas), 0);
	assert_int_equal(stce_iommufd_bind(f.ictx, f.pe[0], &f.dev[0]), 0);
	assert_int_equal(stce_iommufd_bind(f.ictx, f.pe[1], &f.dev[1]), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	stce_fault_arm(STCE_FAULT_ALLOC, 0);
	stce_fault_arm(STCE_FAULT_PIN, 0);
	stce_iommufd_put(f->ictx);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	for (unsigned int i = 0; i < 2; i++) {
		assert_false(stce_pe_user_owned(f->pe[i]));
		stce_pe_destroy(f->pe[i]);
	}
	stce_pe_destroy(f->odd);
	unmap(f->mem, MEM);
	return 0;
}

static uint32_t make_domain(struct fixture *f)
{
	struct iommu_hwpt_spapr_tce g = test_geometry();
	uint32_t hwpt = 0;

	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), 0);
	return hwpt;
}

/* ---- IOAS and ranges ----------------------------------------------- */

static void test_ranges(void **state)
{
	struct fixture *f = *state;
	struct stce_iova_range r[2];
	uint64_t align = 0;
	uint32_t n = 2;

	/* No domain yet: no window. */
	assert_int_equal(stce_iommufd_iova_ranges(f->ictx, f->ioas, r, &n,
						  &align), 0);
	assert_int_equal(n, 0);
	assert_int_equal(align, 1);
	n = 2;
	assert_int_equal(stce_iommufd_iova_ranges(f->ictx, 999, r, &n, &align),
			 -ENOENT);
	/* A device id is not an IOAS. */
	assert_int_equal(stce_iommufd_iova_ranges(f->ictx, f->dev[0], r, &n,
						  &align), -ENOENT);

	make_domain(f);
	n = 2;
	assert_int_equal(stce_iommufd_iova_ranges(f->ictx, f->ioas, r, &n,
						  &align), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, W0_SIZE - 1);
	assert_int_equal(r[1].start, WIN1);
	assert_int_equal(r[1].last, WIN1 + W1_SIZE - 1);
	assert_int_equal(align, 64 * KB);
	/* Too little room: -EMSGSIZE and the number needed. */
	n = 1;
	assert_int_equal(stce_iommufd_iova_ranges(f->ictx, f->ioas, r, &n,
						  &align), -EMSGSIZE);
	assert_int_equal(n, 2);
}

/* ---- domains ------------------------------------------------------- */

static void test_hwpt_errors(void **state)
{
	struct fixture *f = *state;
	struct iommu_hwpt_spapr_tce g = test_geometry();
	uint32_t hwpt, other;

	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		1, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), -EOPNOTSUPP);
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, 7, &g, sizeof(g), &hwpt), -EOPNOTSUPP);
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g) - 1, &hwpt), -EINVAL);
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, NULL, sizeof(g), &hwpt), -EINVAL);
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, 0, &g, sizeof(g), &hwpt), -EINVAL);
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, 999, f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), -ENOENT);
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], 999,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), -ENOENT);
	g.flags = 1;
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), -EOPNOTSUPP);
	g = test_geometry();
	g.__reserved = 1;
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), -EOPNOTSUPP);
	g = test_geometry();
	g.window[0].page_shift = 0;
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), -EINVAL);
	/* Geometry the PE refuses, in either window: nothing stays. */
	g = test_geometry();
	g.window[1].page_shift = 13;
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), -EINVAL);
	g = test_geometry();
	g.window[0].window_size = 3 * MB;
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), -EINVAL);
	g = test_geometry();
	g.window[1].levels = 6;
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), -EINVAL);
	assert_int_equal(stce_account_locked_pages(), 0);

	hwpt = make_domain(f);
	assert_true(stce_account_locked_pages() > 0);
	/* One domain an IOAS. */
	g = test_geometry();
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &other), -EEXIST);
	/* Destroy: the IOAS is busy while it has a domain; devices go with
	 * their descriptor. */
	assert_int_equal(stce_iommufd_destroy(f->ictx, f->ioas), -EBUSY);
	assert_int_equal(stce_iommufd_destroy(f->ictx, f->dev[0]), -EBUSY);
	assert_int_equal(stce_iommufd_destroy(f->ictx, 999), -ENOENT);
	assert_int_equal(stce_iommufd_destroy(f->ictx, 0), -ENOENT);
	assert_int_equal(stce_iommufd_destroy(f->ictx, hwpt), 0);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_iommufd_destroy(f->ictx, f->ioas), 0);
	assert_int_equal(stce_iommufd_destroy(f->ictx, f->ioas), -ENOENT);
}

/* The default geometry: both windows. */
static void test_hwpt_default(void **state)
{
	struct fixture *f = *state;
	struct stce_iova_range r[2];
	uint32_t hwpt, n = 2;
	uint64_t align;

	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, 0, NULL, 0, &hwpt), 0);
	assert_int_equal(stce_iommufd_iova_ranges(f->ictx, f->ioas, r, &n,
						  &align), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].last, STCE_PE_DEFAULT_DMA32_SIZE - 1);
	assert_int_equal(r[1].start, WIN1);
	assert_int_equal(r[1].last, WIN1 + STCE_IOMMUFD_DEFAULT_DDW_SIZE - 1);
}

/* Any allocation failing while the domain is built: nothing stays. */
static void test_hwpt_fault_sweep(void **state)
{
	struct fixture *f = *state;
	struct iommu_hwpt_spapr_tce g = test_geometry();
	struct stce_iommufd_stats s0, s;
	unsigned int failures = 0;
	uint32_t hwpt;
	int ret;

	stce_iommufd_get_stats(f->ictx, &s0);
	for (unsigned long nth = 1; nth < 1000; nth++) {
		stce_fault_arm(STCE_FAULT_ALLOC, nth);
		ret = stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas, 0,
			IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt);
		stce_fault_arm(STCE_FAULT_ALLOC, 0);
		if (!ret)
			break;
		assert_int_equal(ret, -ENOMEM);
		assert_int_equal(stce_account_locked_pages(), 0);
		stce_iommufd_get_stats(f->ictx, &s);
		assert_int_equal(s.nr_objects, s0.nr_objects);
		failures++;
	}
	assert_true(failures >= 4);
	stce_iommufd_get_stats(f->ictx, &s);
	assert_int_equal(s.nr_domains, 1);
}

/* ---- map, unmap, copy ---------------------------------------------- */

static void test_map_errors(void **state)
{
	struct fixture *f = *state;
	uint64_t iova = 0, m = f->mem, done;
	uint32_t other;

	/* No domain, no window. */
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, HP,
					  &iova), -EINVAL);
	make_domain(f);
	assert_int_equal(stce_iommufd_map(f->ictx, 999, FIXED_RW, m, HP, &iova),
			 -ENOENT);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW | 8, m, HP,
					  &iova), -EOPNOTSUPP);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, 0,
					  &iova), -EINVAL);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas,
		STCE_IOAS_MAP_FIXED_IOVA, m, HP, &iova), -EINVAL);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW,
		UINT64_MAX - HP + 2, HP, &iova), -EOVERFLOW);
	iova = UINT64_MAX - HP + 2;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, HP,
					  &iova), -EOVERFLOW);
	/* Outside both windows, across a window's end, misaligned. */
	iova = W0_SIZE;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, HP,
					  &iova), -EINVAL);
	iova = W0_SIZE - HP;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, 2 * HP,
					  &iova), -EINVAL);
	iova = WIN1 + 4 * KB;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, HP,
					  &iova), -EINVAL);
	iova = WIN1;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m + 4 * KB,
					  HP, &iova), -EINVAL);
	/* Memory that is not there. */
	iova = 0;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, 0x10000,
					  HP, &iova), -EFAULT);
	/* Pinning fails. */
	stce_fault_arm(STCE_FAULT_PIN, 1);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, HP,
					  &iova), -ENOMEM);
	stce_fault_arm(STCE_FAULT_PIN, 0);
	/* Nothing of all that stayed. */
	assert_int_equal(stce_prereg_count(), 0);

	/* Overlap. */
	iova = 0;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, 2 * HP,
					  &iova), 0);
	iova = HP;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, HP,
					  &iova), -EEXIST);
	/* Unmap: nothing there, a split, length 0, wrap. */
	assert_int_equal(stce_iommufd_unmap(f->ictx, f->ioas, WIN1, HP, &done),
			 -ENOENT);
	assert_int_equal(stce_iommufd_unmap(f->ictx, f->ioas, 0, HP, &done),
			 -ENOENT);
	assert_int_equal(stce_iommufd_unmap(f->ictx, f->ioas, 0, 0, &done),
			 -EINVAL);
	assert_int_equal(stce_iommufd_unmap(f->ictx, f->ioas, 2, UINT64_MAX,
					    &done), -EOVERFLOW);
	assert_int_equal(stce_iommufd_unmap(f->ictx, 999, 0, HP, &done),
			 -ENOENT);
	assert_int_equal(stce_iommufd_unmap(f->ictx, f->ioas, 0, 4 * HP, &done),
			 0);
	assert_int_equal(done, 2 * HP);
	/* Unmap all of nothing: 0. */
	assert_int_equal(stce_iommufd_unmap(f->ictx, f->ioas, 0, UINT64_MAX,
					    &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(stce_prereg_count(), 0);

	/* Copy: not an exact mapping; unknown ids; destination with no domain. */
	iova = 0;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, 2 * HP,
					  &iova), 0);
	assert_int_equal(stce_iommufd_ioas_alloc(f->ictx, &other), 0);
	assert_int_equal(stce_iommufd_copy(f->ictx, FIXED_RW, f->ioas, f->ioas,
					   0, HP, &iova), -ENOENT);
	assert_int_equal(stce_iommufd_copy(f->ictx, FIXED_RW, 999, f->ioas,
					   0, 2 * HP, &iova), -ENOENT);
	assert_int_equal(stce_iommufd_copy(f->ictx, FIXED_RW, f->ioas, 999,
					   0, 2 * HP, &iova), -ENOENT);
	assert_int_equal(stce_iommufd_copy(f->ictx, FIXED_RW, other, f->ioas,
					   0, 2 * HP, &iova), -EINVAL);
	/* Copy in place onto itself: the IOVA is taken. */
	iova = 0;
	assert_int_equal(stce_iommufd_copy(f->ictx, FIXED_RW, f->ioas, f->ioas,
					   0, 2 * HP, &iova), -EEXIST);
}

static void test_map_both_windows(void **state)
{
	struct fixture *f = *state;
	struct stce_iommufd_stats s;
	uint64_t iova, done, charged, m = f->mem;
	uint32_t hwpt;
	uint8_t buf[16];

	hwpt = make_domain(f);
	charged = stce_account_locked_pages();
	iova = 0x10000;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m, 4 * HP,
					  &iova), 0);
	iova = WIN1 + 0x100000;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, m + 4 * HP,
					  4 * HP, &iova), 0);
	/* Automatic IOVA: the lowest free one, window 0 first. */
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, RW, m + 8 * HP,
					  HP, &iova), 0);
	assert_int_equal(iova, 0);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, RW, m + 9 * HP,
					  HP, &iova), 0);
	assert_int_equal(iova, 0x50000);
	/* 4K-aligned memory only fits the 4K window. */
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, RW, m + 10 * HP +
					  4 * KB, 4 * KB, &iova), 0);
	assert_true(iova < W0_SIZE);
	/* Everything mapped so far sits in one pinned stretch of 16 pages? No:
	 * each map pinned what was not covered yet; 11 host pages in all. */
	assert_int_equal(stce_account_locked_pages(), charged + 11);
	stce_iommufd_get_stats(f->ictx, &s);
	assert_int_equal(s.nr_areas, 5);

	/* The device sees both windows once attached. */
	assert_int_equal(stce_iommufd_attach(f->ictx, f->dev[0], &hwpt), 0);
	assert_non_null(stce_pe_window_table(f->pe[0], 0));
	assert_non_null(stce_pe_window_table(f->pe[0], 1));
	memset((void *)(uintptr_t)m, 0x11, HP);
	memset((void *)(uintptr_t)(m + 4 * HP), 0x22, HP);
	assert_int_equal(stce_pe_dma_read(f->pe[0], 0x10000, buf, sizeof(buf)),
			 0);
	assert_int_equal(buf[0], 0x11);
	assert_int_equal(stce_pe_dma_read(f->pe[0], WIN1 + 0x100000, buf,
					  sizeof(buf)), 0);
	assert_int_equal(buf[0], 0x22);

	/* Read-only mapping: a DMA write freezes the PE. */
	iova = WIN1;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas,
		STCE_IOAS_MAP_FIXED_IOVA | STCE_IOAS_MAP_READABLE, m + 12 * HP,
		HP, &iova), 0);
	assert_int_equal(stce_pe_dma_write(f->pe[0], WIN1, buf, 8), -EIO);
	assert_int_equal(stce_pe_eeh_op(f->pe[0], STCE_EEH_PE_UNFREEZE_DMA), 0);

	assert_int_equal(stce_iommufd_unmap(f->ictx, f->ioas, 0, UINT64_MAX,
					    &done), 0);
	assert_int_equal(done, 4 * HP + 4 * HP + HP + HP + 4 * KB + HP);
	assert_int_equal(stce_account_locked_pages(), charged);
	assert_int_equal(stce_prereg_count(), 0);
	/* Unmapped: a DMA faults. */
	assert_int_equal(stce_pe_dma_read(f->pe[0], 0x10000, buf, 8), -EIO);
	assert_int_equal(stce_pe_eeh_op(f->pe[0], STCE_EEH_PE_UNFREEZE_DMA), 0);
	/* HWPT busy while attached. */
	assert_int_equal(stce_iommufd_destroy(f->ictx, hwpt), -EBUSY);
}

static void test_auto_iova_full(void **state)
{
	struct fixture *f = *state;
	struct iommu_hwpt_spapr_tce g = test_geometry();
	uint64_t iova;
	uint32_t hwpt;

	/* Tiny windows: 64K of 4K pages, 64K of 64K pages. */
	g.window[0].window_size = 64 * KB;
	g.window[1].window_size = 64 * KB;
	g.window[1].levels = 1;
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[0], f->ioas,
		0, IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), 0);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, RW, f->mem, HP,
					  &iova), 0);
	assert_int_equal(iova, 0);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, RW, f->mem, HP,
					  &iova), 0);
	assert_int_equal(iova, WIN1);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, RW, f->mem, HP,
					  &iova), -ENOSPC);
	/* Not aligned for any window: -EINVAL. */
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, RW, f->mem + 1,
					  HP, &iova), -EINVAL);
	/* The same memory twice: one region, pinned once. */
	assert_int_equal(stce_prereg_count(), 1);
}

/* COPY shares the pins; a second domain over the same memory too. */
static void test_copy_pins_once(void **state)
{
	struct fixture *f = *state;
	struct iommu_hwpt_spapr_tce g = test_geometry();
	uint64_t iova = WIN1, dst = 0, done, before;
	uint32_t other, hwpt2;

	make_domain(f);
	assert_int_equal(stce_iommufd_ioas_alloc(f->ictx, &other), 0);
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, f->dev[1], other, 0,
		IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt2), 0);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, f->mem,
					  8 * HP, &iova), 0);
	before = stce_account_locked_pages();
	assert_int_equal(stce_prereg_count(), 1);
	assert_int_equal(stce_iommufd_copy(f->ictx, FIXED_RW, other, f->ioas,
					   WIN1, 8 * HP, &dst), 0);
	assert_int_equal(dst, 0);
	assert_int_equal(stce_account_locked_pages(), before);
	assert_int_equal(stce_prereg_count(), 1);
	/* Automatic destination. */
	assert_int_equal(stce_iommufd_copy(f->ictx, RW, other, f->ioas,
					   WIN1, 8 * HP, &dst), 0);
	assert_int_equal(dst, 8 * HP);
	/* The source goes; the copies keep the memory pinned. */
	assert_int_equal(stce_iommufd_unmap(f->ictx, f->ioas, WIN1, 8 * HP,
					    &done), 0);
	assert_int_equal(stce_prereg_count(), 1);
	assert_int_equal(stce_iommufd_unmap(f->ictx, other, 0, UINT64_MAX,
					    &done), 0);
	assert_int_equal(done, 16 * HP);
	assert_int_equal(stce_prereg_count(), 0);
}

/* Memory pre-registered by someone else is used, not pinned again; a
 * map that runs past the region registers only the rest. */
static void test_prereg_shared(void **state)
{
	struct fixture *f = *state;
	struct stce_region *r;
	uint64_t iova = WIN1, done, before;

	make_domain(f);
	assert_int_equal(stce_prereg_register(f->mem, 4 * HP, &r), 0);
	before = stce_account_locked_pages();
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, f->mem,
					  4 * HP, &iova), 0);
	assert_int_equal(stce_account_locked_pages(), before);
	assert_int_equal(stce_region_users(r), 2);
	iova = WIN1 + GB / 2;
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, f->mem,
					  6 * HP, &iova), 0);
	assert_int_equal(stce_account_locked_pages(), before + 2);
	assert_int_equal(stce_prereg_count(), 2);
	assert_int_equal(stce_region_users(r), 2);
	assert_int_equal(stce_iommufd_unmap(f->ictx, f->ioas, 0, UINT64_MAX,
					    &done), 0);
	assert_int_equal(stce_region_users(r), 1);
	assert_int_equal(stce_prereg_count(), 1);
	assert_int_equal(stce_prereg_put(r), 0);
}

/* ---- attach and detach --------------------------------------------- */

static void test_attach(void **state)
{
	struct fixture *f = *state;
	uint32_t hwpt, pt, odd;

	/* Attach to a bare IOAS: a domain with the default geometry. */
	pt = f->ioas;
	assert_int_equal(stce_iommufd_attach(f->ictx, f->dev[0], &pt), 0);
	assert_int_not_equal(pt, f->ioas);
	hwpt = pt;
	assert_true(stce_pe_user_owned(f->pe[0]));
	assert_non_null(stce_pe_window_table(f->pe[0], 0));
	assert_non_null(stce_pe_window_table(f->pe[0], 1));
	/* Again: 0, same HWPT. By the HWPT id: the same. */
	pt = f->ioas;
	assert_int_equal(stce_iommufd_attach(f->ictx, f->dev[0], &pt), 0);
	assert_int_equal(pt, hwpt);
	pt = hwpt;
	assert_int_equal(stce_iommufd_attach(f->ictx, f->dev[1], &pt), 0);
	/* Both PEs share the domain's tables. */
	assert_ptr_equal(stce_pe_window_table(f->pe[0], 1),
			 stce_pe_window_table(f->pe[1], 1));
	/* Errors: unknown device, unknown pt, attached elsewhere. */
	pt = hwpt;
	assert_int_equal(stce_iommufd_attach(f->ictx, 999, &pt), -ENOENT);
	pt = 999;
	assert_int_equal(stce_iommufd_attach(f->ictx, f->dev[0], &pt), -ENOENT);
	{
		uint32_t ioas2;

		assert_int_equal(stce_iommufd_ioas_alloc(f->ictx, &ioas2), 0);
		pt = ioas2;
		assert_int_equal(stce_iommufd_attach(f->ictx, f->dev[0], &pt),
				 -EBUSY);
		/* The automatic domain nobody joined went again. */
		assert_int_equal(stce_iommufd_destroy(f->ictx, ioas2), 0);
	}
	/* Different capabilities: -EPERM, the PE untouched. */
	assert_int_equal(stce_iommufd_bind(f->ictx, f->odd, &odd), 0);
	assert_int_equal(stce_iommufd_bind(f->ictx, f->odd, &pt), -EBUSY);
	pt = hwpt;
	assert_int_equal(stce_iommufd_attach(f->ictx, odd, &pt), -EPERM);
	assert_false(stce_pe_user_owned(f->odd));
	assert_int_equal(stce_iommufd_unbind(f->ictx, odd), 0);
	assert_int_equal(stce_iommufd_unbind(f->ictx, odd), -ENOENT);

	/* Detach: both windows go, the PE is the platform's again. */
	assert_int_equal(stce_iommufd_detach(f->ictx, f->dev[0]), 0);
	assert_false(stce_pe_user_owned(f->pe[0]));
	assert_null(stce_pe_window_table(f->pe[0], 1));
	assert_int_equal(stce_iommufd_detach(f->ictx, f->dev[0]), -EINVAL);
	assert_int_equal(stce_iommufd_detach(f->ictx, 999), -ENOENT);
	/* Unbind detaches. */
	assert_int_equal(stce_iommufd_unbind(f->ictx, f->dev[1]), 0);
	assert_false(stce_pe_user_owned(f->pe[1]));
	assert_int_equal(stce_iommufd_destroy(f->ictx, hwpt), 0);
}

/* The PE is someone else's (a container, the legacy path): -EBUSY. */
static void test_attach_owned(void **state)
{
	struct fixture *f = *state;
	uint32_t pt;

	pt = make_domain(f);
	assert_int_equal(stce_pe_take_ownership(f->pe[0]), 0);
	assert_int_equal(stce_iommufd_attach(f->ictx, f->dev[0], &pt), -EBUSY);
	assert_int_equal(stce_pe_release_ownership(f->pe[0]), 0);
}

/*
 * Attach with every allocation along the way failing in turn, among them
 * the second window's: the PE ends in neither window, back with the
 * platform, and the domain and the account are as before.
 */
static void test_attach_fault_sweep(void **state)
{
	struct fixture *f = *state;
	unsigned int failures = 0;
	uint64_t charged, iova = WIN1;
	struct stce_table *t0;
	uint32_t hwpt, pt;
	uint8_t byte;
	int ret;

	hwpt = make_domain(f);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, f->mem,
					  HP, &iova), 0);
	/* Another group in the domain already: the windows' tables. */
	pt = hwpt;
	assert_int_equal(stce_iommufd_attach(f->ictx, f->dev[1], &pt), 0);
	t0 = stce_pe_window_table(f->pe[1], 0);
	charged = stce_account_locked_pages();
	for (unsigned long nth = 1; nth < 1000; nth++) {
		pt = hwpt;
		stce_fault_arm(STCE_FAULT_ALLOC, nth);
		ret = stce_iommufd_attach(f->ictx, f->dev[0], &pt);
		stce_fault_arm(STCE_FAULT_ALLOC, 0);
		if (!ret)
			break;
		assert_int_equal(ret, -ENOMEM);
		assert_false(stce_pe_user_owned(f->pe[0]));
		/* Window 0 is the platform's table again, window 1 empty. */
		assert_ptr_not_equal(stce_pe_window_table(f->pe[0], 0), t0);
		assert_null(stce_pe_window_table(f->pe[0], 1));
		assert_int_equal(stce_account_locked_pages(), charged);
		/* The platform's window is back: DMA there does not reach
		 * the domain's memory (the entry is empty: freeze). */
		assert_int_equal(stce_pe_dma_read(f->pe[0], WIN1, &byte, 1),
				 -EIO);
		assert_int_equal(stce_pe_eeh_op(f->pe[0],
						STCE_EEH_PE_UNFREEZE_DMA), 0);
		failures++;
	}
	/* At least: window 0's and window 1's programming failed once each. */
	assert_true(failures >= 2);
	assert_ptr_equal(stce_pe_window_table(f->pe[0], 0), t0);
	assert_ptr_equal(stce_pe_window_table(f->pe[0], 1),
			 stce_pe_window_table(f->pe[1], 1));
	assert_int_equal(stce_pe_dma_read(f->pe[0], WIN1, &byte, 1), 0);
	assert_int_equal(byte, 0x5a);
}

/* Tearing the context down with everything live returns everything. */
static void test_teardown_live(void **state)
{
	struct fixture *f = *state;
	uint64_t iova = 0;
	uint32_t pt;

	pt = make_domain(f);
	assert_int_equal(stce_iommufd_attach(f->ictx, f->dev[0], &pt), 0);
	assert_int_equal(stce_iommufd_map(f->ictx, f->ioas, FIXED_RW, f->mem,
					  4 * HP, &iova), 0);
	assert_true(stce_account_locked_pages() > 0);
	/* teardown() checks the rest. */
}

/* ---- the legacy container ----------------------------------------- */

/* Each state the compat calls check: no group, no domain, made. */
static void test_compat_state(void **state)
{
	struct fixture *f = *state;
	struct stce_container *c = NULL;
	int get_state = stce_pe_eeh_op(f->odd, STCE_EEH_PE_GET_STATE);

	assert_true(get_state >= 0);
	assert_int_equal(stce_iommufd_compat_nr_groups(f->ictx), 0);
	assert_int_equal(stce_iommufd_compat_set_iommu(f->ictx), -EINVAL);
	assert_int_equal(stce_iommufd_compat_eeh_op(f->ictx,
		STCE_EEH_PE_GET_STATE), -ENODEV);
	assert_int_equal(stce_iommufd_compat_eeh_inject(f->ictx, 0, 0, 0, 0),
			 -ENODEV);
	assert_int_equal(stce_iommufd_compat_group_detach(f->ictx, f->odd),
			 -ENOENT);
	assert_int_equal(stce_iommufd_compat_group_attach(f->ictx, f->odd), 0);
	assert_int_equal(stce_iommufd_compat_group_attach(f->ictx, f->odd),
			 -EBUSY);
	assert_int_equal(stce_iommufd_compat_nr_groups(f->ictx), 1);
	/* A group, no domain yet: EEH reaches the group already. */
	assert_int_equal(stce_iommufd_compat_container(f->ictx, &c), -EINVAL);
	assert_null(c);
	assert_int_equal(stce_iommufd_compat_eeh_op(f->ictx,
		STCE_EEH_PE_GET_STATE), get_state);
	assert_false(stce_pe_user_owned(f->odd));

	assert_int_equal(stce_iommufd_compat_set_iommu(f->ictx), 0);
	assert_int_equal(stce_iommufd_compat_set_iommu(f->ictx), -EINVAL);
	assert_true(stce_pe_user_owned(f->odd));
	assert_int_equal(stce_iommufd_compat_container(f->ictx, &c), 0);
	assert_non_null(c);
	assert_int_equal(stce_container_type(c), STCE_IOMMU_V2);
	/* EEH is the group's, checked by the PE: a bad type, then a freeze. */
	assert_int_equal(stce_iommufd_compat_eeh_inject(f->ictx, 9, 0, 0, 0),
			 -ERANGE);
	assert_int_equal(stce_iommufd_compat_eeh_inject(f->ictx,
		STCE_EEH_ERR_TYPE_32, 0, 0, 0), 0);
	assert_int_equal(stce_pe_eeh_op(f->odd, STCE_EEH_PE_GET_STATE),
			 STCE_EEH_PE_STATE_STOPPED);
	assert_int_equal(stce_iommufd_compat_eeh_op(f->ictx,
		STCE_EEH_PE_ENABLE), 0);
	assert_int_equal(stce_pe_eeh_op(f->odd, STCE_EEH_PE_GET_STATE),
			 get_state);

	/* The group leaves; the domain stays, and EEH has no group. */
	assert_int_equal(stce_iommufd_compat_group_detach(f->ictx, f->odd), 0);
	assert_false(stce_pe_user_owned(f->odd));
	assert_int_equal(stce_iommufd_compat_nr_groups(f->ictx), 0);
	assert_int_equal(stce_iommufd_compat_container(f->ictx, &c), 0);
	assert_int_equal(stce_iommufd_compat_eeh_op(f->ictx,
		STCE_EEH_PE_GET_STATE), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hwpt_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hwpt_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hwpt_fault_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_both_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_iova_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_pins_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prereg_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_owned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_fault_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compat_state, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
