// SPDX-License-Identifier: MIT
/*
 * A pSeries VM with one passthrough device on the spapr-tce C API: see
 * pseries-model.h for what each part models. Only public headers and
 * functions libspapr-tce exports.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include <spapr_tce/account.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/size.h>
#include <spapr_tce/table.h>

#include "pseries-model.h"

#define LIST_BYTES	4096ULL		/* one TCE list page */
#define TCE_RW		(STCE_TCE_READ | STCE_TCE_WRITE)

static inline uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Note which step @err (a negative errno) came from. */
static int failed(struct pseries_vm *vm, const char *step, int err)
{
	vm->failed = step;
	return err;
}

/* See pseries-model.h. */
void pseries_vm_init(struct pseries_vm *vm)
{
	*vm = (struct pseries_vm){ .locked_before = stce_account_locked_pages() };
}

/* See pseries-model.h. */
void pseries_vm_destroy(struct pseries_vm *vm)
{
	/* The guest first: an attached container must outlive it. */
	stce_guest_destroy(vm->g);
	vm->g = NULL;
	stce_container_destroy(vm->c);
	vm->c = NULL;
	stce_platform_destroy(vm->plat);
	vm->plat = NULL;
	vm->dev = NULL;
	vm->pe = NULL;
	if (vm->map_base)
		munmap(vm->map_base, vm->map_len);
	vm->map_base = NULL;
	vm->ram = NULL;
}

/* ---- the host, VFIO, guest RAM ------------------------------------- */

/* See pseries-model.h. */
int pseries_host_create(struct pseries_vm *vm, const struct stce_topology *topo)
{
	int ret = stce_platform_create(topo, &vm->plat);

	if (ret)
		return failed(vm, "platform", ret);
	if (!stce_platform_nr_devices(vm->plat))
		return failed(vm, "topology has no device", -ENODEV);
	vm->dev = stce_platform_device(vm->plat, 0);
	vm->pe = stce_device_pe(vm->dev);
	return 0;
}

/* locked_vm of one LIOBN: the hardware table plus KVM's charge for the
 * guest view (its TCE pages and their tracking; one page over-counted
 * for the tracking structure). */
static uint64_t window_pages(const struct stce_pe_caps *caps,
			     unsigned int page_shift, uint64_t size,
			     unsigned int levels)
{
	uint64_t hw = stce_table_size_hp(page_shift, size, levels,
					 caps->host_page_shift);
	uint64_t view = stce_account_bytes_to_pages((size >> page_shift) * 8);

	return stce_account_bytes_to_pages(hw) + view + 1 +
	       stce_account_bytes_to_pages(view * sizeof(void *));
}

/* See pseries-model.h. */
uint64_t pseries_locked_pages(const struct pseries_vm *vm, uint64_t ram,
			      unsigned int page_shift, uint64_t ddw_size,
			      bool with_default)
{
	struct stce_pe_caps caps;
	uint64_t ddw, dflt;

	stce_pe_get_caps(vm->pe, &caps);
	ddw = window_pages(&caps, page_shift, ddw_size,
			   stce_rtas_window_levels(&caps, page_shift, ddw_size));
	dflt = window_pages(&caps, caps.dma32_page_shift, caps.dma32_size, 1);
	return stce_account_bytes_to_pages(ram) +
	       (with_default ? ddw + dflt : max64(ddw, dflt));
}

/* See pseries-model.h. */
int pseries_ram_alloc(struct pseries_vm *vm, uint64_t size,
		      unsigned int page_shift)
{
	uint64_t page = 1ULL << page_shift;
	uint64_t align = max64(page, stce_host_page_size());
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

	vm->ram_size = size;
	vm->page_shift = page_shift;
	vm->map_len = size;
	if (page > (64 << 10)) {
		/* Big IOMMU pages need RAM backed by pages as big: mmap
		 * aligns a hugetlbfs mapping to its page. */
		flags |= MAP_HUGETLB | (int)(page_shift << MAP_HUGE_SHIFT);
	} else {
		vm->map_len += align;
	}
	vm->map_base = mmap(NULL, vm->map_len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (vm->map_base == MAP_FAILED) {
		vm->map_base = NULL;
		return failed(vm, "guest RAM", -errno);
	}
	vm->ram = (uint8_t *)(((uintptr_t)vm->map_base + align - 1) & ~(uintptr_t)(align - 1));
	return 0;
}

/* See pseries-model.h. */
int pseries_container_open(struct pseries_vm *vm)
{
	int ret = stce_container_create(STCE_IOMMU_V2, 0, &vm->c);

	if (ret)
		return failed(vm, "v2 container", ret);
	ret = stce_container_attach(vm->c, vm->pe);
	if (ret)
		return failed(vm, "attach the PE", ret);
	return 0;
}

/* See pseries-model.h. */
int pseries_ram_add(struct pseries_vm *vm, pseries_progress_fn progress,
		    void *arg)
{
	int ret = stce_guest_create(&vm->g);

	if (ret)
		return failed(vm, "guest", ret);
	ret = stce_guest_add_memory(vm->g, 0, vm->ram_size, (uintptr_t)vm->ram);
	if (ret)
		return failed(vm, "guest memory map", ret);
	for (uint64_t off = 0; off < vm->ram_size; off += PSERIES_REG_CHUNK) {
		uint64_t n = min64(PSERIES_REG_CHUNK, vm->ram_size - off);

		ret = stce_container_register(vm->c, (uintptr_t)vm->ram + off, n);
		if (ret)
			return failed(vm, "pre-register guest RAM", ret);
		if (progress)
			progress(arg, off + n, vm->ram_size);
	}
	return 0;
}

/* See pseries-model.h. */
int pseries_phb_add(struct pseries_vm *vm)
{
	const uint64_t liobns[2] = { PSERIES_LIOBN_DEFAULT, PSERIES_LIOBN_DDW };
	int ret = stce_guest_add_phb(vm->g, PSERIES_BUID, vm->c, liobns);

	return ret ? failed(vm, "guest PHB and its default window", ret) : 0;
}

/* ---- the guest's RTAS calls ------------------------------------------ */

/* The PE's address: its config address and the PHB's BUID, high half
 * first. */
static void phb_args(uint32_t *args)
{
	args[0] = PSERIES_CONFIG_ADDR;
	args[1] = (uint32_t)(PSERIES_BUID >> 32);
	args[2] = (uint32_t)PSERIES_BUID;
}

/* See pseries-model.h. */
uint32_t pseries_ddw_pgsize_bit(unsigned int page_shift)
{
	switch (page_shift) {
	case 12: return STCE_RTAS_DDW_PGSIZE_4K;
	case 16: return STCE_RTAS_DDW_PGSIZE_64K;
	case 21: return STCE_RTAS_DDW_PGSIZE_2M;
	default: return 0;
	}
}

/* See pseries-model.h. */
uint64_t pseries_ddw_size(uint64_t ram)
{
	uint64_t s = 1;

	while (s < ram)
		s <<= 1;
	return s;
}

/* See pseries-model.h. */
int pseries_rtas_query(struct pseries_vm *vm, uint32_t rets[5])
{
	uint32_t args[3];

	phb_args(args);
	vm->calls.rtas++;
	return stce_rtas_query_pe_dma_window(vm->g, 3, args, 5, rets);
}

/* See pseries-model.h. */
int pseries_rtas_create_ddw(struct pseries_vm *vm, uint64_t size)
{
	uint32_t args[5], rets[4];
	int status;

	phb_args(args);
	args[3] = vm->page_shift;
	args[4] = (uint32_t)stce_size_shift(size);
	vm->calls.rtas++;
	status = stce_rtas_create_pe_dma_window(vm->g, 5, args, 4, rets);
	if (status)
		return status;
	vm->liobn = rets[1];
	vm->ddw_start = ((uint64_t)rets[2] << 32) | rets[3];
	vm->ddw_size = size;
	return 0;
}

/* See pseries-model.h. */
int pseries_rtas_remove(struct pseries_vm *vm, uint64_t liobn)
{
	uint32_t args[1] = { (uint32_t)liobn }, rets[1];

	vm->calls.rtas++;
	return stce_rtas_remove_pe_dma_window(vm->g, 1, args, 1, rets);
}

/* See pseries-model.h. */
int pseries_rtas_reset(struct pseries_vm *vm)
{
	uint32_t args[3], rets[1];

	phb_args(args);
	vm->calls.rtas++;
	return stce_rtas_reset_pe_dma_window(vm->g, 3, args, 1, rets);
}

/* See pseries-model.h. */
int pseries_ddw_attach(struct pseries_vm *vm)
{
	int ret = stce_guest_attach(vm->g, vm->liobn, vm->c, vm->pe);

	return ret ? failed(vm, "attach the group to the LIOBN", ret) : 0;
}

/* See pseries-model.h. */
unsigned int pseries_ddw_levels(const struct pseries_vm *vm)
{
	struct stce_container_stats st;

	if (!vm->liobn)
		return 0;
	stce_container_get_stats(vm->c, &st);
	for (int i = 0; i < STCE_PE_MAX_WINDOWS; i++)
		if (st.window[i].size && st.window[i].start == vm->ddw_start)
			return st.window[i].levels;
	return 0;
}

/* ---- vCPUs ------------------------------------------------------------ */

struct vcpu {
	struct pseries_vm *vm;
	enum pseries_vcpu_op op;
	uint64_t first, count;	/* IOMMU pages of RAM this vCPU (un)maps */
	uint64_t list_gpa;	/* its TCE list page */
	_Atomic uint64_t *done;
	_Atomic unsigned int *over;
	uint64_t calls, too_hard;
	long hret;		/* the failing call's answer */
};

/*
 * One H_PUT_TCE_INDIRECT: the guest writes @n TCEs (big-endian, as PAPR
 * has them) for RAM pages [page, page + n) into its list page and maps
 * them at ioba = window start + guest physical address (a 1:1 DDW).
 */
static long vcpu_put(struct vcpu *v, uint64_t page, uint64_t n)
{
	struct pseries_vm *vm = v->vm;
	uint64_t *list = (uint64_t *)(vm->ram + v->list_gpa);
	uint64_t ioba = vm->ddw_start + (page << vm->page_shift);
	long ret;

	for (uint64_t i = 0; i < n; i++)
		list[i] = htobe64(((page + i) << vm->page_shift) | TCE_RW);
	v->calls++;
	ret = stce_h_put_tce_indirect(vm->g, vm->liobn, ioba, v->list_gpa, n, 0);
	if (ret != STCE_H_TOO_HARD)
		return ret;
	/*
	 * The fast path met a hardware table level that does not exist yet:
	 * as KVM's real mode it gave up. The hypervisor repeats the call on
	 * its slow path, which may allocate the level.
	 */
	v->too_hard++;
	return stce_h_put_tce_indirect(vm->g, vm->liobn, ioba, v->list_gpa, n,
				       STCE_HCALL_MAY_ALLOC);
}

/* One H_STUFF_TCE: clear @n entries from RAM page @page. */
static long vcpu_stuff(struct vcpu *v, uint64_t page, uint64_t n)
{
	struct pseries_vm *vm = v->vm;

	v->calls++;
	return stce_h_stuff_tce(vm->g, vm->liobn,
				vm->ddw_start + (page << vm->page_shift), 0, n, 0);
}

static void *vcpu_run(void *arg)
{
	struct vcpu *v = arg;

	for (uint64_t i = 0; i < v->count; i += STCE_HCALL_MAX_INDIRECT) {
		uint64_t n = min64(STCE_HCALL_MAX_INDIRECT, v->count - i);
		long ret = v->op == PSERIES_MAP_RAM ? vcpu_put(v, v->first + i, n) :
						      vcpu_stuff(v, v->first + i, n);

		if (ret != STCE_H_SUCCESS) {
			v->hret = ret;
			break;
		}
		atomic_fetch_add(v->done, n);
	}
	atomic_fetch_add(v->over, 1);
	return NULL;
}

/* Gather the vCPUs' answers and counts; the first failing answer. */
static long vcpus_join(struct pseries_vm *vm, struct vcpu *v, pthread_t *tid,
		       unsigned int started, long ret)
{
	for (unsigned int i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		if (v[i].hret != STCE_H_SUCCESS && ret == STCE_H_SUCCESS)
			ret = v[i].hret;
		if (v[i].op == PSERIES_MAP_RAM)
			vm->calls.put_tce_indirect += v[i].calls;
		else
			vm->calls.stuff_tce += v[i].calls;
		vm->calls.too_hard += v[i].too_hard;
	}
	return ret;
}

/* See pseries-model.h. */
long pseries_vcpus_run(struct pseries_vm *vm, enum pseries_vcpu_op op,
		       unsigned int nr_vcpus, pseries_progress_fn progress,
		       void *arg, uint64_t *tces)
{
	uint64_t pages = vm->ram_size >> vm->page_shift, per;
	pthread_t tid[PSERIES_MAX_VCPUS];
	struct vcpu v[PSERIES_MAX_VCPUS];
	_Atomic uint64_t done = 0;
	_Atomic unsigned int over = 0;
	unsigned int started = 0;
	long ret = STCE_H_SUCCESS;

	if (!nr_vcpus || nr_vcpus > PSERIES_MAX_VCPUS)
		return -EINVAL;
	per = (pages + nr_vcpus - 1) / nr_vcpus;
	for (unsigned int i = 0; i < nr_vcpus; i++) {
		uint64_t first = min64(pages, i * per);

		/* A vCPU with pages has i < pages: its list is inside RAM. */
		v[i] = (struct vcpu){ .vm = vm, .op = op, .first = first,
				      .count = min64(per, pages - first),
				      .list_gpa = vm->ram_size - (i + 1) * LIST_BYTES,
				      .done = &done, .over = &over };
		if (pthread_create(&tid[i], NULL, vcpu_run, &v[i])) {
			ret = -EAGAIN;
			break;
		}
		started++;
	}
	while (progress && atomic_load(&over) < started) {
		progress(arg, atomic_load(&done), pages);
		usleep(2000);
	}
	ret = vcpus_join(vm, v, tid, started, ret);
	if (progress)
		progress(arg, pages, pages);
	*tces = atomic_load(&done);
	return ret;
}

/* See pseries-model.h. */
bool pseries_tces_read_back(struct pseries_vm *vm, bool mapped)
{
	uint64_t last = (vm->ram_size >> vm->page_shift) - 1, tce;

	for (uint64_t page = 0;; page = last) {
		uint64_t want = mapped ? (page << vm->page_shift) | TCE_RW : 0;

		vm->calls.get_tce++;
		if (stce_h_get_tce(vm->g, vm->liobn,
				   vm->ddw_start + (page << vm->page_shift),
				   &tce) != STCE_H_SUCCESS || tce != want)
			return false;
		if (page == last)
			return true;
	}
}

/* ---- the device's driver --------------------------------------------- */

/* See pseries-model.h. */
void pseries_dev_enable(struct pseries_vm *vm)
{
	stce_device_config_write(vm->dev, STCE_PCI_COMMAND, 2,
				 STCE_PCI_COMMAND_MEMORY | STCE_PCI_COMMAND_MASTER);
}

/* See pseries-model.h. */
uint64_t pseries_dev_reg(struct pseries_vm *vm, uint64_t reg)
{
	uint64_t v = 0;

	stce_device_mmio_read(vm->dev, 0, reg, 8, &v);
	return v;
}

static void dev_reg_write(struct pseries_vm *vm, uint64_t reg, uint64_t v)
{
	stce_device_mmio_write(vm->dev, 0, reg, 8, v);
}

/* See pseries-model.h. */
uint64_t pseries_dev_cmd(struct pseries_vm *vm, uint64_t cmd, uint64_t src,
			 uint64_t dst, uint64_t len, uint8_t pattern)
{
	dev_reg_write(vm, STCE_DMATEST_REG_SRC, src);
	dev_reg_write(vm, STCE_DMATEST_REG_DST, dst);
	dev_reg_write(vm, STCE_DMATEST_REG_LEN, len);
	dev_reg_write(vm, STCE_DMATEST_REG_PATTERN, pattern);
	dev_reg_write(vm, STCE_DMATEST_REG_CMD, cmd);
	return pseries_dev_reg(vm, STCE_DMATEST_REG_STATUS);
}

/* See pseries-model.h. A PE reset leaves the TCE tables alone: DMA works
 * through them at once. */
int pseries_eeh_recover(struct pseries_vm *vm)
{
	static const unsigned int ops[] = {
		STCE_EEH_PE_RESET_HOT, STCE_EEH_PE_RESET_DEACTIVATE,
		STCE_EEH_PE_CONFIGURE,
	};

	for (unsigned int i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		int ret = stce_container_eeh_op(vm->c, ops[i]);

		if (ret)
			return failed(vm, "EEH reset", ret);
	}
	return 0;
}

/* ---- teardown and the audit ------------------------------------------ */

/* See pseries-model.h. */
uint64_t pseries_ram_mappings(const struct pseries_vm *vm)
{
	struct stce_region *r;
	uint64_t sum = 0;

	for (uint64_t off = 0; off < vm->ram_size; off += PSERIES_REG_CHUNK) {
		/* The lookup counts one mapping itself, to hold the region. */
		if (stce_prereg_lookup((uintptr_t)vm->ram + off,
				       min64(PSERIES_REG_CHUNK, vm->ram_size - off), &r))
			return UINT64_MAX;
		sum += stce_region_mapped(r) - 1;
		stce_prereg_mapped_dec(r);
	}
	return sum;
}

/* See pseries-model.h. */
int pseries_teardown(struct pseries_vm *vm)
{
	int ret;

	/* Before the container: an attached container must outlive it. */
	stce_guest_destroy(vm->g);
	vm->g = NULL;
	for (uint64_t off = 0; off < vm->ram_size; off += PSERIES_REG_CHUNK) {
		ret = stce_container_unregister(vm->c, (uintptr_t)vm->ram + off,
						min64(PSERIES_REG_CHUNK, vm->ram_size - off));
		if (ret)
			return failed(vm, "unregister", ret);
	}
	ret = stce_container_detach(vm->c, vm->pe);
	if (ret)
		return failed(vm, "detach", ret);
	stce_container_destroy(vm->c);
	vm->c = NULL;
	return 0;
}

/* See pseries-model.h. */
uint64_t pseries_locked_now(const struct pseries_vm *vm)
{
	return stce_account_locked_pages() - vm->locked_before;
}

/* See pseries-model.h. */
bool pseries_released(const struct pseries_vm *vm)
{
	return pseries_locked_now(vm) == 0 && stce_prereg_count() == 0 &&
	       stce_pin_pages() == 0 && !stce_pe_user_owned(vm->pe);
}
