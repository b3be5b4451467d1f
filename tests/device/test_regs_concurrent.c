// SPDX-License-Identifier: MIT
/*
 * The test device's argument registers (SRC, DST, LEN, PATTERN) are
 * written without its lock (run under TSan too):
 *  - a command runs on the arguments as they were at its CMD write: a
 *    thread that rewrites them while a long COPY runs changes neither
 *    where that copy reads nor where it writes nor how much, and its
 *    writes are kept. The rewrite names another valid copy, so that a
 *    round in which it lands before the CMD write (the copier thread
 *    preempted) is a whole copy by the new arguments, not a failure;
 *    only a mix of the two is wrong;
 *  - a thread writing one 4-byte half of a register never loses the
 *    other half another thread writes at the same time.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include <spapr_tce/device.h>

#include "../lib/pe_test_util.h"

#define DDW	(1ULL << 59)
#define PAGE	(64ULL << 10)
#define COPY	(16ULL << 20)	/* 256 engine steps: a few ms */
#define PAGES	(4 * COPY / PAGE)	/* A -> B, or the rewrite's C -> D */
#define A	0
#define B	COPY
#define C	(2 * COPY)
#define D	(3 * COPY)
#define HALVES	20000

struct fx {
	struct stce_pe *pe;
	struct stce_table *t;
	struct stce_device *dev;
	uint8_t *mem;		/* source, then destination */
	atomic_int started, done;
};

static int setup(void **state)
{
	struct stce_device_desc desc = { .name = "0000:00:00.0",
					 .vendor_id = 0x1014,
					 .device_id = 0xdaa0 };
	struct fx *f = calloc(1, sizeof(*f));

	f->pe = tu_pe(0);
	if (stce_pe_take_ownership(f->pe))
		abort();
	f->t = tu_table(f->pe, 1, 16, 1ULL << 30, 2);
	if (stce_pe_set_window(f->pe, 1, f->t) ||
	    stce_device_create(&desc, f->pe, &f->dev) ||
	    stce_device_config_write(f->dev, STCE_PCI_COMMAND, 2,
				     STCE_PCI_COMMAND_MEMORY |
				     STCE_PCI_COMMAND_MASTER))
		abort();
	f->mem = tu_pages(PAGE, PAGES);
	for (uint64_t i = 0; i < PAGES; i++)
		tu_map(f->t, DDW + i * PAGE, f->mem + i * PAGE,
		       STCE_TCE_READ | STCE_TCE_WRITE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	stce_device_destroy(f->dev);
	stce_pe_destroy(f->pe);
	stce_table_destroy(f->t);
	free(f->mem);
	free(f);
	return 0;
}

static void wr(struct fx *f, uint64_t reg, unsigned int size, uint64_t v)
{
	assert_int_equal(stce_device_mmio_write(f->dev, 0, reg, size, v), 0);
}

static uint64_t rd(struct fx *f, uint64_t reg)
{
	uint64_t v = 0;

	assert_int_equal(stce_device_mmio_read(f->dev, 0, reg, 8, &v), 0);
	return v;
}

/* The command's completion interrupt: it has done all its DMA. */
static void completed(void *ctx)
{
	struct fx *f = ctx;

	atomic_store(&f->done, 1);
}

/* One COPY of COPY bytes from A to B. */
static void *copier(void *arg)
{
	struct fx *f = arg;

	wr(f, STCE_DMATEST_REG_SRC, 8, DDW + A);
	wr(f, STCE_DMATEST_REG_DST, 8, DDW + B);
	wr(f, STCE_DMATEST_REG_LEN, 8, COPY);
	atomic_store(&f->started, 1);
	wr(f, STCE_DMATEST_REG_CMD, 8,
	   STCE_DMATEST_CMD_COPY | STCE_DMATEST_CMD_IRQ);
	wr(f, STCE_DMATEST_REG_IRQS, 8, 0);	/* acknowledge */
	return NULL;
}

/* Whether @len bytes at @p are all @byte. */
static bool all(const uint8_t *p, uint64_t len, uint8_t byte)
{
	for (uint64_t i = 0; i < len; i++)
		if (p[i] != byte)
			return false;
	return true;
}

/*
 * Check that the command ran on one instant's arguments: the rewrite goes
 * SRC, DST, LEN, so it may have taken none, SRC, SRC and DST, or all
 * three, never a mix over time (a destination written from both sources,
 * or to both destinations, or cut short). True when it took none.
 */
static bool latched_old(struct fx *f, uint8_t old, uint8_t new)
{
	bool to_d = !all(f->mem + D, COPY, 0);
	uint8_t *dst = f->mem + (to_d ? D : B);
	uint64_t len = to_d && all(dst + COPY / 2, COPY / 2, 0) ? COPY / 2 : COPY;
	uint8_t byte = dst[0];

	assert_true(all(f->mem + (to_d ? B : D), COPY, 0));
	assert_true(byte == old || byte == new);
	assert_true(all(dst, len, byte));
	assert_true(all(dst + len, COPY - len, 0));
	/* In the rewrite's order: a later register taken needs the earlier. */
	if (to_d)
		assert_true(byte == new);
	if (len != COPY)
		assert_true(to_d);
	return byte == old;
}

static void arguments_latched(void **state)
{
	struct fx *f = *state;
	struct timespec nap = { 0, 300 * 1000 };
	int during = 0;

	stce_device_set_irq_handler(f->dev, completed, f);

	/* Until the rewrite landed inside a running command a few times. */
	for (int round = 0; round < 50 && during < 3; round++) {
		uint8_t old = (uint8_t)(0x30 + round), new = (uint8_t)~old;
		bool running;
		pthread_t th;

		memset(f->mem + A, old, COPY);
		memset(f->mem + B, 0, COPY);
		memset(f->mem + C, new, COPY);
		memset(f->mem + D, 0, COPY);
		atomic_store(&f->started, 0);
		atomic_store(&f->done, 0);
		assert_int_equal(pthread_create(&th, NULL, copier, f), 0);
		while (!atomic_load(&f->started))
			sched_yield();
		nanosleep(&nap, NULL);
		/* Another whole copy, half as long, if the command took it. */
		wr(f, STCE_DMATEST_REG_SRC, 8, DDW + C);
		wr(f, STCE_DMATEST_REG_DST, 8, DDW + D);
		wr(f, STCE_DMATEST_REG_LEN, 4, COPY / 2);
		running = !atomic_load(&f->done);
		pthread_join(th, NULL);
		assert_true(atomic_load(&f->done));
		assert_int_equal(rd(f, STCE_DMATEST_REG_STATUS),
				 STCE_DMATEST_STATUS_DONE);
		assert_false(stce_pe_dma_frozen(f->pe));
		if (latched_old(f, old, new))
			during += running;
		/* The rewrites were kept, not undone by the command. */
		assert_true(rd(f, STCE_DMATEST_REG_SRC) == DDW + C);
		assert_true(rd(f, STCE_DMATEST_REG_DST) == DDW + D);
		assert_int_equal(rd(f, STCE_DMATEST_REG_LEN), COPY / 2);
	}
	/* The writes did not wait for the command to end. */
	assert_true(during > 0);
}

/* Writes the low half of LEN, over and over, until told to stop. */
static void *low_writer(void *arg)
{
	struct fx *f = arg;

	for (uint32_t i = 0; !atomic_load_explicit(&f->done,
						   memory_order_relaxed); i++)
		wr(f, STCE_DMATEST_REG_LEN, 4, i);
	return NULL;
}

static void halves_kept(void **state)
{
	struct fx *f = *state;
	pthread_t th;

	wr(f, STCE_DMATEST_REG_LEN, 8, 0);
	atomic_store(&f->done, 0);
	assert_int_equal(pthread_create(&th, NULL, low_writer, f), 0);
	/* Each high half written reads back, whatever the low writes do. */
	for (uint64_t i = 1; i <= HALVES; i++) {
		wr(f, STCE_DMATEST_REG_LEN + 4, 4, i);
		if (rd(f, STCE_DMATEST_REG_LEN) >> 32 != i)
			break;
		if (i == HALVES)
			atomic_store(&f->done, 1);
	}
	atomic_store(&f->done, 1);
	pthread_join(th, NULL);
	assert_true(rd(f, STCE_DMATEST_REG_LEN) >> 32 == HALVES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(arguments_latched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(halves_kept, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
