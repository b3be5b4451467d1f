// SPDX-License-Identifier: MIT
/* EEH: every operation and state change, with the kernel's numbers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/vfio.h>

#include <spapr_tce/pe.h>

#include "../lib/pe_test_util.h"

static int state_of(struct stce_pe *pe)
{
	return stce_pe_eeh_op(pe, STCE_EEH_PE_GET_STATE);
}

static void freeze(struct stce_pe *pe)
{
	uint8_t b;

	/* The platform window has no mapping at 0x4000: an empty entry. */
	assert_int_equal(stce_pe_dma_read(pe, 0x4000, &b, 1), -EIO);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_STOPPED);
}

static void numbers_match_vfio(void **state)
{
	(void)state;
	assert_int_equal(STCE_EEH_PE_DISABLE, VFIO_EEH_PE_DISABLE);
	assert_int_equal(STCE_EEH_PE_ENABLE, VFIO_EEH_PE_ENABLE);
	assert_int_equal(STCE_EEH_PE_UNFREEZE_IO, VFIO_EEH_PE_UNFREEZE_IO);
	assert_int_equal(STCE_EEH_PE_UNFREEZE_DMA, VFIO_EEH_PE_UNFREEZE_DMA);
	assert_int_equal(STCE_EEH_PE_GET_STATE, VFIO_EEH_PE_GET_STATE);
	assert_int_equal(STCE_EEH_PE_RESET_DEACTIVATE, VFIO_EEH_PE_RESET_DEACTIVATE);
	assert_int_equal(STCE_EEH_PE_RESET_HOT, VFIO_EEH_PE_RESET_HOT);
	assert_int_equal(STCE_EEH_PE_RESET_FUNDAMENTAL, VFIO_EEH_PE_RESET_FUNDAMENTAL);
	assert_int_equal(STCE_EEH_PE_CONFIGURE, VFIO_EEH_PE_CONFIGURE);
	assert_int_equal(STCE_EEH_PE_INJECT_ERR, VFIO_EEH_PE_INJECT_ERR);
	assert_int_equal(STCE_EEH_PE_STATE_NORMAL, VFIO_EEH_PE_STATE_NORMAL);
	assert_int_equal(STCE_EEH_PE_STATE_RESET, VFIO_EEH_PE_STATE_RESET);
	assert_int_equal(STCE_EEH_PE_STATE_STOPPED, VFIO_EEH_PE_STATE_STOPPED);
	assert_int_equal(STCE_EEH_PE_STATE_STOPPED_DMA, VFIO_EEH_PE_STATE_STOPPED_DMA);
	assert_int_equal(STCE_EEH_PE_STATE_UNAVAIL, VFIO_EEH_PE_STATE_UNAVAIL);
}

static void normal_ops_are_noops(void **state)
{
	struct stce_pe *pe = tu_pe(0);

	(void)state;
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_NORMAL);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_DISABLE), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_ENABLE), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_CONFIGURE), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_IO), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_DMA), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_RESET_DEACTIVATE), 0);
	assert_int_equal(stce_pe_reset_count(pe), 0);	/* nothing was asserted */
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_NORMAL);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_INJECT_ERR), -EINVAL);
	assert_int_equal(stce_pe_eeh_op(pe, 10), -EINVAL);
	assert_int_equal(stce_pe_eeh_op(pe, 0xffffffffu), -EINVAL);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_NORMAL);
	stce_pe_destroy(pe);
}

static void thaw_mmio_then_dma(void **state)
{
	struct stce_pe *pe = tu_pe(0);

	(void)state;
	freeze(pe);
	/* DISABLE and CONFIGURE leave a frozen PE frozen. */
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_DISABLE), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_CONFIGURE), 0);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_STOPPED);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_IO), 0);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_STOPPED_DMA);
	assert_false(stce_pe_mmio_frozen(pe));
	assert_true(stce_pe_dma_frozen(pe));
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_IO), 0);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_STOPPED_DMA);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_DMA), 0);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_NORMAL);
	stce_pe_destroy(pe);
}

static void thaw_dma_alone(void **state)
{
	struct stce_pe *pe = tu_pe(0);
	uint8_t *page = tu_pages(4096, 1), b;

	(void)state;
	assert_int_equal(stce_pe_platform_map(pe, 0x1000, page, STCE_TCE_READ), 0);
	freeze(pe);
	/* DMA on, MMIO still frozen: the kernel reports "unavailable". */
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_DMA), 0);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_UNAVAIL);
	assert_true(stce_pe_mmio_frozen(pe));
	assert_false(stce_pe_dma_frozen(pe));
	assert_int_equal(stce_pe_dma_read(pe, 0x1000, &b, 1), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_IO), 0);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_NORMAL);
	free(page);
	stce_pe_destroy(pe);
}

static void enable_unfreezes(void **state)
{
	struct stce_pe *pe = tu_pe(0);

	(void)state;
	freeze(pe);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_ENABLE), 0);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_NORMAL);
	stce_pe_destroy(pe);
}

static void reset_cycle(void **state)
{
	static const unsigned int kinds[] = {
		STCE_EEH_PE_RESET_HOT, STCE_EEH_PE_RESET_FUNDAMENTAL,
	};
	struct stce_pe *pe = tu_pe(0);
	uint8_t *page = tu_pages(4096, 1), b;

	(void)state;
	assert_int_equal(stce_pe_platform_map(pe, 0x1000, page, STCE_TCE_READ), 0);
	for (unsigned int i = 0; i < 2; i++) {
		assert_int_equal(stce_pe_eeh_op(pe, kinds[i]), 0);
		/* PowerNV reports the reset PE as frozen. */
		assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_STOPPED);
		assert_true(stce_pe_mmio_frozen(pe));
		assert_int_equal(stce_pe_dma_read(pe, 0x1000, &b, 1), -EIO);
		/* Thawing MMIO or enabling does not end a reset. */
		assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_ENABLE), 0);
		assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_IO), 0);
		assert_true(stce_pe_mmio_frozen(pe));
		assert_true(stce_pe_dma_frozen(pe));
		assert_int_equal(stce_pe_reset_count(pe), i);
		assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_RESET_DEACTIVATE), 0);
		assert_int_equal(stce_pe_reset_count(pe), i + 1);
		assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_NORMAL);
		assert_int_equal(stce_pe_dma_read(pe, 0x1000, &b, 1), 0);
	}
	/* A reset also recovers a PE frozen by a fault. */
	freeze(pe);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_RESET_HOT), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_RESET_DEACTIVATE), 0);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_NORMAL);
	free(page);
	stce_pe_destroy(pe);
}

static void inject_error(void **state)
{
	struct stce_pe *pe = tu_pe(0);
	struct stce_eeh_fault f;

	(void)state;
	assert_int_equal(stce_pe_eeh_inject(pe, 2, 0, 0, 0), -ERANGE);
	assert_int_equal(stce_pe_eeh_inject(pe, STCE_EEH_ERR_TYPE_32, 20, 0, 0), -EINVAL);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_NORMAL);
	assert_int_equal(stce_pe_eeh_inject(pe, STCE_EEH_ERR_TYPE_64,
					    STCE_EEH_ERR_FUNC_MAX, 0xabc000, ~0ULL), 0);
	assert_int_equal(state_of(pe), STCE_EEH_PE_STATE_STOPPED);
	stce_pe_eeh_fault(pe, &f);
	assert_int_equal(f.reason, STCE_EEH_FAULT_INJECTED);
	assert_int_equal(f.iova, 0xabc000);
	assert_int_equal(f.dir, 0);
	assert_int_equal(f.count, 1);
	/* A second error while frozen counts but keeps the first record. */
	assert_int_equal(stce_pe_eeh_inject(pe, STCE_EEH_ERR_TYPE_32, 0, 0x1, 0), 0);
	stce_pe_eeh_fault(pe, &f);
	assert_int_equal(f.iova, 0xabc000);
	assert_int_equal(f.count, 2);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_IO), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_DMA), 0);
	stce_pe_eeh_fault(pe, &f);
	assert_int_equal(f.reason, STCE_EEH_FAULT_NONE);
	assert_int_equal(f.iova, 0);
	stce_pe_destroy(pe);
}

static void wrap_at_top_of_bus(void **state)
{
	struct stce_pe_caps c;
	struct stce_pe *pe;
	struct stce_table *t;
	struct stce_eeh_fault f;
	uint8_t *page = tu_pages(65536, 1), b[2];

	(void)state;
	stce_pe_caps_default(&c);
	c.ddw_base = 0xfffc000000000000ULL;	/* a window ending at 2^64 */
	assert_int_equal(stce_pe_create(&c, 0, &pe), 0);
	assert_int_equal(stce_pe_take_ownership(pe), 0);
	t = tu_table(pe, 1, 16, 1ULL << 50, 2);
	assert_int_equal(stce_pe_set_window(pe, 1, t), 0);
	tu_map(t, UINT64_MAX - 65535, page, STCE_TCE_READ | STCE_TCE_WRITE);
	page[65535] = 0x42;
	assert_int_equal(stce_pe_dma_read(pe, UINT64_MAX, b, 1), 0);
	assert_int_equal(b[0], 0x42);
	assert_int_equal(stce_pe_dma_read(pe, UINT64_MAX, b, 2), -EIO);
	stce_pe_eeh_fault(pe, &f);
	assert_int_equal(f.reason, STCE_EEH_FAULT_NO_WINDOW);
	assert_int_equal(f.iova, 0);
	stce_pe_destroy(pe);
	stce_table_destroy(t);
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers_match_vfio),
		cmocka_unit_test(normal_ops_are_noops),
		cmocka_unit_test(thaw_mmio_then_dma),
		cmocka_unit_test(thaw_dma_alone),
		cmocka_unit_test(enable_unfreezes),
		cmocka_unit_test(reset_cycle),
		cmocka_unit_test(inject_error),
		cmocka_unit_test(wrap_at_top_of_bus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
