// SPDX-License-Identifier: MIT
/*
 * Pinning against other threads (also run under TSan): a writer racing a
 * large REGISTER loses no write; fork while another thread registers and
 * unregisters gives children that start empty and never hang; device DMA
 * running while the program unmaps and remaps pinned pages never writes
 * into the new mappings and never crashes.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/hostmem.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>

#define KB	1024ULL
#define MB	(1024 * KB)
#define HP	(64 * KB)

static void *map_aligned(uint64_t size)
{
	void *p = mmap(NULL, size + HP, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return (void *)(((uintptr_t)p + HP - 1) & ~(uintptr_t)(HP - 1));
}

struct writer {
	uint64_t *words;	/* one counter a 4K page */
	size_t nr;
	atomic_bool stop;
	uint64_t done;		/* increments made (the writer's own) */
};

static void *write_loop(void *arg)
{
	struct writer *w = arg;
	uint64_t done = 0;

	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		for (size_t i = 0; i < w->nr; i++)
			w->words[i * 512]++;
		done += w->nr;
	}
	w->done = done;
	return NULL;
}

/*
 * A thread keeps incrementing a counter in every page while the main
 * thread registers and unregisters the whole (unpopulated at first)
 * buffer: at the end every increment is there.
 */
static void test_racing_writer(void **state)
{
	const uint64_t size = 64 * MB;
	struct writer w = { .words = map_aligned(size), .nr = size / 4096 };
	struct stce_region *r;
	pthread_t t;
	uint64_t sum = 0;

	atomic_init(&w.stop, false);
	assert_int_equal(pthread_create(&t, NULL, write_loop, &w), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(stce_prereg_register((uintptr_t)w.words, size,
						      &r), 0);
		assert_int_equal(stce_prereg_put(r), 0);
	}
	atomic_store(&w.stop, true);
	pthread_join(t, NULL);
	for (size_t i = 0; i < w.nr; i++)
		sum += w.words[i * 512];
	assert_true(w.done > 0);
	assert_int_equal(sum, w.done);	/* no write lost */
	munmap(w.words, size);
}

struct churn {
	uint8_t *mem;
	atomic_bool stop;
};

static void *register_loop(void *arg)
{
	struct churn *c = arg;
	struct stce_region *r;

	while (!atomic_load(&c->stop)) {
		if (stce_prereg_register((uintptr_t)c->mem, MB, &r))
			abort();
		if (stce_prereg_put(r))
			abort();
	}
	return NULL;
}

/*
 * fork while another thread is inside REGISTER/UNREGISTER, 100 times:
 * every child finds the registration lock free, no region, no pin and
 * nothing charged, registers its own memory and exits; none hangs.
 */
static void test_fork_during_register(void **state)
{
	struct churn c = { .mem = map_aligned(MB) };
	uint8_t *own = map_aligned(MB);
	int bad_children = 0;
	pthread_t t;

	atomic_init(&c.stop, false);
	memset(c.mem, 1, MB);
	assert_int_equal(pthread_create(&t, NULL, register_loop, &c), 0);
	for (int i = 0; i < 100; i++) {
		int status;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (!pid) {
			struct stce_region *r;
			int bad = 0;

			alarm(10);	/* a hang is a SIGALRM death */
			bad |= stce_prereg_count() != 0;
			bad |= stce_account_locked_pages() != 0;
			bad |= stce_hostmem_pinned_bytes() != 0;
			bad |= stce_pin_pages() != 0;
			bad |= (stce_prereg_register((uintptr_t)own, MB, &r) != 0) << 1;
			bad |= (stce_prereg_register((uintptr_t)c.mem, MB, &r) != 0) << 2;
			bad |= (stce_prereg_unregister((uintptr_t)c.mem, MB) != 0) << 3;
			bad |= (stce_prereg_unregister((uintptr_t)own, MB) != 0) << 4;
			bad |= (stce_account_locked_pages() != 0) << 5;
			_exit(bad);
		}
		/* Counted, so that the thread is stopped before any assert. */
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "child %d: status %#x\n", i, status);
			bad_children++;
		}
	}
	atomic_store(&c.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(bad_children, 0);
	assert_int_equal(stce_prereg_count(), 0);
	assert_int_equal(stce_account_locked_pages(), 0);
	munmap(c.mem, MB);
	munmap(own, MB);
}

struct dma_rig {
	struct stce_pe *pe;
	struct stce_container *c;
	uint8_t *mem;
	uint64_t bus;
	atomic_bool stop;
	atomic_ulong rounds;
};

static void *dma_loop(void *arg)
{
	struct dma_rig *d = arg;
	uint8_t buf[4096];

	memset(buf, 0xdd, sizeof(buf));
	while (!atomic_load(&d->stop)) {
		for (uint64_t off = 0; off < MB; off += sizeof(buf))
			if (stce_pe_dma_write(d->pe, d->bus + off, buf,
					      sizeof(buf)))
				abort();
		atomic_fetch_add(&d->rounds, 1);
	}
	return NULL;
}

/*
 * The device writes the whole registered buffer again and again while the
 * program unmaps a page and maps a new one in its place: the new pages
 * only ever hold what the program wrote, the device never faults.
 */
static void test_dma_during_moves(void **state)
{
	struct dma_rig d = { 0 };
	struct stce_pe_caps caps;
	unsigned long seen;
	pthread_t t;
	uint64_t start;

	stce_pe_caps_default(&caps);
	d.mem = map_aligned(MB);
	memset(d.mem, 0, MB);
	assert_int_equal(stce_pe_create(&caps, 0, &d.pe), 0);
	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &d.c), 0);
	assert_int_equal(stce_container_attach(d.c, d.pe), 0);
	assert_int_equal(stce_container_register(d.c, (uintptr_t)d.mem, MB), 0);
	assert_int_equal(stce_container_create_window(d.c, 16, 1ULL << 30, 1,
						      &start), 0);
	assert_int_equal(stce_container_map(d.c, (uintptr_t)d.mem, start, MB,
					    STCE_MAP_READ | STCE_MAP_WRITE), 0);
	d.bus = start;
	atomic_init(&d.stop, false);
	atomic_init(&d.rounds, 0);
	assert_int_equal(pthread_create(&t, NULL, dma_loop, &d), 0);
	for (unsigned int i = 0; i < 64; i++) {
		uint8_t *page = d.mem + (i % 16) * HP;
		void *again;

		assert_int_equal(stce_hostmem_munmap(page, HP), 0);
		assert_int_equal(stce_hostmem_mmap(page, HP,
						   PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS |
						   MAP_FIXED, -1, 0, &again), 0);
		memset(page, 0x5e, HP);
		seen = atomic_load(&d.rounds);
		while (atomic_load(&d.rounds) < seen + 2)
			sched_yield();
		for (uint64_t k = 0; k < HP; k++)
			if (page[k] != 0x5e)
				fail_msg("round %u: device wrote the new page", i);
	}
	atomic_store(&d.stop, true);
	pthread_join(t, NULL);
	assert_false(stce_pe_dma_frozen(d.pe));
	assert_int_equal(stce_container_unmap(d.c, d.bus, MB), 0);
	stce_container_destroy(d.c);
	stce_pe_destroy(d.pe);
	assert_int_equal(stce_hostmem_aside_bytes(), 0);
	assert_int_equal(stce_hostmem_pinned_bytes(), 0);
	munmap(d.mem, MB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_racing_writer),
		cmocka_unit_test(test_fork_during_register),
		cmocka_unit_test(test_dma_during_moves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
