// SPDX-License-Identifier: MIT
/* The DMA test device: config space, registers, DMA engine, EEH, platform. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <spapr_tce/account.h>
#include <spapr_tce/device.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/topology.h>

#include "common/alloc.h"
#include "../lib/pe_test_util.h"

#define DDW (1ULL << 59)
#define RW (STCE_TCE_READ | STCE_TCE_WRITE)

struct fx {
	struct stce_platform *plat;
	struct stce_device *dev;
	struct stce_pe *pe;
	struct stce_table *t;	/* 64K pages at DDW */
	uint8_t *mem;		/* 4 pages of 64K */
};

static int setup(void **state)
{
	struct stce_topology *topo;
	struct fx *f = calloc(1, sizeof(*f));

	if (stce_topology_default(&topo) || stce_platform_create(topo, &f->plat))
		abort();
	stce_topology_free(topo);
	f->dev = stce_platform_find_device(f->plat, "0030:01:00.0");
	f->pe = stce_device_pe(f->dev);
	if (stce_pe_take_ownership(f->pe))
		abort();
	f->t = tu_table(f->pe, 1, 16, 1ULL << 30, 2);
	if (stce_pe_set_window(f->pe, 1, f->t))
		abort();
	f->mem = tu_pages(65536, 4);
	for (int i = 0; i < 4; i++)
		tu_map(f->t, DDW + (uint64_t)i * 65536, f->mem + i * 65536, RW);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	stce_platform_destroy(f->plat);
	stce_table_destroy(f->t);
	free(f->mem);
	free(f);
	return 0;
}

static uint64_t rd(struct stce_device *d, uint64_t off)
{
	uint64_t v = 0x1234;

	assert_int_equal(stce_device_mmio_read(d, 0, off, 8, &v), 0);
	return v;
}

static void wr(struct stce_device *d, uint64_t off, uint64_t v)
{
	assert_int_equal(stce_device_mmio_write(d, 0, off, 8, v), 0);
}

static uint32_t cfg(struct stce_device *d, uint32_t off, unsigned int size)
{
	uint32_t v = 0x5a5a;

	assert_int_equal(stce_device_config_read(d, off, size, &v), 0);
	return v;
}

static void bus_master(struct stce_device *d)
{
	assert_int_equal(stce_device_config_write(d, STCE_PCI_COMMAND, 2,
			 STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER), 0);
}

static void command(struct stce_device *d, uint64_t cmd, uint64_t src,
		    uint64_t dst, uint64_t len)
{
	wr(d, STCE_DMATEST_REG_SRC, src);
	wr(d, STCE_DMATEST_REG_DST, dst);
	wr(d, STCE_DMATEST_REG_LEN, len);
	wr(d, STCE_DMATEST_REG_CMD, cmd);
}

static void config_space(void **state)
{
	struct fx *f = *state;
	struct stce_device *d = f->dev;

	assert_string_equal(stce_device_name(d), "0030:01:00.0");
	assert_int_equal(cfg(d, STCE_PCI_VENDOR_ID, 2), STCE_DMATEST_VENDOR);
	assert_int_equal(cfg(d, STCE_PCI_DEVICE_ID, 2), STCE_DMATEST_DEVICE);
	assert_int_equal(cfg(d, 0, 4),
			 STCE_DMATEST_VENDOR | ((uint32_t)STCE_DMATEST_DEVICE << 16));
	assert_int_equal(cfg(d, STCE_PCI_COMMAND, 2), 0);
	assert_int_equal(cfg(d, STCE_PCI_REVISION, 1), 1);
	assert_int_equal(cfg(d, 0x08, 4) >> 8, STCE_DMATEST_CLASS);
	assert_int_equal(cfg(d, STCE_PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg(d, STCE_PCI_SUBSYS_VENDOR, 2), STCE_DMATEST_VENDOR);
	assert_int_equal(cfg(d, STCE_PCI_SUBSYS_ID, 2), STCE_DMATEST_DEVICE);
	assert_int_equal(cfg(d, STCE_PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(cfg(d, STCE_PCI_INTERRUPT_LINE, 1), 0);	/* as PowerNV's */
	assert_int_equal(cfg(d, 0xfc, 4), 0);

	/* BAR0: 64-bit memory, sized by writing all-ones. */
	assert_int_equal(cfg(d, STCE_PCI_BAR0, 4), 0x4);
	assert_int_equal(stce_device_config_write(d, STCE_PCI_BAR0, 4, 0xffffffff), 0);
	assert_int_equal(stce_device_config_write(d, STCE_PCI_BAR0 + 4, 4, 0xffffffff), 0);
	assert_int_equal(cfg(d, STCE_PCI_BAR0, 4), 0xfffff004);
	assert_int_equal(cfg(d, STCE_PCI_BAR0 + 4, 4), 0xffffffff);
	assert_int_equal(stce_device_config_write(d, STCE_PCI_BAR0, 4, 0x80001234), 0);
	assert_int_equal(stce_device_config_write(d, STCE_PCI_BAR0 + 4, 4, 0x2), 0);
	assert_int_equal(cfg(d, STCE_PCI_BAR0, 4), 0x80001004);
	assert_int_equal(cfg(d, STCE_PCI_BAR0 + 4, 4), 0x2);

	/* Command keeps memory, bus master and INTx Disable; ids and the
	 * status are read-only. */
	assert_int_equal(cfg(d, STCE_PCI_STATUS, 2), 0);
	assert_int_equal(stce_device_config_write(d, STCE_PCI_COMMAND, 4, 0xffffffff), 0);
	assert_int_equal(cfg(d, STCE_PCI_COMMAND, 4), 0x406);
	assert_int_equal(stce_device_config_write(d, STCE_PCI_COMMAND + 1, 1, 0), 0);
	assert_int_equal(cfg(d, STCE_PCI_COMMAND, 2), 0x6);
	assert_int_equal(stce_device_config_write(d, STCE_PCI_VENDOR_ID, 4, 0), 0);
	assert_int_equal(cfg(d, STCE_PCI_VENDOR_ID, 2), STCE_DMATEST_VENDOR);
	assert_int_equal(stce_device_config_write(d, 0x3c, 1, 0x33), 0);
	assert_int_equal(cfg(d, 0x3c, 2), 0x0133);

	/* Bad sizes, alignment, offsets. */
	uint32_t v;
	assert_int_equal(stce_device_config_read(d, 0, 3, &v), -EINVAL);
	assert_int_equal(stce_device_config_read(d, 2, 4, &v), -EINVAL);
	assert_int_equal(stce_device_config_read(d, 256, 1, &v), -EINVAL);
	assert_int_equal(stce_device_config_write(d, 1, 2, 0), -EINVAL);
	assert_int_equal(stce_device_config_write(d, 256, 4, 0), -EINVAL);
	assert_int_equal(stce_device_config_write(d, 0, 8, 0), -EINVAL);
}

static void registers(void **state)
{
	struct fx *f = *state;
	struct stce_device *d = f->dev;
	uint64_t v;

	assert_true(rd(d, STCE_DMATEST_REG_ID) == STCE_DMATEST_ID);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_IDLE);
	wr(d, STCE_DMATEST_REG_SRC, 0x1122334455667788ULL);
	assert_true(rd(d, STCE_DMATEST_REG_SRC) == 0x1122334455667788ULL);
	assert_int_equal(stce_device_mmio_read(d, 0, STCE_DMATEST_REG_SRC + 4, 4, &v), 0);
	assert_int_equal(v, 0x11223344);
	assert_int_equal(stce_device_mmio_read(d, 0, STCE_DMATEST_REG_SRC, 4, &v), 0);
	assert_int_equal(v, 0x55667788);
	assert_int_equal(stce_device_mmio_write(d, 0, STCE_DMATEST_REG_SRC + 4, 4, 0xaabbccdd), 0);
	assert_true(rd(d, STCE_DMATEST_REG_SRC) == 0xaabbccdd55667788ULL);
	assert_int_equal(stce_device_mmio_write(d, 0, STCE_DMATEST_REG_SRC, 4, 0x01020304), 0);
	assert_true(rd(d, STCE_DMATEST_REG_SRC) == 0xaabbccdd01020304ULL);
	/* Read-only and unused registers ignore writes. */
	wr(d, STCE_DMATEST_REG_ID, 0);
	wr(d, STCE_DMATEST_REG_STATUS, 7);
	wr(d, 0x800, 7);
	assert_true(rd(d, STCE_DMATEST_REG_ID) == STCE_DMATEST_ID);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), 0);
	assert_int_equal(rd(d, 0x800), 0);
	/* Bad accesses. */
	assert_int_equal(stce_device_mmio_read(d, 1, 0, 8, &v), -EINVAL);
	assert_int_equal(stce_device_mmio_read(d, 0, 4, 8, &v), -EINVAL);
	assert_int_equal(stce_device_mmio_read(d, 0, 0, 2, &v), -EINVAL);
	assert_int_equal(stce_device_mmio_read(d, 0, 4096, 4, &v), -EINVAL);
	assert_int_equal(stce_device_mmio_write(d, 2, 0, 8, 0), -EINVAL);
	assert_int_equal(stce_device_mmio_write(d, 0, 6, 4, 0), -EINVAL);
	assert_int_equal(stce_device_mmio_write(d, 0, 0, 1, 0), -EINVAL);
	assert_int_equal(stce_device_mmio_write(d, 0, 8192, 8, 0), -EINVAL);
}

static void dma_engine(void **state)
{
	struct fx *f = *state;
	struct stce_device *d = f->dev;

	/* Without bus master, nothing moves. */
	memset(f->mem, 0x77, 65536);
	command(d, STCE_DMATEST_CMD_FILL, 0, DDW, 100);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_ERROR);
	assert_int_equal(rd(d, STCE_DMATEST_REG_ERROR), EPERM);
	assert_int_equal(f->mem[0], 0x77);
	bus_master(d);

	/* Fill across a page boundary, with an interrupt. */
	wr(d, STCE_DMATEST_REG_PATTERN, 0x1a5);
	command(d, STCE_DMATEST_CMD_FILL | STCE_DMATEST_CMD_IRQ, 0,
		DDW + 65536 - 10, 20);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_DONE);
	assert_int_equal(rd(d, STCE_DMATEST_REG_ERROR), 0);
	assert_int_equal(rd(d, STCE_DMATEST_REG_IRQS), 1);
	assert_int_equal(f->mem[65536 - 11], 0x77);
	for (int i = -10; i < 10; i++)
		assert_int_equal(f->mem[65536 + i], 0xa5);
	assert_int_equal(f->mem[65536 + 10], 0);

	/* Copy 100000 bytes (several engine chunks, three pages). */
	for (int i = 0; i < 100000; i++)
		f->mem[i] = (uint8_t)(i * 13);
	command(d, STCE_DMATEST_CMD_COPY, DDW, DDW + 2 * 65536 + 3, 100000);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_DONE);
	assert_memory_equal(f->mem + 2 * 65536 + 3, f->mem, 100000);

	/* Checksum. */
	command(d, STCE_DMATEST_CMD_CHECKSUM | STCE_DMATEST_CMD_IRQ, DDW + 5, 0, 70000);
	assert_true(rd(d, STCE_DMATEST_REG_RESULT) ==
		    stce_dmatest_checksum(f->mem + 5, 70000));
	assert_int_equal(rd(d, STCE_DMATEST_REG_IRQS), 2);
	wr(d, STCE_DMATEST_REG_IRQS, 123);	/* any write clears */
	assert_int_equal(rd(d, STCE_DMATEST_REG_IRQS), 0);
	assert_true(stce_dmatest_checksum("", 0) == 0xcbf29ce484222325ULL);
	assert_true(stce_dmatest_checksum("a", 1) == 0xaf63dc4c8601ec8cULL);

	/* Bad command and too long. */
	command(d, 9, DDW, DDW, 1);
	assert_int_equal(rd(d, STCE_DMATEST_REG_ERROR), EINVAL);
	command(d, STCE_DMATEST_CMD_COPY, DDW, DDW, STCE_DMATEST_MAX_LEN + 1);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_ERROR);
	assert_int_equal(rd(d, STCE_DMATEST_REG_ERROR), EINVAL);
	/* 32-bit write of CMD runs it too. */
	wr(d, STCE_DMATEST_REG_LEN, 8);
	assert_int_equal(stce_device_mmio_write(d, 0, STCE_DMATEST_REG_CMD, 4,
						STCE_DMATEST_CMD_CHECKSUM), 0);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_DONE);
	assert_false(stce_pe_dma_frozen(f->pe));
}

/* ---- INTA ---------------------------------------------------------- */

static unsigned int edges;

static void count_edge(void *ctx)
{
	(void)ctx;
	edges++;
}

static bool intx_status(struct stce_device *d)
{
	return cfg(d, STCE_PCI_STATUS, 2) & STCE_PCI_STATUS_INTERRUPT;
}

static void raise_irq(struct stce_device *d)
{
	command(d, STCE_DMATEST_CMD_FILL | STCE_DMATEST_CMD_IRQ, 0, DDW, 0);
}

static void set_command(struct stce_device *d, uint32_t cmd)
{
	assert_int_equal(stce_device_config_write(d, STCE_PCI_COMMAND, 2, cmd), 0);
}

#define CMD_ON	(STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER)
#define CMD_OFF	(CMD_ON | STCE_PCI_COMMAND_INTX_DISABLE)

/* INTA is a level: asserted while IRQS is not zero; the handler sees the
 * pin's rising edges, which INTx Disable gates without hiding the status. */
static void intx_level(void **state)
{
	struct fx *f = *state;
	struct stce_device *d = f->dev;

	edges = 0;
	stce_device_set_irq_handler(d, count_edge, NULL);
	bus_master(d);
	assert_false(intx_status(d));
	raise_irq(d);
	assert_int_equal(edges, 1);
	assert_true(intx_status(d));
	raise_irq(d);		/* still asserted: no new edge */
	assert_int_equal(edges, 1);
	assert_int_equal(rd(d, STCE_DMATEST_REG_IRQS), 2);
	wr(d, STCE_DMATEST_REG_IRQS, 0);	/* acknowledge: deasserts */
	assert_false(intx_status(d));
	command(d, STCE_DMATEST_CMD_FILL, 0, DDW, 0);	/* no IRQ bit */
	assert_false(intx_status(d));
	raise_irq(d);
	assert_int_equal(edges, 2);
	wr(d, STCE_DMATEST_REG_IRQS, 0);

	/* INTx Disable: the status still shows it, the pin stays quiet,
	 * and clearing the bit while asserted is an edge. */
	set_command(d, CMD_OFF);
	raise_irq(d);
	assert_true(intx_status(d));
	assert_int_equal(edges, 2);
	set_command(d, CMD_OFF);	/* rewritten unchanged: nothing */
	assert_int_equal(edges, 2);
	assert_int_equal(stce_device_config_write(d, STCE_PCI_COMMAND + 1, 1, 0), 0);
	assert_int_equal(edges, 3);
	set_command(d, CMD_ON);		/* already driven: no edge */
	assert_int_equal(edges, 3);
	/* Set while asserted, cleared while asserted: another edge. */
	set_command(d, CMD_OFF);
	set_command(d, CMD_ON);
	assert_int_equal(edges, 4);
	/* Asserted and acknowledged under INTx Disable: nothing left. */
	wr(d, STCE_DMATEST_REG_IRQS, 0);
	set_command(d, CMD_OFF);
	raise_irq(d);
	wr(d, STCE_DMATEST_REG_IRQS, 0);
	set_command(d, CMD_ON);
	assert_int_equal(edges, 4);
	/* A failed command with the IRQ bit interrupts too. */
	set_command(d, STCE_PCI_COMMAND_MEMORY);
	raise_irq(d);
	assert_int_equal(rd(d, STCE_DMATEST_REG_ERROR), EPERM);
	assert_int_equal(edges, 5);

	/* A function reset deasserts and keeps INTx Disable (config is
	 * saved and restored around it). */
	set_command(d, CMD_OFF);
	stce_device_function_reset(d);
	assert_false(intx_status(d));
	assert_int_equal(cfg(d, STCE_PCI_COMMAND, 2), CMD_OFF);
	set_command(d, CMD_ON);
	assert_int_equal(edges, 5);
	/* No handler: nothing called. */
	stce_device_set_irq_handler(d, NULL, NULL);
	wr(d, STCE_DMATEST_REG_IRQS, 0);
	raise_irq(d);
	assert_int_equal(edges, 5);
	assert_true(intx_status(d));
	/* A PE reset deasserts and clears the command register. */
	set_command(d, CMD_OFF);
	assert_int_equal(stce_pe_eeh_op(f->pe, STCE_EEH_PE_RESET_HOT), 0);
	assert_int_equal(stce_pe_eeh_op(f->pe, STCE_EEH_PE_RESET_DEACTIVATE), 0);
	assert_false(intx_status(d));
	assert_int_equal(cfg(d, STCE_PCI_COMMAND, 2), 0);
}

static void fault_freezes_and_recovers(void **state)
{
	struct fx *f = *state;
	struct stce_device *d = f->dev, *other;
	struct stce_eeh_fault fl;
	uint64_t v;

	bus_master(d);
	wr(d, STCE_DMATEST_REG_PATTERN, 0x42);
	/* Runs off the 4 mapped pages into an empty entry. */
	command(d, STCE_DMATEST_CMD_FILL, 0, DDW + 4 * 65536 - 16, 32);
	stce_pe_eeh_fault(f->pe, &fl);
	assert_int_equal(fl.reason, STCE_EEH_FAULT_EMPTY);
	assert_true(fl.iova == DDW + 4 * 65536);
	assert_int_equal(stce_pe_eeh_op(f->pe, STCE_EEH_PE_GET_STATE),
			 STCE_EEH_PE_STATE_STOPPED);
	/* Frozen: all-ones from registers and config space; writes dropped. */
	assert_true(rd(d, STCE_DMATEST_REG_STATUS) == UINT64_MAX);
	assert_int_equal(stce_device_mmio_read(d, 0, STCE_DMATEST_REG_ID, 4, &v), 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(cfg(d, 0, 4), 0xffffffff);
	assert_int_equal(cfg(d, 0, 2), 0xffff);
	assert_int_equal(cfg(d, 0, 1), 0xff);
	wr(d, STCE_DMATEST_REG_SRC, 5);
	assert_int_equal(stce_device_config_write(d, STCE_PCI_COMMAND, 2, 0), 0);
	/* The other PE's device is not affected. */
	other = stce_platform_find_device(f->plat, "0030:02:00.0");
	assert_true(rd(other, STCE_DMATEST_REG_ID) == STCE_DMATEST_ID);

	/* MMIO back, DMA still frozen: the status tells what happened. */
	assert_int_equal(stce_pe_eeh_op(f->pe, STCE_EEH_PE_UNFREEZE_IO), 0);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_ERROR);
	assert_int_equal(rd(d, STCE_DMATEST_REG_ERROR), EIO);
	assert_int_equal(rd(d, STCE_DMATEST_REG_SRC), 0);	/* the write was dropped */
	assert_int_equal(cfg(d, STCE_PCI_COMMAND, 2), 6);
	command(d, STCE_DMATEST_CMD_FILL, 0, DDW, 16);
	assert_int_equal(rd(d, STCE_DMATEST_REG_ERROR), EIO);
	assert_int_equal(stce_pe_eeh_op(f->pe, STCE_EEH_PE_UNFREEZE_DMA), 0);
	command(d, STCE_DMATEST_CMD_FILL, 0, DDW, 16);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_DONE);
	assert_int_equal(f->mem[15], 0x42);
}

static void pe_reset_resets_device(void **state)
{
	struct fx *f = *state;
	struct stce_device *d = f->dev;

	bus_master(d);
	wr(d, STCE_DMATEST_REG_DST, 0x99);
	command(d, STCE_DMATEST_CMD_CHECKSUM | STCE_DMATEST_CMD_IRQ, DDW, 0, 8);
	assert_int_equal(rd(d, STCE_DMATEST_REG_IRQS), 1);
	assert_int_equal(stce_pe_eeh_op(f->pe, STCE_EEH_PE_RESET_HOT), 0);
	assert_true(rd(d, STCE_DMATEST_REG_ID) == UINT64_MAX);
	assert_int_equal(cfg(d, STCE_PCI_COMMAND, 2), 0xffff);
	assert_int_equal(stce_pe_eeh_op(f->pe, STCE_EEH_PE_RESET_DEACTIVATE), 0);
	assert_true(rd(d, STCE_DMATEST_REG_ID) == STCE_DMATEST_ID);
	assert_int_equal(rd(d, STCE_DMATEST_REG_IRQS), 0);
	assert_int_equal(rd(d, STCE_DMATEST_REG_DST), 0);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_IDLE);
	assert_int_equal(cfg(d, STCE_PCI_COMMAND, 2), 0);
	/* The windows survive a reset. */
	bus_master(d);
	command(d, STCE_DMATEST_CMD_CHECKSUM, DDW, 0, 8);
	assert_int_equal(rd(d, STCE_DMATEST_REG_STATUS), STCE_DMATEST_STATUS_DONE);
}

static void platform_from_topology(void **state)
{
	struct stce_topology *topo;
	struct stce_platform *plat;
	char err[128];

	(void)state;
	assert_int_equal(stce_topology_parse(
		"phb 0\npe 4\npe 8 max_windows=1\n"
		"device 0000:01:00.0 pe=8 vendor=0x1af4 device=0x1\n"
		"device 0000:01:00.1 pe=8\ndevice 0000:02:00.0 pe=4\n",
		&topo, err, sizeof(err)), 0);
	assert_int_equal(stce_platform_create(topo, &plat), 0);
	stce_topology_free(topo);
	assert_int_equal(stce_platform_nr_pes(plat), 2);
	assert_int_equal(stce_platform_nr_devices(plat), 3);
	assert_int_equal(stce_pe_group(stce_platform_pe(plat, 1)), 8);
	assert_null(stce_platform_pe(plat, 2));
	assert_null(stce_platform_device(plat, 3));
	assert_null(stce_platform_find_pe(plat, 5));
	assert_null(stce_platform_find_device(plat, "0000:03:00.0"));
	struct stce_device *d = stce_platform_find_device(plat, "0000:01:00.0");
	assert_ptr_equal(d, stce_platform_device(plat, 0));
	assert_ptr_equal(stce_device_pe(d), stce_platform_find_pe(plat, 8));
	assert_int_equal(cfg(d, 0, 4), 0x00011af4);
	assert_int_equal(stce_platform_topology(plat)->nr_devices, 3);
	struct stce_pe_caps c;
	stce_pe_get_caps(stce_platform_find_pe(plat, 8), &c);
	assert_int_equal(c.max_windows, 1);
	stce_platform_destroy(plat);
	stce_platform_destroy(NULL);
	stce_device_destroy(NULL);

	/* Allocation failures at every step unwind (LeakSanitizer checks). */
	assert_int_equal(stce_topology_default(&topo), 0);
	for (unsigned long nth = 1;; nth++) {
		stce_fault_arm(STCE_FAULT_ALLOC, nth);
		int ret = stce_platform_create(topo, &plat);

		stce_fault_arm(STCE_FAULT_ALLOC, 0);
		if (!ret) {
			stce_platform_destroy(plat);
			assert_true(nth > 5);
			break;
		}
		assert_int_equal(ret, -ENOMEM);
	}
	stce_topology_free(topo);
	/* No failed creation left a PE's hold on the host page behind. */
	assert_int_equal(stce_set_host_page_shift(12), 0);
	assert_int_equal(stce_set_host_page_shift(16), 0);
}

/* The topology's host page is the machine's, and the process's while the
 * machine lives: one host page per process. */
static void platform_host_page(void **state)
{
	struct stce_topology *t4, *t64;
	struct stce_platform *a, *b, *c;
	struct stce_pe_caps caps;
	struct stce_region *r;
	struct stce_pe *pe;
	char err[128];
	void *mem = tu_pages(65536, 1);

	(void)state;
	assert_int_equal(stce_topology_parse("host_page 4K\nphb 0\npe 0\n"
		"device 0000:00:00.0 pe=0\n", &t4, err, sizeof(err)), 0);
	assert_int_equal(stce_topology_default(&t64), 0);
	assert_int_equal(stce_host_page_shift(), 16);
	assert_int_equal(stce_platform_create(t4, &a), 0);
	assert_int_equal(stce_host_page_shift(), 12);
	stce_pe_get_caps(stce_platform_pe(a, 0), &caps);
	assert_int_equal(caps.host_page_shift, 12);
	/* A second machine of the same page shares it; the other page is
	 * refused, whatever asks for it. */
	assert_int_equal(stce_platform_create(t4, &b), 0);
	assert_int_equal(stce_platform_create(t64, &c), -EBUSY);
	assert_int_equal(stce_set_host_page_shift(16), -EBUSY);
	stce_pe_caps_default(&caps);
	assert_int_equal(stce_pe_create(&caps, 9, &pe), -EBUSY);
	caps.host_page_shift = 12;
	assert_int_equal(stce_pe_create(&caps, 9, &pe), 0);
	stce_pe_destroy(pe);
	stce_platform_destroy(a);
	assert_int_equal(stce_platform_create(t64, &c), -EBUSY);	/* b lives */
	stce_platform_destroy(b);
	/* All gone: the next machine's page is taken. */
	assert_int_equal(stce_platform_create(t64, &c), 0);
	assert_int_equal(stce_host_page_shift(), 16);
	stce_platform_destroy(c);

	/* Memory registered in 64K pages keeps a 4K machine out. */
	assert_int_equal(stce_prereg_register((uint64_t)(uintptr_t)mem, 65536, &r), 0);
	assert_int_equal(stce_platform_create(t4, &a), -EBUSY);
	assert_int_equal(stce_host_page_shift(), 16);
	assert_int_equal(stce_prereg_put(r), 0);
	/* The topology's page wins over what its PEs' caps say. */
	t4->pes[0].caps.host_page_shift = 16;
	assert_int_equal(stce_platform_create(t4, &a), 0);
	stce_pe_get_caps(stce_platform_pe(a, 0), &caps);
	assert_int_equal(caps.host_page_shift, 12);
	assert_int_equal(stce_platform_topology(a)->pes[0].caps.host_page_shift, 12);
	stce_platform_destroy(a);
	assert_int_equal(stce_set_host_page_shift(16), 0);
	stce_topology_free(t4);
	stce_topology_free(t64);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(registers, setup, teardown),
		cmocka_unit_test_setup_teardown(dma_engine, setup, teardown),
		cmocka_unit_test_setup_teardown(intx_level, setup, teardown),
		cmocka_unit_test_setup_teardown(fault_freezes_and_recovers, setup, teardown),
		cmocka_unit_test_setup_teardown(pe_reset_resets_device, setup, teardown),
		cmocka_unit_test(platform_from_topology),
		cmocka_unit_test(platform_host_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
