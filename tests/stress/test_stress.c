// SPDX-License-Identifier: MIT
/*
 * Stress: everything at once on one v2 container, for a bounded time
 * ($STCE_STRESS_SECONDS, default 3; make check runs it under ASan and,
 * suite 'concurrent', under TSan):
 *  - mappers: MAP/UNMAP of their own slice of window 0, each with its
 *    own direction;
 *  - DMA: the device of PE 0 writes and reads back a slice that stays
 *    mapped;
 *  - registration: register a second buffer, map it, unmap, unregister;
 *    a racer maps the same buffer into its own slice meanwhile (it may
 *    find it unregistered: -EINVAL; the unregister may find it mapped:
 *    -EBUSY);
 *  - windows: window 1 is created and removed while another thread maps
 *    into it (-ENXIO when it is gone);
 *  - groups: PE 1 is attached and detached.
 * Every call must answer 0 or one of the errors its race allows. At the
 * end the invariants hold (invariants.h: every live TCE is what a map
 * asked, regions' mapped counts, locked_vm), and after teardown nothing
 * is left charged, registered or pinned.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>

#include "../lib/invariants.h"

#define KB		1024ULL
#define MB		(1024 * KB)
#define HP		(64 * KB)
#define SLICE		(4 * HP)
#define MAPPERS		3
#define MEM_A		(2 * MB)	/* slices: 0 DMA, 1..3 mappers */
#define MEM_B		(512 * KB)	/* registered and unregistered */
#define SLICE_REG	(8 * SLICE)	/* the registration thread's */
#define SLICE_RACE	(9 * SLICE)	/* the racer's */
#define SLICE_W1	(5 * SLICE)	/* of A, mapped into window 1 */
#define WIN64		(1ULL << 59)

struct shared {
	struct stce_container *c;
	struct stce_pe *pe0, *pe1;
	uint64_t a, b;
	atomic_bool stop;
	atomic_ulong ops;
	atomic_int bad;
	char why[256];
	pthread_mutex_t why_lock;
};

static const unsigned int mapper_dir[MAPPERS] = {
	STCE_MAP_READ, STCE_MAP_WRITE, STCE_MAP_READ | STCE_MAP_WRITE,
};

static void bad(struct shared *s, const char *what, int ret)
{
	pthread_mutex_lock(&s->why_lock);
	if (!atomic_fetch_add(&s->bad, 1))
		snprintf(s->why, sizeof(s->why), "%s: %d", what, ret);
	pthread_mutex_unlock(&s->why_lock);
}

/* ret must be 0 or one of the errors listed (0-terminated). */
static void expect(struct shared *s, const char *what, int ret, ...)
{
	va_list ap;
	int ok;

	atomic_fetch_add_explicit(&s->ops, 1, memory_order_relaxed);
	if (!ret)
		return;
	va_start(ap, ret);
	while ((ok = va_arg(ap, int)))
		if (ret == ok)
			break;
	va_end(ap);
	if (!ok)
		bad(s, what, ret);
}

struct mapper {
	struct shared *s;
	unsigned int id;
};

static void *mapper_main(void *arg)
{
	struct mapper *m = arg;
	struct shared *s = m->s;
	uint64_t iova = (1 + m->id) * SLICE, ua = s->a + iova;

	while (!atomic_load(&s->stop)) {
		expect(s, "map", stce_container_map(s->c, ua, iova, SLICE,
						    mapper_dir[m->id]), 0);
		expect(s, "unmap", stce_container_unmap(s->c, iova, SLICE), 0);
		/* Half the time leave it mapped for a while. */
		expect(s, "map", stce_container_map(s->c, ua, iova, SLICE,
						    mapper_dir[m->id]), 0);
	}
	return NULL;
}

static void *dma_main(void *arg)
{
	struct shared *s = arg;
	uint64_t out, in;

	for (uint64_t i = 1; !atomic_load(&s->stop); i++) {
		out = i * 0x9E3779B97F4A7C15ULL;
		expect(s, "dma_write", stce_pe_dma_write(s->pe0, 8 * (i % 64),
							 &out, sizeof(out)), 0);
		expect(s, "dma_read", stce_pe_dma_read(s->pe0, 8 * (i % 64),
						       &in, sizeof(in)), 0);
		if (in != out)
			bad(s, "DMA read back another value", 0);
	}
	return NULL;
}

static void *register_main(void *arg)
{
	struct shared *s = arg;

	while (!atomic_load(&s->stop)) {
		int ret = stce_container_register(s->c, s->b, MEM_B);

		/* -EBUSY: still registered (an unregister found it mapped). */
		expect(s, "register", ret, -EBUSY, 0);
		expect(s, "map B", stce_container_map(s->c, s->b, SLICE_REG,
						      SLICE, STCE_MAP_READ),
		       -EINVAL, 0);
		expect(s, "unmap B", stce_container_unmap(s->c, SLICE_REG,
							  SLICE), 0);
		expect(s, "unregister", stce_container_unregister(s->c, s->b,
								  MEM_B),
		       -EBUSY, -ENOENT, 0);
	}
	return NULL;
}

static void *racer_main(void *arg)
{
	struct shared *s = arg;

	while (!atomic_load(&s->stop)) {
		expect(s, "race map B", stce_container_map(s->c, s->b + SLICE,
							   SLICE_RACE, SLICE,
							   STCE_MAP_WRITE),
		       -EINVAL, 0);
		expect(s, "race unmap B", stce_container_unmap(s->c, SLICE_RACE,
							       SLICE), 0);
	}
	return NULL;
}

static void *window_main(void *arg)
{
	struct shared *s = arg;
	uint64_t start;

	while (!atomic_load(&s->stop)) {
		int ret = stce_container_create_window(s->c, 16, 1ULL << 28, 1,
						       &start);

		expect(s, "create_window", ret, 0);
		if (!ret && start != WIN64)
			bad(s, "window 1 at another address", 0);
		expect(s, "remove_window",
		       stce_container_remove_window(s->c, WIN64), 0);
	}
	return NULL;
}

/* Maps into window 1 while it comes and goes. */
static void *window_mapper_main(void *arg)
{
	struct shared *s = arg;

	while (!atomic_load(&s->stop)) {
		expect(s, "map window 1", stce_container_map(s->c, s->a + SLICE_W1,
							     WIN64, SLICE,
							     STCE_MAP_READ),
		       -ENXIO, 0);
		expect(s, "unmap window 1", stce_container_unmap(s->c, WIN64,
								 SLICE),
		       -ENXIO, 0);
		expect(s, "map window 1", stce_container_map(s->c, s->a + SLICE_W1,
							     WIN64, SLICE,
							     STCE_MAP_READ),
		       -ENXIO, 0);
	}
	return NULL;
}

static void *group_main(void *arg)
{
	struct shared *s = arg;

	while (!atomic_load(&s->stop)) {
		expect(s, "attach", stce_container_attach(s->c, s->pe1), 0);
		expect(s, "detach", stce_container_detach(s->c, s->pe1), 0);
	}
	return NULL;
}

static uint64_t map_mem(uint64_t size)
{
	void *p = mmap(NULL, size + HP, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return ((uint64_t)(uintptr_t)p + HP - 1) & ~(HP - 1);
}

static unsigned int stress_seconds(void)
{
	const char *e = getenv("STCE_STRESS_SECONDS");
	int n = e ? atoi(e) : 0;

	return n > 0 ? (unsigned int)n : 3;
}

static void stress(void **state)
{
	struct shared s = { 0 };
	struct stce_pe_caps caps;
	struct mapper m[MAPPERS];
	pthread_t t[MAPPERS + 6];
	unsigned int nt = 0;
	struct inv_container *ic = calloc(1, sizeof(*ic));
	struct inv_buffer bufs[2];
	uint64_t start;
	char why[256];

	(void)state;
	assert_non_null(ic);
	pthread_mutex_init(&s.why_lock, NULL);
	stce_pe_caps_default(&caps);
	assert_int_equal(stce_pe_create(&caps, 0, &s.pe0), 0);
	assert_int_equal(stce_pe_create(&caps, 1, &s.pe1), 0);
	s.a = map_mem(MEM_A);
	s.b = map_mem(MEM_B);
	bufs[0] = (struct inv_buffer){ s.a, MEM_A };
	bufs[1] = (struct inv_buffer){ s.b, MEM_B };
	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &s.c), 0);
	assert_int_equal(stce_container_attach(s.c, s.pe0), 0);
	assert_int_equal(stce_container_register(s.c, s.a, MEM_A), 0);
	/* Window 0 of 64K pages at bus 0, made now (no pending default). */
	assert_int_equal(stce_container_remove_window(s.c, 0), 0);
	assert_int_equal(stce_container_create_window(s.c, 16, 1ULL << 30, 1,
						      &start), 0);
	assert_int_equal(start, 0);
	assert_int_equal(stce_container_map(s.c, s.a, 0, SLICE,
					    STCE_MAP_READ | STCE_MAP_WRITE), 0);

	for (unsigned int i = 0; i < MAPPERS; i++) {
		m[i] = (struct mapper){ &s, i };
		assert_int_equal(pthread_create(&t[nt++], NULL, mapper_main, &m[i]), 0);
	}
	assert_int_equal(pthread_create(&t[nt++], NULL, dma_main, &s), 0);
	assert_int_equal(pthread_create(&t[nt++], NULL, register_main, &s), 0);
	assert_int_equal(pthread_create(&t[nt++], NULL, racer_main, &s), 0);
	assert_int_equal(pthread_create(&t[nt++], NULL, window_main, &s), 0);
	assert_int_equal(pthread_create(&t[nt++], NULL, group_main, &s), 0);
	assert_int_equal(pthread_create(&t[nt++], NULL, window_mapper_main, &s), 0);
	sleep(stress_seconds());
	atomic_store(&s.stop, true);
	for (unsigned int i = 0; i < nt; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	printf("stress: %lu calls in %u s, %d unexpected answers\n",
	       atomic_load(&s.ops), stress_seconds(), atomic_load(&s.bad));
	if (atomic_load(&s.bad))
		fail_msg("%s", s.why);

	/* What may be mapped now, and by which map. */
	inv_container_init(ic, s.c);
	inv_record_map(ic, s.a, 0, SLICE, STCE_MAP_READ | STCE_MAP_WRITE, 0);
	for (unsigned int i = 0; i < MAPPERS; i++)
		inv_record_map(ic, s.a + (1 + i) * SLICE, (1 + i) * SLICE,
			       SLICE, mapper_dir[i], 0);
	inv_record_map(ic, s.b, SLICE_REG, SLICE, STCE_MAP_READ, 0);
	inv_record_map(ic, s.b + SLICE, SLICE_RACE, SLICE, STCE_MAP_WRITE, 0);
	inv_record_map(ic, s.a + SLICE_W1, WIN64, SLICE, STCE_MAP_READ, 0);
	if (inv_check(&ic, 1, bufs, 2, 0, why, sizeof(why)))
		fail_msg("after the stress: %s", why);
	/* The same, walking every window whole. */
	ic->untracked = true;
	if (inv_check(&ic, 1, bufs, 2, 1u << 24, why, sizeof(why)))
		fail_msg("after the stress (whole tables): %s", why);

	stce_container_destroy(s.c);
	if (inv_check_teardown(why, sizeof(why)))
		fail_msg("%s", why);
	assert_false(stce_pe_user_owned(s.pe0));
	assert_false(stce_pe_user_owned(s.pe1));
	stce_pe_destroy(s.pe0);
	stce_pe_destroy(s.pe1);
	munmap((void *)(uintptr_t)s.a, MEM_A);
	munmap((void *)(uintptr_t)s.b, MEM_B);
	pthread_mutex_destroy(&s.why_lock);
	free(ic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
