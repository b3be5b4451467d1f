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
#include <poll.h>
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

#include <spapr_tce/device.h>
#include <spapr_tce/vfio.h>

#define CFG	((off_t)VFIO_PCI_CONFIG_REGION_INDEX << 40)
#define BAR0	((off_t)VFIO_PCI_BAR0_REGION_INDEX << 40)
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
		.argsz = sizeof(e), .flags = size, .offset = (uint64_t)BAR0 + reg,
		.data = data, .fd = fd,
	};

	return stce_host_ioctl(f->h, f->d, VFIO_DEVICE_IOEVENTFD, &e);
}

static int irq_action(struct fx *f, uint32_t flags, int32_t fd)
{
	struct { struct vfio_irq_set s; int32_t fd; } r = {
		.s = { .argsz = sizeof(r), .flags = flags,
		       .index = VFIO_PCI_INTX_IRQ_INDEX, .count = 1 },
		.fd = fd,
	};

	return stce_host_ioctl(f->h, f->d, VFIO_DEVICE_SET_IRQS, &r);
}

static void bar_wr(struct fx *f, uint64_t reg, uint64_t v)
{
	if (stce_host_pwrite(f->h, f->d, &v, 8, BAR0 + (off_t)reg) != 8)
		abort();
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
		if (stce_host_pread(f->h, f->d, &v, 8, BAR0 + STCE_DMATEST_REG_STATUS) != 8 ||
		    stce_host_pread(f->h, f->d, &v, 4, CFG + STCE_PCI_COMMAND) != 4)
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

static void open_device(struct fx *f)
{
	const char *name;
	int c, g;

	assert_int_equal(stce_host_create(NULL, &f->h), 0);
	c = stce_host_open(f->h, "/dev/vfio/vfio", O_RDWR);
	g = stce_host_open(f->h, "/dev/vfio/0", O_RDWR);
	assert_int_equal(stce_host_ioctl(f->h, g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	assert_int_equal(stce_host_ioctl(f->h, c, VFIO_SET_IOMMU,
					 (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), 0);
	name = stce_device_name(stce_platform_device(stce_host_platform(f->h), 0));
	f->d = stce_host_ioctl(f->h, g, VFIO_GROUP_GET_DEVICE_FD, (void *)name);
	assert_true(f->d >= 0);
}

static void test_doorbell_under_contention(void **state)
{
	struct fx f = { .bell = eventfd(0, EFD_NONBLOCK),
			.intx = eventfd(0, EFD_NONBLOCK) };
	uint16_t cmd = STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER;
	unsigned int lost = 0;
	pthread_t t[3];
	struct pollfd p;
	uint64_t n;

	(void)state;
	for (unsigned int i = 0; i < CHURN; i++)
		f.churn[i] = eventfd(0, EFD_NONBLOCK);
	open_device(&f);
	assert_int_equal(stce_host_pwrite(f.h, f.d, &cmd, 2, CFG + STCE_PCI_COMMAND), 2);
	assert_int_equal(irq_action(&f, VFIO_IRQ_SET_DATA_EVENTFD |
				    VFIO_IRQ_SET_ACTION_TRIGGER, f.intx), 0);
	bar_wr(&f, STCE_DMATEST_REG_LEN, 0);
	assert_int_equal(ioe(&f, 8, STCE_DMATEST_REG_CMD,
			     STCE_DMATEST_CMD_FILL | STCE_DMATEST_CMD_IRQ, f.bell), 0);
	assert_int_equal(pthread_create(&t[0], NULL, churner, &f), 0);
	assert_int_equal(pthread_create(&t[1], NULL, reader, &f), 0);
	for (int i = 0; i < ROUNDS && !lost; i++) {
		ring(f.bell);
		p = (struct pollfd){ .fd = f.intx, .events = POLLIN };
		if (poll(&p, 1, 5000) != 1)
			lost++;
		else if (read(f.intx, &n, sizeof(n)) != sizeof(n))
			abort();
		bar_wr(&f, STCE_DMATEST_REG_IRQS, 0);	/* acknowledge */
		assert_int_equal(irq_action(&f, VFIO_IRQ_SET_DATA_NONE |
					    VFIO_IRQ_SET_ACTION_UNMASK, 0), 0);
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
