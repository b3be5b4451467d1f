/* SPDX-License-Identifier: MIT */
/*
 * VFIO_EEH_PE_OP in sequences: each reset type with RESET_DEACTIVATE and
 * CONFIGURE, resets and deactivates repeated or alone, unfreezes during a
 * reset, DISABLE then ENABLE, the same without the device fd, an injected
 * error and the recovery from it. After each step GET_STATE, and what the
 * device's config space (a field vfio-pci virtualizes, one it reads from
 * the device) and BAR0 read as (the rule, not the value: does the read
 * fail, does it return all-ones), since that is where a frozen or
 * resetting PE shows. Note: the oracle's PHB is QEMU's emulated PHB4,
 * whose firmware interface never reports a frozen PE; see docs/quirks.md.
 */
#include "../../lib/conf.h"

/* vfio-pci region offsets: index << 40 (config space 7, BAR0 0). */
#define CFG_OFF(x)	((off_t)(((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + (x)))
#define BAR0_OFF(x)	((off_t)(((uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40) + (x)))

static int dev = -1;

static long op(int c, uint32_t o, const char *what)
{
	struct vfio_eeh_pe_op p = { .argsz = sizeof(p), .op = o };

	TRY(ioctl(c, VFIO_EEH_PE_OP, &p));
	show(what, NULL);
	return g_ret;
}

/* Read @n (2 or 4) bytes: print the return, and whether they are all-ones. */
static void peek(off_t off, size_t n, const char *what)
{
	uint32_t v = 0;

	if (dev < 0)
		return;
	TRY(pread(dev, &v, n, off));
	show(what, "all-ones=%s", g_ret != (long)n ? "n/a" :
	     v == (n == 2 ? 0xffffu : 0xffffffffu) ? "yes" : "no");
}

static void look(int c, const char *label)
{
	char when[64];

	/* Our own copy: lbl()'s few rotating buffers are reused below. */
	snprintf(when, sizeof(when), "%s", label);
	op(c, VFIO_EEH_PE_GET_STATE, lbl("%s GET_STATE", when));
	peek(CFG_OFF(0), 2, lbl("%s config vendor id", when));
	/* vfio-pci virtualizes the vendor id; class/revision reads the device. */
	peek(CFG_OFF(8), 4, lbl("%s config class/revision", when));
	peek(BAR0_OFF(0), 4, lbl("%s BAR0 +0", when));
}

/* Memory decoding on, so BAR0 reads reach the device. */
static void enable_memory(void)
{
	uint16_t cmd = 0;

	if (dev < 0 || pread(dev, &cmd, 2, CFG_OFF(4)) != 2)
		return;
	cmd |= 0x2;
	TRY(pwrite(dev, &cmd, 2, CFG_OFF(4)));
	show("config COMMAND |= MEMORY", NULL);
}

static void reset_cycle(int c, uint32_t type, const char *name)
{
	note("%s reset, deactivate, configure", name);
	look(c, lbl("%s before", name));
	op(c, type, lbl("RESET_%s", name));
	look(c, lbl("%s asserted", name));
	op(c, VFIO_EEH_PE_RESET_DEACTIVATE, lbl("%s RESET_DEACTIVATE", name));
	look(c, lbl("%s deactivated", name));
	op(c, VFIO_EEH_PE_CONFIGURE, lbl("%s CONFIGURE", name));
	look(c, lbl("%s configured", name));
	enable_memory();
}

static void odd_orders(int c)
{
	note("deactivate and configure alone, resets repeated");
	op(c, VFIO_EEH_PE_RESET_DEACTIVATE, "RESET_DEACTIVATE (no reset)");
	op(c, VFIO_EEH_PE_CONFIGURE, "CONFIGURE (no reset)");
	look(c, "alone");
	op(c, VFIO_EEH_PE_RESET_HOT, "RESET_HOT");
	op(c, VFIO_EEH_PE_RESET_HOT, "RESET_HOT again");
	op(c, VFIO_EEH_PE_RESET_FUNDAMENTAL, "RESET_FUNDAMENTAL on top");
	look(c, "twice");
	op(c, VFIO_EEH_PE_UNFREEZE_IO, "UNFREEZE_IO (reset asserted)");
	op(c, VFIO_EEH_PE_UNFREEZE_DMA, "UNFREEZE_DMA (reset asserted)");
	op(c, VFIO_EEH_PE_ENABLE, "ENABLE (reset asserted)");
	look(c, "unfrozen while asserted");
	op(c, VFIO_EEH_PE_RESET_DEACTIVATE, "RESET_DEACTIVATE");
	op(c, VFIO_EEH_PE_RESET_DEACTIVATE, "RESET_DEACTIVATE again");
	op(c, VFIO_EEH_PE_CONFIGURE, "CONFIGURE");
	op(c, VFIO_EEH_PE_CONFIGURE, "CONFIGURE again");
	look(c, "recovered");
	enable_memory();

	note("disable, then enable");
	op(c, VFIO_EEH_PE_DISABLE, "DISABLE");
	look(c, "disabled");
	op(c, VFIO_EEH_PE_DISABLE, "DISABLE again");
	op(c, VFIO_EEH_PE_UNFREEZE_IO, "UNFREEZE_IO (disabled)");
	op(c, VFIO_EEH_PE_RESET_HOT, "RESET_HOT (disabled)");
	op(c, VFIO_EEH_PE_RESET_DEACTIVATE, "RESET_DEACTIVATE (disabled)");
	op(c, VFIO_EEH_PE_ENABLE, "ENABLE");
	look(c, "enabled");
	op(c, VFIO_EEH_PE_ENABLE, "ENABLE again");
	enable_memory();
}

static void inject(int c)
{
	struct vfio_eeh_pe_op p = { .argsz = sizeof(p), .op = VFIO_EEH_PE_INJECT_ERR };

	note("an injected error (32-bit, MMIO load) and the recovery");
	p.err.type = 0;
	p.err.func = 0;
	TRY(ioctl(c, VFIO_EEH_PE_OP, &p));
	show("INJECT_ERR type=0 func=0", NULL);
	look(c, "injected");
	op(c, VFIO_EEH_PE_UNFREEZE_IO, "UNFREEZE_IO");
	look(c, "IO unfrozen");
	op(c, VFIO_EEH_PE_UNFREEZE_DMA, "UNFREEZE_DMA");
	look(c, "DMA unfrozen");
	p.err.type = 1;
	p.err.func = 19;
	TRY(ioctl(c, VFIO_EEH_PE_OP, &p));
	show("INJECT_ERR type=1 func=19", NULL);
	op(c, VFIO_EEH_PE_RESET_HOT, "RESET_HOT (after the injection)");
	op(c, VFIO_EEH_PE_RESET_DEACTIVATE, "RESET_DEACTIVATE");
	op(c, VFIO_EEH_PE_CONFIGURE, "CONFIGURE");
	look(c, "reset after the injection");
}

int main(void)
{
	int c, g;

	conf_init();
	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	dev = get_device(g, 0, "GROUP_GET_DEVICE_FD(device)");
	enable_memory();
	reset_cycle(c, VFIO_EEH_PE_RESET_HOT, "HOT");
	reset_cycle(c, VFIO_EEH_PE_RESET_FUNDAMENTAL, "FUNDAMENTAL");
	odd_orders(c);

	note("without the device fd");
	if (dev >= 0)
		close(dev);
	dev = -1;
	op(c, VFIO_EEH_PE_RESET_HOT, "nodev RESET_HOT");
	op(c, VFIO_EEH_PE_GET_STATE, "nodev GET_STATE");
	op(c, VFIO_EEH_PE_RESET_DEACTIVATE, "nodev RESET_DEACTIVATE");
	op(c, VFIO_EEH_PE_CONFIGURE, "nodev CONFIGURE");
	op(c, VFIO_EEH_PE_GET_STATE, "nodev GET_STATE after");
	dev = get_device(g, 0, "GROUP_GET_DEVICE_FD(device) again");
	enable_memory();
	look(c, "reopened");

	inject(c);
	if (dev >= 0)
		close(dev);
	teardown(c, g);

	note("v1");
	setup(VFIO_SPAPR_TCE_IOMMU, &c, &g);
	op(c, VFIO_EEH_PE_RESET_FUNDAMENTAL, "v1 RESET_FUNDAMENTAL");
	op(c, VFIO_EEH_PE_GET_STATE, "v1 GET_STATE");
	op(c, VFIO_EEH_PE_RESET_DEACTIVATE, "v1 RESET_DEACTIVATE");
	op(c, VFIO_EEH_PE_CONFIGURE, "v1 CONFIGURE");
	op(c, VFIO_EEH_PE_GET_STATE, "v1 GET_STATE after");
	teardown(c, g);
	return 0;
}
