// SPDX-License-Identifier: MIT
/* Device DMA: translation, page and window edges, permission faults. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <spapr_tce/pe.h>

#include "../lib/pe_test_util.h"

#define DDW (1ULL << 59)
#define RW (STCE_TCE_READ | STCE_TCE_WRITE)

struct fx {
	struct stce_pe *pe;
	struct stce_table *t0;	/* 4K pages, 1 MiB at 0 */
	struct stce_table *t1;	/* 64K pages, 1 GiB at DDW, 2 levels */
	uint8_t *small;		/* 8 pages of 4K */
	uint8_t *big;		/* 4 pages of 64K */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->pe = tu_pe(0);
	if (stce_pe_take_ownership(f->pe))
		abort();
	f->t0 = tu_table(f->pe, 0, 12, 1ULL << 20, 1);
	f->t1 = tu_table(f->pe, 1, 16, 1ULL << 30, 2);
	if (stce_pe_set_window(f->pe, 0, f->t0) ||
	    stce_pe_set_window(f->pe, 1, f->t1))
		abort();
	f->small = tu_pages(4096, 8);
	f->big = tu_pages(65536, 4);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	stce_pe_destroy(f->pe);
	stce_table_destroy(f->t0);
	stce_table_destroy(f->t1);
	free(f->small);
	free(f->big);
	free(f);
	return 0;
}

static void assert_fault(struct stce_pe *pe, enum stce_eeh_fault_reason r,
			 uint64_t iova, enum stce_dma_dir dir)
{
	struct stce_eeh_fault fl;

	stce_pe_eeh_fault(pe, &fl);
	assert_int_equal(fl.reason, r);
	assert_true(fl.iova == iova);
	assert_int_equal(fl.dir, dir);
	assert_true(stce_pe_dma_frozen(pe));
	assert_true(stce_pe_mmio_frozen(pe));
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_GET_STATE),
			 STCE_EEH_PE_STATE_STOPPED);
}

static void thaw(struct stce_pe *pe)
{
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_IO), 0);
	assert_int_equal(stce_pe_eeh_op(pe, STCE_EEH_PE_UNFREEZE_DMA), 0);
	assert_false(stce_pe_dma_frozen(pe));
}

static void read_write_across_pages(void **state)
{
	struct fx *f = *state;
	uint8_t out[3 * 4096], in[3 * 4096];

	/* Three 4K entries pointing at non-adjacent pages, in reverse. */
	tu_map(f->t0, 0x10000, f->small + 6 * 4096, RW);
	tu_map(f->t0, 0x11000, f->small + 3 * 4096, RW);
	tu_map(f->t0, 0x12000, f->small + 0 * 4096, RW);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	/* Starts mid-page, crosses two page boundaries. */
	assert_int_equal(stce_pe_dma_write(f->pe, 0x10800, out, 2 * 4096 + 100), 0);
	assert_memory_equal(f->small + 6 * 4096 + 0x800, out, 0x800);
	assert_memory_equal(f->small + 3 * 4096, out + 0x800, 4096);
	assert_memory_equal(f->small, out + 0x1800, 0x800 + 100);
	memset(in, 0, sizeof(in));
	assert_int_equal(stce_pe_dma_read(f->pe, 0x10800, in, 2 * 4096 + 100), 0);
	assert_memory_equal(in, out, 2 * 4096 + 100);
	assert_int_equal(stce_pe_dma_read(f->pe, 0x10000, in, 0), 0);
	assert_false(stce_pe_dma_frozen(f->pe));

	/* The 64K window: offsets within a large page. */
	tu_map(f->t1, DDW + 0x30000, f->big + 65536, RW);
	tu_map(f->t1, DDW + 0x40000, f->big, RW);
	assert_int_equal(stce_pe_dma_write(f->pe, DDW + 0x3fffe, "abcd", 4), 0);
	assert_memory_equal(f->big + 65536 + 0xfffe, "ab", 2);
	assert_memory_equal(f->big, "cd", 2);
	assert_int_equal(stce_pe_dma_read(f->pe, DDW + 0x3ffff, in, 2), 0);
	assert_memory_equal(in, "bc", 2);
}

static void window_edges(void **state)
{
	struct fx *f = *state;
	uint8_t buf[16] = { 0 };

	/* Last page of window 0: reading its last bytes works... */
	tu_map(f->t0, 0xff000, f->small, RW);
	memcpy(f->small + 4088, "edge-ok!", 8);
	assert_int_equal(stce_pe_dma_read(f->pe, 0xffff8, buf, 8), 0);
	assert_memory_equal(buf, "edge-ok!", 8);
	/* ...running one byte past the end is outside every window. */
	assert_int_equal(stce_pe_dma_read(f->pe, 0xffff8, buf, 9), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_NO_WINDOW, 0x100000, STCE_DMA_READ);
	/* Frozen: even a valid DMA now fails, and the first fault is kept. */
	assert_int_equal(stce_pe_dma_read(f->pe, 0xffff8, buf, 8), -EIO);
	assert_int_equal(stce_pe_dma_write(f->pe, 0xffff8, buf, 8), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_NO_WINDOW, 0x100000, STCE_DMA_READ);
	thaw(f->pe);

	/* Between the windows, and just below the DDW base. */
	assert_int_equal(stce_pe_dma_write(f->pe, DDW - 4, buf, 4), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_NO_WINDOW, DDW - 4, STCE_DMA_WRITE);
	thaw(f->pe);
	/* Last byte of the DDW window, then past it. */
	tu_map(f->t1, DDW + (1ULL << 30) - 65536, f->big, RW);
	assert_int_equal(stce_pe_dma_write(f->pe, DDW + (1ULL << 30) - 1, "z", 1), 0);
	assert_int_equal(f->big[65535], 'z');
	assert_int_equal(stce_pe_dma_write(f->pe, DDW + (1ULL << 30) - 1, "zz", 2), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_NO_WINDOW, DDW + (1ULL << 30),
		     STCE_DMA_WRITE);
	thaw(f->pe);
	/* Wrapping past 2^64. */
	assert_int_equal(stce_pe_dma_read(f->pe, UINT64_MAX, buf, 2), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_NO_WINDOW, UINT64_MAX, STCE_DMA_READ);
	thaw(f->pe);
}

static void empty_and_permission_faults(void **state)
{
	struct fx *f = *state;
	struct stce_eeh_fault fl;
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	assert_int_equal(stce_pe_dma_read(f->pe, 0x5000, buf, 8), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_EMPTY, 0x5000, STCE_DMA_READ);
	thaw(f->pe);
	stce_pe_eeh_fault(f->pe, &fl);
	assert_int_equal(fl.reason, STCE_EEH_FAULT_NONE);	/* cleared by thaw */
	assert_int_equal(fl.count, 1);

	/* Read-only page: the device may read, not write. */
	tu_map(f->t0, 0x6000, f->small, STCE_TCE_READ);
	memset(f->small, 0xaa, 4096);
	assert_int_equal(stce_pe_dma_read(f->pe, 0x6000, buf, 8), 0);
	assert_int_equal(buf[0], 0xaa);
	assert_int_equal(stce_pe_dma_write(f->pe, 0x6004, buf, 8), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_PERM, 0x6004, STCE_DMA_WRITE);
	assert_int_equal(f->small[4], 0xaa);	/* nothing written */
	thaw(f->pe);

	/* Write-only page. */
	tu_map(f->t0, 0x7000, f->small + 4096, STCE_TCE_WRITE);
	assert_int_equal(stce_pe_dma_write(f->pe, 0x7000, "wo", 2), 0);
	assert_memory_equal(f->small + 4096, "wo", 2);
	assert_int_equal(stce_pe_dma_read(f->pe, 0x7000, buf, 2), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_PERM, 0x7000, STCE_DMA_READ);
	thaw(f->pe);

	/* A transfer whose second page faults: the first page moved. */
	tu_map(f->t0, 0x8000, f->small + 2 * 4096, RW);
	memset(f->small + 2 * 4096, 0, 4096);
	uint8_t two[8192];
	memset(two, 0x11, sizeof(two));
	assert_int_equal(stce_pe_dma_write(f->pe, 0x8000, two, sizeof(two)), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_EMPTY, 0x9000, STCE_DMA_WRITE);
	assert_int_equal(f->small[2 * 4096 + 4095], 0x11);
	thaw(f->pe);
	stce_pe_eeh_fault(f->pe, &fl);
	assert_int_equal(fl.count, 4);
}

static void map_for_access(void **state)
{
	struct fx *f = *state;
	struct stce_dma_span spans[4];
	struct stce_dma_guard g;
	unsigned int nr = 99;

	/* Two adjacent pages merge into one span; a third elsewhere does not. */
	tu_map(f->t0, 0x20000, f->small, RW);
	tu_map(f->t0, 0x21000, f->small + 4096, RW);
	tu_map(f->t0, 0x22000, f->small + 5 * 4096, STCE_TCE_READ);
	assert_int_equal(stce_pe_dma_map(f->pe, 0x20010, 2 * 4096 + 32,
					 STCE_DMA_READ, spans, 4, &nr, &g), 0);
	assert_int_equal(nr, 2);
	assert_ptr_equal(spans[0].addr, f->small + 0x10);
	assert_int_equal(spans[0].len, 2 * 4096 - 0x10);
	assert_ptr_equal(spans[1].addr, f->small + 5 * 4096);
	assert_int_equal(spans[1].len, 0x30);
	assert_true(g.held);
	stce_pe_dma_unmap(f->pe, &g);
	assert_false(g.held);
	stce_pe_dma_unmap(f->pe, &g);	/* idempotent */

	/* Too many spans: nothing mapped, no freeze. */
	assert_int_equal(stce_pe_dma_map(f->pe, 0x20010, 2 * 4096 + 32,
					 STCE_DMA_READ, spans, 1, &nr, &g), -E2BIG);
	assert_false(g.held);
	assert_false(stce_pe_dma_frozen(f->pe));
	assert_int_equal(stce_pe_dma_map(f->pe, 0x20000, 0, STCE_DMA_READ,
					 spans, 4, &nr, &g), -EINVAL);
	assert_int_equal(stce_pe_dma_map(f->pe, 0x20000, 8, STCE_DMA_READ,
					 spans, 0, &nr, &g), -EINVAL);
	assert_int_equal(stce_pe_dma_map(f->pe, 0x20000, 8, 3, spans, 4, &nr,
					 &g), -EINVAL);
	/* Permission fault on the read-only third page. */
	assert_int_equal(stce_pe_dma_map(f->pe, 0x21000, 2 * 4096,
					 STCE_DMA_WRITE, spans, 4, &nr, &g), -EIO);
	assert_false(g.held);
	assert_fault(f->pe, STCE_EEH_FAULT_PERM, 0x22000, STCE_DMA_WRITE);
	assert_int_equal(stce_pe_dma_map(f->pe, 0x20000, 8, STCE_DMA_READ,
					 spans, 4, &nr, &g), -EIO);
	thaw(f->pe);
	/* Outside every window and wrapping. */
	assert_int_equal(stce_pe_dma_map(f->pe, 0x200000, 8, STCE_DMA_READ,
					 spans, 4, &nr, &g), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_NO_WINDOW, 0x200000, STCE_DMA_READ);
	thaw(f->pe);
	tu_map(f->t1, DDW, f->big, RW);
	assert_int_equal(stce_pe_dma_map(f->pe, DDW + 4, 16, STCE_DMA_WRITE,
					 spans, 1, &nr, &g), 0);
	assert_int_equal(nr, 1);
	assert_ptr_equal(spans[0].addr, f->big + 4);
	stce_pe_dma_unmap(f->pe, &g);
	/* A kill with no DMA in flight returns at once. */
	uint64_t k = stce_pe_kill_count(f->pe);
	stce_pe_tce_kill(f->pe);
	assert_int_equal(stce_pe_kill_count(f->pe), k + 1);
}

static void unset_window_stops_dma(void **state)
{
	struct fx *f = *state;
	uint8_t buf[4];

	tu_map(f->t1, DDW, f->big, RW);
	assert_int_equal(stce_pe_dma_read(f->pe, DDW, buf, 4), 0);
	assert_int_equal(stce_pe_unset_window(f->pe, 1), 0);
	assert_int_equal(stce_pe_dma_read(f->pe, DDW, buf, 4), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_NO_WINDOW, DDW, STCE_DMA_READ);
	thaw(f->pe);
	assert_int_equal(stce_pe_set_window(f->pe, 1, f->t1), 0);
	assert_int_equal(stce_pe_dma_read(f->pe, DDW, buf, 4), 0);
}

/*
 * Transfers of several whole pages, across a leaf-chunk boundary of a
 * 2-level table (8192 64K entries a chunk in window 1), with a fault at
 * an exact page start inside the run and at a chunk never allocated.
 */
static void long_transfers_across_chunks(void **state)
{
	struct fx *f = *state;
	const uint64_t at = DDW + 8190 * 65536ULL;	/* 2 pages before */
	struct stce_dma_span spans[2];
	struct stce_table *t;
	struct stce_dma_guard g;
	static uint8_t in[4 * 65536];
	unsigned int nr;

	for (unsigned int i = 0; i < 4; i++)
		tu_map(f->t1, at + i * 65536ULL, f->big + i * 65536, RW);
	for (size_t i = 0; i < 4 * 65536; i++)
		f->big[i] = (uint8_t)(i * 7 + i / 65536);
	assert_int_equal(stce_pe_dma_read(f->pe, at + 100, in,
					  3 * 65536 + 200), 0);
	assert_memory_equal(in, f->big + 100, 3 * 65536 + 200);
	assert_int_equal(stce_pe_dma_map(f->pe, at, 4 * 65536, STCE_DMA_WRITE,
					 spans, 1, &nr, &g), 0);
	assert_int_equal(nr, 1);
	assert_ptr_equal(spans[0].addr, f->big);
	assert_int_equal(spans[0].len, 4 * 65536);
	stce_pe_dma_unmap(f->pe, &g);

	/* Whole pages: the third (first of the second chunk) is read-only. */
	tu_map(f->t1, at + 2 * 65536ULL, f->big + 2 * 65536, STCE_TCE_READ);
	assert_int_equal(stce_pe_dma_write(f->pe, at, in, 4 * 65536), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_PERM, at + 2 * 65536,
		     STCE_DMA_WRITE);
	thaw(f->pe);
	/* The fourth is empty. */
	tu_map(f->t1, at + 3 * 65536ULL, NULL, 0);
	assert_int_equal(stce_pe_dma_read(f->pe, at + 1, in, 4 * 65536 - 1),
			 -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_EMPTY, at + 3 * 65536,
		     STCE_DMA_READ);
	thaw(f->pe);

	/* Inside one run of whole pages: the third of four is empty. */
	for (unsigned int i = 0; i < 4; i++)
		tu_map(f->t1, DDW + (8200 + i) * 65536ULL, f->big + i * 65536,
		       RW);
	tu_map(f->t1, DDW + 8202 * 65536ULL, NULL, 0);
	assert_int_equal(stce_pe_dma_read(f->pe, DDW + 8200 * 65536ULL, in,
					  4 * 65536), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_EMPTY, DDW + 8202 * 65536ULL,
		     STCE_DMA_READ);
	thaw(f->pe);

	/* 4K pages, 8192 a chunk: the second chunk never existed. */
	assert_int_equal(stce_pe_unset_window(f->pe, 1), 0);
	t = tu_table(f->pe, 1, 12, 1ULL << 30, 2);
	assert_int_equal(stce_pe_set_window(f->pe, 1, t), 0);
	tu_map(t, DDW + 8190 * 4096ULL, f->small, RW);
	tu_map(t, DDW + 8191 * 4096ULL, f->small + 4096, RW);
	assert_int_equal(stce_pe_dma_read(f->pe, DDW + 8190 * 4096ULL, in,
					  2 * 4096), 0);
	assert_int_equal(stce_pe_dma_map(f->pe, DDW + 8190 * 4096ULL,
					 3 * 4096, STCE_DMA_READ, spans, 2,
					 &nr, &g), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_EMPTY, DDW + 8192 * 4096ULL,
		     STCE_DMA_READ);
	thaw(f->pe);
	/* Inside one page of it: the fault names the DMA's own address. */
	assert_int_equal(stce_pe_dma_read(f->pe, DDW + 8192 * 4096ULL + 100,
					  in, 8), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_EMPTY, DDW + 8192 * 4096ULL + 100,
		     STCE_DMA_READ);
	thaw(f->pe);
	assert_int_equal(stce_pe_unset_window(f->pe, 1), 0);
	stce_table_destroy(t);
}

static bool all_of(const uint8_t *p, uint8_t v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * The device's own fill and copy: across non-adjacent pages and both
 * windows, a source of more runs than one part holds, overlap, the
 * permission and empty faults of either side (the faulting side's
 * address and direction), frozen, length 0.
 */
static void copy_and_fill(void **state)
{
	struct fx *f = *state;
	uint8_t *pg = tu_pages(4096, 72);
	uint8_t ref[4096];

	/* Fill: mid-page start, three non-adjacent pages; the byte only. */
	tu_map(f->t0, 0x30000, f->small + 6 * 4096, RW);
	tu_map(f->t0, 0x31000, f->small + 3 * 4096, RW);
	tu_map(f->t0, 0x32000, f->small + 0 * 4096, RW);
	memset(f->small, 0, 8 * 4096);
	assert_int_equal(stce_pe_dma_fill(f->pe, 0x30800, 0x1ab,
					  2 * 4096 + 100), 0);
	assert_true(all_of(f->small + 6 * 4096, 0, 0x800));
	assert_true(all_of(f->small + 6 * 4096 + 0x800, 0xab, 0x800));
	assert_true(all_of(f->small + 3 * 4096, 0xab, 4096));
	assert_true(all_of(f->small, 0xab, 0x800 + 100));
	assert_int_equal(f->small[0x800 + 100], 0);
	assert_int_equal(stce_pe_dma_fill(f->pe, 0x30000, 1, 0), 0);

	/* Copy: 4K window to the 64K one, across a 64K page boundary. */
	for (size_t i = 0; i < 4096; i++)
		f->small[3 * 4096 + i] = (uint8_t)(i * 13 + 5);
	tu_map(f->t1, DDW + 0x50000, f->big + 2 * 65536, RW);
	tu_map(f->t1, DDW + 0x60000, f->big, RW);
	assert_int_equal(stce_pe_dma_copy(f->pe, DDW + 0x5ff00, 0x31000, 4096),
			 0);
	assert_memory_equal(f->big + 2 * 65536 + 0xff00, f->small + 3 * 4096,
			    0x100);
	assert_memory_equal(f->big, f->small + 3 * 4096 + 0x100, 4096 - 0x100);
	assert_int_equal(stce_pe_dma_copy(f->pe, DDW, 0x31000, 0), 0);

	/* Overlap inside one page, both ways: memmove's result. */
	memcpy(ref, f->small + 3 * 4096, 4096);
	assert_int_equal(stce_pe_dma_copy(f->pe, 0x31064, 0x31000, 2000), 0);
	assert_memory_equal(f->small + 3 * 4096 + 100, ref, 2000);
	assert_int_equal(stce_pe_dma_copy(f->pe, 0x31000, 0x31064, 2000), 0);
	assert_memory_equal(f->small + 3 * 4096, ref, 2000);
	assert_false(stce_pe_dma_frozen(f->pe));

	/* 24 source pages, none adjacent (reversed), to 24 adjacent ones:
	 * more runs than one part of a copy holds. */
	for (unsigned int i = 0; i < 24; i++) {
		tu_map(f->t0, 0x40000 + i * 4096ULL, pg + (46 - 2 * i) * 4096,
		       RW);
		tu_map(f->t0, 0xa0000 + i * 4096ULL, pg + (48 + i) * 4096, RW);
		memset(pg + (46 - 2 * i) * 4096, 0x40 + i, 4096);
	}
	assert_int_equal(stce_pe_dma_copy(f->pe, 0xa0000 + 10, 0x40000 + 10,
					  24 * 4096 - 20), 0);
	for (unsigned int i = 0; i < 24; i++) {
		uint8_t *d = pg + (48 + i) * 4096;
		size_t lo = i ? 0 : 10, hi = i == 23 ? 4096 - 10 : 4096;

		if (!all_of(d + lo, 0x40 + i, hi - lo))
			fail_msg("destination page %u", i);
	}
	assert_true(all_of(pg + 48 * 4096, 0, 10));
	assert_true(all_of(pg + 72 * 4096 - 10, 0, 10));
	/* The destination runs out of mapped entries part-way. */
	assert_int_equal(stce_pe_dma_copy(f->pe, 0xb0000, 0x40000, 16 * 4096),
			 -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_EMPTY, 0xb8000, STCE_DMA_WRITE);
	thaw(f->pe);

	/* Source faults: empty, then write-only; nothing written. */
	memset(f->big, 0x77, 65536);
	assert_int_equal(stce_pe_dma_copy(f->pe, DDW + 0x60000, 0x5000, 16),
			 -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_EMPTY, 0x5000, STCE_DMA_READ);
	thaw(f->pe);
	tu_map(f->t0, 0x7000, f->small + 4096, STCE_TCE_WRITE);
	assert_int_equal(stce_pe_dma_copy(f->pe, DDW + 0x60000, 0x7000, 16),
			 -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_PERM, 0x7000, STCE_DMA_READ);
	thaw(f->pe);
	assert_true(all_of(f->big, 0x77, 65536));

	/* Destination faults: read-only, outside every window. */
	tu_map(f->t0, 0x6000, f->small + 5 * 4096, STCE_TCE_READ);
	memset(f->small + 5 * 4096, 0x99, 4096);
	assert_int_equal(stce_pe_dma_copy(f->pe, 0x6004, 0x31000, 8), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_PERM, 0x6004, STCE_DMA_WRITE);
	thaw(f->pe);
	assert_int_equal(stce_pe_dma_fill(f->pe, 0x6000, 0, 1), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_PERM, 0x6000, STCE_DMA_WRITE);
	assert_true(all_of(f->small + 5 * 4096, 0x99, 4096));
	thaw(f->pe);
	/* Both sides bad, each inside one page: the source's fault. */
	assert_int_equal(stce_pe_dma_copy(f->pe, 0x6004, 0x5000, 8), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_EMPTY, 0x5000, STCE_DMA_READ);
	thaw(f->pe);
	/* A good source inside one page, no window for the destination. */
	assert_int_equal(stce_pe_dma_copy(f->pe, DDW - 8, 0x31000, 8), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_NO_WINDOW, DDW - 8, STCE_DMA_WRITE);
	thaw(f->pe);
	assert_true(all_of(f->small + 5 * 4096, 0x99, 4096));
	assert_int_equal(stce_pe_dma_fill(f->pe, DDW - 8, 0, 8), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_NO_WINDOW, DDW - 8, STCE_DMA_WRITE);
	/* Frozen: both refuse, the first fault kept. */
	assert_int_equal(stce_pe_dma_fill(f->pe, 0x30000, 0, 8), -EIO);
	assert_int_equal(stce_pe_dma_copy(f->pe, 0x30000, 0x31000, 8), -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_NO_WINDOW, DDW - 8, STCE_DMA_WRITE);
	thaw(f->pe);
	free(pg);
}

/*
 * Whole pages adjacent in memory go out as one copy: a run of three
 * adjacent pages then a jump then two adjacent, written and read back,
 * and a permission fault inside an adjacent run that leaves the pages
 * before it written.
 */
static void adjacent_runs(void **state)
{
	struct fx *f = *state;
	static const unsigned int at[] = { 1, 2, 3, 6, 7 };
	uint8_t out[5 * 4096], in[5 * 4096];
	struct stce_dma_span spans[4];
	struct stce_dma_guard g;
	unsigned int nr;

	for (unsigned int i = 0; i < 5; i++)
		tu_map(f->t0, 0x90000 + i * 4096ULL, f->small + at[i] * 4096,
		       RW);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 11 + i / 4096);
	memset(f->small, 0, 8 * 4096);
	assert_int_equal(stce_pe_dma_write(f->pe, 0x90000, out, sizeof(out)),
			 0);
	for (unsigned int i = 0; i < 5; i++)
		assert_memory_equal(f->small + at[i] * 4096, out + i * 4096,
				    4096);
	assert_true(all_of(f->small, 0, 4096));
	assert_true(all_of(f->small + 4 * 4096, 0, 2 * 4096));
	assert_int_equal(stce_pe_dma_read(f->pe, 0x90000, in, sizeof(in)), 0);
	assert_memory_equal(in, out, sizeof(in));

	tu_map(f->t0, 0x92000, f->small + 3 * 4096, STCE_TCE_READ);
	memset(f->small, 0, 8 * 4096);
	assert_int_equal(stce_pe_dma_fill(f->pe, 0x90000, 0x3c, 5 * 4096),
			 -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_PERM, 0x92000, STCE_DMA_WRITE);
	assert_true(all_of(f->small + 4096, 0x3c, 2 * 4096));
	assert_true(all_of(f->small + 3 * 4096, 0, 5 * 4096));
	thaw(f->pe);

	/* Write-only inside a run of adjacent pages: a read stops there,
	 * after the pages before it; so does a mapping for reading. */
	tu_map(f->t0, 0x92000, f->small + 3 * 4096, STCE_TCE_WRITE);
	for (size_t i = 0; i < 8 * 4096; i++)
		f->small[i] = (uint8_t)(i * 5 + 1);
	memset(in, 0, sizeof(in));
	assert_int_equal(stce_pe_dma_read(f->pe, 0x90000, in, sizeof(in)),
			 -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_PERM, 0x92000, STCE_DMA_READ);
	assert_memory_equal(in, f->small + 4096, 2 * 4096);
	assert_true(all_of(in + 2 * 4096, 0, 3 * 4096));
	thaw(f->pe);
	assert_int_equal(stce_pe_dma_map(f->pe, 0x90000, 5 * 4096,
					 STCE_DMA_READ, spans, 4, &nr, &g),
			 -EIO);
	assert_fault(f->pe, STCE_EEH_FAULT_PERM, 0x92000, STCE_DMA_READ);
	thaw(f->pe);
	/* Writing through it is allowed. */
	assert_int_equal(stce_pe_dma_map(f->pe, 0x90000, 5 * 4096,
					 STCE_DMA_WRITE, spans, 4, &nr, &g), 0);
	assert_int_equal(nr, 2);
	assert_ptr_equal(spans[0].addr, f->small + 4096);
	assert_int_equal(spans[0].len, 3 * 4096);
	stce_pe_dma_unmap(f->pe, &g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(read_write_across_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(window_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_and_permission_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(map_for_access, setup, teardown),
		cmocka_unit_test_setup_teardown(unset_window_stops_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(long_transfers_across_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_and_fill, setup, teardown),
		cmocka_unit_test_setup_teardown(adjacent_runs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
