// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <spapr_tce/table.h>

#include "common/alloc.h"

#define K 1024ULL
#define M (1024 * K)
#define G (1024 * M)
#define T (1024 * G)

static struct stce_table *make(uint64_t offset, uint64_t window,
			       unsigned int page_shift, unsigned int levels,
			       unsigned int flags)
{
	struct stce_table_params p = {
		.bus_offset = offset, .window_size = window,
		.page_shift = page_shift, .levels = levels, .flags = flags,
	};
	struct stce_table *t = NULL;

	assert_int_equal(stce_table_create(&p, &t), 0);
	assert_non_null(t);
	return t;
}

static int try_create(uint64_t offset, uint64_t window, unsigned int page_shift,
		      unsigned int levels, unsigned int host_shift,
		      unsigned int flags)
{
	struct stce_table_params p = {
		.bus_offset = offset, .window_size = window,
		.page_shift = page_shift, .levels = levels,
		.host_page_shift = host_shift, .flags = flags,
	};
	struct stce_table *t = (struct stce_table *)0x1;
	int ret = stce_table_create(&p, &t);

	if (!ret)
		stce_table_destroy(t);
	else
		assert_ptr_equal(t, (struct stce_table *)0x1);	/* untouched */
	return ret;
}

static void create_refuses_bad_geometry(void **state)
{
	(void)state;
	assert_int_equal(try_create(0, 2 * G, 12, 1, 0, 0), 0);
	assert_int_equal(try_create(0, 2 * G, 13, 1, 0, 0), -EINVAL);	/* page */
	assert_int_equal(try_create(0, 2 * G, 0, 1, 0, 0), -EINVAL);
	assert_int_equal(try_create(0, 3 * G, 12, 1, 0, 0), -EINVAL);	/* 2^n */
	assert_int_equal(try_create(0, 0, 12, 1, 0, 0), -EINVAL);
	assert_int_equal(try_create(0, 32 * K, 16, 1, 0, 0), -EINVAL);	/* < page */
	assert_int_equal(try_create(0, 2 * G, 12, 0, 0, 0), -EINVAL);	/* levels */
	assert_int_equal(try_create(0, 2 * G, 12, 6, 0, 0), -EINVAL);
	assert_int_equal(try_create(0x800, 2 * G, 12, 1, 0, 0), -EINVAL); /* offset */
	/* A window may end exactly at 2^64, not past it. */
	assert_int_equal(try_create(0 - (1ULL << 40), 1ULL << 40, 30, 1, 0, 0), 0);
	assert_int_equal(try_create(0 - (1ULL << 39), 1ULL << 40, 30, 1, 0, 0),
			 -EINVAL);
	/* No window of 2^55 bytes or more passes the 55-bit rule. */
	assert_int_equal(try_create(0, 1ULL << 55, 30, 1, 0, 0), -EINVAL);
	assert_int_equal(try_create(0, 2 * G, 12, 1, 11, 0), -EINVAL);	/* host */
	assert_int_equal(try_create(0, 2 * G, 12, 1, 31, 0), -EINVAL);
	assert_int_equal(try_create(0, 2 * G, 12, 1, 0, 0x2), -EINVAL);	/* flags */
	/* The kernel's 55-bit rule: too many levels for a small window... */
	assert_int_equal(try_create(0, 64 * K, 16, 5, 0, 0), -EINVAL);
	assert_int_equal(try_create(0, 64 * K, 16, 2, 0, 0), 0);
	/* ...and (64K, 64G, 3 levels), which the real kernel refused. */
	assert_int_equal(try_create(0, 64 * G, 16, 3, 0, 0), -EINVAL);
	assert_int_equal(try_create(0, 64 * G, 16, 2, 0, 0), 0);
}

static void create_fails_cleanly_without_memory(void **state)
{
	(void)state;
	stce_fault_arm(STCE_FAULT_ALLOC, 1);	/* the table struct */
	assert_int_equal(try_create(0, 1 * G, 16, 2, 0, 0), -ENOMEM);
	stce_fault_arm(STCE_FAULT_ALLOC, 2);	/* its top chunk */
	assert_int_equal(try_create(0, 1 * G, 16, 2, 0, 0), -ENOMEM);
	stce_fault_arm(STCE_FAULT_ALLOC, 0);
}

static void info_describes_the_table(void **state)
{
	struct stce_table *t = make(1ULL << 59, 1 * T, 16, 2,
				    STCE_TABLE_USERSPACE_VIEW);
	struct stce_table_info info;

	(void)state;
	stce_table_get_info(t, &info);
	assert_int_equal(info.bus_offset, 1ULL << 59);
	assert_int_equal(info.window_size, 1 * T);
	assert_int_equal(info.entries, 1ULL << 24);
	assert_int_equal(info.page_shift, 16);
	assert_int_equal(info.levels, 2);
	assert_int_equal(info.chunk_shift, 16 + 0 * 1);	/* 12 bits + 3 < 16 */
	assert_int_equal(info.host_page_shift, 16);
	assert_true(info.userspace_view);
	assert_int_equal(info.size_bytes, 268566528);
	/* Only the top chunk exists until an entry is set. */
	assert_int_equal(info.allocated_bytes, 64 * K);
	assert_int_equal(info.flush_count, 0);
	assert_int_equal(stce_table_entries(t), 1ULL << 24);
	assert_int_equal(stce_table_page_shift(t), 16);
	assert_int_equal(stce_table_bus_offset(t), 1ULL << 59);
	assert_int_equal(stce_table_window_size(t), 1 * T);
	stce_table_destroy(t);
	stce_table_destroy(NULL);
}

static void index_maps_bus_addresses(void **state)
{
	struct stce_table *t = make(1ULL << 59, 1 * G, 16, 1, 0);
	uint64_t idx = 99;

	(void)state;
	assert_int_equal(stce_table_index(t, 1ULL << 59, &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(stce_table_index(t, (1ULL << 59) + 0x1ffff, &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(stce_table_index(t, (1ULL << 59) + 1 * G - 1, &idx), 0);
	assert_int_equal(idx, (1 * G >> 16) - 1);
	idx = 99;
	assert_int_equal(stce_table_index(t, (1ULL << 59) + 1 * G, &idx), -ENXIO);
	assert_int_equal(stce_table_index(t, (1ULL << 59) - 1, &idx), -ENXIO);
	assert_int_equal(stce_table_index(t, 0, &idx), -ENXIO);
	assert_int_equal(idx, 99);
	stce_table_destroy(t);
}

static void xchg_returns_the_old_entry(void **state)
{
	struct stce_table *t = make(0, 2 * G, 12, 1, STCE_TABLE_USERSPACE_VIEW);
	uint64_t tce = stce_tce_make(0x10000, STCE_TCE_READ), ua = 0x7000;

	(void)state;
	assert_int_equal(stce_table_xchg(t, 5, &tce, &ua, 0), 0);
	assert_int_equal(tce, 0);
	assert_int_equal(ua, 0);
	assert_int_equal(stce_table_get(t, 5), 0x10001);
	assert_int_equal(stce_table_get_ua(t, 5), 0x7000);
	assert_int_equal(stce_table_get(t, 4), 0);
	assert_int_equal(stce_table_get(t, 6), 0);

	tce = stce_tce_make(0x20000, STCE_TCE_READ | STCE_TCE_WRITE);
	ua = 0x8000;
	assert_int_equal(stce_table_xchg(t, 5, &tce, &ua, 0), 0);
	assert_int_equal(tce, 0x10001);
	assert_int_equal(ua, 0x7000);
	assert_int_equal(stce_table_get(t, 5), 0x20003);

	/* Clearing hands back both halves. */
	tce = 0;
	ua = 0;
	assert_int_equal(stce_table_xchg(t, 5, &tce, &ua, 0), 0);
	assert_int_equal(tce, 0x20003);
	assert_int_equal(ua, 0x8000);
	assert_int_equal(stce_table_get(t, 5), 0);
	assert_int_equal(stce_table_get_ua(t, 5), 0);

	/* Last entry works, one past it does not; nothing changes. */
	tce = 0x3001;
	assert_int_equal(stce_table_xchg(t, (2 * G >> 12) - 1, &tce, NULL, 0), 0);
	tce = 0x4001;
	assert_int_equal(stce_table_xchg(t, 2 * G >> 12, &tce, NULL, 0), -EINVAL);
	assert_int_equal(tce, 0x4001);
	assert_int_equal(stce_table_get(t, 2 * G >> 12), 0);
	assert_int_equal(stce_table_get_ua(t, 2 * G >> 12), 0);
	assert_int_equal(stce_table_xchg(t, 0, &tce, NULL, 0x8), -EINVAL);
	assert_int_equal(stce_table_get(t, 0), 0);
	stce_table_destroy(t);
}

static void table_without_view_ignores_ua(void **state)
{
	struct stce_table *t = make(0, 1 * G, 16, 1, 0);
	uint64_t tce = 0x10001, ua = 0x5555;

	(void)state;
	assert_int_equal(stce_table_xchg(t, 1, &tce, &ua, 0), 0);
	assert_int_equal(ua, 0x5555);		/* left alone */
	assert_int_equal(stce_table_get_ua(t, 1), 0);
	assert_int_equal(stce_table_get(t, 1), 0x10001);
	tce = 0;
	assert_int_equal(stce_table_xchg(t, 1, &tce, NULL, 0), 0);
	assert_int_equal(tce, 0x10001);
	stce_table_destroy(t);
}

static void levels_are_allocated_on_demand(void **state)
{
	/* 16 TiB of 64K pages over 2 levels: 2^28 entries, 2^14 a chunk. */
	struct stce_table *t = make(1ULL << 59, 16 * T, 16, 2,
				    STCE_TABLE_USERSPACE_VIEW);
	struct stce_table_info info;
	uint64_t top = 128 * K, leaf = 2 * 128 * K;
	uint64_t tce, ua;

	(void)state;
	stce_table_get_info(t, &info);
	assert_int_equal(info.chunk_shift, 17);
	assert_int_equal(info.allocated_bytes, top);
	/* Reading or clearing a missing chunk allocates nothing. */
	assert_int_equal(stce_table_get(t, 12345678), 0);
	tce = 0;
	ua = 0;
	assert_int_equal(stce_table_xchg(t, 12345678, &tce, &ua, 0), 0);
	assert_int_equal(stce_table_allocated_bytes(t), top);

	tce = 0x10001;
	ua = 0x10000;
	assert_int_equal(stce_table_xchg(t, 0, &tce, &ua, 0), 0);
	assert_int_equal(stce_table_allocated_bytes(t), top + leaf);
	tce = 0x20001;
	assert_int_equal(stce_table_xchg(t, 16383, &tce, &ua, 0), 0);	/* same leaf */
	assert_int_equal(stce_table_allocated_bytes(t), top + leaf);
	tce = 0x30001;
	assert_int_equal(stce_table_xchg(t, 16384, &tce, &ua, 0), 0);	/* next leaf */
	assert_int_equal(stce_table_allocated_bytes(t), top + 2 * leaf);
	tce = 0x40001;
	assert_int_equal(stce_table_xchg(t, (1ULL << 28) - 1, &tce, &ua, 0), 0);
	assert_int_equal(stce_table_allocated_bytes(t), top + 3 * leaf);
	assert_int_equal(stce_table_get(t, 16383), 0x20001);
	assert_int_equal(stce_table_get(t, 16384), 0x30001);
	assert_int_equal(stce_table_get(t, (1ULL << 28) - 1), 0x40001);
	assert_true(stce_table_allocated_bytes(t) <= info.size_bytes);
	stce_table_destroy(t);
}

static void full_table_stays_within_the_formula(void **state)
{
	static const struct { uint64_t window; unsigned int shift, levels; } geo[] = {
		{ 1 * G, 16, 1 }, { 1 * G, 16, 2 }, { 64 * M, 12, 3 },
		{ 256 * M, 12, 3 }, { 4 * G, 21, 2 },
	};

	(void)state;
	for (size_t g = 0; g < sizeof(geo) / sizeof(geo[0]); g++) {
		struct stce_table *t = make(0, geo[g].window, geo[g].shift,
					    geo[g].levels, STCE_TABLE_USERSPACE_VIEW);
		uint64_t n = stce_table_entries(t);

		for (uint64_t i = 0; i < n; i++) {
			uint64_t tce = ((i + 1) << 12) | 1, ua = 1;

			assert_int_equal(stce_table_xchg(t, i, &tce, &ua, 0), 0);
		}
		assert_true(stce_table_allocated_bytes(t) <=
			    stce_table_size(geo[g].shift, geo[g].window, geo[g].levels));
		for (uint64_t i = 0; i < n; i += 997)
			assert_int_equal(stce_table_get(t, i), ((i + 1) << 12) | 1);
		stce_table_destroy(t);
	}
}

static void missing_level_without_memory_changes_nothing(void **state)
{
	struct stce_table *t = make(0, 1 * T, 12, 3, STCE_TABLE_USERSPACE_VIEW);
	uint64_t before = stce_table_allocated_bytes(t);
	uint64_t tce = 0x10001, ua = 0x10000;

	(void)state;
	/* Fail the first allocation (the middle level). */
	stce_fault_arm(STCE_FAULT_ALLOC, 1);
	assert_int_equal(stce_table_xchg(t, 777777, &tce, &ua, 0), -ENOMEM);
	assert_int_equal(tce, 0x10001);
	assert_int_equal(stce_table_allocated_bytes(t), before);
	/* Fail the second (the leaf): the middle chunk may stay, the entry
	 * is unchanged and still reads 0. */
	stce_fault_arm(STCE_FAULT_ALLOC, 2);
	assert_int_equal(stce_table_xchg(t, 777777, &tce, &ua, 0), -ENOMEM);
	assert_int_equal(stce_table_get(t, 777777), 0);
	stce_fault_arm(STCE_FAULT_ALLOC, 0);

	/* NOALLOC never allocates, and says so. */
	assert_int_equal(stce_table_xchg(t, 888888, &tce, &ua, STCE_XCHG_NOALLOC),
			 -EAGAIN);
	assert_int_equal(stce_table_get(t, 888888), 0);
	/* Once the level exists, NOALLOC works. */
	assert_int_equal(stce_table_xchg(t, 777777, &tce, &ua, 0), 0);
	tce = 0x20001;
	assert_int_equal(stce_table_xchg(t, 777778, &tce, &ua, STCE_XCHG_NOALLOC), 0);
	assert_int_equal(stce_table_get(t, 777778), 0x20001);
	stce_table_destroy(t);
}

/* Records the order of kill and release calls. */
struct order_log {
	char events[512];
	size_t n;
	uint64_t released[256];
	uint64_t released_ua[256];
	size_t nr_released;
	uint64_t flushes_at_release;
	const struct stce_table *table;
	uint64_t lo, count;	/* the last kill's range */
};

static void log_kill(void *ctx, const struct stce_table *t, uint64_t index,
		     uint64_t count)
{
	struct order_log *log = ctx;

	assert_ptr_equal(t, log->table);
	assert_true(count && index + count <= stce_table_entries(t));
	log->lo = index;
	log->count = count;
	log->events[log->n++] = 'K';
}

static void log_release(void *ctx, const struct stce_cleared *e)
{
	struct order_log *log = ctx;

	log->events[log->n++] = 'R';
	log->released[log->nr_released] = e->tce;
	log->released_ua[log->nr_released++] = e->ua;
	/* The flush that covers this entry has been counted already. */
	log->flushes_at_release = stce_table_flush_count(log->table);
	assert_int_equal(stce_table_get(log->table, e->index), 0);
}

static void clear_flushes_before_release(void **state)
{
	struct stce_table *t = make(0, 1 * G, 16, 2, STCE_TABLE_USERSPACE_VIEW);
	struct order_log log = { .table = t };
	uint64_t cleared = 0;

	(void)state;
	stce_table_set_kill(t, log_kill, &log);
	/* 100 live entries scattered over two leaves, with holes. */
	for (uint64_t i = 0; i < 100; i++) {
		uint64_t idx = i * 163, tce = ((i + 1) << 16) | 3, ua = (i + 1) << 20;

		assert_int_equal(stce_table_xchg(t, idx, &tce, &ua, 0), 0);
	}
	assert_int_equal(stce_table_clear(t, 0, stce_table_entries(t), log_release,
					  &log, &cleared), 0);
	assert_int_equal(cleared, 100);
	assert_int_equal(log.nr_released, 100);
	/* The last kill covers just its batch: entries 64..99. */
	assert_int_equal(log.lo, 64 * 163);
	assert_int_equal(log.count, 35 * 163 + 1);
	/* One batch of 64, flushed, released; then the last 36. */
	assert_int_equal(log.n, 102);
	assert_int_equal(log.events[0], 'K');
	for (size_t i = 1; i <= STCE_TABLE_CLEAR_BATCH; i++)
		assert_int_equal(log.events[i], 'R');
	assert_int_equal(log.events[STCE_TABLE_CLEAR_BATCH + 1], 'K');
	for (size_t i = STCE_TABLE_CLEAR_BATCH + 2; i < log.n; i++)
		assert_int_equal(log.events[i], 'R');
	assert_int_equal(stce_table_flush_count(t), 2);
	for (uint64_t i = 0; i < 100; i++) {
		assert_int_equal(log.released[i], ((i + 1) << 16) | 3);
		assert_int_equal(log.released_ua[i], (i + 1) << 20);
	}
	/* Clearing an empty range finds nothing, flushes nothing. */
	assert_int_equal(stce_table_clear(t, 0, stce_table_entries(t), log_release,
					  &log, &cleared), 0);
	assert_int_equal(cleared, 0);
	assert_int_equal(stce_table_flush_count(t), 2);
	stce_table_destroy(t);
}

static void clear_takes_only_its_range(void **state)
{
	struct stce_table *t = make(0, 64 * M, 12, 2, 0);
	uint64_t cleared = 0;

	(void)state;
	for (uint64_t i = 0; i < stce_table_entries(t); i++) {
		uint64_t tce = (i << 12) | 1;

		assert_int_equal(stce_table_xchg(t, i, &tce, NULL, 0), 0);
	}
	assert_int_equal(stce_table_clear(t, 100, 9000, NULL, NULL, &cleared), 0);
	assert_int_equal(cleared, 9000);
	assert_int_equal(stce_table_get(t, 99), (99 << 12) | 1);
	assert_int_equal(stce_table_get(t, 100), 0);
	assert_int_equal(stce_table_get(t, 9099), 0);
	assert_int_equal(stce_table_get(t, 9100), (9100ULL << 12) | 1);
	/* Entry 0 holds TCE 0|1: "live" by its bit, so it is cleared too. */
	assert_int_equal(stce_table_clear(t, 0, 1, NULL, NULL, NULL), 0);
	assert_int_equal(stce_table_get(t, 0), 0);
	stce_table_destroy(t);
}

static void clear_refuses_bad_ranges(void **state)
{
	struct stce_table *t = make(0, 1 * M, 12, 1, 0);
	uint64_t tce = 0x1001, cleared = 42;

	(void)state;
	assert_int_equal(stce_table_xchg(t, 255, &tce, NULL, 0), 0);
	assert_int_equal(stce_table_clear(t, 0, 0, NULL, NULL, &cleared), -EINVAL);
	assert_int_equal(stce_table_clear(t, 256, 1, NULL, NULL, &cleared), -EINVAL);
	assert_int_equal(stce_table_clear(t, 255, 2, NULL, NULL, &cleared), -EINVAL);
	assert_int_equal(stce_table_clear(t, 1, UINT64_MAX, NULL, NULL, &cleared), -EINVAL);
	assert_int_equal(cleared, 42);
	assert_int_equal(stce_table_get(t, 255), 0x1001);	/* untouched */
	assert_int_equal(stce_table_flush_count(t), 0);
	assert_int_equal(stce_table_clear(t, 255, 1, NULL, NULL, &cleared), 0);
	assert_int_equal(cleared, 1);
	stce_table_destroy(t);
}

static void flush_calls_the_hook(void **state)
{
	struct stce_table *t = make(0, 1 * M, 12, 1, 0);
	struct order_log log = { .table = t };

	(void)state;
	stce_table_flush(t);			/* no hook: just counted */
	assert_int_equal(stce_table_flush_count(t), 1);
	stce_table_set_kill(t, log_kill, &log);
	stce_table_flush(t);
	assert_int_equal(stce_table_flush_count(t), 2);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.lo, 0);
	assert_int_equal(log.count, stce_table_entries(t));
	stce_table_flush_range(t, 5, 7);
	assert_int_equal(log.lo, 5);
	assert_int_equal(log.count, 7);
	/* Past the end, or empty: the whole table. */
	stce_table_flush_range(t, 5, stce_table_entries(t));
	assert_int_equal(log.count, stce_table_entries(t));
	stce_table_flush_range(t, 3, 0);
	assert_int_equal(log.lo, 0);
	assert_int_equal(log.count, stce_table_entries(t));
	assert_int_equal(stce_table_flush_count(t), 5);
	/* After an exchange: the same hook, range and count. */
	stce_table_flush_range_xchg(t, 9, 1);
	assert_int_equal(log.n, 5);
	assert_int_equal(log.lo, 9);
	assert_int_equal(log.count, 1);
	stce_table_flush_range_xchg(t, 9, 0);
	assert_int_equal(log.lo, 0);
	assert_int_equal(log.count, stce_table_entries(t));
	assert_int_equal(stce_table_flush_count(t), 7);
	stce_table_destroy(t);
}

static void xchg_range_swaps_every_entry(void **state)
{
	/* 2 levels, 8192 entries a chunk: the range crosses a chunk edge. */
	struct stce_table *t = make(0, 1 * G, 16, 2, STCE_TABLE_USERSPACE_VIEW);
	uint64_t tces[100], uas[100];

	(void)state;
	for (int i = 0; i < 100; i++) {
		tces[i] = (uint64_t)(i + 1) << 16 | STCE_TCE_READ;
		uas[i] = (uint64_t)(i + 1) << 20;
	}
	assert_int_equal(stce_table_xchg_range(t, 8150, 100, tces, uas, 0), 0);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(tces[i], 0);
		assert_int_equal(uas[i], 0);
		assert_int_equal(stce_table_get(t, 8150 + i), (uint64_t)(i + 1) << 16 | 1);
		assert_int_equal(stce_table_get_ua(t, 8150 + i), (uint64_t)(i + 1) << 20);
	}
	assert_int_equal(stce_table_get(t, 8149), 0);
	assert_int_equal(stce_table_get(t, 8250), 0);
	/* Clearing half of it hands back exactly the old halves. */
	for (int i = 0; i < 50; i++)
		tces[i] = uas[i] = 0;
	assert_int_equal(stce_table_xchg_range(t, 8150, 50, tces, uas, 0), 0);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(tces[i], (uint64_t)(i + 1) << 16 | 1);
		assert_int_equal(uas[i], (uint64_t)(i + 1) << 20);
		assert_int_equal(stce_table_get(t, 8150 + i), 0);
	}
	/* Without uas the view is left alone. */
	tces[0] = 0x77001;
	assert_int_equal(stce_table_xchg_range(t, 8200, 1, tces, NULL, 0), 0);
	assert_int_equal(tces[0], (uint64_t)51 << 16 | 1);
	assert_int_equal(stce_table_get_ua(t, 8200), (uint64_t)51 << 20);
	stce_table_destroy(t);
}

/* The mixed range of the next two tests: 200 entries from 30, the
 * cleared ones, the remapped ones' new TCE, and the first mapping. */
#define MIXED_FIRST	30
#define MIXED_N		200

static bool mixed_clear(int i)
{
	return i % 3 == 0 || (i >= 100 && i < 170);
}

static uint64_t mixed_tce(int i)
{
	return mixed_clear(i) ? 0 : (uint64_t)(i + 1000) << 16 | STCE_TCE_WRITE;
}

static void mixed_first_map(struct stce_table *t, uint64_t *tces,
			    uint64_t *uas)
{
	for (int i = 0; i < MIXED_N; i++) {
		tces[i] = (uint64_t)(i + 1) << 16 | STCE_TCE_READ;
		uas[i] = (uint64_t)(i + 1) << 20;
	}
	assert_int_equal(stce_table_xchg_range(t, MIXED_FIRST, MIXED_N, tces,
					       uas, 0), 0);
}

/*
 * A range mixing new mappings and clears, longer than one 64-entry pass
 * of the exchange and starting off a multiple of 64: every entry hands
 * back its own old TCE and address and keeps the new ones it was given
 * (a clear's address too: the view takes whatever the caller passes).
 */
static void xchg_range_mixes_maps_and_clears(void **state)
{
	struct stce_table *t = make(0, 1 * G, 16, 2, STCE_TABLE_USERSPACE_VIEW);
	uint64_t tces[MIXED_N], uas[MIXED_N];

	(void)state;
	mixed_first_map(t, tces, uas);
	/* Every third entry cleared (odd ones with an address), the rest
	 * remapped: runs of clears and maps of several lengths. */
	for (int i = 0; i < MIXED_N; i++) {
		tces[i] = mixed_tce(i);
		uas[i] = mixed_clear(i) ? (i & 1 ? (uint64_t)i << 12 : 0) :
					  (uint64_t)(i + 1000) << 20;
	}
	assert_int_equal(stce_table_xchg_range(t, MIXED_FIRST, MIXED_N, tces,
					       uas, 0), 0);
	for (int i = 0; i < MIXED_N; i++) {
		assert_int_equal(tces[i], (uint64_t)(i + 1) << 16 | STCE_TCE_READ);
		assert_int_equal(uas[i], (uint64_t)(i + 1) << 20);
		assert_int_equal(stce_table_get(t, MIXED_FIRST + i), mixed_tce(i));
		assert_int_equal(stce_table_get_ua(t, MIXED_FIRST + i),
				 mixed_clear(i) ? (i & 1 ? (uint64_t)i << 12 : 0) :
						  (uint64_t)(i + 1000) << 20);
	}
	stce_table_destroy(t);
}

/*
 * STCE_XCHG_NO_OLD_UA: the same exchange, but @uas keeps the new
 * addresses it was given (old ones are not reported) while the TCEs come
 * back old and the view takes every new address, over several 64-entry
 * passes, maps and clears mixed.
 */
static void xchg_range_without_old_uas(void **state)
{
	struct stce_table *t = make(0, 1 * G, 16, 2, STCE_TABLE_USERSPACE_VIEW);
	uint64_t tces[MIXED_N], uas[MIXED_N];

	(void)state;
	mixed_first_map(t, tces, uas);
	for (int i = 0; i < MIXED_N; i++) {
		tces[i] = mixed_tce(i);
		uas[i] = mixed_clear(i) ? 0 : (uint64_t)(i + 1000) << 20;
	}
	assert_int_equal(stce_table_xchg_range(t, MIXED_FIRST, MIXED_N, tces,
					       uas, STCE_XCHG_NO_OLD_UA), 0);
	for (int i = 0; i < MIXED_N; i++) {
		uint64_t ua = mixed_clear(i) ? 0 : (uint64_t)(i + 1000) << 20;

		assert_int_equal(tces[i], (uint64_t)(i + 1) << 16 | STCE_TCE_READ);
		assert_int_equal(uas[i], ua);
		assert_int_equal(stce_table_get(t, MIXED_FIRST + i), mixed_tce(i));
		assert_int_equal(stce_table_get_ua(t, MIXED_FIRST + i), ua);
	}
	/* A clear over a missing leaf needs none, even with the flag. */
	tces[0] = 0x1234;	/* no permission: still needs the leaf */
	uas[0] = 0;
	assert_int_equal(stce_table_xchg_range(t, 9000, 1, tces, uas,
					       STCE_XCHG_NO_OLD_UA |
					       STCE_XCHG_NOALLOC), -EAGAIN);
	tces[0] = 0;
	assert_int_equal(stce_table_xchg_range(t, 9000, 1, tces, uas,
					       STCE_XCHG_NO_OLD_UA |
					       STCE_XCHG_NOALLOC), 0);
	assert_int_equal(tces[0], 0);
	assert_int_equal(stce_table_get(t, 9000), 0);
	assert_int_equal(stce_table_xchg_range(t, 0, 1, tces, uas, 1u << 2),
			 -EINVAL);
	stce_table_destroy(t);
}

/*
 * stce_table_take_range: across a chunk edge of a 2-level table and over
 * a leaf never allocated, in several 64-entry passes: every old TCE back
 * (0 where nothing was), the entries and their view addresses 0, 1 only
 * when something was live.
 */
static void take_range_clears_and_reports(void **state)
{
	/* 8192 entries a chunk: [8100, 8300) crosses into chunk 1. */
	struct stce_table *t = make(0, 2 * G, 16, 2, STCE_TABLE_USERSPACE_VIEW);
	struct stce_table *plain = make(0, 1 * M, 12, 1, 0);
	uint64_t tces[300], uas[300], bytes;

	(void)state;
	for (int i = 0; i < 150; i++) {
		/* Every fifth entry stays empty. */
		tces[i] = i % 5 ? (uint64_t)(i + 1) << 16 | STCE_TCE_WRITE : 0;
		uas[i] = i % 5 ? (uint64_t)(i + 1) << 20 : 0;
	}
	assert_int_equal(stce_table_xchg_range(t, 8100, 150, tces, uas, 0), 0);
	bytes = stce_table_allocated_bytes(t);
	/* [8100, 8400): 8250.. empty in chunk 1, chunk 2 (16384..) absent. */
	assert_int_equal(stce_table_take_range(t, 8100, 300, tces), 1);
	for (int i = 0; i < 300; i++) {
		uint64_t old = i < 150 && i % 5 ?
			(uint64_t)(i + 1) << 16 | STCE_TCE_WRITE : 0;

		assert_int_equal(tces[i], old);
		assert_int_equal(stce_table_get(t, 8100 + i), 0);
		assert_int_equal(stce_table_get_ua(t, 8100 + i), 0);
	}
	/* Nothing live now, and in a leaf never allocated: 0. */
	tces[0] = 0xdead;
	assert_int_equal(stce_table_take_range(t, 8100, 150, tces), 0);
	assert_int_equal(tces[0], 0);
	assert_int_equal(stce_table_take_range(t, 20000, 100, tces), 0);
	assert_int_equal(stce_table_allocated_bytes(t), bytes);	/* none */
	/* A poison value (no permission bit) is taken out, but not live. */
	tces[0] = 0x70000;
	assert_int_equal(stce_table_xchg_range(t, 5, 1, tces, NULL, 0), 0);
	assert_int_equal(stce_table_take_range(t, 5, 1, tces), 0);
	assert_int_equal(tces[0], 0x70000);
	/* No view. */
	tces[0] = 0x3001;
	assert_int_equal(stce_table_xchg_range(plain, 255, 1, tces, NULL, 0), 0);
	assert_int_equal(stce_table_take_range(plain, 250, 6, tces), 1);
	assert_int_equal(tces[5], 0x3001);
	assert_int_equal(stce_table_get(plain, 255), 0);
	/* Bad ranges. */
	assert_int_equal(stce_table_take_range(plain, 0, 0, tces), -EINVAL);
	assert_int_equal(stce_table_take_range(plain, 255, 2, tces), -EINVAL);
	assert_int_equal(stce_table_take_range(plain, 256, 1, tces), -EINVAL);
	assert_int_equal(stce_table_take_range(plain, 1, UINT64_MAX, tces),
			 -EINVAL);
	stce_table_destroy(plain);
	stce_table_destroy(t);
}

static void xchg_range_refuses_bad_input(void **state)
{
	struct stce_table *t = make(0, 1 * M, 12, 1, 0);
	uint64_t tces[2] = { 0x1001, 0x2001 };

	(void)state;
	assert_int_equal(stce_table_xchg_range(t, 0, 0, tces, NULL, 0), -EINVAL);
	assert_int_equal(stce_table_xchg_range(t, 255, 2, tces, NULL, 0), -EINVAL);
	assert_int_equal(stce_table_xchg_range(t, 256, 1, tces, NULL, 0), -EINVAL);
	assert_int_equal(stce_table_xchg_range(t, 1, UINT64_MAX, tces, NULL, 0), -EINVAL);
	assert_int_equal(stce_table_xchg_range(t, 0, 2, tces, NULL, 0x4), -EINVAL);
	assert_int_equal(tces[0], 0x1001);
	assert_int_equal(stce_table_get(t, 0), 0);
	assert_int_equal(stce_table_get(t, 255), 0);
	stce_table_destroy(t);
}

static void xchg_range_fails_whole(void **state)
{
	/* 4K pages, 3 levels: 8192 entries a leaf, 2^26 a middle chunk. */
	struct stce_table *t = make(0, 1 * T, 12, 3, STCE_TABLE_USERSPACE_VIEW);
	uint64_t before = stce_table_allocated_bytes(t);
	uint64_t tces[3] = { 0x1001, 0, 0x3001 }, uas[3] = { 1, 0, 3 };
	uint64_t first = 8191;	/* spans two leaves */

	(void)state;
	/* NOALLOC with missing leaves: -EAGAIN, nothing allocated. */
	assert_int_equal(stce_table_xchg_range(t, first, 3, tces, uas,
					       STCE_XCHG_NOALLOC), -EAGAIN);
	assert_int_equal(stce_table_allocated_bytes(t), before);
	/* The third allocation (the second leaf) fails: nothing changes. */
	stce_fault_arm(STCE_FAULT_ALLOC, 3);
	assert_int_equal(stce_table_xchg_range(t, first, 3, tces, uas, 0), -ENOMEM);
	stce_fault_arm(STCE_FAULT_ALLOC, 0);
	assert_int_equal(tces[0], 0x1001);
	assert_int_equal(stce_table_get(t, first), 0);
	assert_int_equal(stce_table_get_ua(t, first), 0);
	assert_int_equal(stce_table_xchg_range(t, first, 3, tces, uas, 0), 0);
	assert_int_equal(stce_table_get(t, first), 0x1001);
	assert_int_equal(stce_table_get(t, first + 2), 0x3001);
	/* A clear over leaves that never existed allocates nothing. */
	before = stce_table_allocated_bytes(t);
	uas[0] = uas[1] = uas[2] = 0;
	tces[0] = tces[1] = tces[2] = 0;
	assert_int_equal(stce_table_xchg_range(t, 1ULL << 27, 3, tces, uas,
					       STCE_XCHG_NOALLOC), 0);
	assert_int_equal(stce_table_allocated_bytes(t), before);
	assert_int_equal(tces[0] | tces[1] | tces[2], 0);
	stce_table_destroy(t);
}

static void release_count(void *ctx, const struct stce_cleared *e)
{
	uint64_t *sum = ctx;

	*sum += e->tce;
}

static void clear_exclusive_matches_clear(void **state)
{
	struct stce_table *t = make(0, 64 * M, 12, 2, STCE_TABLE_USERSPACE_VIEW);
	struct order_log log = { .table = t };
	uint64_t cleared = 0, sum = 0, want = 0;

	(void)state;
	for (uint64_t i = 0; i < 300; i++) {
		uint64_t idx = i * 37, tce = (i + 1) << 12 | 2, ua = i;

		assert_int_equal(stce_table_xchg(t, idx, &tce, &ua, 0), 0);
		want += (i + 1) << 12 | 2;
	}
	stce_table_set_kill(t, log_kill, &log);
	assert_int_equal(stce_table_clear_exclusive(t, 0, 1, NULL, NULL, &cleared), 0);
	assert_int_equal(cleared, 1);
	want -= 1 << 12 | 2;
	assert_int_equal(stce_table_clear_exclusive(t, 0, stce_table_entries(t),
						    release_count, &sum, &cleared), 0);
	assert_int_equal(cleared, 299);
	assert_int_equal(sum, want);
	assert_int_equal(log.n, 1 + 5);	/* 1, then 299 = 4 x 64 + 43 */
	assert_int_equal(stce_table_get(t, 37), 0);
	assert_int_equal(stce_table_get_ua(t, 37), 0);
	assert_int_equal(stce_table_clear_exclusive(t, 0, 0, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(stce_table_clear_exclusive(t, stce_table_entries(t), 1,
						    NULL, NULL, NULL), -EINVAL);
	stce_table_destroy(t);
}

/* stce_table_leaf: runs to the chunk or table end, missing chunks, range. */
static void leaf_gives_runs_of_the_chunk(void **state)
{
	struct stce_table_info info;
	const _Atomic uint64_t *p;
	struct stce_table *t;
	uint64_t per, nr, tce;

	(void)state;
	t = make(0, 1 * T, 12, 2, 0);
	stce_table_get_info(t, &info);
	per = 1ULL << (info.chunk_shift - 3);
	assert_true(per < info.entries);

	/* Never set: no chunk, a run of zeros to its end. */
	nr = 7;
	assert_null(stce_table_leaf(t, per + 5, &nr));
	assert_int_equal(nr, per - 5);

	tce = 0x5000 | STCE_TCE_READ;
	assert_int_equal(stce_table_xchg(t, per + 9, &tce, NULL, 0), 0);
	tce = 0x6000 | STCE_TCE_WRITE;
	assert_int_equal(stce_table_xchg(t, 2 * per - 1, &tce, NULL, 0), 0);
	p = stce_table_leaf(t, per + 5, &nr);
	assert_non_null(p);
	assert_int_equal(nr, per - 5);
	for (uint64_t k = 0; k < nr; k++)
		assert_int_equal(stce_tce_load(&p[k]),
				 stce_table_get(t, per + 5 + k));
	assert_int_equal(stce_tce_load(&p[4]), 0x5000 | STCE_TCE_READ);
	assert_int_equal(stce_tce_load(&p[nr - 1]), 0x6000 | STCE_TCE_WRITE);
	/* The start of a chunk gives the whole chunk. */
	assert_ptr_equal(stce_table_leaf(t, per, &nr), p - 5);
	assert_int_equal(nr, per);
	/* The chunk before is still missing. */
	assert_null(stce_table_leaf(t, per - 1, &nr));
	assert_int_equal(nr, 1);

	/* Outside the table. */
	nr = 7;
	assert_null(stce_table_leaf(t, info.entries, &nr));
	assert_int_equal(nr, 0);
	assert_null(stce_table_leaf(t, UINT64_MAX, &nr));
	assert_int_equal(nr, 0);
	stce_table_destroy(t);

	/* One level: a window smaller than the chunk ends the run. */
	t = make(0, 64 * K, 12, 1, 0);
	stce_table_get_info(t, &info);
	assert_true(1ULL << (info.chunk_shift - 3) > info.entries);
	p = stce_table_leaf(t, 3, &nr);
	assert_non_null(p);
	assert_int_equal(nr, info.entries - 3);
	assert_int_equal(stce_tce_load(p), 0);
	assert_null(stce_table_leaf(t, info.entries, &nr));
	stce_table_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_refuses_bad_geometry),
		cmocka_unit_test(create_fails_cleanly_without_memory),
		cmocka_unit_test(info_describes_the_table),
		cmocka_unit_test(index_maps_bus_addresses),
		cmocka_unit_test(xchg_returns_the_old_entry),
		cmocka_unit_test(table_without_view_ignores_ua),
		cmocka_unit_test(levels_are_allocated_on_demand),
		cmocka_unit_test(full_table_stays_within_the_formula),
		cmocka_unit_test(missing_level_without_memory_changes_nothing),
		cmocka_unit_test(clear_flushes_before_release),
		cmocka_unit_test(clear_takes_only_its_range),
		cmocka_unit_test(clear_refuses_bad_ranges),
		cmocka_unit_test(flush_calls_the_hook),
		cmocka_unit_test(xchg_range_swaps_every_entry),
		cmocka_unit_test(xchg_range_mixes_maps_and_clears),
		cmocka_unit_test(xchg_range_without_old_uas),
		cmocka_unit_test(take_range_clears_and_reports),
		cmocka_unit_test(xchg_range_refuses_bad_input),
		cmocka_unit_test(xchg_range_fails_whole),
		cmocka_unit_test(clear_exclusive_matches_clear),
		cmocka_unit_test(leaf_gives_runs_of_the_chunk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
