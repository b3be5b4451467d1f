// SPDX-License-Identifier: MIT
/*
 * Stress (also run under TSan): lock-free lookups, translations and mapping
 * counts on some threads while others register, share, unregister and
 * release the same ranges. Every lookup answer must be a live, correct
 * region; at the end everything must be unpinned and un-charged.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include "../lib/prereg_test.h"

#define SLOTS		16
#define SLOT_SIZE	(4 * HP)
#define HELD_MAX	8

static uint64_t arena;
static atomic_bool stop;
static atomic_ulong lookups_ok, registers_ok;
static atomic_int failures;

static uint64_t slot_ua(unsigned int i)
{
	return arena + (uint64_t)i * 2 * SLOT_SIZE;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *mapper(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	uint64_t held[HELD_MAX];
	int nheld = 0, i;

	while (!atomic_load(&stop)) {
		unsigned int s = (unsigned int)rand_r(&seed) % SLOTS;
		uint64_t ua = slot_ua(s) + (rand_r(&seed) % 64) * 4096;
		uint64_t hpa = 0;
		struct stce_region *r;

		if (nheld == HELD_MAX) {
			/* Clear the oldest "TCE": find its region by hpa. */
			r = stce_prereg_find_hpa(held[0]);
			if (!r) {
				fprintf(stderr, "find_hpa: no region\n");
				atomic_fetch_add(&failures, 1);
			}
			else
				stce_prereg_mapped_dec(r);
			for (i = 1; i < nheld; i++)
				held[i - 1] = held[i];
			nheld--;
		}
		if (stce_prereg_lookup(ua, 4096, &r))
			continue;
		if (stce_region_ua(r) != slot_ua(s) ||
		    stce_region_size(r) != SLOT_SIZE ||
		    stce_prereg_ua_to_hpa(r, ua, 12, &hpa) || hpa != ua ||
		    stce_prereg_find_hpa(ua) != r) {
			fprintf(stderr, "lookup: wrong answer\n");
			atomic_fetch_add(&failures, 1);
		}
		held[nheld++] = ua;
		atomic_fetch_add(&lookups_ok, 1);
	}
	for (i = 0; i < nheld; i++) {
		struct stce_region *r = stce_prereg_find_hpa(held[i]);

		if (r) {
			stce_prereg_mapped_dec(r);
		} else {
			fprintf(stderr, "find_hpa: no region at the end\n");
			atomic_fetch_add(&failures, 1);
		}
	}
	return NULL;
}

static void drop(struct stce_region *r, unsigned int *seed)
{
	/* Half strict (falling back when mapped), half VFIO-style deferred. */
	if (rand_r(seed) % 2 || stce_prereg_put(r) == -EBUSY)
		stce_prereg_put_deferred(r);
}

static void *registrar(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	struct stce_region *held[SLOTS];
	int nheld = 0, i;

	while (!atomic_load(&stop)) {
		unsigned int s = (unsigned int)rand_r(&seed) % SLOTS;
		struct stce_region *r;
		int ret;

		if (nheld && (nheld == SLOTS || rand_r(&seed) % 2)) {
			i = rand_r(&seed) % nheld;
			drop(held[i], &seed);
			held[i] = held[--nheld];
			continue;
		}
		ret = stce_prereg_register(slot_ua(s), SLOT_SIZE, &r);
		if (ret) {
			fprintf(stderr, "register: %d\n", ret);
			atomic_fetch_add(&failures, 1);
			continue;
		}
		held[nheld++] = r;
		atomic_fetch_add(&registers_ok, 1);
	}
	for (i = 0; i < nheld; i++)
		drop(held[i], &seed);
	return NULL;
}

static void test_concurrent_lookup_register(void **state)
{
	pthread_t t[4];
	double start;
	int i;

	arena = map_anon(2 * SLOTS * SLOT_SIZE);
	assert_true(arena);
	atomic_store(&stop, false);
	pthread_create(&t[0], NULL, mapper, (void *)1);
	pthread_create(&t[1], NULL, mapper, (void *)2);
	pthread_create(&t[2], NULL, registrar, (void *)3);
	pthread_create(&t[3], NULL, registrar, (void *)4);
	start = now();
	while (now() - start < 1.5)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	atomic_store(&stop, true);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);

	printf("lookups %lu, registrations %lu\n", atomic_load(&lookups_ok),
	       atomic_load(&registers_ok));
	for (i = 0; i < SLOTS; i++) {
		struct stce_region *r = stce_prereg_find_hpa(slot_ua(i));

		if (r)
			printf("left: slot %d users %lu mapped %llu released %d\n",
			       i, stce_region_users(r),
			       (unsigned long long)stce_region_mapped(r),
			       stce_region_released(r));
	}
	assert_int_equal(atomic_load(&failures), 0);
	assert_true(atomic_load(&lookups_ok) > 0);
	assert_true(atomic_load(&registers_ok) > 0);
	assert_int_equal(stce_prereg_count(), 0);
	assert_int_equal(stce_account_locked_pages(), 0);
	unmap(arena, 2 * SLOTS * SLOT_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_lookup_register),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
