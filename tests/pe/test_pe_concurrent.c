// SPDX-License-Identifier: MIT
/*
 * DMA racing with unmap. Reader threads DMA (copy and map-for-access)
 * from entries that an unmapper keeps re-pointing at other pages or
 * clearing; after each change it runs the kill (stce_pe_tce_kill) and then
 * "releases" the old page: fills it with a poison byte and makes it
 * inaccessible (PROT_NONE). A reader must only ever see a whole page of one
 * live tag: a poison byte or a fault on a released page fails the test.
 * A second phase races DMA with unset_window and destroying the table.
 * A third has device threads (more threads than CPUs) writing whole 64K
 * pages through the entries while the unmapper re-points or clears one
 * and runs the kill for that entry's bus addresses only
 * (stce_pe_tce_kill_range, directly or from the table's kill hook): once
 * the kill returns, the old page must never be written again.
 * The copy phase has the readers run the device's own copy
 * (stce_pe_dma_copy) of one or two raced pages into pages of their own,
 * mapped at entries the unmapper leaves alone.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <cmocka.h>

#include <spapr_tce/pe.h>

#include "../lib/pe_test_util.h"

#define PAGE		4096
#define NR_ENTRIES	16
#define NR_PAGES	48
#define NR_READERS	2
#define POISON		0xde

struct race {
	struct stce_pe *pe;
	struct stce_table *table;
	uint8_t *pool;
	atomic_bool stop;
	atomic_ulong good_reads, faults, bad;
	unsigned int seed;
	bool copy;		/* readers copy into own pages (copy phase) */
	uint8_t *own;		/* 2 pages a reader, at entries OWN_ENTRY.. */
	atomic_uint next_reader;
};

#define OWN_ENTRY	64	/* past every raced entry */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* A whole page of one tag that is neither poison nor zero. */
static bool page_ok(const uint8_t *p, size_t len)
{
	if (p[0] == POISON || p[0] == 0)
		return false;
	for (size_t i = 1; i < len; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

static void handle_fault(struct race *r)
{
	struct stce_eeh_fault f;

	stce_pe_eeh_fault(r->pe, &f);
	/* Only a cleared entry or a window being unset may fault here. */
	if (f.reason != STCE_EEH_FAULT_NONE &&
	    f.reason != STCE_EEH_FAULT_EMPTY &&
	    f.reason != STCE_EEH_FAULT_NO_WINDOW)
		atomic_fetch_add(&r->bad, 1);
	atomic_fetch_add(&r->faults, 1);
	stce_pe_eeh_op(r->pe, STCE_EEH_PE_UNFREEZE_IO);
	stce_pe_eeh_op(r->pe, STCE_EEH_PE_UNFREEZE_DMA);
}

/*
 * The device's copy of one or two raced pages from @iova into this
 * reader's own pages: each must be one live tag.
 */
static int copy_own(struct race *r, unsigned int idx, uint64_t iova,
		    unsigned int *seed)
{
	uint8_t *own = r->own + (size_t)idx * 2 * PAGE;
	unsigned int pages = iova / PAGE + 1 < NR_ENTRIES ?
			     1 + rnd(seed) % 2 : 1;
	int ret = stce_pe_dma_copy(r->pe, (OWN_ENTRY + 2ULL * idx) * PAGE,
				   iova, pages * PAGE);

	for (unsigned int i = 0; !ret && i < pages; i++)
		if (!page_ok(own + i * PAGE, PAGE))
			atomic_fetch_add(&r->bad, 1);
	return ret;
}

static void *reader(void *arg)
{
	struct race *r = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;
	unsigned int idx = atomic_fetch_add(&r->next_reader, 1);
	uint8_t buf[PAGE];

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		uint64_t iova = (uint64_t)(rnd(&seed) % NR_ENTRIES) * PAGE;
		struct stce_dma_span span[2];
		struct stce_dma_guard g;
		unsigned int nr;
		int ret;

		if (r->copy) {
			ret = copy_own(r, idx, iova, &seed);
		} else if (rnd(&seed) & 1) {
			ret = stce_pe_dma_read(r->pe, iova, buf, PAGE);
			if (!ret && !page_ok(buf, PAGE))
				atomic_fetch_add(&r->bad, 1);
		} else {
			ret = stce_pe_dma_map(r->pe, iova, PAGE, STCE_DMA_READ,
					      span, 2, &nr, &g);
			/* Read the page itself while the guard holds it. */
			if (!ret) {
				if (nr != 1 || !page_ok(span[0].addr, PAGE))
					atomic_fetch_add(&r->bad, 1);
				stce_pe_dma_unmap(r->pe, &g);
			}
		}
		if (ret == -EIO)
			handle_fault(r);
		else if (ret)
			atomic_fetch_add(&r->bad, 1);
		else
			atomic_fetch_add_explicit(&r->good_reads, 1,
						  memory_order_relaxed);
	}
	return NULL;
}

static uint8_t *page_at(struct race *r, unsigned int i)
{
	return r->pool + (size_t)i * PAGE;
}

static void release_page(uint8_t *p)
{
	memset(p, POISON, PAGE);
	assert_int_equal(mprotect(p, PAGE, PROT_NONE), 0);
}

static void reuse_page(uint8_t *p, uint8_t tag)
{
	assert_int_equal(mprotect(p, PAGE, PROT_READ | PROT_WRITE), 0);
	memset(p, tag, PAGE);
}

static uint64_t xchg(struct race *r, unsigned int entry, uint64_t tce)
{
	assert_int_equal(stce_table_xchg(r->table, entry, &tce, NULL, 0), 0);
	return tce;
}

static void start_readers(struct race *r, pthread_t *th)
{
	atomic_store(&r->stop, false);
	for (int i = 0; i < NR_READERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, r), 0);
}

static void stop_readers(struct race *r, pthread_t *th)
{
	atomic_store(&r->stop, true);
	for (int i = 0; i < NR_READERS; i++)
		pthread_join(th[i], NULL);
}

static void unmap_race(bool copy)
{
	struct race r = { 0 };
	unsigned int free_pages[NR_PAGES], nr_free = 0;
	unsigned int mapped[NR_ENTRIES], seed = 12345, iters = 0;
	pthread_t th[NR_READERS];
	uint8_t tag = 1;
	double end;

	r.pe = tu_pe(0);
	assert_int_equal(stce_pe_take_ownership(r.pe), 0);
	r.table = tu_table(r.pe, 0, 12, 1ULL << 20, 1);
	assert_int_equal(stce_pe_set_window(r.pe, 0, r.table), 0);
	r.copy = copy;
	r.own = tu_pages(PAGE, 2 * NR_READERS);
	for (unsigned int i = 0; i < 2 * NR_READERS; i++)
		xchg(&r, OWN_ENTRY + i, stce_tce_make((uintptr_t)(r.own + i * PAGE),
						      STCE_TCE_READ |
						      STCE_TCE_WRITE));
	r.pool = mmap(NULL, (size_t)NR_PAGES * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(r.pool != MAP_FAILED);
	for (unsigned int i = 0; i < NR_PAGES; i++) {
		if (i < NR_ENTRIES) {
			reuse_page(page_at(&r, i), tag++);
			xchg(&r, i, stce_tce_make((uintptr_t)page_at(&r, i),
						  STCE_TCE_READ));
			mapped[i] = i;
		} else {
			release_page(page_at(&r, i));
			free_pages[nr_free++] = i;
		}
	}

	start_readers(&r, th);
	end = now() + 1.5;
	while (now() < end || iters < 200) {
		unsigned int e = rnd(&seed) % NR_ENTRIES;
		unsigned int q = free_pages[--nr_free], p = mapped[e];
		uint64_t new_tce, old;

		if (++tag == POISON || tag == 0)
			tag = 1;
		reuse_page(page_at(&r, q), tag);
		new_tce = stce_tce_make((uintptr_t)page_at(&r, q), STCE_TCE_READ);
		if (rnd(&seed) % 4) {
			/* Re-point the live entry at another page. */
			old = xchg(&r, e, new_tce);
		} else {
			/* Clear it, kill, then map the new page. */
			old = xchg(&r, e, 0);
			stce_pe_tce_kill(r.pe);
			assert_int_equal(xchg(&r, e, new_tce), 0);
		}
		assert_true(stce_tce_addr(old) == (uintptr_t)page_at(&r, p));
		stce_pe_tce_kill(r.pe);
		release_page(page_at(&r, p));
		free_pages[nr_free++] = p;
		mapped[e] = q;
		iters++;
	}
	stop_readers(&r, th);

	printf("# %u remaps, %lu good reads, %lu faults\n", iters,
	       atomic_load(&r.good_reads), atomic_load(&r.faults));
	assert_int_equal(atomic_load(&r.bad), 0);
	assert_true(atomic_load(&r.good_reads) > 0);
	stce_pe_destroy(r.pe);
	stce_table_destroy(r.table);
	munmap(r.pool, (size_t)NR_PAGES * PAGE);
	free(r.own);
}

static void dma_vs_unmap(void **state)
{
	(void)state;
	unmap_race(false);
}

static void copy_vs_unmap(void **state)
{
	(void)state;
	unmap_race(true);
}

static void dma_vs_unset_window(void **state)
{
	struct race r = { 0 };
	pthread_t th[NR_READERS];
	unsigned int rounds = 0;
	double end;

	(void)state;
	r.pe = tu_pe(0);
	assert_int_equal(stce_pe_take_ownership(r.pe), 0);
	r.pool = mmap(NULL, (size_t)NR_ENTRIES * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(r.pool != MAP_FAILED);
	start_readers(&r, th);
	end = now() + 0.8;
	while (now() < end || rounds < 20) {
		r.table = tu_table(r.pe, 0, 12, 1ULL << 20, 1);
		for (unsigned int i = 0; i < NR_ENTRIES; i++) {
			reuse_page(page_at(&r, i), (uint8_t)(1 + (rounds + i) % 200));
			xchg(&r, i, stce_tce_make((uintptr_t)page_at(&r, i),
						  STCE_TCE_READ));
		}
		assert_int_equal(stce_pe_set_window(r.pe, 0, r.table), 0);
		for (volatile int spin = 0; spin < 20000; spin++)
			;
		/* After unset no DMA can reach the table or its pages. */
		assert_int_equal(stce_pe_unset_window(r.pe, 0), 0);
		stce_table_destroy(r.table);
		for (unsigned int i = 0; i < NR_ENTRIES; i++)
			release_page(page_at(&r, i));
		rounds++;
	}
	stop_readers(&r, th);
	printf("# %u windows, %lu good reads, %lu faults\n", rounds,
	       atomic_load(&r.good_reads), atomic_load(&r.faults));
	assert_int_equal(atomic_load(&r.bad), 0);
	stce_pe_destroy(r.pe);
	munmap(r.pool, (size_t)NR_ENTRIES * PAGE);
}

/* ---- writes vs ranged kills ------------------------------------------ */

#define BIG		(64u * 1024)
#define W_ENTRIES	8
#define W_PAGES		16
#define NR_WRITERS	3	/* with the unmapper: more than 2 CPUs */

struct wrace {
	struct stce_pe *pe;
	struct stce_table *table;
	uint8_t *pool;
	atomic_bool stop;
	atomic_ulong writes, faults;
};

static void *writer(void *arg)
{
	struct wrace *r = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;
	static _Thread_local uint8_t buf[BIG];
	uint8_t stamp = 1;

	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		uint64_t iova = (uint64_t)(rnd(&seed) % W_ENTRIES) * BIG;
		int ret;

		memset(buf, stamp, BIG);
		stamp = (uint8_t)(stamp % 250 + 1);
		ret = stce_pe_dma_write(r->pe, iova, buf, BIG);
		if (ret == -EIO) {
			/* A cleared entry (the clear-then-remap rounds). */
			atomic_fetch_add(&r->faults, 1);
			stce_pe_eeh_op(r->pe, STCE_EEH_PE_UNFREEZE_IO);
			stce_pe_eeh_op(r->pe, STCE_EEH_PE_UNFREEZE_DMA);
		} else if (!ret) {
			atomic_fetch_add_explicit(&r->writes, 1,
						  memory_order_relaxed);
		}
	}
	return NULL;
}

/* The kill hook a container would set: the cleared entries' addresses. */
static void ranged_kill(void *ctx, const struct stce_table *t,
			uint64_t index, uint64_t count)
{
	(void)t;
	stce_pe_tce_kill_range(ctx, index * BIG, count * BIG);
}

static uint64_t wxchg(struct wrace *r, unsigned int entry, uint64_t tce)
{
	assert_int_equal(stce_table_xchg(r->table, entry, &tce, NULL, 0), 0);
	return tce;
}

static void dma_writes_stop_at_ranged_kill(void **state)
{
	static uint8_t snap[BIG];
	struct wrace r = { 0 };
	unsigned int free_pages[W_PAGES], nr_free = 0, mapped[W_ENTRIES];
	unsigned int seed = 777, iters = 0, late = 0;
	pthread_t th[NR_WRITERS];
	double end;

	(void)state;
	r.pe = tu_pe(0);
	assert_int_equal(stce_pe_take_ownership(r.pe), 0);
	r.table = tu_table(r.pe, 0, 16, 1ULL << 24, 1);
	stce_table_set_kill(r.table, ranged_kill, r.pe);
	assert_int_equal(stce_pe_set_window(r.pe, 0, r.table), 0);
	r.pool = mmap(NULL, (size_t)W_PAGES * BIG, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(r.pool != MAP_FAILED);
	for (unsigned int i = 0; i < W_PAGES; i++) {
		if (i < W_ENTRIES) {
			wxchg(&r, i, stce_tce_make((uintptr_t)r.pool +
						   (size_t)i * BIG,
						   STCE_TCE_READ | STCE_TCE_WRITE));
			mapped[i] = i;
		} else {
			free_pages[nr_free++] = i;
		}
	}
	for (int i = 0; i < NR_WRITERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, &r), 0);
	end = now() + 1.0;
	while (now() < end || iters < 200) {
		unsigned int e = rnd(&seed) % W_ENTRIES;
		unsigned int q = free_pages[--nr_free], p = mapped[e];
		uint8_t *old_page = r.pool + (size_t)p * BIG;
		uint64_t tce = stce_tce_make((uintptr_t)r.pool + (size_t)q * BIG,
					     STCE_TCE_READ | STCE_TCE_WRITE);

		if (rnd(&seed) & 1) {
			/* Re-point, then the kill for this entry only. */
			wxchg(&r, e, tce);
			stce_pe_tce_kill_range(r.pe, (uint64_t)e * BIG, BIG);
		} else {
			/* Clear: the table's kill hook runs the ranged kill
			 * before clear returns; then map the new page. */
			assert_int_equal(stce_table_clear(r.table, e, 1, NULL,
							  NULL, NULL), 0);
			assert_int_equal(wxchg(&r, e, tce), 0);
		}
		/* From here no DMA may write the old page. */
		memcpy(snap, old_page, BIG);
		for (int y = 0; y < 3; y++)
			sched_yield();
		for (double t = now() + 20e-6; now() < t;)
			;
		if (memcmp(snap, old_page, BIG))
			late++;
		free_pages[nr_free++] = p;
		mapped[e] = q;
		iters++;
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < NR_WRITERS; i++)
		pthread_join(th[i], NULL);
	printf("# %u unmaps, %lu writes, %lu faults, %u late writes\n", iters,
	       atomic_load(&r.writes), atomic_load(&r.faults), late);
	assert_int_equal(late, 0);
	assert_true(atomic_load(&r.writes) > 0);
	stce_pe_destroy(r.pe);
	stce_table_destroy(r.table);
	munmap(r.pool, (size_t)W_PAGES * BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dma_vs_unmap),
		cmocka_unit_test(dma_vs_unset_window),
		cmocka_unit_test(dma_writes_stop_at_ranged_kill),
		cmocka_unit_test(copy_vs_unmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
