// SPDX-License-Identifier: MIT
/*
 * INTx under contention (run under TSan too): a driver thread takes
 * interrupts one at a time - raise, wait for the eventfd, acknowledge at
 * the device, UNMASK - while other threads toggle the command register's
 * INTx Disable and MASK/UNMASK the line. Every interrupt the driver waits
 * for must arrive (none lost between an unmask and the device's level),
 * with the device's lock and irq_lock taken in one order only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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
#define ROUNDS	2000

struct fx {
	struct stce_host *h;
	int d, efd;
	atomic_bool done;
};

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

static void command(struct fx *f, uint16_t cmd)
{
	if (stce_host_pwrite(f->h, f->d, &cmd, 2, CFG + STCE_PCI_COMMAND) != 2)
		abort();
}

#define CMD_ON	(STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER)

/* Toggles INTx Disable; always leaves it clear between rounds. */
static void *disabler(void *arg)
{
	struct fx *f = arg;

	while (!atomic_load(&f->done)) {
		command(f, CMD_ON | STCE_PCI_COMMAND_INTX_DISABLE);
		command(f, CMD_ON);
	}
	return NULL;
}

/* MASK then UNMASK: the line is never left masked by this thread. */
static void *masker(void *arg)
{
	struct fx *f = arg;

	while (!atomic_load(&f->done)) {
		if (irq_action(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 0) ||
		    irq_action(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0))
			abort();
	}
	return NULL;
}

static void test_no_lost_interrupt(void **state)
{
	struct pollfd p;
	struct fx f = { .efd = eventfd(0, EFD_NONBLOCK) };
	pthread_t t[2];
	unsigned int lost = 0;
	const char *name;
	uint64_t n;
	int c, g;

	(void)state;
	assert_int_equal(stce_host_create(NULL, &f.h), 0);
	c = stce_host_open(f.h, "/dev/vfio/vfio", O_RDWR);
	g = stce_host_open(f.h, "/dev/vfio/0", O_RDWR);
	assert_int_equal(stce_host_ioctl(f.h, g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	assert_int_equal(stce_host_ioctl(f.h, c, VFIO_SET_IOMMU,
					 (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), 0);
	name = stce_device_name(stce_platform_device(stce_host_platform(f.h), 0));
	f.d = stce_host_ioctl(f.h, g, VFIO_GROUP_GET_DEVICE_FD, (void *)name);
	assert_true(f.d >= 0);
	command(&f, CMD_ON);
	assert_int_equal(irq_action(&f, VFIO_IRQ_SET_DATA_EVENTFD |
				    VFIO_IRQ_SET_ACTION_TRIGGER, f.efd), 0);
	assert_int_equal(pthread_create(&t[0], NULL, disabler, &f), 0);
	assert_int_equal(pthread_create(&t[1], NULL, masker, &f), 0);
	bar_wr(&f, STCE_DMATEST_REG_LEN, 0);
	for (int i = 0; i < ROUNDS && !lost; i++) {
		/* A zero-length FILL that interrupts: INTA asserted. */
		bar_wr(&f, STCE_DMATEST_REG_CMD,
		       STCE_DMATEST_CMD_FILL | STCE_DMATEST_CMD_IRQ);
		p = (struct pollfd){ .fd = f.efd, .events = POLLIN };
		if (poll(&p, 1, 5000) != 1)
			lost++;
		else if (read(f.efd, &n, sizeof(n)) != sizeof(n))
			abort();
		bar_wr(&f, STCE_DMATEST_REG_IRQS, 0);	/* acknowledge */
		assert_int_equal(irq_action(&f, VFIO_IRQ_SET_DATA_NONE |
					    VFIO_IRQ_SET_ACTION_UNMASK, 0), 0);
	}
	atomic_store(&f.done, true);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	assert_int_equal(lost, 0);
	stce_host_destroy(f.h);
	close(f.efd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_lost_interrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
