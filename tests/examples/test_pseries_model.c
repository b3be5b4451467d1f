// SPDX-License-Identifier: MIT
/*
 * examples/pseries-model: a whole small VM through every part of the
 * model (the counts it keeps, what the guest and the device see), and
 * each input the model refuses; the audit both ways.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <spapr_tce/account.h>
#include <spapr_tce/prereg.h>

#include "pseries-model.h"

#define RAM	(16ULL << 20)
#define PAGE_SHIFT	16
#define DDW_START	0x800000000000000ULL	/* 1 << 59: the PE's 64-bit window */

/* Each test's VM, released whatever the test did (a failed assertion
 * leaves nothing registered behind for the next one). */
static int vm_alloc(void **state)
{
	struct pseries_vm *vm = test_malloc(sizeof(*vm));

	pseries_vm_init(vm);
	*state = vm;
	return 0;
}

static int vm_free(void **state)
{
	pseries_vm_destroy(*state);
	test_free(*state);
	return 0;
}

/* A VM on the built-in topology with RAM allocated, nothing else. */
static void vm_host(struct pseries_vm *vm)
{
	struct stce_topology *topo;

	assert_int_equal(stce_topology_default(&topo), 0);
	assert_int_equal(pseries_host_create(vm, topo), 0);
	stce_topology_free(topo);
	assert_non_null(vm->dev);
	assert_non_null(vm->pe);
	assert_int_equal(pseries_ram_alloc(vm, RAM, PAGE_SHIFT), 0);
	assert_int_equal((uintptr_t)vm->ram % (1 << PAGE_SHIFT), 0);
}

/* ... and its container, registered RAM and PHB. */
static void vm_guest(struct pseries_vm *vm)
{
	vm_host(vm);
	assert_int_equal(pseries_container_open(vm), 0);
	assert_int_equal(pseries_ram_add(vm, NULL, NULL), 0);
	assert_int_equal(pseries_phb_add(vm), 0);
}

struct progress {
	uint64_t calls, done, total;
};

static void count_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;

	assert_true(done <= total);
	assert_true(done >= p->done);
	p->calls++;
	p->done = done;
	p->total = total;
}

/* Steps 1-3: container, RAM, PHB, the DDW. */
static void bring_up(struct pseries_vm *vm)
{
	struct progress reg = { 0 };
	uint32_t rets[5];

	vm_host(vm);
	assert_int_equal(pseries_container_open(vm), 0);
	assert_int_equal(pseries_ram_add(vm, count_progress, &reg), 0);
	/* 16M in one 64M piece: one call, all of it. */
	assert_int_equal(reg.calls, 1);
	assert_int_equal(reg.done, RAM);
	assert_int_equal(reg.total, RAM);
	assert_int_equal(pseries_locked_now(vm), RAM >> stce_host_page_shift());
	assert_int_equal(pseries_phb_add(vm), 0);

	assert_int_equal(pseries_rtas_query(vm, rets), STCE_RTAS_SUCCESS);
	assert_int_equal(rets[1], 1);	/* the default window holds the other */
	assert_true(rets[3] & pseries_ddw_pgsize_bit(PAGE_SHIFT));
	assert_int_equal(pseries_ddw_levels(vm), 0);	/* no DDW yet */
	assert_int_equal(pseries_rtas_create_ddw(vm, pseries_ddw_size(RAM)), 0);
	assert_int_equal(vm->liobn, PSERIES_LIOBN_DDW);
	assert_int_equal(vm->ddw_start, DDW_START);
	assert_int_equal(vm->ddw_size, RAM);
	/* RTAS made the hardware window too, and attached the container. */
	assert_int_equal(pseries_ddw_levels(vm), 1);
	assert_int_equal(pseries_ddw_attach(vm), 0);
}

static void runs_a_whole_vm(void **state)
{
	uint64_t pages = RAM >> PAGE_SHIFT, tces = 0;
	struct progress map = { 0 };
	struct pseries_vm *vm = *state;

	bring_up(vm);
	/* Steps 4-5: three vCPUs map all RAM; the device writes through it. */
	assert_int_equal(pseries_ram_mappings(vm), 0);
	assert_int_equal(pseries_vcpus_run(vm, PSERIES_MAP_RAM, 3, count_progress, &map,
					   &tces), STCE_H_SUCCESS);
	assert_int_equal(tces, pages);
	assert_int_equal(map.done, pages);
	assert_int_equal(vm->calls.put_tce_indirect, 3);	/* 86 + 86 + 84 TCEs */
	assert_int_equal(vm->calls.too_hard, 0);
	assert_true(pseries_tces_read_back(vm, true));
	assert_int_equal(vm->calls.get_tce, 2);
	assert_int_equal(pseries_ram_mappings(vm), pages);
	pseries_dev_enable(vm);
	assert_int_equal(pseries_dev_reg(vm, STCE_DMATEST_REG_ID), STCE_DMATEST_ID);
	assert_int_equal(pseries_dev_cmd(vm, STCE_DMATEST_CMD_FILL, 0, DDW_START + 8192,
					 4096, 0x5a), STCE_DMATEST_STATUS_DONE);
	assert_int_equal(vm->ram[8192], 0x5a);
	assert_int_equal(vm->ram[8192 + 4095], 0x5a);
	assert_int_equal(vm->ram[8192 + 4096], 0);

	/* Step 6: past the window the PE freezes; the guest recovers it. */
	assert_int_not_equal(pseries_dev_cmd(vm, STCE_DMATEST_CMD_FILL, 0,
					     DDW_START + RAM, 4096, 0xee),
			     STCE_DMATEST_STATUS_DONE);
	assert_int_equal(stce_container_eeh_op(vm->c, STCE_EEH_PE_GET_STATE),
			 STCE_EEH_PE_STATE_STOPPED);
	assert_int_equal(pseries_dev_reg(vm, STCE_DMATEST_REG_ID), UINT64_MAX);
	assert_int_equal(pseries_eeh_recover(vm), 0);
	assert_int_equal(stce_container_eeh_op(vm->c, STCE_EEH_PE_GET_STATE),
			 STCE_EEH_PE_STATE_NORMAL);
	pseries_dev_enable(vm);
	assert_int_equal(pseries_dev_cmd(vm, STCE_DMATEST_CMD_CHECKSUM, DDW_START, 0,
					 65536, 0), STCE_DMATEST_STATUS_DONE);
	assert_int_equal(pseries_dev_reg(vm, STCE_DMATEST_REG_RESULT),
			 stce_dmatest_checksum(vm->ram, 65536));

	/* Steps 7-8: one vCPU unmaps; RTAS remove and reset; teardown. */
	assert_int_equal(pseries_vcpus_run(vm, PSERIES_UNMAP_RAM, 1, NULL, NULL, &tces),
			 STCE_H_SUCCESS);
	assert_int_equal(tces, pages);
	assert_int_equal(vm->calls.stuff_tce, 1);
	assert_true(pseries_tces_read_back(vm, false));
	assert_false(pseries_tces_read_back(vm, true));
	assert_int_equal(pseries_ram_mappings(vm), 0);
	assert_int_equal(pseries_rtas_remove(vm, vm->liobn), STCE_RTAS_SUCCESS);
	assert_int_equal(pseries_rtas_reset(vm), STCE_RTAS_SUCCESS);
	assert_int_equal(vm->calls.rtas, 4);
	assert_false(pseries_released(vm));	/* RAM registered, PE owned */
	assert_int_equal(pseries_teardown(vm), 0);
	assert_null(vm->c);
	assert_null(vm->g);
	assert_true(pseries_released(vm));
	assert_int_equal(stce_prereg_count(), 0);
}

/* A H_TOO_HARD on the fast path is repeated on the slow one and counted. */
static void retries_too_hard(void **state)
{
	struct pseries_vm *vm = *state;
	uint64_t tces;

	vm_guest(vm);
	/* 256G of 64K pages: 4M TCEs, more than one level (2M) holds. */
	assert_int_equal(pseries_rtas_create_ddw(vm, 256ULL << 30), 0);
	assert_int_equal(pseries_ddw_attach(vm), 0);
	assert_int_equal(pseries_ddw_levels(vm), 2);
	assert_int_equal(pseries_vcpus_run(vm, PSERIES_MAP_RAM, 1, NULL, NULL, &tces),
			 STCE_H_SUCCESS);
	assert_int_equal(tces, RAM >> PAGE_SHIFT);
	assert_int_equal(vm->calls.too_hard, 1);
	assert_int_equal(pseries_ram_mappings(vm), tces);
	pseries_vm_destroy(vm);
	assert_int_equal(pseries_locked_now(vm), 0);
}

static void refuses_a_host_without_device(void **state)
{
	struct stce_topology *topo;
	struct pseries_vm *vm = *state;
	char err[128];

	assert_int_equal(stce_topology_parse("phb 0\npe 0 phb=0\n", &topo, err,
					     sizeof(err)), 0);
	assert_int_equal(pseries_host_create(vm, topo), -ENODEV);
	assert_string_equal(vm->failed, "topology has no device");
	assert_null(vm->dev);
	stce_topology_free(topo);
}

static void refuses_bad_vcpu_counts(void **state)
{
	struct pseries_vm *vm = *state;
	uint64_t tces = 7;

	vm_guest(vm);
	assert_int_equal(pseries_rtas_create_ddw(vm, RAM), 0);
	assert_int_equal(pseries_ddw_attach(vm), 0);
	assert_int_equal(pseries_vcpus_run(vm, PSERIES_MAP_RAM, 0, NULL, NULL, &tces),
			 -EINVAL);
	assert_int_equal(pseries_vcpus_run(vm, PSERIES_MAP_RAM, PSERIES_MAX_VCPUS + 1,
					   NULL, NULL, &tces), -EINVAL);
	assert_int_equal(tces, 7);
	assert_int_equal(vm->calls.put_tce_indirect, 0);
	assert_int_equal(pseries_ram_mappings(vm), 0);
	/* The most it takes: 64 vCPUs, 256 pages, some with none. */
	assert_int_equal(pseries_vcpus_run(vm, PSERIES_MAP_RAM, PSERIES_MAX_VCPUS,
					   NULL, NULL, &tces), STCE_H_SUCCESS);
	assert_int_equal(tces, RAM >> PAGE_SHIFT);
}

/* The guest's calls answer the RTAS and H_* codes of a bad request. */
static void passes_on_guest_errors(void **state)
{
	struct pseries_vm *vm = *state;
	uint64_t tces;

	vm_guest(vm);
	/* Not a power of two: no window size RTAS can express. */
	assert_int_equal(pseries_rtas_create_ddw(vm, 3 * RAM), STCE_RTAS_PARAM_ERROR);
	assert_int_equal(vm->liobn, 0);
	/* No DDW: its LIOBN is unknown to the hypercalls (H_TOO_HARD, on
	 * the slow path too: each vCPU stops at its first call). */
	vm->liobn = PSERIES_LIOBN_DDW;
	assert_int_equal(pseries_vcpus_run(vm, PSERIES_MAP_RAM, 2, NULL, NULL, &tces),
			 STCE_H_TOO_HARD);
	assert_int_equal(tces, 0);
	assert_int_equal(vm->calls.put_tce_indirect, 2);
	assert_int_equal(vm->calls.too_hard, 2);
	assert_int_equal(pseries_rtas_remove(vm, PSERIES_LIOBN_DDW), STCE_RTAS_PARAM_ERROR);
	assert_int_equal(pseries_ddw_attach(vm), -ENOENT);
	assert_string_equal(vm->failed, "attach the group to the LIOBN");
}

/* Before registration the audit finds no region; after a destroy without
 * teardown, everything is back all the same. */
static void audits_what_is_held(void **state)
{
	struct pseries_vm *vm = *state;

	vm_host(vm);
	assert_int_equal(pseries_container_open(vm), 0);
	assert_int_equal(pseries_ram_mappings(vm), UINT64_MAX);
	assert_false(pseries_released(vm));	/* the PE is the container's */
	assert_int_equal(pseries_ram_add(vm, NULL, NULL), 0);
	assert_int_equal(pseries_ram_mappings(vm), 0);
	assert_true(pseries_locked_now(vm) > 0);
	pseries_vm_destroy(vm);
	assert_int_equal(pseries_locked_now(vm), 0);
	assert_int_equal(stce_prereg_count(), 0);
	assert_int_equal(stce_pin_pages(), 0);
}

/* What a VM will lock: RAM plus the windows, the default one optional. */
static void counts_locked_pages(void **state)
{
	uint64_t hp = stce_host_page_size(), with, without, small;
	struct pseries_vm *vm = *state;

	vm_host(vm);
	with = pseries_locked_pages(vm, RAM, PAGE_SHIFT, RAM, true);
	without = pseries_locked_pages(vm, RAM, PAGE_SHIFT, RAM, false);
	small = pseries_locked_pages(vm, RAM / 2, PAGE_SHIFT, RAM, true);
	assert_int_equal(with - small, RAM / 2 / hp);
	/* The default window (2G of 4K pages) costs more than a 16M DDW:
	 * without it, the DDW's pages are what is left over RAM. */
	assert_true(without < with);
	assert_true(without > RAM / hp);
}

static void knows_the_ddw_rules(void **state)
{
	(void)state;
	assert_int_equal(pseries_ddw_pgsize_bit(12), STCE_RTAS_DDW_PGSIZE_4K);
	assert_int_equal(pseries_ddw_pgsize_bit(16), STCE_RTAS_DDW_PGSIZE_64K);
	assert_int_equal(pseries_ddw_pgsize_bit(21), STCE_RTAS_DDW_PGSIZE_2M);
	assert_int_equal(pseries_ddw_pgsize_bit(30), 0);
	assert_int_equal(pseries_ddw_size(RAM), RAM);
	assert_int_equal(pseries_ddw_size(RAM + 65536), 2 * RAM);
	assert_int_equal(pseries_ddw_size(1), 1);
}

#define VM_TEST(f)	cmocka_unit_test_setup_teardown(f, vm_alloc, vm_free)

int main(void)
{
	const struct CMUnitTest tests[] = {
		VM_TEST(runs_a_whole_vm),
		VM_TEST(retries_too_hard),
		VM_TEST(refuses_a_host_without_device),
		VM_TEST(refuses_bad_vcpu_counts),
		VM_TEST(passes_on_guest_errors),
		VM_TEST(audits_what_is_held),
		VM_TEST(counts_locked_pages),
		cmocka_unit_test(knows_the_ddw_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
