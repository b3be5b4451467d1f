// SPDX-License-Identifier: MIT
/*
 * The emulated PCI DMA test device. One mutex serialises its commands,
 * config space, interrupts, resets and register reads; the argument
 * registers (SRC, DST, LEN, PATTERN) are written without it, as plain
 * atomic stores, and a command latches them once when its CMD write
 * takes the lock (a write that races a command lands before or after
 * the whole command, as it did when every write waited for the lock).
 * Its DMA goes through the PE's lock-free translation.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <spapr_tce/device.h>

#include "common/alloc.h"
#include "common/common.h"
#include "common/lockdep.h"

#define BAR0_SIZE_MASK	(~(uint64_t)(STCE_DMATEST_BAR0_SIZE - 1))
#define BAR0_FLAGS	0x4u	/* memory, 64-bit, not prefetchable */
#define CHUNK		4096	/* bytes CHECKSUM reads per DMA */
#define STEP		(64 << 10)	/* bytes COPY and FILL move per DMA */
#define COMMAND_BITS	(STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER | \
			 STCE_PCI_COMMAND_INTX_DISABLE)

struct stce_device {
	struct stce_pe *pe;
	struct stce_device_desc desc;
	pthread_mutex_t lock;
	/* The PE's reset count we reset for (written under the lock, read
	 * by the argument writes without it). */
	_Atomic uint64_t seen_resets;
	/* config */
	uint16_t command;
	uint64_t bar0;		/* address bits only */
	uint8_t interrupt_line;
	/* BAR0: SRC, DST, LEN, PATTERN (written without the lock) */
	_Atomic uint64_t args[4];
	/* BAR0: the rest (under the lock) */
	uint64_t status, result, irqs, error;
	/* interrupt delivery (stce_device_set_irq_handler) */
	stce_device_irq_fn irq_fn;
	void *irq_ctx;
};

static void device_reset(struct stce_device *d)
{
	d->command = 0;
	d->bar0 = 0;
	d->interrupt_line = 0;
	for (unsigned int i = 0; i < 4; i++)
		atomic_store_explicit(&d->args[i], 0, memory_order_relaxed);
	d->status = STCE_DMATEST_STATUS_IDLE;
	d->result = d->irqs = d->error = 0;
}

/* A powered-on device (registers and config at reset) for @desc on @pe. */
int stce_device_create(const struct stce_device_desc *desc,
		       struct stce_pe *pe, struct stce_device **out)
{
	struct stce_device *d = stce_zalloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->pe = pe;
	d->desc = *desc;
	pthread_mutex_init(&d->lock, NULL);
	atomic_init(&d->seen_resets, stce_pe_reset_count(pe));
	device_reset(d);
	*out = d;
	return 0;
}

/* NULL is a no-op; the PE stays its owner's. */
void stce_device_destroy(struct stce_device *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	stce_free(d);
}

/* The PE the device sits in (fixed at create: no lock). */
struct stce_pe *stce_device_pe(const struct stce_device *d)
{
	return d->pe;
}

/* The "dddd:bb:dd.f" name of its description (fixed: no lock). */
const char *stce_device_name(const struct stce_device *d)
{
	return d->desc.name;
}

/* See <spapr_tce/device.h>. */
uint64_t stce_dmatest_checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* INTA asserted: IRQS counts completions not acknowledged yet. */
static bool intx_asserted(const struct stce_device *d)
{
	return d->irqs != 0;
}

/* The pin as an interrupt controller sees it (INTx Disable gates it). */
static bool intx_driven(const struct stce_device *d)
{
	return intx_asserted(d) && !(d->command & STCE_PCI_COMMAND_INTX_DISABLE);
}

/* After a change of IRQS or INTx Disable: the handler sees a rising edge.
 * @was: intx_driven() before the change. */
static void intx_update(struct stce_device *d, bool was)
{
	if (!was && intx_driven(d) && d->irq_fn)
		d->irq_fn(d->irq_ctx);
}

/* A PE reset the device has not caught up with yet. */
static bool reset_pending(struct stce_device *d)
{
	return stce_pe_reset_count(d->pe) !=
	       atomic_load_explicit(&d->seen_resets, memory_order_relaxed);
}

/* Called with the lock held on every locked access: catch up with a PE
 * reset. */
static void sync_reset(struct stce_device *d)
{
	stce_assert_held(&d->lock);
	if (reset_pending(d)) {
		atomic_store_explicit(&d->seen_resets,
				      stce_pe_reset_count(d->pe),
				      memory_order_relaxed);
		device_reset(d);
	}
}

/* The argument registers as a command latches them at its CMD write. */
struct dma_args {
	uint64_t src, dst, len, pattern;
};

#define ARG(off)	(((off) - STCE_DMATEST_REG_SRC) >> 3)

/*
 * COPY and FILL move memory to memory through the PE (no bounce buffer),
 * STEP bytes a DMA: long commands are split so that no one read-side
 * section holds off a TCE kill for more than one step's copy.
 */
static int run_copy(struct stce_device *d, const struct dma_args *a)
{
	for (uint64_t done = 0; done < a->len; done += STEP) {
		size_t n = (size_t)(a->len - done < STEP ? a->len - done : STEP);
		int ret = stce_pe_dma_copy(d->pe, a->dst + done, a->src + done, n);

		if (ret)
			return ret;
	}
	return 0;
}

static int run_fill(struct stce_device *d, const struct dma_args *a)
{
	for (uint64_t done = 0; done < a->len; done += STEP) {
		size_t n = (size_t)(a->len - done < STEP ? a->len - done : STEP);
		int ret = stce_pe_dma_fill(d->pe, a->dst + done,
					   (int)(a->pattern & 0xff), n);

		if (ret)
			return ret;
	}
	return 0;
}

/* Its 4 KiB buffer is its own frame's: a COPY or FILL does not probe it
 * (the arguments by value, so that the latched set stays in registers). */
static __attribute__((noinline)) int
run_checksum(struct stce_device *d, struct dma_args a_val)
{
	const struct dma_args *a = &a_val;
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t buf[CHUNK];

	for (uint64_t done = 0; done < a->len; done += CHUNK) {
		size_t n = (size_t)(a->len - done < CHUNK ? a->len - done : CHUNK);
		int ret = stce_pe_dma_read(d->pe, a->src + done, buf, n);

		if (ret)
			return ret;
		for (size_t i = 0; i < n; i++) {
			h ^= buf[i];
			h *= 0x100000001b3ULL;
		}
	}
	d->result = h;
	return 0;
}

/* Caller holds d->lock: one command at a time, on the latched arguments. */
static void run_command(struct stce_device *d, uint64_t cmd)
{
	struct dma_args a = {
		atomic_load_explicit(&d->args[ARG(STCE_DMATEST_REG_SRC)],
				     memory_order_relaxed),
		atomic_load_explicit(&d->args[ARG(STCE_DMATEST_REG_DST)],
				     memory_order_relaxed),
		atomic_load_explicit(&d->args[ARG(STCE_DMATEST_REG_LEN)],
				     memory_order_relaxed),
		atomic_load_explicit(&d->args[ARG(STCE_DMATEST_REG_PATTERN)],
				     memory_order_relaxed),
	};
	int ret;

	stce_assert_held(&d->lock);
	if (!(d->command & STCE_PCI_COMMAND_MASTER))
		ret = -EPERM;
	else if (a.len > STCE_DMATEST_MAX_LEN)
		ret = -EINVAL;
	else if ((cmd & ~(uint64_t)STCE_DMATEST_CMD_IRQ) == STCE_DMATEST_CMD_COPY)
		ret = run_copy(d, &a);
	else if ((cmd & ~(uint64_t)STCE_DMATEST_CMD_IRQ) == STCE_DMATEST_CMD_FILL)
		ret = run_fill(d, &a);
	else if ((cmd & ~(uint64_t)STCE_DMATEST_CMD_IRQ) ==
		 STCE_DMATEST_CMD_CHECKSUM)
		ret = run_checksum(d, a);
	else
		ret = -EINVAL;
	d->error = (uint64_t)-ret;
	d->status = ret ? STCE_DMATEST_STATUS_ERROR : STCE_DMATEST_STATUS_DONE;
	if (cmd & STCE_DMATEST_CMD_IRQ) {
		bool was = intx_driven(d);

		d->irqs++;
		intx_update(d, was);
	}
}

/* See <spapr_tce/device.h>: no call to the old handler once it returns. */
void stce_device_set_irq_handler(struct stce_device *d,
				 stce_device_irq_fn fn, void *ctx)
{
	/* Under the lock: no handler call is in flight once we return. */
	pthread_mutex_lock(&d->lock);
	d->irq_fn = fn;
	d->irq_ctx = ctx;
	pthread_mutex_unlock(&d->lock);
}

/* See <spapr_tce/device.h>. */
void stce_device_function_reset(struct stce_device *d)
{
	uint16_t command;
	uint64_t bar0;
	uint8_t line;

	pthread_mutex_lock(&d->lock);
	sync_reset(d);
	command = d->command;
	bar0 = d->bar0;
	line = d->interrupt_line;
	device_reset(d);
	d->command = command;
	d->bar0 = bar0;
	d->interrupt_line = line;
	pthread_mutex_unlock(&d->lock);
}

/* Caller holds d->lock (the registers past the arguments). */
static uint64_t *reg_of(struct stce_device *d, uint64_t offset)
{
	stce_assert_held(&d->lock);
	switch (offset) {
	case STCE_DMATEST_REG_STATUS: return &d->status;
	case STCE_DMATEST_REG_RESULT: return &d->result;
	case STCE_DMATEST_REG_IRQS: return &d->irqs;
	case STCE_DMATEST_REG_ERROR: return &d->error;
	default: return NULL;
	}
}

/* SRC, DST, LEN, PATTERN: the registers written without the lock. */
static bool is_arg(uint64_t reg_off)
{
	return reg_off >= STCE_DMATEST_REG_SRC &&
	       reg_off <= STCE_DMATEST_REG_PATTERN;
}

static int mmio_check(unsigned int bar, uint64_t offset, unsigned int size)
{
	/* size is 4 or 8 past the second test: a mask, not a division. */
	if (bar != 0 || (size != 4 && size != 8) || (offset & (size - 1)) ||
	    offset >= STCE_DMATEST_BAR0_SIZE)
		return -EINVAL;
	return 0;
}

/* See <spapr_tce/device.h>. */
int stce_device_mmio_read(struct stce_device *d, unsigned int bar,
			  uint64_t offset, unsigned int size, uint64_t *val)
{
	uint64_t reg_off = offset & ~7ULL, v = 0, *reg;
	int ret = mmio_check(bar, offset, size);

	if (ret)
		return ret;
	pthread_mutex_lock(&d->lock);
	sync_reset(d);
	if (stce_pe_mmio_frozen(d->pe)) {
		*val = size == 8 ? UINT64_MAX : UINT32_MAX;
		goto out;
	}
	reg = reg_of(d, reg_off);
	if (reg_off == STCE_DMATEST_REG_ID)
		v = STCE_DMATEST_ID;
	else if (is_arg(reg_off))
		v = atomic_load_explicit(&d->args[ARG(reg_off)],
					 memory_order_relaxed);
	else if (reg)
		v = *reg;
	if (size == 4)
		v = (offset & 4) ? v >> 32 : (uint32_t)v;
	*val = v;
out:
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/*
 * An argument register's write, without the lock: after catching up with
 * a PE reset (under the lock, so that the reset cannot wipe the write
 * afterwards), dropped while MMIO is frozen; a 4-byte half merges with a
 * compare-and-swap so that a concurrent write of the other half is kept.
 * Out of line, as reg_write_locked(): stce_device_mmio_write() saves no
 * registers.
 */
static __attribute__((noinline)) void
arg_write(struct stce_device *d, uint64_t offset, unsigned int size,
	  uint64_t val)
{
	_Atomic uint64_t *reg = &d->args[ARG(offset & ~7ULL)];
	uint64_t old, new;

	if (stce_unlikely(reset_pending(d))) {
		pthread_mutex_lock(&d->lock);
		sync_reset(d);
		pthread_mutex_unlock(&d->lock);
	}
	if (stce_pe_mmio_frozen(d->pe))
		return;
	if (size == 8) {
		atomic_store_explicit(reg, val, memory_order_relaxed);
		return;
	}
	old = atomic_load_explicit(reg, memory_order_relaxed);
	do {
		if (offset & 4)
			new = (old & 0xffffffffULL) |
			      ((uint64_t)(uint32_t)val << 32);
		else
			new = (old & ~0xffffffffULL) | (uint32_t)val;
	} while (!atomic_compare_exchange_weak_explicit(reg, &old, new,
							memory_order_relaxed,
							memory_order_relaxed));
}

/*
 * CMD, IRQS and the read-only registers: under the lock. Out of line so
 * that an argument write saves none of the registers this path needs
 * (on a DMA loop that streams memory, every store of the MMIO path waits
 * for the copy's stores to drain).
 */
static __attribute__((noinline)) void
reg_write_locked(struct stce_device *d, uint64_t reg_off, unsigned int size,
		 uint64_t val)
{
	pthread_mutex_lock(&d->lock);
	sync_reset(d);
	if (stce_pe_mmio_frozen(d->pe))
		goto out;
	if (reg_off == STCE_DMATEST_REG_CMD) {
		run_command(d, size == 4 ? (uint32_t)val : val);
		goto out;
	}
	if (reg_off == STCE_DMATEST_REG_IRQS) {
		d->irqs = 0;
		goto out;
	}
	/* The rest is read-only or unused. */
out:
	pthread_mutex_unlock(&d->lock);
}

/* See <spapr_tce/device.h> (BAR0 access): a CMD write runs the command. */
int stce_device_mmio_write(struct stce_device *d, unsigned int bar,
			   uint64_t offset, unsigned int size, uint64_t val)
{
	uint64_t reg_off = offset & ~7ULL;
	int ret = mmio_check(bar, offset, size);

	if (ret)
		return ret;
	if (is_arg(reg_off))
		arg_write(d, offset, size, val);
	else
		reg_write_locked(d, reg_off, size, val);
	return 0;
}

/* The config space as bytes, built on demand from the live fields. */
static void config_image(const struct stce_device *d, uint8_t *c)
{
	uint64_t bar = d->bar0 | BAR0_FLAGS;

	memset(c, 0, STCE_PCI_CONFIG_SIZE);
	c[0x00] = (uint8_t)d->desc.vendor_id;
	c[0x01] = (uint8_t)(d->desc.vendor_id >> 8);
	c[0x02] = (uint8_t)d->desc.device_id;
	c[0x03] = (uint8_t)(d->desc.device_id >> 8);
	c[0x04] = (uint8_t)d->command;
	c[0x05] = (uint8_t)(d->command >> 8);
	c[0x06] = intx_asserted(d) ? STCE_PCI_STATUS_INTERRUPT : 0;
	c[0x08] = 1;				/* revision */
	c[0x09] = (uint8_t)STCE_DMATEST_CLASS;
	c[0x0a] = (uint8_t)(STCE_DMATEST_CLASS >> 8);
	c[0x0b] = (uint8_t)(STCE_DMATEST_CLASS >> 16);
	for (int i = 0; i < 8; i++)
		c[STCE_PCI_BAR0 + i] = (uint8_t)(bar >> (8 * i));
	c[0x2c] = (uint8_t)d->desc.vendor_id;
	c[0x2d] = (uint8_t)(d->desc.vendor_id >> 8);
	c[0x2e] = (uint8_t)d->desc.device_id;
	c[0x2f] = (uint8_t)(d->desc.device_id >> 8);
	c[STCE_PCI_INTERRUPT_LINE] = d->interrupt_line;
	c[STCE_PCI_INTERRUPT_PIN] = 1;		/* INTA */
}

static int config_check(uint32_t offset, unsigned int size)
{
	if ((size != 1 && size != 2 && size != 4) || offset % size ||
	    offset >= STCE_PCI_CONFIG_SIZE)
		return -EINVAL;
	return 0;
}

/* See <spapr_tce/device.h>. */
int stce_device_config_read(struct stce_device *d, uint32_t offset,
			    unsigned int size, uint32_t *val)
{
	uint8_t c[STCE_PCI_CONFIG_SIZE];
	uint32_t v = 0;
	int ret = config_check(offset, size);

	if (ret)
		return ret;
	pthread_mutex_lock(&d->lock);
	sync_reset(d);
	if (stce_pe_mmio_frozen(d->pe)) {
		*val = size == 4 ? UINT32_MAX : (1u << (8 * size)) - 1;
		goto out;
	}
	config_image(d, c);
	for (unsigned int i = 0; i < size; i++)
		v |= (uint32_t)c[offset + i] << (8 * i);
	*val = v;
out:
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* Write @size bytes of @val at @offset into the little-endian @field of
 * @width bytes starting at @base, when they overlap. */
static uint64_t merge(uint64_t field, uint32_t base, unsigned int width,
		      uint32_t offset, unsigned int size, uint32_t val)
{
	for (unsigned int i = 0; i < size; i++) {
		uint32_t at = offset + i;

		if (at < base || at >= base + width)
			continue;
		field &= ~(0xffULL << (8 * (at - base)));
		field |= (uint64_t)((val >> (8 * i)) & 0xff) << (8 * (at - base));
	}
	return field;
}

/* See <spapr_tce/device.h> (config space): INTx edges follow at once. */
int stce_device_config_write(struct stce_device *d, uint32_t offset,
			     unsigned int size, uint32_t val)
{
	int ret = config_check(offset, size);
	uint64_t bar;
	bool was;

	if (ret)
		return ret;
	pthread_mutex_lock(&d->lock);
	sync_reset(d);
	if (stce_pe_mmio_frozen(d->pe))
		goto out;
	was = intx_driven(d);
	d->command = (uint16_t)merge(d->command, STCE_PCI_COMMAND, 2, offset,
				     size, val) & COMMAND_BITS;
	bar = merge(d->bar0 | BAR0_FLAGS, STCE_PCI_BAR0, 8, offset, size, val);
	d->bar0 = bar & BAR0_SIZE_MASK;
	d->interrupt_line = (uint8_t)merge(d->interrupt_line,
					   STCE_PCI_INTERRUPT_LINE, 1, offset,
					   size, val);
	intx_update(d, was);
out:
	pthread_mutex_unlock(&d->lock);
	return 0;
}
