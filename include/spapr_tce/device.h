/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: the emulated PCI DMA test device. (The platform that
 * instantiates a topology's PEs and devices is in topology.h.)
 *
 * The device is one PCI function (type 0 header, vendor/device ids from
 * its description, default 1014:daa0) with a 4 KiB memory BAR0 of registers
 * and a DMA engine that does all its DMA through its PE
 * (stce_pe_dma_read/write): copy, fill and checksum. A command runs to
 * completion inside the MMIO write that starts it.
 *
 * BAR0 registers (little-endian; 4- or 8-byte accesses, naturally
 * aligned; a 4-byte access reaches the low or high half of a 64-bit
 * register):
 *
 *	0x00 ID       RO  STCE_DMATEST_ID
 *	0x08 SRC      RW  source bus address (copy, checksum)
 *	0x10 DST      RW  destination bus address (copy, fill)
 *	0x18 LEN      RW  bytes
 *	0x20 PATTERN  RW  fill byte (low 8 bits)
 *	0x28 CMD      WO  STCE_DMATEST_CMD_* [| STCE_DMATEST_CMD_IRQ]: runs it
 *	0x30 STATUS   RO  STCE_DMATEST_STATUS_*
 *	0x38 RESULT   RO  checksum (64-bit FNV-1a of the bytes)
 *	0x40 IRQS     RW  completions that raised an interrupt; write clears
 *	0x48 ERROR    RO  errno of the last failed command (0 if none)
 *
 * A command needs Bus Master Enable in the PCI command register; without
 * it the command fails (STATUS ERROR, ERROR EPERM) with no DMA. A DMA
 * fault freezes the PE (EEH) and fails the command (ERROR EIO). While the
 * PE's MMIO is frozen or its reset is asserted, every BAR0 and config
 * read returns all-ones and writes are dropped. The device resets itself
 * (registers and config command) after a PE reset (RESET_DEACTIVATE).
 */
#ifndef SPAPR_TCE_DEVICE_H
#define SPAPR_TCE_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include <spapr_tce/export.h>
#include <spapr_tce/pe.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The emulated DMA test device's default PCI ids (IBM vendor id). */
#define STCE_DMATEST_VENDOR	0x1014
#define STCE_DMATEST_DEVICE	0xdaa0

#define STCE_DMATEST_BAR0_SIZE	4096
#define STCE_DMATEST_ID		0x53544345444d4131ULL	/* "STCEDMA1" */
#define STCE_DMATEST_CLASS	0xff0000	/* unassigned class */
#define STCE_DMATEST_MAX_LEN	(64ULL << 20)	/* bytes a command */

enum stce_dmatest_reg {
	STCE_DMATEST_REG_ID = 0x00,
	STCE_DMATEST_REG_SRC = 0x08,
	STCE_DMATEST_REG_DST = 0x10,
	STCE_DMATEST_REG_LEN = 0x18,
	STCE_DMATEST_REG_PATTERN = 0x20,
	STCE_DMATEST_REG_CMD = 0x28,
	STCE_DMATEST_REG_STATUS = 0x30,
	STCE_DMATEST_REG_RESULT = 0x38,
	STCE_DMATEST_REG_IRQS = 0x40,
	STCE_DMATEST_REG_ERROR = 0x48,
};

enum stce_dmatest_cmd {
	STCE_DMATEST_CMD_COPY = 1,	/* LEN bytes from SRC to DST */
	STCE_DMATEST_CMD_FILL = 2,	/* LEN bytes of PATTERN at DST */
	STCE_DMATEST_CMD_CHECKSUM = 3,	/* FNV-1a of LEN bytes at SRC */
};

/* Or'ed into a command: interrupt on completion. (A define: ISO C enum
 * constants must fit an int.) */
#define STCE_DMATEST_CMD_IRQ	0x80000000u

enum stce_dmatest_status {
	STCE_DMATEST_STATUS_IDLE = 0,
	STCE_DMATEST_STATUS_DONE = 1,
	STCE_DMATEST_STATUS_ERROR = 2,
};

/* PCI config space (type 0 header). */
#define STCE_PCI_CONFIG_SIZE	256
#define STCE_PCI_VENDOR_ID	0x00
#define STCE_PCI_DEVICE_ID	0x02
#define STCE_PCI_COMMAND	0x04
#define STCE_PCI_COMMAND_MEMORY	0x2
#define STCE_PCI_COMMAND_MASTER	0x4
#define STCE_PCI_COMMAND_INTX_DISABLE	0x400
#define STCE_PCI_STATUS		0x06
#define STCE_PCI_STATUS_INTERRUPT	0x8
#define STCE_PCI_REVISION	0x08
#define STCE_PCI_CLASS		0x09	/* 3 bytes */
#define STCE_PCI_HEADER_TYPE	0x0e
#define STCE_PCI_BAR0		0x10	/* 64-bit memory BAR: 0x10 and 0x14 */
#define STCE_PCI_SUBSYS_VENDOR	0x2c
#define STCE_PCI_SUBSYS_ID	0x2e
#define STCE_PCI_INTERRUPT_LINE	0x3c
#define STCE_PCI_INTERRUPT_PIN	0x3d

/* A device as the machine describes it (a topology's device line). */
struct stce_device_desc {
	char name[16];		/* canonical "dddd:bb:dd.f" */
	uint16_t domain;
	uint8_t bus, slot, function;
	uint16_t vendor_id, device_id;
	unsigned int group;	/* the IOMMU group of the PE it sits in */
};

struct stce_device;

/* A DMA test device with the ids and address of @desc, on @pe (which
 * must outlive it). -ENOMEM. */
STCE_API
int stce_device_create(const struct stce_device_desc *desc,
		       struct stce_pe *pe, struct stce_device **out);
STCE_API
void stce_device_destroy(struct stce_device *dev);

STCE_API
struct stce_pe *stce_device_pe(const struct stce_device *dev);
STCE_API
const char *stce_device_name(const struct stce_device *dev);

/*
 * BAR0 access. -EINVAL: @size not 4 or 8, @offset not aligned to it or
 * beyond the BAR, a bar other than 0. Reads of unused offsets return 0;
 * while MMIO is frozen reads return all-ones (of @size) - still 0 as the
 * return value - and writes are dropped. Writes of SRC, DST, LEN and
 * PATTERN take no lock and never wait for another thread's command; a
 * command runs on the values they had when its CMD write began.
 */
STCE_API
int stce_device_mmio_read(struct stce_device *dev, unsigned int bar,
			  uint64_t offset, unsigned int size, uint64_t *val);
STCE_API
int stce_device_mmio_write(struct stce_device *dev, unsigned int bar,
			   uint64_t offset, unsigned int size, uint64_t val);

/*
 * Config space access: @size 1, 2 or 4, naturally aligned, inside the
 * 256 bytes (-EINVAL otherwise). Only the command register (Memory, Bus
 * Master, INTx Disable), BAR0 (sizing included: writing all-ones reads
 * back the size mask) and the interrupt line (0 after reset, as PowerNV
 * leaves it) are writable; the rest ignores writes. The status register's
 * Interrupt Status bit reads whether the device asserts INTA. All-ones
 * reads while frozen.
 */
STCE_API
int stce_device_config_read(struct stce_device *dev, uint32_t offset,
			    unsigned int size, uint32_t *val);
STCE_API
int stce_device_config_write(struct stce_device *dev, uint32_t offset,
			     unsigned int size, uint32_t val);

/*
 * Interrupts. The device has one pin, INTA, level-triggered as PCI's: the
 * device asserts it while IRQS is not zero (a command written with
 * STCE_DMATEST_CMD_IRQ adds one when it completes; any write to IRQS
 * clears it, the handler's acknowledge). The status register's Interrupt
 * Status bit reads the assertion; the command register's INTx Disable bit
 * keeps the device from driving the pin without changing that status
 * (PCI 2.3). @fn runs each time the pin goes from not driven to driven
 * (the edge an interrupt controller sees) - a completion while IRQS was
 * zero, INTx Disable cleared while asserted - from the thread whose MMIO
 * or config write did it, with the device's lock held: it must not call
 * back into the device. NULL unsets it; on return no call of the previous
 * handler is running.
 */
typedef void (*stce_device_irq_fn)(void *ctx);
STCE_API
void stce_device_set_irq_handler(struct stce_device *dev,
				 stce_device_irq_fn fn, void *ctx);

/*
 * A function-level reset as the PCI core performs it for a driver (what
 * VFIO_DEVICE_RESET does): the BAR0 registers return to their power-on
 * state, while the config space (command register, BAR0, interrupt line)
 * is saved before and restored after, so the device stays enabled.
 */
STCE_API
void stce_device_function_reset(struct stce_device *dev);

/* The 64-bit FNV-1a the CHECKSUM command computes. */
STCE_API
uint64_t stce_dmatest_checksum(const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_DEVICE_H */
