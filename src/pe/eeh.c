// SPDX-License-Identifier: MIT
/*
 * EEH: a PE's freeze state and the operations on it, as VFIO_EEH_PE_OP
 * runs them on PowerNV. The state is one atomic word of PE_EEH_* bits,
 * read lock-free by DMA and by device models; operations run under
 * pe->lock so that a thaw and a reset do not interleave. The first
 * fault's record has its own leaf lock (fault_lock): DMA freezes the PE
 * (dma.c's pe_freeze) without taking pe->lock.
 */
#include <errno.h>

#include <spapr_tce/pe.h>

#include "pe/pe_internal.h"

/* See pe_internal.h: the state word first (DMA and MMIO stop at once),
 * then the record, which keeps the first fault since the last thaw. */
void pe_freeze(struct stce_pe *pe, enum stce_eeh_fault_reason reason,
	       uint64_t iova, enum stce_dma_dir dir)
{
	atomic_fetch_or(&pe->eeh, PE_EEH_DMA_FROZEN | PE_EEH_MMIO_FROZEN);
	atomic_fetch_add(&pe->fault_count, 1);
	pthread_mutex_lock(&pe->fault_lock);
	if (pe->fault_reason == STCE_EEH_FAULT_NONE) {
		pe->fault_reason = reason;
		pe->fault_iova = iova;
		pe->fault_dir = dir;
	}
	pthread_mutex_unlock(&pe->fault_lock);
}

static void eeh_clear_fault(struct stce_pe *pe)
{
	pthread_mutex_lock(&pe->fault_lock);
	pe->fault_reason = STCE_EEH_FAULT_NONE;
	pe->fault_iova = 0;
	pe->fault_dir = 0;
	pthread_mutex_unlock(&pe->fault_lock);
}

static void eeh_thaw(struct stce_pe *pe, unsigned int bits)
{
	atomic_fetch_and(&pe->eeh, ~bits);
	if (bits & PE_EEH_DMA_FROZEN)
		eeh_clear_fault(pe);
}

static int eeh_get_state(const struct stce_pe *pe)
{
	unsigned int s = atomic_load(&pe->eeh);
	bool dma = !(s & PE_EEH_DMA_FROZEN), mmio = !(s & PE_EEH_MMIO_FROZEN);

	/*
	 * PowerNV reports a PE under reset by its freeze state (the kernel
	 * maps RESET_ACTIVE only from pSeries firmware).
	 */
	if (dma && mmio)
		return STCE_EEH_PE_STATE_NORMAL;
	if (!dma && !mmio)
		return STCE_EEH_PE_STATE_STOPPED;
	if (!dma)
		return STCE_EEH_PE_STATE_STOPPED_DMA;
	return STCE_EEH_PE_STATE_UNAVAIL;
}

/* One VFIO_EEH_PE_* operation on the PE's state, under pe->lock. */
int stce_pe_eeh_op(struct stce_pe *pe, unsigned int op)
{
	int ret = 0;

	pthread_mutex_lock(&pe->lock);
	switch (op) {
	case STCE_EEH_PE_DISABLE:
	case STCE_EEH_PE_CONFIGURE:
		break;
	case STCE_EEH_PE_ENABLE:
		/* The kernel's change of owner unfreezes a frozen PE. */
		if (!(atomic_load(&pe->eeh) & PE_EEH_RESET))
			eeh_thaw(pe, PE_EEH_DMA_FROZEN | PE_EEH_MMIO_FROZEN);
		break;
	case STCE_EEH_PE_UNFREEZE_IO:
		eeh_thaw(pe, PE_EEH_MMIO_FROZEN);
		break;
	case STCE_EEH_PE_UNFREEZE_DMA:
		eeh_thaw(pe, PE_EEH_DMA_FROZEN);
		break;
	case STCE_EEH_PE_GET_STATE:
		ret = eeh_get_state(pe);
		break;
	case STCE_EEH_PE_RESET_HOT:
	case STCE_EEH_PE_RESET_FUNDAMENTAL:
		atomic_fetch_or(&pe->eeh, PE_EEH_RESET | PE_EEH_DMA_FROZEN |
					  PE_EEH_MMIO_FROZEN);
		break;
	case STCE_EEH_PE_RESET_DEACTIVATE:
		if (atomic_fetch_and(&pe->eeh, ~PE_EEH_RESET) & PE_EEH_RESET)
			atomic_fetch_add(&pe->reset_count, 1);
		eeh_thaw(pe, PE_EEH_DMA_FROZEN | PE_EEH_MMIO_FROZEN);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* The kernel's argument checks, then an immediate freeze (INJECTED). */
int stce_pe_eeh_inject(struct stce_pe *pe, unsigned int type,
		       unsigned int func, uint64_t addr, uint64_t mask)
{
	(void)mask;
	/* The kernel's eeh_pe_inject_err(): an unknown type is out of range. */
	if (type != STCE_EEH_ERR_TYPE_32 && type != STCE_EEH_ERR_TYPE_64)
		return -ERANGE;
	if (func > STCE_EEH_ERR_FUNC_MAX)
		return -EINVAL;
	pe_freeze(pe, STCE_EEH_FAULT_INJECTED, addr, 0);
	return 0;
}

/* The fault record under fault_lock; the count is a separate atomic. */
void stce_pe_eeh_fault(const struct stce_pe *pe, struct stce_eeh_fault *f)
{
	struct stce_pe *mpe = (struct stce_pe *)pe;

	pthread_mutex_lock(&mpe->fault_lock);
	f->reason = pe->fault_reason;
	f->iova = pe->fault_iova;
	f->dir = pe->fault_dir;
	pthread_mutex_unlock(&mpe->fault_lock);
	f->count = atomic_load(&pe->fault_count);
}

/* Lock-free: MMIO frozen or reset asserted. */
bool stce_pe_mmio_frozen(const struct stce_pe *pe)
{
	return atomic_load(&pe->eeh) & (PE_EEH_MMIO_FROZEN | PE_EEH_RESET);
}

/* Lock-free: DMA frozen or reset asserted. */
bool stce_pe_dma_frozen(const struct stce_pe *pe)
{
	return atomic_load(&pe->eeh) & (PE_EEH_DMA_FROZEN | PE_EEH_RESET);
}

/* Lock-free: a hot or fundamental reset not yet deactivated. */
bool stce_pe_reset_asserted(const struct stce_pe *pe)
{
	return atomic_load(&pe->eeh) & PE_EEH_RESET;
}

/* Lock-free: RESET_DEACTIVATEs that ended an asserted reset. */
uint64_t stce_pe_reset_count(const struct stce_pe *pe)
{
	return atomic_load(&pe->reset_count);
}
