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

#include "host_dev.h"

#define ROUNDS	2000

struct fx {
	struct stce_host *h;
	int d, efd;
	atomic_bool done;
};

static int irq_action(struct fx *f, uint32_t flags, int32_t fd)
{
	return host_dev_intx(f->h, f->d, flags, fd);
}

static void bar_wr(struct fx *f, uint64_t reg, uint64_t v)
{
	host_dev_bar_wr(f->h, f->d, reg, v);
}

static void command(struct fx *f, uint16_t cmd)
{
	host_dev_command(f->h, f->d, cmd);
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
	struct fx f = { .efd = eventfd(0, EFD_NONBLOCK) };
	pthread_t t[2];
	unsigned int lost = 0;

	(void)state;
	f.d = host_dev_open(&f.h);
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
		lost += !host_dev_take_intx(f.h, f.d, f.efd);
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
