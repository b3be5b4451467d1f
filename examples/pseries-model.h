/* SPDX-License-Identifier: MIT */
/*
 * A pSeries VM with one passthrough PCI device, on the spapr-tce C API
 * alone: the parts of an emulator (QEMU's pSeries machine, KVM's TCE
 * tables, VFIO) and of its guest (Linux's DDW code, its vCPUs, the
 * device's driver) that `spapr-tce demo` (tools/cmd_demo.c) tells as a
 * story. Copy it as the start of an emulator's sPAPR IOMMU model.
 *
 *   the host       a platform made from a topology; its first device
 *                  passes through, with its PE (IOMMU group);
 *   VFIO           a v2 container that takes the PE;
 *   guest RAM      one memory slot at guest physical 0 (KVM's memslot),
 *                  pre-registered in 64M pieces (pinned, charged);
 *   the PHB        BUID and LIOBNs as QEMU numbers its first PHB: the
 *                  default 32-bit window on one LIOBN, the guest's DDW
 *                  (RTAS ibm,create-pe-dma-window) on the other, the
 *                  device's group attached to it (as
 *                  KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE does);
 *   vCPUs          threads that map or unmap all RAM 1:1 in the DDW with
 *                  H_PUT_TCE_INDIRECT / H_STUFF_TCE, each with a TCE list
 *                  page of its own in guest RAM, H_TOO_HARD repeated on
 *                  the hypervisor's slow path;
 *   the driver     the DMA test device's BAR0 registers, its commands,
 *                  the guest's EEH recovery;
 *   the audit      what the regions count, and that the teardown gave
 *                  back every page, pin, charge and the PE.
 *
 * Functions that return int answer 0 or a negative errno and, on an
 * error, leave in vm->failed the step that failed ("attach the PE"); the
 * pseries_rtas_* functions answer the RTAS status (0 done, -3 parameter
 * error, ...), the vCPU runs the first failing H_* code. Not thread-safe:
 * one thread drives a VM (the vCPU threads are the model's own).
 */
#ifndef PSERIES_MODEL_H
#define PSERIES_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <spapr_tce/container.h>
#include <spapr_tce/device.h>
#include <spapr_tce/hcall.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/topology.h>

/* The guest PHB as QEMU's pSeries machine numbers its first one. */
#define PSERIES_BUID		0x800000020000000ULL
#define PSERIES_LIOBN_DEFAULT	0x80000000ULL
#define PSERIES_LIOBN_DDW	0x80000001ULL
#define PSERIES_CONFIG_ADDR	0	/* the device: bus 0, devfn 0 */

#define PSERIES_REG_CHUNK	(64ULL << 20)	/* RAM a REGISTER */
#define PSERIES_MAX_VCPUS	64

/* Called as a long step goes: @done of @total units. */
typedef void (*pseries_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* The calls the guest made. */
struct pseries_calls {
	uint64_t put_tce_indirect, stuff_tce, get_tce;
	uint64_t too_hard;	/* H_TOO_HARD answers repeated on the slow path */
	uint64_t rtas;
};

struct pseries_vm {
	/* The host and the hypervisor's objects. */
	struct stce_platform *plat;
	struct stce_device *dev;	/* the passthrough device */
	struct stce_pe *pe;		/* its PE */
	struct stce_container *c;
	struct stce_guest *g;
	/* Guest RAM: guest physical 0 is ram[0]. */
	uint8_t *ram;
	uint64_t ram_size;
	unsigned int page_shift;	/* its backing page: the DDW's IOMMU page */
	void *map_base;			/* what mmap returned */
	uint64_t map_len;
	/* The DDW, once created. */
	uint64_t liobn, ddw_start, ddw_size;
	struct pseries_calls calls;
	uint64_t locked_before;		/* locked_vm at pseries_vm_init() */
	const char *failed;		/* the step an error came from */
};

/* Start an empty VM model; notes locked_vm now, for the audit. */
void pseries_vm_init(struct pseries_vm *vm);
/* Release whatever the VM still holds, in teardown order; @vm can be
 * used again from pseries_host_create(). */
void pseries_vm_destroy(struct pseries_vm *vm);

/* ---- the host, VFIO, guest RAM ---- */

/* The emulated host from @topo (copied); its first device passes
 * through. -ENODEV when @topo has no device. */
int pseries_host_create(struct pseries_vm *vm, const struct stce_topology *topo);
/*
 * locked_vm pages a VM needs with @ram bytes of RAM and a DDW of
 * @ddw_size bytes in pages of 1 << @page_shift on this host's PE: RAM,
 * the DDW's tables, and with @with_default the default window's too
 * (without, the guest gives the default window up before it asks for
 * the DDW, so the two never coexist). A window costs its hardware table
 * plus KVM's guest view (its TCE pages and their tracking).
 */
uint64_t pseries_locked_pages(const struct pseries_vm *vm, uint64_t ram,
			      unsigned int page_shift, uint64_t ddw_size,
			      bool with_default);
/* Guest RAM of @size bytes backed by pages of 1 << @page_shift (above
 * 64K: hugetlbfs pages, -ENOMEM when there are none). */
int pseries_ram_alloc(struct pseries_vm *vm, uint64_t size,
		      unsigned int page_shift);
/* VFIO_SET_IOMMU: a v2 container takes the device's PE. */
int pseries_container_open(struct pseries_vm *vm);
/* The VM: its memory map (RAM as one slot at guest physical 0), then RAM
 * pre-registered a PSERIES_REG_CHUNK at a time; @progress (may be NULL)
 * counts bytes. */
int pseries_ram_add(struct pseries_vm *vm, pseries_progress_fn progress,
		    void *arg);
/* The guest PHB: its default window, live, on PSERIES_LIOBN_DEFAULT. */
int pseries_phb_add(struct pseries_vm *vm);

/* ---- the guest's RTAS calls (answers: RTAS status) ---- */

/* The LoPAPR page-size bit of a page shift; 0 for one without (1G). */
uint32_t pseries_ddw_pgsize_bit(unsigned int page_shift);
/* The DDW a Linux guest asks for: its RAM rounded up to a power of two
 * (its maximum memory: this guest has no hotplug). */
uint64_t pseries_ddw_size(uint64_t ram);
/* ibm,query-pe-dma-window: rets[1] windows free, rets[3] page sizes. */
int pseries_rtas_query(struct pseries_vm *vm, uint32_t rets[5]);
/* ibm,create-pe-dma-window: a window of @size bytes (a power of two) in
 * the RAM's pages; on success vm->liobn, ddw_start and ddw_size describe
 * it. */
int pseries_rtas_create_ddw(struct pseries_vm *vm, uint64_t size);
/* ibm,remove-pe-dma-window of @liobn. */
int pseries_rtas_remove(struct pseries_vm *vm, uint64_t liobn);
/* ibm,reset-pe-dma-window: the PE's windows as at boot (the default
 * window back), as a guest does on reboot or kexec. */
int pseries_rtas_reset(struct pseries_vm *vm);

/* The hypervisor attaches the device's group to the DDW's LIOBN (its
 * hardware window under the guest's table: written once). */
int pseries_ddw_attach(struct pseries_vm *vm);
/* Levels of the DDW's hardware table; 0 before the DDW is created. */
unsigned int pseries_ddw_levels(const struct pseries_vm *vm);

/* ---- vCPUs ---- */

enum pseries_vcpu_op {
	PSERIES_MAP_RAM,	/* H_PUT_TCE_INDIRECT, 512 TCEs a call */
	PSERIES_UNMAP_RAM,	/* H_STUFF_TCE, 512 TCEs a call */
};

/*
 * Every page of guest RAM through the DDW, 1:1 (bus = DDW start + guest
 * physical), from @nr_vcpus threads (1..PSERIES_MAX_VCPUS) on disjoint
 * slices; vCPU i keeps its TCE list in the i-th 4K page from the top of
 * RAM. @progress (may be NULL) counts TCEs while they run; *tces gets the
 * TCEs done. Returns H_SUCCESS or the first failing call's answer;
 * -EINVAL for a bad @nr_vcpus, -EAGAIN when no thread could start.
 */
long pseries_vcpus_run(struct pseries_vm *vm, enum pseries_vcpu_op op,
		       unsigned int nr_vcpus, pseries_progress_fn progress,
		       void *arg, uint64_t *tces);
/* H_GET_TCE of the first and last RAM page reads their 1:1 read-write
 * TCE (@mapped) or 0. */
bool pseries_tces_read_back(struct pseries_vm *vm, bool mapped);

/* ---- the device's driver ---- */

/* Memory space and bus mastering on, as the driver's probe does. */
void pseries_dev_enable(struct pseries_vm *vm);
/* A BAR0 register (all-ones while the PE is frozen). */
uint64_t pseries_dev_reg(struct pseries_vm *vm, uint64_t reg);
/* Run one STCE_DMATEST_CMD_*; its STATUS. */
uint64_t pseries_dev_cmd(struct pseries_vm *vm, uint64_t cmd, uint64_t src,
			 uint64_t dst, uint64_t len, uint8_t pattern);
/* The guest's EEH recovery, as its RTAS calls reach the host
 * (VFIO_EEH_PE_OP): reset hot, deactivate, configure. */
int pseries_eeh_recover(struct pseries_vm *vm);

/* ---- teardown and the audit ---- */

/* Mappings the registered regions of guest RAM count now (UINT64_MAX
 * when a piece of RAM is not registered). */
uint64_t pseries_ram_mappings(const struct pseries_vm *vm);
/* The VM goes (its LIOBNs and memory map), its RAM is unregistered, the
 * PE returned to the platform, the container destroyed. */
int pseries_teardown(struct pseries_vm *vm);
/* locked_vm pages above what it was at pseries_vm_init(). */
uint64_t pseries_locked_now(const struct pseries_vm *vm);
/* After pseries_teardown(): locked_vm back, no region registered, no
 * page pinned, the PE back with the platform. */
bool pseries_released(const struct pseries_vm *vm);

#endif /* PSERIES_MODEL_H */
