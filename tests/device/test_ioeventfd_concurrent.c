// SPDX-License-Identifier: MIT
/*
 * VFIO_DEVICE_IOEVENTFD under contention (run under TSan too). A driver
 * rings a doorbell - an ioeventfd whose write is a CMD that interrupts -
 * and takes the interrupt (wait for the INTx eventfd, acknowledge,
 * UNMASK), round after round: every doorbell must run its command and
 * every interrupt arrive, while one thread registers, signals and removes
 * other ioeventfds and another reads BAR0 and config space. Then the last
 * close comes while the doorbell and the others are still being
 * signalled: it must return (the ioeventfd thread joined, no write after).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "host_dev.h"

#define ROUNDS	1000
#define CHURN	4	/* ioeventfds the churner keeps registering */

struct fx {
	struct stce_host *h;
	int d, bell, intx, churn[CHURN];
	atomic_bool done, quiet, closed;
};

static long ioe(struct fx *f, uint32_t size, uint64_t reg, uint64_t data,
		int32_t fd)
{
	struct vfio_device_ioeventfd e = {
		.argsz = sizeof(e), .flags = size, .offset = (uint64_t)HOST_DEV_BAR0 + reg,
		.data = data, .fd = fd,
	};

	return stce_host_ioctl(f->h, f->d, VFIO_DEVICE_IOEVENTFD, &e);
}

static void bar_wr(struct fx *f, uint64_t reg, uint64_t v)
{
	host_dev_bar_wr(f->h, f->d, reg, v);
}

static void ring(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		abort();
}

/* Registers, signals and removes its ioeventfds (on SRC and DST, which
 * the doorbell's zero-length FILL does not need) until the close; then
 * only signals them. */
static void *churner(void *arg)
{
	struct fx *f = arg;

	for (uint64_t n = 0; !atomic_load(&f->done); n++) {
		unsigned int i = (unsigned int)(n % CHURN);
		uint64_t reg = i % 2 ? STCE_DMATEST_REG_DST : STCE_DMATEST_REG_SRC;

		if (ioe(f, 8, reg, n, f->churn[i]))
			abort();
		ring(f->churn[i]);
		if (ioe(f, 8, reg, n, -1))
			abort();
	}
	atomic_store(&f->quiet, true);
	while (!atomic_load(&f->closed))
		for (unsigned int i = 0; i < CHURN; i++)
			ring(f->churn[i]);
	return NULL;
}

/* Reads what the ioeventfd writes race with. */
static void *reader(void *arg)
{
	struct fx *f = arg;
	uint64_t v;

	while (!atomic_load(&f->done)) {
		if (stce_host_pread(f->h, f->d, &v, 8,
				    HOST_DEV_BAR0 + STCE_DMATEST_REG_STATUS) != 8 ||
		    stce_host_pread(f->h, f->d, &v, 4,
				    HOST_DEV_CFG + STCE_PCI_COMMAND) != 4)
			abort();
	}
	return NULL;
}

/* The last close while the doorbell rings. */
static void *ringer(void *arg)
{
	struct fx *f = arg;

	while (!atomic_load(&f->closed))
		ring(f->bell);
	return NULL;
}

static void test_doorbell_under_contention(void **state)
{
	struct fx f = { .bell = eventfd(0, EFD_NONBLOCK),
			.intx = eventfd(0, EFD_NONBLOCK) };
	unsigned int lost = 0;
	pthread_t t[3];

	(void)state;
	for (unsigned int i = 0; i < CHURN; i++)
		f.churn[i] = eventfd(0, EFD_NONBLOCK);
	f.d = host_dev_open(&f.h);
	host_dev_command(f.h, f.d, STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER);
	assert_int_equal(host_dev_intx(f.h, f.d, VFIO_IRQ_SET_DATA_EVENTFD |
				       VFIO_IRQ_SET_ACTION_TRIGGER, f.intx), 0);
	bar_wr(&f, STCE_DMATEST_REG_LEN, 0);
	assert_int_equal(ioe(&f, 8, STCE_DMATEST_REG_CMD,
			     STCE_DMATEST_CMD_FILL | STCE_DMATEST_CMD_IRQ, f.bell), 0);
	assert_int_equal(pthread_create(&t[0], NULL, churner, &f), 0);
	assert_int_equal(pthread_create(&t[1], NULL, reader, &f), 0);
	for (int i = 0; i < ROUNDS && !lost; i++) {
		ring(f.bell);
		lost += !host_dev_take_intx(f.h, f.d, f.intx);
	}
	atomic_store(&f.done, true);
	pthread_join(t[1], NULL);
	assert_int_equal(pthread_create(&t[2], NULL, ringer, &f), 0);
	assert_int_equal(lost, 0);
	while (!atomic_load(&f.quiet))
		sched_yield();
	assert_int_equal(stce_host_close(f.h, f.d), 0);
	atomic_store(&f.closed, true);
	pthread_join(t[0], NULL);
	pthread_join(t[2], NULL);
	stce_host_destroy(f.h);
	close(f.bell);
	close(f.intx);
	for (unsigned int i = 0; i < CHURN; i++)
		close(f.churn[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doorbell_under_contention),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
