// SPDX-License-Identifier: MIT
/*
 * INTx as vfio-pci presents it: the command register's INTx Disable bit,
 * the status register's Interrupt Status bit, the interrupt pin and line,
 * and how the eventfd trigger, MASK/UNMASK and INTx Disable interact.
 *
 * Written only against <linux/vfio.h>: it ran on the real kernel (the
 * oracle's e1000e on vfio-pci) and runs on spapr-tce's DMA test device
 * under the preload library; the output must be the same. The two devices
 * raise and clear their interrupt differently (the only device-specific
 * code, below); everything printed is what vfio-pci answers.
 */
#include <poll.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <time.h>

#include "oracle_dev.h"

#define CMD_MEMORY	0x0002
#define CMD_MASTER	0x0004
#define CMD_INTX_OFF	0x0400
#define STATUS_INTX	0x0008

/* e1000e: interrupt causes (ICR 0xc0, write 1 to clear), ICS 0xc8 sets
 * them, IMS 0xd0 enables them onto the line. LSC is one cause. */
#define E1000_ICR	0x00c0
#define E1000_ICS	0x00c8
#define E1000_IMS	0x00d0
#define E1000_LSC	0x0004
/* spapr-tce's DMA test device: a zero-length FILL with the IRQ flag
 * completes and asserts INTA until IRQS (0x40) is written. */
#define DMATEST_LEN	0x18
#define DMATEST_CMD	0x28
#define DMATEST_IRQS	0x40
#define DMATEST_FILL_IRQ 0x80000002u

static int efd;
static bool is_e1000e;

static void raise_intx(void)
{
	if (is_e1000e) {
		bar0_write(E1000_IMS, E1000_LSC);
		bar0_write(E1000_ICS, E1000_LSC);
	} else {
		bar0_write(DMATEST_LEN, 0);
		bar0_write(DMATEST_CMD, DMATEST_FILL_IRQ);
	}
}

static void clear_intx(void)
{
	if (is_e1000e)
		bar0_write(E1000_ICR, E1000_LSC);
	else
		bar0_write(DMATEST_IRQS, 0);
}

/* Signals the eventfd took since the last look, after $INTX_WAIT_MS (50
 * by default: the real kernel delivers from its interrupt handler,
 * asynchronously; spapr-tce within the call that raised it). */
static uint64_t signals(void)
{
	const char *env = getenv("INTX_WAIT_MS");
	long ms = env && *env ? atol(env) : 50;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };
	uint64_t n = 0;

	nanosleep(&ts, NULL);
	if (read(efd, &n, sizeof(n)) != sizeof(n))
		n = 0;
	return n;
}

static void state(const char *what)
{
	uint32_t cmd = cfg_read(0x04, 2), st = cfg_read(0x06, 2);

	printf("%-46s   signals %llu  intx_disable %u  intx_status %u\n", what,
	       (unsigned long long)signals(), !!(cmd & CMD_INTX_OFF),
	       !!(st & STATUS_INTX));
}

static long irq_set(uint32_t flags, int count, const void *data, size_t len)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 8];
	struct vfio_irq_set *s = (struct vfio_irq_set *)buf;

	memset(buf, 0, sizeof(buf));
	s->argsz = (uint32_t)(sizeof(*s) + len);
	s->flags = flags;
	s->index = VFIO_PCI_INTX_IRQ_INDEX;
	s->start = 0;
	s->count = (uint32_t)count;
	if (len)
		memcpy(s->data, data, len);
	return TRY(ioctl(dev, VFIO_DEVICE_SET_IRQS, s));
}

static void action(const char *label, uint32_t flags)
{
	irq_set(flags, 1, NULL, 0);
	show(label, NULL);
}

static void set_trigger(int fd)
{
	irq_set(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1,
		&fd, sizeof(fd));
	show(fd >= 0 ? "TRIGGER eventfd" : "TRIGGER eventfd -1", NULL);
}

static void trigger_off(void)
{
	irq_set(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL, 0);
	show("TRIGGER count 0 (off)", NULL);
}

static void intx_disable(bool on)
{
	uint32_t cmd = cfg_read(0x04, 2);

	cfg_write(0x04, 2, on ? cmd | CMD_INTX_OFF : cmd & ~CMD_INTX_OFF);
}

static void open_state(void)
{
	uint32_t cmd = cfg_read(0x04, 2), line = cfg_read(0x3c, 1);

	/* The line is what the platform left there (PowerNV: 0). */
	note("interrupt line 0x%02x", line);
	cfg_write(0x3c, 1, line ^ 0x5a);
	printf("%-46s   intx_disable %u  intx_status %u  pin %u  line_writable %u\n",
	       "device open", !!(cmd & CMD_INTX_OFF),
	       !!(cfg_read(0x06, 2) & STATUS_INTX), cfg_read(0x3d, 1),
	       cfg_read(0x3c, 1) == (line ^ 0x5a));
	cfg_write(0x3c, 1, line);
}

int main(void)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii),
				    .index = VFIO_PCI_INTX_IRQ_INDEX };
	uint8_t no = 0, yes = 1;
	int cfd, gfd;

	conf_init();
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &cfd, &gfd);
	dev = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, device_name());
	if (dev < 0)
		die("GET_DEVICE_FD");
	device_regions();
	is_e1000e = cfg_read(0, 4) == E1000E_IDS;
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd");

	TRY(ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	show("GET_IRQ_INFO INTx", "flags 0x%x count %u", ii.flags, ii.count);
	open_state();
	/* Reading byte 0x3d alone, as QEMU does (pread of 1 byte). */
	{
		uint8_t pin = 0;

		TRY(pread(dev, &pin, 1, (off_t)(cfg_off + 0x3d)));
		show("pread 1 byte at 0x3d", "pin %u", pin);
	}

	note("before a trigger: no INTx mode");
	action("MASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK);
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	action("TRIGGER none (loopback)",
	       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);

	cfg_write(0x04, 2, cfg_read(0x04, 2) | CMD_MEMORY | CMD_MASTER);
	set_trigger(efd);
	state("trigger set");

	note("loopback");
	action("TRIGGER none (loopback)",
	       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	state("after loopback");

	note("the device interrupts: automasked");
	raise_intx();
	state("device asserts");
	raise_intx();
	state("asserts again while automasked");
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	state("UNMASK while still asserted");
	action("TRIGGER none (loopback)",
	       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	state("loopback while automasked");
	clear_intx();
	state("device deasserts");
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	state("UNMASK after deassert");
	raise_intx();
	state("device asserts (unmasked)");
	clear_intx();
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	state("handled: deassert, UNMASK");

	note("INTx Disable in the command register");
	intx_disable(true);
	state("INTx Disable set");
	raise_intx();
	state("device asserts under INTx Disable");
	action("TRIGGER none (loopback)",
	       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	state("loopback under INTx Disable");
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	state("UNMASK under INTx Disable");
	intx_disable(false);
	state("INTx Disable cleared (still asserted)");
	clear_intx();
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	state("handled");
	intx_disable(true);
	raise_intx();
	clear_intx();
	state("asserted and deasserted under INTx Disable");
	intx_disable(false);
	state("INTx Disable cleared (not asserted)");
	raise_intx();
	state("device asserts");
	intx_disable(true);
	state("INTx Disable set while automasked");
	clear_intx();
	intx_disable(false);
	state("deasserted, INTx Disable cleared");
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	state("UNMASK");

	note("MASK and UNMASK");
	action("MASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK);
	raise_intx();
	state("device asserts while MASKed");
	action("TRIGGER none (loopback)",
	       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	state("loopback while MASKed");
	irq_set(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK, 1, &no, 1);
	show("UNMASK bool 0", NULL);
	state("after UNMASK bool 0");
	irq_set(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK, 1, &yes, 1);
	show("UNMASK bool 1", NULL);
	state("UNMASK while asserted");
	clear_intx();
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	state("handled");
	irq_set(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK, 1, &efd,
		sizeof(efd));
	show("MASK eventfd", NULL);
	irq_set(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK, 1, &yes, 1);
	show("MASK bool 1", NULL);
	intx_disable(true);
	intx_disable(false);
	state("INTx Disable set and cleared while MASKed");
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	state("UNMASK");

	note("INTx Disable before the trigger");
	trigger_off();
	intx_disable(true);
	raise_intx();
	state("asserted, no trigger, INTx Disable");
	set_trigger(efd);
	state("trigger set under INTx Disable");
	intx_disable(false);
	state("INTx Disable cleared");
	clear_intx();
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	state("handled");
	trigger_off();
	raise_intx();
	state("asserted, no trigger");
	set_trigger(efd);
	state("trigger set while asserted");
	intx_disable(true);
	intx_disable(false);
	state("INTx Disable set and cleared");
	clear_intx();
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	state("handled");

	note("an eventfd of -1: INTx mode without a trigger");
	set_trigger(-1);
	action("MASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK);
	action("TRIGGER none (loopback)",
	       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	state("no trigger: loopback");
	irq_set(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, 1,
		&(int32_t){ -1 }, sizeof(int32_t));
	show("UNMASK eventfd -1", NULL);
	set_trigger(efd);
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	raise_intx();
	state("trigger back: device asserts");
	clear_intx();
	action("UNMASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK);
	trigger_off();
	trigger_off();
	set_trigger(-1);
	action("MASK", VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK);
	trigger_off();
	set_trigger(efd);
	state("trigger set");

	note("reset and reopen");
	intx_disable(true);
	TRY(ioctl(dev, VFIO_DEVICE_RESET));
	show("RESET", NULL);
	state("after RESET");
	intx_disable(false);
	raise_intx();
	state("device asserts");
	trigger_off();
	state("trigger off while asserted");
	clear_intx();
	intx_disable(true);
	close(dev);
	dev = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, device_name());
	if (dev < 0)
		die("GET_DEVICE_FD again");
	open_state();

	close(dev);
	close(efd);
	teardown(cfd, gfd);
	return 0;
}
