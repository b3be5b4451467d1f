// SPDX-License-Identifier: MIT
/*
 * MAP/UNMAP from several threads on disjoint slices (the kernel answered
 * 4 x 2000 of these without a failure), while a device DMAs a slice that
 * stays mapped and another thread creates and removes the other window;
 * a hypervisor's read-side section against TCE_REMOVE; a DMA in flight
 * against an UNMAP's release; an owner's section (a container in its
 * owner's grace) against TCE_REMOVE. Run under TSan by
 * make check. Everything audits to zero afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/table.h>

#include "../lib/prereg_test.h"
#include "common/grace.h"

#define WIN64		(1ULL << 59)
#define BASE		0ULL	/* the mapped window: slot 0 */
#define MAPPERS		4
#define ROUNDS		2000
#define SLICE		(4 * HP)

struct shared {
	struct stce_container *c;
	struct stce_pe *pe;
	uint64_t mem;
	atomic_bool stop;
	atomic_int failures;
};

struct mapper {
	struct shared *s;
	unsigned int id;
};

static void *mapper_main(void *arg)
{
	struct mapper *m = arg;
	uint64_t iova = BASE + (1 + m->id) * SLICE;
	uint64_t ua = m->s->mem + (1 + m->id) * SLICE;

	for (int i = 0; i < ROUNDS; i++) {
		if (stce_container_map(m->s->c, ua, iova, SLICE,
				       STCE_MAP_READ | STCE_MAP_WRITE) ||
		    stce_container_unmap(m->s->c, iova, SLICE))
			atomic_fetch_add(&m->s->failures, 1);
	}
	return NULL;
}

/* The device reads slice 0, mapped for the whole run. */
static void *dma_main(void *arg)
{
	struct shared *s = arg;
	uint64_t word;

	while (!atomic_load(&s->stop))
		if (stce_pe_dma_read(s->pe, BASE + 8, &word, sizeof(word)) ||
		    word != 0x1111111111111111ULL)
			atomic_fetch_add(&s->failures, 1);
	return NULL;
}

/* Window 1 comes and goes; MAP/UNMAP in window 0 must not notice. */
static void *churn_main(void *arg)
{
	struct shared *s = arg;
	uint64_t start;

	while (!atomic_load(&s->stop)) {
		if (stce_container_create_window(s->c, 12, 1ULL << 28, 1, &start) ||
		    start != WIN64 || stce_container_remove_window(s->c, WIN64))
			atomic_fetch_add(&s->failures, 1);
	}
	return NULL;
}

static void map_unmap_race(void **state)
{
	struct shared s = { 0 };
	struct stce_pe_caps caps;
	struct mapper m[MAPPERS];
	pthread_t mt[MAPPERS], dt, ct;
	uint64_t start;

	(void)state;
	stce_pe_caps_default(&caps);
	assert_int_equal(stce_pe_create(&caps, 0, &s.pe), 0);
	s.mem = map_anon(16 * MB);
	memset((void *)(uintptr_t)s.mem, 0x11, 16 * MB);
	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &s.c), 0);
	assert_int_equal(stce_container_attach(s.c, s.pe), 0);
	assert_int_equal(stce_container_register(s.c, s.mem, 16 * MB), 0);
	/* Drop the pending default window: the next one takes slot 0. */
	assert_int_equal(stce_container_remove_window(s.c, 0), 0);
	assert_int_equal(stce_container_create_window(s.c, 16, 1ULL << 30, 1, &start), 0);
	assert_int_equal(start, BASE);
	assert_int_equal(stce_container_map(s.c, s.mem, BASE, SLICE, STCE_MAP_READ), 0);

	assert_int_equal(pthread_create(&dt, NULL, dma_main, &s), 0);
	assert_int_equal(pthread_create(&ct, NULL, churn_main, &s), 0);
	for (unsigned int i = 0; i < MAPPERS; i++) {
		m[i] = (struct mapper){ &s, i };
		assert_int_equal(pthread_create(&mt[i], NULL, mapper_main, &m[i]), 0);
	}
	for (unsigned int i = 0; i < MAPPERS; i++)
		assert_int_equal(pthread_join(mt[i], NULL), 0);
	atomic_store(&s.stop, true);
	assert_int_equal(pthread_join(dt, NULL), 0);
	assert_int_equal(pthread_join(ct, NULL), 0);

	assert_int_equal(atomic_load(&s.failures), 0);
	assert_int_equal(stce_region_mapped(stce_prereg_find_hpa(s.mem)), 4);
	stce_container_destroy(s.c);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	assert_false(stce_pe_user_owned(s.pe));
	stce_pe_destroy(s.pe);
	unmap(s.mem, 16 * MB);
}

struct remover {
	struct stce_container *c;
	atomic_bool done;
	int ret;
};

static void *remover_main(void *arg)
{
	struct remover *r = arg;

	r->ret = stce_container_remove_window(r->c, WIN64);
	atomic_store(&r->done, true);
	return NULL;
}

/*
 * A hypervisor's read-side section holds off TCE_REMOVE: the window is
 * unpublished at once, but its table is neither cleared nor freed until
 * the section ends (ASan sees a use after free if it were), and nested
 * sections end with the outer one.
 */
static void read_section_holds_off_remove(void **state)
{
	struct stce_container_guard outer, inner;
	struct remover r = { 0 };
	struct stce_pe_caps caps;
	struct stce_table *t;
	struct stce_pe *pe;
	pthread_t rt;
	uint64_t mem, start, tce;

	(void)state;
	stce_pe_caps_default(&caps);
	assert_int_equal(stce_pe_create(&caps, 0, &pe), 0);
	mem = map_anon(HP);
	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &r.c), 0);
	assert_int_equal(stce_container_attach(r.c, pe), 0);
	assert_int_equal(stce_container_register(r.c, mem, HP), 0);
	assert_int_equal(stce_container_create_window(r.c, 16, 1ULL << 30, 1, &start), 0);
	assert_int_equal(start, WIN64);
	assert_int_equal(stce_container_map(r.c, mem, WIN64, HP, STCE_MAP_READ), 0);

	stce_container_read_lock(r.c, &outer);
	stce_container_read_lock(r.c, &inner);
	t = stce_container_window_table(r.c, 1);
	assert_non_null(t);
	tce = stce_table_get(t, 0);
	assert_true(stce_tce_live(tce));
	stce_container_read_unlock(r.c, &inner);
	assert_false(inner.held);
	assert_int_equal(pthread_create(&rt, NULL, remover_main, &r), 0);
	/* Unpublished at once; then it waits for us. */
	while (stce_container_window_table(r.c, 1))
		sched_yield();
	usleep(100 * 1000);
	assert_false(atomic_load(&r.done));
	assert_int_equal(stce_table_get(t, 0), tce);
	stce_container_read_unlock(r.c, &outer);
	/* A second unlock of the same guard is a no-op. */
	stce_container_read_unlock(r.c, &outer);
	assert_int_equal(pthread_join(rt, NULL), 0);
	assert_true(atomic_load(&r.done));
	assert_int_equal(r.ret, 0);
	assert_int_equal(stce_region_mapped(stce_prereg_find_hpa(mem)), 0);

	stce_container_destroy(r.c);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	stce_pe_destroy(pe);
	unmap(mem, HP);
}

struct unmapper {
	struct stce_container *c;
	uint64_t iova, size;
	atomic_bool done;
	int ret;
};

static void *unmapper_main(void *arg)
{
	struct unmapper *u = arg;

	u->ret = stce_container_unmap(u->c, u->iova, u->size);
	atomic_store(&u->done, true);
	return NULL;
}

/*
 * A DMA in flight holds off an UNMAP: the TCE is cleared at once, but the
 * mapping is released (the region's count) only after the kill, which
 * waits for the DMA. One page (the path of QEMU's H_PUT_TCE each) and
 * two pages (the batched clear).
 */
static void dma_holds_off_unmap_release(unsigned int pages)
{
	struct unmapper u = { .iova = WIN64, .size = (uint64_t)pages << 16 };
	struct stce_dma_span span;
	struct stce_dma_guard guard;
	struct stce_region *region;
	struct stce_pe_caps caps;
	struct stce_table *t;
	struct stce_pe *pe;
	unsigned int nr;
	pthread_t ut;
	uint64_t mem, start;

	stce_pe_caps_default(&caps);
	assert_int_equal(stce_pe_create(&caps, 0, &pe), 0);
	mem = map_anon(2 * HP);
	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &u.c), 0);
	assert_int_equal(stce_container_attach(u.c, pe), 0);
	assert_int_equal(stce_container_register(u.c, mem, 2 * HP), 0);
	assert_int_equal(stce_container_create_window(u.c, 16, 1ULL << 30, 1,
						      &start), 0);
	assert_int_equal(start, WIN64);
	assert_int_equal(stce_container_map(u.c, mem, WIN64, u.size,
					    STCE_MAP_READ), 0);
	region = stce_prereg_find_hpa(mem);
	assert_int_equal(stce_region_mapped(region), pages);

	assert_int_equal(stce_pe_dma_map(pe, WIN64, 8, STCE_DMA_READ, &span, 1,
					 &nr, &guard), 0);
	assert_int_equal(pthread_create(&ut, NULL, unmapper_main, &u), 0);
	t = stce_container_window_table(u.c, 1);
	while (stce_table_get(t, 0))
		sched_yield();
	usleep(100 * 1000);
	assert_false(atomic_load(&u.done));
	assert_int_equal(stce_region_mapped(region), pages);
	stce_pe_dma_unmap(pe, &guard);
	assert_int_equal(pthread_join(ut, NULL), 0);
	assert_int_equal(u.ret, 0);
	assert_int_equal(stce_region_mapped(region), 0);

	stce_container_destroy(u.c);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	stce_pe_destroy(pe);
	unmap(mem, 2 * HP);
}

static void dma_holds_off_unmap_one(void **state)
{
	(void)state;
	dma_holds_off_unmap_release(1);
}

static void dma_holds_off_unmap_two(void **state)
{
	(void)state;
	dma_holds_off_unmap_release(2);
}

/*
 * A container in its owner's grace (stce_container_create_in, as the VFIO
 * host makes them): a MAP inside the owner's section is a nested section
 * and holds off a TCE_REMOVE of its window like any other, and the
 * removal waits without the container's lock: the owner's section may
 * REGISTER or make the pending default window meanwhile (a deadlock if
 * the wait held the lock), while the slot stays taken until it is gone.
 */
static void owner_section_holds_off_remove_unlocked(void **state)
{
	struct stce_grace_guard owner;
	struct remover r = { 0 };
	struct stce_pe_caps caps;
	struct stce_grace grace;
	struct stce_pe *pe;
	pthread_t rt;
	uint64_t mem, start;

	(void)state;
	stce_grace_init(&grace);
	stce_pe_caps_default(&caps);
	assert_int_equal(stce_pe_create(&caps, 0, &pe), 0);
	mem = map_anon(2 * HP);
	assert_int_equal(stce_container_create_in(STCE_IOMMU_V2, 0, &grace,
						  &r.c), 0);
	assert_int_equal(stce_container_attach(r.c, pe), 0);
	assert_int_equal(stce_container_register(r.c, mem, HP), 0);
	assert_int_equal(stce_container_create_window(r.c, 16, 1ULL << 30, 1,
						      &start), 0);
	assert_int_equal(start, WIN64);

	stce_grace_read_lock(&grace, &owner);
	assert_int_equal(stce_container_map(r.c, mem, WIN64, HP,
					    STCE_MAP_READ), 0);
	assert_int_equal(pthread_create(&rt, NULL, remover_main, &r), 0);
	while (stce_container_window_table(r.c, 1))
		sched_yield();
	/* The container's lock is free while the removal waits for us. */
	assert_int_equal(stce_container_register(r.c, mem + HP, HP), 0);
	assert_int_equal(stce_container_create_window(r.c, 16, 1ULL << 30, 1,
						      &start), -ENOSPC);
	usleep(100 * 1000);
	assert_false(atomic_load(&r.done));
	assert_int_equal(stce_region_mapped(stce_prereg_find_hpa(mem)), 1);
	stce_grace_read_unlock(&grace, &owner);
	assert_int_equal(pthread_join(rt, NULL), 0);
	assert_int_equal(r.ret, 0);
	assert_int_equal(stce_region_mapped(stce_prereg_find_hpa(mem)), 0);
	/* Gone: its slot is free again. */
	assert_int_equal(stce_container_create_window(r.c, 16, 1ULL << 30, 1,
						      &start), 0);
	assert_int_equal(start, WIN64);

	stce_container_destroy(r.c);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	stce_pe_destroy(pe);
	stce_grace_destroy(&grace);
	unmap(mem, 2 * HP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_unmap_race),
		cmocka_unit_test(read_section_holds_off_remove),
		cmocka_unit_test(dma_holds_off_unmap_one),
		cmocka_unit_test(dma_holds_off_unmap_two),
		cmocka_unit_test(owner_section_holds_off_remove_unlocked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
