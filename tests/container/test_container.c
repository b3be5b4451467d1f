// SPDX-License-Identifier: MIT
/*
 * The container's C API in strict mode (and the kernel-mode differences):
 * every input check, charges to the last page, teardown to zero.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/table.h>

#include "common/alloc.h"
#include "common/grace.h"
#include "../lib/prereg_test.h"
#include "../lib/unpriv.h"

#define GB		(1024ULL * MB)
#define WIN64		(1ULL << 59)
#define DEF_PAGES	(8 * MB / HP)	/* 2G of 4K pages: 4 MiB, twice */

struct fixture {
	struct stce_pe *pe[2];
	struct stce_container *c;
	uint64_t mem;		/* 16 MiB, 64K aligned */
};

static struct stce_pe *make_pe(unsigned int group, unsigned int max_windows)
{
	struct stce_pe_caps caps;
	struct stce_pe *pe = NULL;

	stce_pe_caps_default(&caps);
	caps.max_windows = max_windows;
	assert_int_equal(stce_pe_create(&caps, group, &pe), 0);
	return pe;
}

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.pe[0] = make_pe(0, 2);
	f.pe[1] = make_pe(1, 2);
	f.mem = map_anon(16 * MB);
	assert_true(f.mem != 0);
	memset((void *)(uintptr_t)f.mem, 0x5a, 16 * MB);
	*state = &f;
	return 0;
}

/* Whatever a test did, nothing may be left behind. */
static int teardown(void **state)
{
	struct fixture *f = *state;

	stce_container_destroy(f->c);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	assert_int_equal(stce_pin_pages(), 0);
	assert_false(stce_pe_user_owned(f->pe[0]));
	assert_false(stce_pe_user_owned(f->pe[1]));
	stce_pe_destroy(f->pe[0]);
	stce_pe_destroy(f->pe[1]);
	unmap(f->mem, 16 * MB);
	return 0;
}

static struct stce_container *make(struct fixture *f, unsigned int type,
				   unsigned int flags)
{
	assert_int_equal(stce_container_create(type, flags, &f->c), 0);
	assert_int_equal(stce_container_attach(f->c, f->pe[0]), 0);
	return f->c;
}

/* v2 with 16 MiB registered and a 1 GiB DDW window of 64K pages. */
static struct stce_container *make_v2(struct fixture *f, unsigned int flags)
{
	uint64_t start = 0;

	make(f, STCE_IOMMU_V2, flags);
	assert_int_equal(stce_container_register(f->c, f->mem, 16 * MB), 0);
	assert_int_equal(stce_container_create_window(f->c, 16, GB, 1, &start), 0);
	assert_int_equal(start, WIN64);
	return f->c;
}

static struct stce_region *region_of(uint64_t ua)
{
	return stce_prereg_find_hpa(ua);
}

static void create_refuses_bad_input(void **state)
{
	struct stce_container *c = (struct stce_container *)0x1;

	(void)state;
	assert_int_equal(stce_container_create(1, 0, &c), -EINVAL);
	assert_int_equal(stce_container_create(8, 0, &c), -EINVAL);
	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0x2, &c), -EINVAL);
	assert_ptr_equal(c, (struct stce_container *)0x1);
	stce_fault_arm(STCE_FAULT_ALLOC, 1);
	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &c), -ENOMEM);
	stce_fault_arm(STCE_FAULT_ALLOC, 0);
	stce_container_destroy(NULL);
}

static void attach_rules(void **state)
{
	struct fixture *f = *state;
	struct stce_container *other = NULL;
	struct stce_pe *narrow = make_pe(7, 1), *odd;
	struct stce_pe_caps caps;

	make(f, STCE_IOMMU_V1, 0);
	assert_int_equal(stce_container_type(f->c), STCE_IOMMU_V1);
	assert_true(stce_pe_user_owned(f->pe[0]));
	/* v1: one group only; the same group twice is busy too. */
	assert_int_equal(stce_container_attach(f->c, f->pe[1]), -EBUSY);
	assert_int_equal(stce_container_attach(f->c, f->pe[0]), -EBUSY);
	assert_int_equal(stce_container_nr_groups(f->c), 1);
	assert_false(stce_pe_user_owned(f->pe[1]));

	/* A PE another container owns. */
	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &other), 0);
	assert_int_equal(stce_container_attach(other, f->pe[0]), -EBUSY);
	/* v2 needs dynamic windows. */
	assert_int_equal(stce_container_attach(other, narrow), -EINVAL);
	assert_int_equal(stce_container_attach(other, f->pe[1]), 0);
	assert_int_equal(stce_container_attach(other, f->pe[1]), -EBUSY);
	/* A group with other capabilities is incompatible. */
	stce_pe_caps_default(&caps);
	caps.max_levels = 4;
	assert_int_equal(stce_pe_create(&caps, 8, &odd), 0);
	assert_int_equal(stce_container_attach(other, odd), -EPERM);
	assert_false(stce_pe_user_owned(odd));

	/* Detach gives the PE back to the platform. */
	assert_int_equal(stce_container_detach(other, f->pe[0]), -ENOENT);
	assert_int_equal(stce_container_detach(other, f->pe[1]), 0);
	assert_false(stce_pe_user_owned(f->pe[1]));
	assert_int_equal(stce_container_detach(other, f->pe[1]), -ENOENT);
	stce_container_destroy(other);
	stce_pe_destroy(narrow);
	stce_pe_destroy(odd);
}

static void info_v1_and_v2(void **state)
{
	struct fixture *f = *state;
	struct stce_container_info info;
	struct stce_container *v2 = NULL;

	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &v2), 0);
	assert_int_equal(stce_container_get_info(v2, &info), -ENXIO);
	assert_int_equal(stce_container_attach(v2, f->pe[1]), 0);
	assert_int_equal(stce_container_get_info(v2, &info), 0);
	assert_int_equal(info.flags, 1);
	assert_int_equal(info.dma32_window_start, 0);
	assert_int_equal(info.dma32_window_size, 0x80000000u);
	assert_int_equal(info.pgsizes, 0x40211000ULL);
	assert_int_equal(info.max_dynamic_windows_supported, 2);
	assert_int_equal(info.levels, 5);
	stce_container_destroy(v2);

	make(f, STCE_IOMMU_V1, 0);
	assert_int_equal(stce_container_get_info(f->c, &info), 0);
	assert_int_equal(info.flags, 0);
	assert_int_equal(info.dma32_window_size, 0x80000000u);
	assert_int_equal(info.pgsizes, 0);
	assert_int_equal(info.levels, 0);
}

static void v1_enable_charges_the_window(void **state)
{
	struct fixture *f = *state;
	struct stce_container *empty = NULL;

	assert_int_equal(stce_container_create(STCE_IOMMU_V1, 0, &empty), 0);
	assert_int_equal(stce_container_enable(empty), -ENODEV);
	assert_int_equal(stce_container_disable(empty), 0);
	stce_container_destroy(empty);

	make(f, STCE_IOMMU_V1, 0);
	assert_false(stce_container_enabled(f->c));
	assert_int_equal(stce_container_map(f->c, f->mem, 0, HP,
					    STCE_MAP_READ), -EPERM);
	assert_int_equal(stce_container_enable(f->c), 0);
	assert_int_equal(stce_account_locked_pages(), 2 * GB / HP);
	assert_int_equal(stce_container_enable(f->c), -EBUSY);
	assert_int_equal(stce_account_locked_pages(), 2 * GB / HP);
	/* v2-only calls. */
	assert_int_equal(stce_container_register(f->c, f->mem, HP), -ENOTTY);
	assert_int_equal(stce_container_unregister(f->c, f->mem, HP), -ENOTTY);
	assert_int_equal(stce_container_create_window(f->c, 16, GB, 1, NULL), -ENOTTY);
	assert_int_equal(stce_container_remove_window(f->c, 0), -ENOTTY);
	assert_int_equal(stce_container_disable(f->c), 0);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_container_disable(f->c), 0);
}

static int enable_over_limit(void)
{
	struct stce_pe *pe = make_pe(3, 2);
	struct stce_container *c = NULL;
	int ret;

	if (stce_container_create(STCE_IOMMU_V1, 0, &c) ||
	    stce_container_attach(c, pe))
		return 10;
	ret = stce_container_enable(c);
	if (ret != -ENOMEM || stce_account_locked_pages() != 0)
		return 11;
	/* A DDW-sized table past the limit fails the same way (v2). */
	stce_container_destroy(c);
	if (stce_container_create(STCE_IOMMU_V2, 0, &c) ||
	    stce_container_attach(c, pe))
		return 12;
	ret = stce_container_create_window(c, 16, 1ULL << 40, 2, NULL);
	if (ret != -ENOMEM || stce_account_locked_pages() != 0)
		return 13;
	stce_container_destroy(c);
	stce_pe_destroy(pe);
	return 0;
}

static void limits_hold_for_the_unprivileged(void **state)
{
	(void)state;
	/* 4 MiB of RLIMIT_MEMLOCK (below what a test sandbox may raise). */
	assert_int_equal(run_unprivileged(4 * MB, enable_over_limit), 0);
}

static void v2_only_calls_on_v2(void **state)
{
	struct fixture *f = *state;

	make(f, STCE_IOMMU_V2, 0);
	assert_int_equal(stce_container_enable(f->c), -ENOTTY);
	assert_int_equal(stce_container_disable(f->c), -ENOTTY);
	/* Nothing registered yet: MAP and UNMAP are not allowed. */
	assert_int_equal(stce_container_map(f->c, f->mem, 0, HP, STCE_MAP_READ), -EPERM);
	assert_int_equal(stce_container_unmap(f->c, 0, HP), -EPERM);
}

static void register_rules(void **state)
{
	struct fixture *f = *state;
	struct stce_container_stats s;

	make(f, STCE_IOMMU_V2, 0);
	assert_int_equal(stce_container_register(f->c, f->mem + 4096, HP), -EINVAL);
	assert_int_equal(stce_container_register(f->c, f->mem, HP + 4096), -EINVAL);
	assert_int_equal(stce_container_register(f->c, f->mem, 0), -EINVAL);
	assert_int_equal(stce_container_register(f->c, f->mem, 4 * MB), 0);
	assert_int_equal(stce_account_locked_pages(), 4 * MB / HP);
	assert_int_equal(stce_container_register(f->c, f->mem, 4 * MB), -EBUSY);
	assert_int_equal(stce_container_register(f->c, f->mem + HP, HP), -EINVAL);
	assert_int_equal(stce_account_locked_pages(), 4 * MB / HP);
	stce_container_get_stats(f->c, &s);
	assert_int_equal(s.nr_registered, 1);

	assert_int_equal(stce_container_unregister(f->c, f->mem + 4096, HP), -EINVAL);
	assert_int_equal(stce_container_unregister(f->c, f->mem, 2 * MB), -ENOENT);
	assert_int_equal(stce_container_unregister(f->c, f->mem, 4 * MB), 0);
	assert_int_equal(stce_container_unregister(f->c, f->mem, 4 * MB), -ENOENT);
	assert_int_equal(stce_account_locked_pages(), 0);
	/* Registering once made MAP legal for good, as on the kernel. */
	assert_int_equal(stce_container_map(f->c, f->mem, 0, HP, STCE_MAP_READ), -EINVAL);
}

static void register_zero_size_differs_in_kernel_mode(void **state)
{
	struct fixture *f = *state;

	make(f, STCE_IOMMU_V2, STCE_CONTAINER_KERNEL_QUIRKS);
	assert_int_equal(stce_container_register(f->c, f->mem, 0), -ENOMEM);
}

static void windows_are_created_and_charged_exactly(void **state)
{
	struct fixture *f = *state;
	struct stce_container_stats s;
	uint64_t start = 1, before;

	make(f, STCE_IOMMU_V2, 0);
	stce_container_get_stats(f->c, &s);
	assert_true(s.default_window_pending);
	/* Bad geometry: nothing created, nothing charged... */
	assert_int_equal(stce_container_create_window(f->c, 13, GB, 1, &start), -EINVAL);
	/* ...but the pending default window was created first. */
	stce_container_get_stats(f->c, &s);
	assert_false(s.default_window_pending);
	assert_int_equal(s.window[0].size, 2 * GB);
	assert_int_equal(s.window[0].page_shift, 12);
	assert_int_equal(stce_account_locked_pages(), DEF_PAGES);
	before = stce_account_locked_pages();
	assert_int_equal(stce_container_create_window(f->c, 24, GB, 1, &start), -EINVAL);
	assert_int_equal(stce_container_create_window(f->c, 16, GB, 0, &start), -EINVAL);
	assert_int_equal(stce_container_create_window(f->c, 16, GB, 6, &start), -EINVAL);
	assert_int_equal(stce_container_create_window(f->c, 16, 3 * GB, 1, &start), -EINVAL);
	assert_int_equal(stce_container_create_window(f->c, 16, 32 * 1024, 1, &start), -EINVAL);
	/* The 55-bit rule fails after the charge; we take it back. */
	assert_int_equal(stce_container_create_window(f->c, 16, 64 * GB, 3, &start), -EINVAL);
	assert_int_equal(start, 1);
	assert_int_equal(stce_account_locked_pages(), before);

	assert_int_equal(stce_container_create_window(f->c, 16, 1ULL << 40, 2, &start), 0);
	assert_int_equal(start, WIN64);
	assert_int_equal(stce_account_locked_pages(), before + 268566528 / HP);
	assert_int_equal(stce_container_create_window(f->c, 16, GB, 1, &start), -ENOSPC);
	assert_int_equal(stce_container_create_window(f->c, 13, GB, 0, &start), -ENOSPC);
	stce_container_get_stats(f->c, &s);
	assert_int_equal(s.window[1].start, WIN64);
	assert_int_equal(s.window[1].levels, 2);
	assert_true(s.window[1].allocated_bytes <= 268566528);

	/* Remove by any address inside; then slot 0 is reused at 0. */
	assert_int_equal(stce_container_remove_window(f->c, WIN64 - 1), -EINVAL);
	assert_int_equal(stce_container_remove_window(f->c, 0x1234), 0);
	assert_int_equal(stce_container_remove_window(f->c, 0x1234), -EINVAL);
	assert_int_equal(stce_account_locked_pages(), 268566528 / HP);
	assert_int_equal(stce_container_create_window(f->c, 21, 256 * GB, 2, &start), 0);
	assert_int_equal(start, 0);
	assert_int_equal(stce_container_remove_window(f->c, WIN64 + GB), 0);
	assert_int_equal(stce_container_remove_window(f->c, 0), 0);
	assert_int_equal(stce_account_locked_pages(), 0);
}

static void pending_default_window_goes_by_address_zero(void **state)
{
	struct fixture *f = *state;
	struct stce_container_stats s;
	uint64_t start;
	struct stce_container *none = NULL;

	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &none), 0);
	assert_int_equal(stce_container_create_window(none, 16, GB, 1, &start), -ENXIO);
	assert_int_equal(stce_container_remove_window(none, 0), -ENXIO);
	stce_container_destroy(none);

	make(f, STCE_IOMMU_V2, 0);
	assert_int_equal(stce_container_remove_window(f->c, 0x1234), -EINVAL);
	assert_int_equal(stce_container_remove_window(f->c, 0), 0);
	stce_container_get_stats(f->c, &s);
	assert_false(s.default_window_pending);
	assert_int_equal(s.window[0].size, 0);
	/* The next window takes slot 0, at bus address 0. */
	assert_int_equal(stce_container_create_window(f->c, 16, GB, 1, &start), 0);
	assert_int_equal(start, 0);
	assert_int_equal(stce_account_locked_pages(), 262144 / HP);
}

/*
 * The hypervisor's window calls: a slot's table, the window a guest table
 * fits (each of the three rules refuses on its own), the group test and
 * the caps.
 */
static void hypervisor_finds_its_windows(void **state)
{
	struct fixture *f = *state;
	struct stce_container_stats s;
	struct stce_table *t = (struct stce_table *)0x1, *t0;
	unsigned int num = 7;
	struct stce_container *none = NULL;
	uint64_t start;

	/* No group: no window, whatever the geometry. */
	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &none), 0);
	assert_int_equal(stce_container_find_window(none, 0, 12, 2 * GB, &num, &t),
			 -EINVAL);
	stce_container_destroy(none);

	make(f, STCE_IOMMU_V2, 0);
	assert_null(stce_container_window_table(f->c, 0));
	assert_null(stce_container_window_table(f->c, 1));
	assert_null(stce_container_window_table(f->c, 2));
	assert_null(stce_container_window_table(f->c, UINT32_MAX));
	/* The pending default window cannot be made: its error, no window. */
	stce_fault_arm(STCE_FAULT_ALLOC, 1);
	assert_int_equal(stce_container_find_window(f->c, 0, 12, 2 * GB, &num, &t),
			 -ENOMEM);
	stce_fault_arm(STCE_FAULT_ALLOC, 0);
	stce_container_get_stats(f->c, &s);
	assert_true(s.default_window_pending);
	assert_int_equal(stce_account_locked_pages(), 0);

	/* Made on the way: the default window of 4K pages at bus 0. */
	assert_int_equal(stce_container_find_window(f->c, 0, 12, 2 * GB, &num, &t), 0);
	assert_int_equal(num, 0);
	t0 = stce_container_window_table(f->c, 0);
	assert_non_null(t0);
	assert_ptr_equal(t, t0);
	stce_container_get_stats(f->c, &s);
	assert_false(s.default_window_pending);
	/* A larger guest page and a smaller guest table fit too. */
	assert_int_equal(stce_container_find_window(f->c, 0, 16, GB, &num, &t), 0);
	assert_ptr_equal(t, t0);
	/* Each rule refuses: smaller guest page, other start, larger table. */
	num = 7;
	t = NULL;
	assert_int_equal(stce_container_find_window(f->c, 0, 11, 2 * GB, &num, &t),
			 -EINVAL);
	assert_int_equal(stce_container_find_window(f->c, 4096, 12, GB, &num, &t),
			 -EINVAL);
	assert_int_equal(stce_container_find_window(f->c, 0, 12, 2 * GB + 4096,
						    &num, &t), -EINVAL);
	assert_int_equal(num, 7);
	assert_null(t);

	/* The DDW slot: found by its own start and page, gone with it. */
	assert_int_equal(stce_container_create_window(f->c, 16, GB, 1, &start), 0);
	assert_int_equal(stce_container_find_window(f->c, WIN64, 16, GB, &num, &t), 0);
	assert_int_equal(num, 1);
	assert_ptr_equal(t, stce_container_window_table(f->c, 1));
	assert_ptr_not_equal(t, t0);
	assert_int_equal(stce_container_find_window(f->c, WIN64, 12, GB, &num, &t),
			 -EINVAL);
	assert_int_equal(stce_container_remove_window(f->c, WIN64), 0);
	assert_null(stce_container_window_table(f->c, 1));
	assert_int_equal(stce_container_find_window(f->c, WIN64, 16, GB, &num, &t),
			 -EINVAL);
	assert_ptr_equal(stce_container_window_table(f->c, 0), t0);
}

static void hypervisor_sees_groups_and_caps(void **state)
{
	struct fixture *f = *state;
	struct stce_pe_caps caps, want;

	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &f->c), 0);
	memset(&caps, 0xa5, sizeof(caps));
	want = caps;
	assert_int_equal(stce_container_caps(f->c, &caps), -ENXIO);
	assert_memory_equal(&caps, &want, sizeof(caps));
	assert_false(stce_container_has_group(f->c, f->pe[0]));
	assert_false(stce_container_has_group(f->c, NULL));

	assert_int_equal(stce_container_attach(f->c, f->pe[0]), 0);
	assert_true(stce_container_has_group(f->c, f->pe[0]));
	assert_false(stce_container_has_group(f->c, f->pe[1]));
	/* NULL is no group, though the container has free slots. */
	assert_false(stce_container_has_group(f->c, NULL));
	assert_int_equal(stce_container_caps(f->c, &caps), 0);
	stce_pe_get_caps(f->pe[0], &want);
	assert_memory_equal(&caps, &want, sizeof(caps));

	assert_int_equal(stce_container_attach(f->c, f->pe[1]), 0);
	assert_int_equal(stce_container_detach(f->c, f->pe[0]), 0);
	assert_false(stce_container_has_group(f->c, f->pe[0]));
	assert_true(stce_container_has_group(f->c, f->pe[1]));
	assert_int_equal(stce_container_caps(f->c, &caps), 0);
	assert_int_equal(stce_container_detach(f->c, f->pe[1]), 0);
	assert_int_equal(stce_container_caps(f->c, &caps), -ENXIO);
}

static void map_checks_in_order(void **state)
{
	struct fixture *f = *state;
	uint64_t mem = f->mem;

	make_v2(f, 0);
	/* iova in no window. */
	assert_int_equal(stce_container_map(f->c, mem, 1ULL << 40, HP, STCE_MAP_READ), -ENXIO);
	assert_int_equal(stce_container_unmap(f->c, 1ULL << 40, HP), -ENXIO);
	/* vaddr, size, direction. */
	assert_int_equal(stce_container_map(f->c, mem + 4096, WIN64, HP, STCE_MAP_READ), -EINVAL);
	assert_int_equal(stce_container_map(f->c, mem, WIN64, 4096, STCE_MAP_READ), -EINVAL);
	assert_int_equal(stce_container_map(f->c, mem, WIN64, HP, 0), -EINVAL);
	assert_int_equal(stce_container_map(f->c, mem, WIN64, HP, 0x4), -EINVAL);
	assert_int_equal(stce_container_map(f->c, mem, WIN64, 0, STCE_MAP_READ), -EINVAL);
	/* Strict: unaligned iova and ranges past the window are errors. */
	assert_int_equal(stce_container_map(f->c, mem, WIN64 + 4096, HP, STCE_MAP_READ), -EINVAL);
	assert_int_equal(stce_container_map(f->c, mem, WIN64 + GB - HP, 2 * HP,
					    STCE_MAP_READ), -ENXIO);
	assert_int_equal(stce_container_unmap(f->c, WIN64 + 4096, HP), -EINVAL);
	assert_int_equal(stce_container_unmap(f->c, WIN64, 4096), -EINVAL);
	assert_int_equal(stce_container_unmap(f->c, WIN64, 0), -EINVAL);
	assert_int_equal(stce_container_unmap(f->c, WIN64 + GB - HP, 2 * HP), -ENXIO);
	/* Memory: unregistered, and running past the region (rolled back). */
	assert_int_equal(stce_container_map(f->c, mem + 16 * MB, WIN64, HP,
					    STCE_MAP_READ), -EINVAL);
	assert_int_equal(stce_container_map(f->c, mem + 15 * MB, WIN64, 2 * MB,
					    STCE_MAP_READ), -EINVAL);
	/* 4097 pages of 4K: eight full batches written, then the failure:
	 * everything this call wrote is taken back. */
	assert_int_equal(stce_container_map(f->c, mem, 0, 16 * MB + 4096,
					    STCE_MAP_READ), -EINVAL);
	assert_int_equal(stce_region_mapped(region_of(mem)), 0);
	assert_int_equal(stce_prereg_count(), 1);
}

/*
 * The forms for a caller that made the check and holds a section of the
 * container's grace (the VFIO host's, stce_container_create_in): every
 * input answered as the plain calls answer it, and a good one maps and
 * unmaps as they do.
 */
static void checked_forms_answer_as_the_plain_ones(void **state)
{
	static const struct { uint64_t va, iova, size; unsigned int dir; } in[] = {
		{ 0, 1ULL << 40, HP, STCE_MAP_READ },		/* no window */
		{ 4096, WIN64, HP, STCE_MAP_READ },		/* vaddr */
		{ 0, WIN64, 4096, STCE_MAP_READ },		/* size */
		{ 0, WIN64, HP, 0 },				/* no direction */
		{ 0, WIN64, HP, 0x4 },				/* unknown bit */
		{ 0, WIN64, 0, STCE_MAP_READ },			/* size 0 */
		{ 0, WIN64 + 4096, HP, STCE_MAP_READ },		/* iova */
		{ 0, WIN64 + GB - HP, 2 * HP, STCE_MAP_READ },	/* past the end */
		{ 16 * MB, WIN64, HP, STCE_MAP_READ },		/* unregistered */
	};
	struct fixture *f = *state;
	struct stce_grace_guard g;
	struct stce_grace grace;
	struct stce_table *t;
	uint64_t start;

	stce_grace_init(&grace);
	assert_int_equal(stce_container_create_in(STCE_IOMMU_V2, 0, &grace,
						  &f->c), 0);
	assert_int_equal(stce_container_attach(f->c, f->pe[0]), 0);
	assert_int_equal(stce_container_register(f->c, f->mem, 16 * MB), 0);
	assert_int_equal(stce_container_create_window(f->c, 16, GB, 1, &start), 0);
	stce_grace_read_lock(&grace, &g);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		uint64_t va = f->mem + in[i].va;
		int want = stce_container_map(f->c, va, in[i].iova, in[i].size,
					      in[i].dir);

		assert_true(want < 0);
		assert_int_equal(stce_container_map_checked(f->c, va, in[i].iova,
							    in[i].size, in[i].dir),
				 want);
		want = stce_container_unmap(f->c, in[i].iova, in[i].size);
		assert_int_equal(stce_container_unmap_checked(f->c, in[i].iova,
							      in[i].size),
				 want);
	}
	t = stce_container_window_table(f->c, 1);
	assert_int_equal(stce_container_map_checked(f->c, f->mem + HP, WIN64, HP,
						    STCE_MAP_READ), 0);
	assert_int_equal(stce_region_mapped(region_of(f->mem)), 1);
	assert_int_equal(stce_table_get(t, 0),
			 stce_tce_make(f->mem + HP, STCE_TCE_READ));
	assert_int_equal(stce_container_unmap_checked(f->c, WIN64, HP), 0);
	assert_int_equal(stce_region_mapped(region_of(f->mem)), 0);
	assert_int_equal(stce_table_get(t, 0), 0);
	stce_grace_read_unlock(&grace, &g);
	stce_container_destroy(f->c);
	f->c = NULL;
	stce_grace_destroy(&grace);
}

static void map_writes_tces_and_counts_mappings(void **state)
{
	struct fixture *f = *state;
	uint64_t mem = f->mem, buf[2] = { 0 };
	struct stce_region *r;

	make_v2(f, 0);
	r = region_of(mem);
	assert_int_equal(stce_container_map(f->c, mem, WIN64, 1 * MB,
					    STCE_MAP_READ | STCE_MAP_WRITE), 0);
	assert_int_equal(stce_region_mapped(r), 16);
	/* The device sees the memory through the window. */
	assert_int_equal(stce_pe_dma_read(f->pe[0], WIN64 + HP + 8, buf, 16), 0);
	assert_int_equal(buf[0], 0x5a5a5a5a5a5a5a5aULL);
	/* Mapping over live entries replaces them; counts stay exact. */
	assert_int_equal(stce_container_map(f->c, mem + 2 * MB, WIN64, 1 * MB,
					    STCE_MAP_READ), 0);
	assert_int_equal(stce_region_mapped(r), 16);
	assert_int_equal(stce_pe_dma_write(f->pe[0], WIN64, buf, 8), -EIO);
	assert_int_equal(stce_pe_eeh_op(f->pe[0], STCE_EEH_PE_ENABLE), 0);
	/* Strict unregister refuses a mapped region. */
	assert_int_equal(stce_container_unregister(f->c, mem, 16 * MB), -EBUSY);
	assert_int_equal(stce_container_unmap(f->c, WIN64, GB), 0);
	assert_int_equal(stce_region_mapped(r), 0);
	assert_int_equal(stce_container_unregister(f->c, mem, 16 * MB), 0);
}

static void pages_larger_than_the_backing_are_refused(void **state)
{
	struct fixture *f = *state;
	uint64_t start;

	make(f, STCE_IOMMU_V2, 0);
	assert_int_equal(stce_container_register(f->c, f->mem, 16 * MB), 0);
	assert_int_equal(stce_container_create_window(f->c, 21, 64 * GB, 2, &start), 0);
	/* 2M IOMMU pages over memory backed by 64K pages. */
	assert_int_equal(stce_container_map(f->c, f->mem, start, 2 * MB,
					    STCE_MAP_READ), -EINVAL);
	assert_int_equal(stce_region_mapped(region_of(f->mem)), 0);
}

static void kernel_mode_answers_like_the_kernel(void **state)
{
	struct fixture *f = *state;
	uint64_t mem = f->mem, end = WIN64 + GB;
	struct stce_region *r;

	make_v2(f, STCE_CONTAINER_KERNEL_QUIRKS);
	r = region_of(mem);
	/* Unaligned iova: +1. */
	assert_int_equal(stce_container_map(f->c, mem, WIN64 + 4096, HP, STCE_MAP_READ), 1);
	assert_int_equal(stce_container_unmap(f->c, WIN64 + 4096, HP), 1);
	/* Size 0: success, nothing done. */
	assert_int_equal(stce_container_map(f->c, mem, WIN64, 0, STCE_MAP_READ), 0);
	assert_int_equal(stce_container_unmap(f->c, WIN64, 0), 0);
	/* Past the end: 0, and only the page inside is mapped. */
	assert_int_equal(stce_container_map(f->c, mem, end - HP, 2 * HP, STCE_MAP_READ), 0);
	assert_int_equal(stce_region_mapped(r), 1);
	assert_int_equal(stce_container_unmap(f->c, end - HP, 2 * HP), 0);
	assert_int_equal(stce_region_mapped(r), 0);
	/* Unregister while mapped: 0; the region goes with its last mapping. */
	assert_int_equal(stce_container_map(f->c, mem, WIN64, HP, STCE_MAP_READ), 0);
	assert_int_equal(stce_container_unregister(f->c, mem, 16 * MB), 0);
	assert_int_equal(stce_prereg_count(), 1);
	assert_int_equal(stce_container_unregister(f->c, mem, 16 * MB), -ENOENT);
	assert_int_equal(stce_container_unmap(f->c, WIN64, HP), 0);
	assert_int_equal(stce_prereg_count(), 0);
	/* Left: the 1 GiB window's table (256K) and the default window's. */
	assert_int_equal(stce_account_locked_pages(), 262144 / HP + DEF_PAGES);
}

/* A range whose second host page is a hole: the kernel's count of the
 * pages pinned before it in kernel mode, -EFAULT in strict mode; nothing
 * registered or charged either way. */
static void partial_register_strict_and_kernel(void **state)
{
	struct fixture *f = *state;
	uint64_t charged = stce_account_locked_pages();
	uint8_t *m = mmap(NULL, 4 * HP, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t ua = ((uint64_t)(uintptr_t)m + HP - 1) & ~(HP - 1);

	assert_ptr_not_equal(m, MAP_FAILED);
	assert_int_equal(munmap((void *)(uintptr_t)(ua + HP), HP), 0);
	make_v2(f, 0);
	assert_int_equal(stce_container_register(f->c, ua, 2 * HP), -EFAULT);
	stce_container_destroy(f->c);
	make_v2(f, STCE_CONTAINER_KERNEL_QUIRKS);
	assert_int_equal(stce_container_register(f->c, ua, 2 * HP), 1);
	assert_int_equal(stce_prereg_count(), 1);	/* the fixture's own */
	stce_container_destroy(f->c);
	f->c = NULL;
	assert_int_equal(stce_account_locked_pages(), charged);
	munmap(m, 4 * HP);
}

static void tiny_windows_reach_a_host_page_of_entries(void **state)
{
	struct fixture *f = *state;
	uint64_t start;

	make(f, STCE_IOMMU_V2, STCE_CONTAINER_KERNEL_QUIRKS);
	assert_int_equal(stce_container_register(f->c, f->mem, 16 * MB), 0);
	/* A 32K window of 64K pages: accepted, charged as 64K... */
	assert_int_equal(stce_container_create_window(f->c, 16, 32 * 1024, 1, &start), 0);
	assert_int_equal(start, WIN64);
	assert_int_equal(stce_account_locked_pages(), 16 * MB / HP + DEF_PAGES + 2);
	/* ...and 8192 entries long, as the kernel's table is. */
	assert_int_equal(stce_container_map(f->c, f->mem, WIN64 + 512 * MB - HP, HP,
					    STCE_MAP_READ), 0);
	assert_int_equal(stce_container_map(f->c, f->mem, WIN64 + 512 * MB, HP,
					    STCE_MAP_READ), -ENXIO);
	/* A 1-level table over 16 MiB fails as the kernel's allocation. */
	assert_int_equal(stce_container_remove_window(f->c, WIN64), 0);
	assert_int_equal(stce_container_create_window(f->c, 16, 256 * GB, 1, &start), -ENOMEM);
	assert_int_equal(stce_account_locked_pages(), 16 * MB / HP + DEF_PAGES);
}

static void v1_pins_per_map(void **state)
{
	struct fixture *f = *state;
	uint64_t dirty = stce_pin_dirty_count();
	void *ro;

	make(f, STCE_IOMMU_V1, 0);
	assert_int_equal(stce_container_enable(f->c), 0);
	assert_int_equal(stce_container_map(f->c, f->mem, 0, MB,
					    STCE_MAP_READ | STCE_MAP_WRITE), 0);
	/* 256 TCEs of 4K in 16 host pages of 64K. */
	assert_int_equal(stce_pin_pages(), 16);
	assert_int_equal(stce_account_locked_pages(), 2 * GB / HP + DEF_PAGES);
	assert_int_equal(stce_container_map(f->c, f->mem, 0, 4096, STCE_MAP_READ), 0);
	assert_int_equal(stce_pin_dirty_count(), dirty + 1);	/* replaced RW */
	assert_int_equal(stce_container_unmap(f->c, 0, MB), 0);
	assert_int_equal(stce_pin_pages(), 0);
	assert_int_equal(stce_pin_dirty_count(), dirty + 256);
	/* Read-only memory: pinned for writing, as the kernel pins. */
	ro = (void *)(uintptr_t)map_aligned(HP, HP, PROT_READ);
	assert_non_null(ro);
	assert_int_equal(stce_container_map(f->c, (uint64_t)(uintptr_t)ro, 0, 4096,
					    STCE_MAP_READ), -EFAULT);
	munmap(ro, HP);
	/* A vaddr range that wraps is no memory v1 could pin: EFAULT, as
	 * the kernel's pin of it faults (v2 would find it unregistered). */
	assert_int_equal(stce_container_map(f->c, 0xfffffffffffff000ULL, 0, 8192,
					    STCE_MAP_READ), -EFAULT);
	assert_int_equal(stce_pin_pages(), 0);
	/* Destroy with live v1 mappings releases every pin. */
	assert_int_equal(stce_container_map(f->c, f->mem, 4 * MB, MB, STCE_MAP_READ), 0);
}

/* An UNMAP's kill reaches every attached group and no detached one (the
 * hook visits the groups through a bitmap of the slots in use). */
static void unmap_kills_attached_groups(void **state)
{
	struct fixture *f = *state;
	uint64_t k0, k1;

	make_v2(f, 0);
	assert_int_equal(stce_container_attach(f->c, f->pe[1]), 0);
	assert_int_equal(stce_container_map(f->c, f->mem, WIN64, HP,
					    STCE_MAP_READ), 0);
	k0 = stce_pe_kill_count(f->pe[0]);
	k1 = stce_pe_kill_count(f->pe[1]);
	assert_int_equal(stce_container_unmap(f->c, WIN64, HP), 0);
	assert_true(stce_pe_kill_count(f->pe[0]) > k0);
	assert_true(stce_pe_kill_count(f->pe[1]) > k1);

	/* Slot 0 freed: the group in slot 1 is still killed, and a group
	 * attached again (to slot 0) is too. */
	assert_int_equal(stce_container_detach(f->c, f->pe[0]), 0);
	assert_int_equal(stce_container_map(f->c, f->mem, WIN64, HP,
					    STCE_MAP_READ), 0);
	k0 = stce_pe_kill_count(f->pe[0]);
	k1 = stce_pe_kill_count(f->pe[1]);
	assert_int_equal(stce_container_unmap(f->c, WIN64, HP), 0);
	assert_int_equal(stce_pe_kill_count(f->pe[0]), k0);
	assert_true(stce_pe_kill_count(f->pe[1]) > k1);
	assert_int_equal(stce_container_attach(f->c, f->pe[0]), 0);
	assert_int_equal(stce_container_map(f->c, f->mem, WIN64, HP,
					    STCE_MAP_READ), 0);
	k0 = stce_pe_kill_count(f->pe[0]);
	assert_int_equal(stce_container_unmap(f->c, WIN64, HP), 0);
	assert_true(stce_pe_kill_count(f->pe[0]) > k0);
}

static void destroy_tears_everything_down(void **state)
{
	struct fixture *f = *state;

	make_v2(f, 0);
	assert_int_equal(stce_container_attach(f->c, f->pe[1]), 0);
	/* A group joining later gets every window. */
	assert_non_null(stce_pe_window_table(f->pe[1], 1));
	assert_non_null(stce_pe_window_table(f->pe[1], 0));
	assert_int_equal(stce_container_map(f->c, f->mem, WIN64, 16 * MB,
					    STCE_MAP_READ), 0);
	assert_int_equal(stce_container_map(f->c, f->mem, 0, 16 * MB,
					    STCE_MAP_WRITE), 0);
	/* The teardown fixture checks locked_vm, regions and the PEs. */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_refuses_bad_input),
		cmocka_unit_test(limits_hold_for_the_unprivileged),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(attach_rules),
		T(unmap_kills_attached_groups),
		T(info_v1_and_v2),
		T(v1_enable_charges_the_window),
		T(v2_only_calls_on_v2),
		T(register_rules),
		T(register_zero_size_differs_in_kernel_mode),
		T(windows_are_created_and_charged_exactly),
		T(pending_default_window_goes_by_address_zero),
		T(hypervisor_finds_its_windows),
		T(hypervisor_sees_groups_and_caps),
		T(map_checks_in_order),
		T(map_writes_tces_and_counts_mappings),
		T(checked_forms_answer_as_the_plain_ones),
		T(pages_larger_than_the_backing_are_refused),
		T(kernel_mode_answers_like_the_kernel),
		T(partial_register_strict_and_kernel),
		T(tiny_windows_reach_a_host_page_of_entries),
		T(v1_pins_per_map),
		T(destroy_tears_everything_down),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
