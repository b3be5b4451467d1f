// SPDX-License-Identifier: MIT
/*
 * The /dev/iommu ABI (stce_iommufd_ioctl, <spapr_tce/vfio.h>): iommufd's
 * struct rules, each IOMMU_* command, and the legacy sPAPR v2 container
 * ioctls on the compatibility IOAS sharing pins with IOAS maps. The
 * device cdev's bind/attach/detach are the host's (tests/preload's
 * test_iommufd_host.c); here devices are bound with the C API.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <linux/vfio.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif

#include <spapr_tce/account.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/vfio.h>

#include "iommufd_test.h"

#define MEM	(4 * MB)

struct fixture {
	struct stce_pe *pe[2];
	struct stce_iommufd *ictx;
	uint64_t mem;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.pe[0] = tu_pe(0);
	f.pe[1] = tu_pe(1);
	f.mem = map_anon(MEM);
	memset((void *)(uintptr_t)f.mem, 0x33, MEM);
	assert_int_equal(stce_iommufd_create(&f.ictx), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	stce_iommufd_put(f->ictx);
	assert_int_equal(stce_account_locked_pages(), 0);
	assert_int_equal(stce_prereg_count(), 0);
	for (unsigned int i = 0; i < 2; i++) {
		assert_false(stce_pe_user_owned(f->pe[i]));
		stce_pe_destroy(f->pe[i]);
	}
	unmap(f->mem, MEM);
	return 0;
}

static long io(struct fixture *f, unsigned long req, void *arg)
{
	return stce_iommufd_ioctl(f->ictx, req, arg);
}

static uint32_t ioas_alloc(struct fixture *f)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &a), 0);
	return a.out_ioas_id;
}

static void test_struct_rules(void **state)
{
	struct fixture *f = *state;
	struct {
		struct iommu_ioas_alloc a;
		uint8_t tail[8];
	} big;
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct iommu_destroy d = { .size = sizeof(d) };

	assert_int_equal(io(f, 0x1234, &a), -ENOTTY);
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, NULL), -EFAULT);
	a.size = 8;
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &a), -EINVAL);
	a.size = sizeof(a);
	a.flags = 1;
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &a), -EOPNOTSUPP);
	/* A larger struct: its tail must be zero. */
	memset(&big, 0, sizeof(big));
	big.a.size = sizeof(big);
	big.tail[5] = 1;
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &big), -E2BIG);
	big.tail[5] = 0;
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &big), 0);
	assert_true(big.a.out_ioas_id > 0);
	d.id = big.a.out_ioas_id;
	assert_int_equal(io(f, IOMMU_DESTROY, &d), 0);
	assert_int_equal(io(f, IOMMU_DESTROY, &d), -ENOENT);
	d.size = 4;
	assert_int_equal(io(f, IOMMU_DESTROY, &d), -EINVAL);
}

static void test_device_flow(void **state)
{
	struct fixture *f = *state;
	struct iommu_hwpt_spapr_tce g = test_geometry();
	struct iommu_hwpt_alloc h = { .size = sizeof(h) };
	struct iommu_iova_range r[2];
	struct iommu_ioas_iova_ranges rq = { .size = sizeof(rq) };
	struct iommu_ioas_map m = { .size = sizeof(m) };
	struct iommu_ioas_copy cp = { .size = sizeof(cp) };
	struct iommu_ioas_unmap um = { .size = sizeof(um) };
	uint32_t ioas = ioas_alloc(f), ioas2 = ioas_alloc(f), dev, pt;
	uint8_t byte;

	assert_int_equal(stce_iommufd_bind(f->ictx, f->pe[0], &dev), 0);
	assert_true(dev > 0);

	/* The domain, with our geometry. */
	h.dev_id = dev;
	h.pt_id = ioas;
	h.data_type = IOMMU_HWPT_DATA_SPAPR_TCE;
	h.data_len = sizeof(g);
	h.data_uptr = (uintptr_t)&g;
	h.__reserved = 1;
	assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &h), -EOPNOTSUPP);
	h.__reserved = 0;
	h.data_len = 4;
	assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &h), -EINVAL);
	h.data_len = sizeof(g);
	h.data_uptr = 8;
	assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &h), -EFAULT);
	h.data_uptr = (uintptr_t)&g;
	assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &h), 0);

	/* Both windows. */
	rq.ioas_id = ioas;
	rq.num_iovas = 1;
	rq.allowed_iovas = (uintptr_t)r;
	assert_int_equal(io(f, IOMMU_IOAS_IOVA_RANGES, &rq), -EMSGSIZE);
	assert_int_equal(rq.num_iovas, 2);
	rq.__reserved = 1;
	assert_int_equal(io(f, IOMMU_IOAS_IOVA_RANGES, &rq), -EOPNOTSUPP);
	rq.__reserved = 0;
	assert_int_equal(io(f, IOMMU_IOAS_IOVA_RANGES, &rq), 0);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, W0_SIZE - 1);
	assert_int_equal(r[1].start, WIN1);
	assert_int_equal(r[1].last, WIN1 + W1_SIZE - 1);
	assert_int_equal(rq.out_iova_alignment, 64 * KB);

	/* Attach. */
	pt = h.out_hwpt_id;
	assert_int_equal(stce_iommufd_attach(f->ictx, dev, &pt), 0);
	assert_true(stce_pe_user_owned(f->pe[0]));

	/* Map, automatic IOVA. */
	m.ioas_id = ioas;
	m.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	m.user_va = f->mem;
	m.length = HP;
	m.__reserved = 1;
	assert_int_equal(io(f, IOMMU_IOAS_MAP, &m), -EOPNOTSUPP);
	m.__reserved = 0;
	assert_int_equal(io(f, IOMMU_IOAS_MAP, &m), 0);
	assert_int_equal(m.iova, 0);
	m.flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
	m.iova = WIN1;
	assert_int_equal(io(f, IOMMU_IOAS_MAP, &m), 0);
	assert_int_equal(stce_pe_dma_read(f->pe[0], WIN1, &byte, 1), 0);
	assert_int_equal(byte, 0x33);
	assert_int_equal(io(f, IOMMU_IOAS_MAP, &m), -EEXIST);

	/* Copy into an IOAS without a domain: -EINVAL; then with one. */
	cp.dst_ioas_id = ioas2;
	cp.src_ioas_id = ioas;
	cp.flags = IOMMU_IOAS_MAP_READABLE;
	cp.length = HP;
	cp.src_iova = WIN1;
	assert_int_equal(io(f, IOMMU_IOAS_COPY, &cp), -EINVAL);
	h.pt_id = ioas2;
	h.data_type = IOMMU_HWPT_DATA_NONE;
	h.data_len = 0;
	assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &h), 0);
	assert_int_equal(io(f, IOMMU_IOAS_COPY, &cp), 0);
	assert_int_equal(cp.dst_iova, 0);
	cp.src_iova = WIN1 + HP;
	assert_int_equal(io(f, IOMMU_IOAS_COPY, &cp), -ENOENT);

	/* Unmap returns the bytes. */
	um.ioas_id = ioas;
	um.iova = 0;
	um.length = UINT64_MAX;
	assert_int_equal(io(f, IOMMU_IOAS_UNMAP, &um), 0);
	assert_int_equal(um.length, 2 * HP);
	um.length = 0;
	assert_int_equal(io(f, IOMMU_IOAS_UNMAP, &um), -EINVAL);

	/* Detach. */
	assert_int_equal(stce_iommufd_detach(f->ictx, dev), 0);
	assert_false(stce_pe_user_owned(f->pe[0]));
	assert_int_equal(stce_iommufd_unbind(f->ictx, dev), 0);
}

/* The legacy v2 container ioctls on the compatibility IOAS. */
static void test_compat(void **state)
{
	struct fixture *f = *state;
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_spapr_tce_create cr = { .argsz = sizeof(cr) };
	struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof(rm) };
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m) };
	struct vfio_iommu_type1_dma_unmap um = { .argsz = sizeof(um) };
	struct vfio_eeh_pe_op eeh = { .argsz = sizeof(eeh) };
	struct iommu_hwpt_spapr_tce g = test_geometry();
	uint32_t ioas = ioas_alloc(f), dev, hwpt;
	uint64_t iova = WIN1, locked;
	uint8_t byte;

	assert_int_equal(io(f, VFIO_GET_API_VERSION, NULL), VFIO_API_VERSION);
	assert_int_equal(io(f, VFIO_CHECK_EXTENSION,
			    (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), 1);
	assert_int_equal(io(f, VFIO_CHECK_EXTENSION,
			    (void *)(uintptr_t)VFIO_SPAPR_TCE_IOMMU), 0);
	/* No group yet. */
	assert_int_equal(io(f, VFIO_SET_IOMMU,
			    (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), -EINVAL);
	assert_int_equal(stce_iommufd_compat_group_attach(f->ictx, f->pe[1]), 0);
	assert_int_equal(stce_iommufd_compat_group_attach(f->ictx, f->pe[1]),
			 -EBUSY);
	assert_int_equal(io(f, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info), -EINVAL);
	assert_int_equal(io(f, VFIO_SET_IOMMU,
			    (void *)(uintptr_t)VFIO_SPAPR_TCE_IOMMU), -ENODEV);
	assert_int_equal(io(f, VFIO_SET_IOMMU, (void *)(uintptr_t)VFIO_EEH),
			 -EINVAL);
	assert_int_equal(io(f, VFIO_SET_IOMMU,
			    (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), 0);
	assert_int_equal(io(f, VFIO_SET_IOMMU,
			    (void *)(uintptr_t)VFIO_SPAPR_TCE_v2_IOMMU), -EINVAL);
	assert_true(stce_pe_user_owned(f->pe[1]));
	assert_int_equal(io(f, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info), 0);
	assert_int_equal(info.dma32_window_size, STCE_PE_DEFAULT_DMA32_SIZE);
	assert_int_equal(info.ddw.max_dynamic_windows_supported, 2);
	assert_int_equal(io(f, 0x4321, NULL), -ENOTTY);

	/* An IOAS (another domain) maps the memory first: it is pinned. */
	assert_int_equal(stce_iommufd_bind(f->ictx, f->pe[0], &dev), 0);
	assert_int_equal(stce_iommufd_hwpt_alloc(f->ictx, dev, ioas, 0,
		IOMMU_HWPT_DATA_SPAPR_TCE, &g, sizeof(g), &hwpt), 0);
	assert_int_equal(stce_iommufd_map(f->ictx, ioas, FIXED_RW, f->mem,
					  MEM, &iova), 0);
	locked = stce_account_locked_pages();

	/* Legacy: map before registering, then register the same memory:
	 * pinned once. */
	m.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	m.vaddr = f->mem;
	m.size = HP;
	m.iova = 0;
	assert_int_equal(io(f, VFIO_IOMMU_MAP_DMA, &m), -EPERM);
	reg.vaddr = f->mem;
	reg.size = MEM;
	reg.flags = 1;
	assert_int_equal(io(f, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg), -EINVAL);
	reg.flags = 0;
	assert_int_equal(io(f, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg), 0);
	assert_int_equal(stce_account_locked_pages(), locked);
	assert_int_equal(stce_prereg_count(), 1);

	/* The kernel's answers: the default window, created on first use. */
	assert_int_equal(io(f, VFIO_IOMMU_MAP_DMA, &m), 0);
	cr.page_shift = 16;
	cr.window_size = W1_SIZE;
	cr.levels = 2;
	cr.flags = 1;
	assert_int_equal(io(f, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr), -EINVAL);
	cr.flags = 0;
	assert_int_equal(io(f, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr), 0);
	assert_int_equal(cr.start_addr, WIN1);
	m.iova = WIN1;
	assert_int_equal(io(f, VFIO_IOMMU_MAP_DMA, &m), 0);
	assert_int_equal(stce_pe_dma_read(f->pe[1], WIN1, &byte, 1), 0);
	assert_int_equal(byte, 0x33);
	m.flags = 8;
	assert_int_equal(io(f, VFIO_IOMMU_MAP_DMA, &m), -EINVAL);

	/* EEH goes to the group, not to the domain's shadow. */
	eeh.op = VFIO_EEH_PE_GET_STATE;
	assert_int_equal(io(f, VFIO_EEH_PE_OP, &eeh), 0);
	eeh.flags = 1;
	assert_int_equal(io(f, VFIO_EEH_PE_OP, &eeh), -EINVAL);

	um.iova = WIN1;
	um.size = HP;
	assert_int_equal(io(f, VFIO_IOMMU_UNMAP_DMA, &um), 0);
	um.flags = 1;
	assert_int_equal(io(f, VFIO_IOMMU_UNMAP_DMA, &um), -EINVAL);
	um.flags = 0;
	um.iova = 0;
	assert_int_equal(io(f, VFIO_IOMMU_UNMAP_DMA, &um), 0);
	rm.start_addr = WIN1;
	assert_int_equal(io(f, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm), 0);
	assert_int_equal(io(f, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &reg), 0);
	/* The IOAS mapping still holds the memory. */
	assert_int_equal(stce_prereg_count(), 1);
	assert_int_equal(stce_iommufd_compat_group_detach(f->ictx, f->pe[1]), 0);
	assert_int_equal(stce_iommufd_compat_group_detach(f->ictx, f->pe[1]),
			 -ENOENT);
	assert_false(stce_pe_user_owned(f->pe[1]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_struct_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compat, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
