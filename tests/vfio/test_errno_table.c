// SPDX-License-Identifier: MIT
/*
 * Each errno has one home: a table of (container state, request with one
 * bad field) pairs, each run through the container descriptor's ioctl and
 * through the C API (kernel mode, and strict mode where it documents a
 * difference), expecting the same answer. The state errnos come from
 * stce_container_check() on both sides and in the kernel's order: before
 * the request is read (a NULL argument still gets EPERM, ENOTTY), before
 * a bad direction or window (the C API answered EINVAL for a bad
 * direction on a disabled v1 container, the ioctl EPERM). The order of
 * the state checks against the copy (the NULL-argument rows) and against
 * a bad direction or window was asked of Linux 6.12 (the oracle, 64K
 * pages) when the table was written; the rest is the conformance suite's.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <linux/vfio.h>

#include <spapr_tce/account.h>
#include <spapr_tce/container.h>
#include <spapr_tce/pe.h>
#include <spapr_tce/prereg.h>
#include <spapr_tce/topology.h>
#include <spapr_tce/vfio.h>

#include "../lib/prereg_test.h"

#define GB	(1024 * MB)
#define BUF	(4 * MB)
#define REGD	MB		/* V2_REG registers [buf, buf + REGD) */

enum state {
	V1_OFF,		/* v1, a group, not enabled */
	V1_ON,		/* v1 after ENABLE */
	V2_BARE,	/* v2, a group, nothing registered */
	V2_REG,		/* v2 after one REGISTER */
	V1_NOGROUP,	/* no group: the descriptor has no IOMMU (EINVAL) */
	V2_NOGROUP,
};

enum req { MAP, UNMAP, ENABLE, DISABLE, REG, UNREG, CREATE, REMOVE, EEH, INFO };

struct row {
	const char *what;
	enum state state;
	enum req req;
	unsigned int dir;	/* MAP */
	uint64_t iova;		/* MAP, UNMAP; REMOVE's address */
	uint64_t size;		/* MAP, UNMAP, REG, UNREG; CREATE's window */
	uint64_t off;		/* MAP, REG, UNREG: vaddr - buf */
	unsigned int shift, levels;	/* CREATE */
	unsigned int op;	/* EEH */
	bool null_arg;		/* the ioctl only, with a NULL argument */
	/* 0, a result > 0, or -errno: the ioctl and kernel mode ... */
	int want;
	int strict;		/* ... strict mode when non-zero ... */
	int ioctl;		/* ... the ioctl when non-zero */
};

#define RW	(STCE_MAP_READ | STCE_MAP_WRITE)
#define BAD_DIR	(STCE_MAP_READ | 4u)
#define K64	(64 * KB)

static const struct row rows[] = {
	/* State before everything else, the example first. */
	{ "v1 off: map, unknown direction bit", V1_OFF, MAP, .dir = BAD_DIR,
	  .size = K64, .want = -EPERM },
	{ "v1 off: map, empty direction", V1_OFF, MAP, .dir = 0, .size = K64,
	  .want = -EPERM },
	{ "v1 off: map, iova in no window", V1_OFF, MAP, .dir = RW,
	  .iova = 4 * GB, .size = K64, .want = -EPERM },
	{ "v1 off: map", V1_OFF, MAP, .dir = RW, .size = K64, .want = -EPERM },
	{ "v1 off: map, NULL argument", V1_OFF, MAP, .null_arg = true,
	  .want = -EPERM },
	{ "v1 off: unmap, unaligned size", V1_OFF, UNMAP, .size = 1,
	  .want = -EPERM },
	{ "v1 off: register", V1_OFF, REG, .size = K64, .want = -ENOTTY },
	{ "v1 off: register, NULL argument", V1_OFF, REG, .null_arg = true,
	  .want = -ENOTTY },
	{ "v1 off: unregister", V1_OFF, UNREG, .size = K64, .want = -ENOTTY },
	{ "v1 off: create window", V1_OFF, CREATE, .shift = 16, .size = GB,
	  .levels = 1, .want = -ENOTTY },
	{ "v1 off: create window, NULL argument", V1_OFF, CREATE,
	  .null_arg = true, .want = -ENOTTY },
	{ "v1 off: remove window", V1_OFF, REMOVE, .want = -ENOTTY },
	{ "v1 off: disable", V1_OFF, DISABLE, .want = 0 },
	{ "v1 off: EEH, unknown op", V1_OFF, EEH, .op = 99, .want = -EINVAL },
	{ "v1 off: EEH get state", V1_OFF, EEH, .op = STCE_EEH_PE_GET_STATE,
	  .want = 0 },
	{ "v1 off: EEH, NULL argument", V1_OFF, EEH, .null_arg = true,
	  .want = -EFAULT },
	{ "v1 off: get info", V1_OFF, INFO, .want = 0 },

	/* Enabled: the request's own fields, in the kernel's order. */
	{ "v1 on: map, unknown direction bit", V1_ON, MAP, .dir = BAD_DIR,
	  .iova = 4 * GB, .size = 1, .want = -EINVAL },
	{ "v1 on: map, iova in no window", V1_ON, MAP, .dir = 0,
	  .iova = 4 * GB, .size = 1, .want = -ENXIO },
	{ "v1 on: map, unaligned size", V1_ON, MAP, .dir = 0, .size = 1,
	  .want = -EINVAL },
	{ "v1 on: map, unaligned vaddr", V1_ON, MAP, .dir = RW, .size = K64,
	  .off = 16, .want = -EINVAL },
	{ "v1 on: map, empty direction", V1_ON, MAP, .dir = 0, .size = K64,
	  .iova = 0x800, .want = -EINVAL },
	{ "v1 on: map, unaligned iova", V1_ON, MAP, .dir = RW, .size = K64,
	  .iova = 0x800, .want = 1, .strict = -EINVAL },
	{ "v1 on: map", V1_ON, MAP, .dir = RW, .size = K64, .want = 0 },
	{ "v1 on: map, NULL argument", V1_ON, MAP, .null_arg = true,
	  .want = -EFAULT },
	{ "v1 on: unmap, iova in no window", V1_ON, UNMAP, .iova = 4 * GB,
	  .size = 1, .want = -ENXIO },
	{ "v1 on: unmap, size 0", V1_ON, UNMAP, .size = 0, .want = 0,
	  .strict = -EINVAL },
	{ "v1 on: enable again", V1_ON, ENABLE, .want = -EBUSY },

	{ "v2 bare: enable", V2_BARE, ENABLE, .want = -ENOTTY },
	{ "v2 bare: disable", V2_BARE, DISABLE, .want = -ENOTTY },
	{ "v2 bare: map, unknown direction bit", V2_BARE, MAP, .dir = BAD_DIR,
	  .size = K64, .want = -EPERM },
	{ "v2 bare: unmap", V2_BARE, UNMAP, .size = K64, .want = -EPERM },
	{ "v2 bare: unmap, NULL argument", V2_BARE, UNMAP, .null_arg = true,
	  .want = -EPERM },
	{ "v2 bare: create window, 8K pages", V2_BARE, CREATE, .shift = 13,
	  .size = GB, .levels = 1, .want = -EINVAL },
	{ "v2 bare: create window", V2_BARE, CREATE, .shift = 16, .size = GB,
	  .levels = 1, .want = 0 },
	{ "v2 bare: create window, NULL argument", V2_BARE, CREATE,
	  .null_arg = true, .want = -EFAULT },
	{ "v2 bare: remove window, no window there", V2_BARE, REMOVE,
	  .iova = 1ULL << 40, .want = -EINVAL },
	{ "v2 bare: remove the pending default window", V2_BARE, REMOVE,
	  .iova = 0, .want = 0 },
	{ "v2 bare: register, unaligned vaddr", V2_BARE, REG, .off = 256,
	  .size = K64, .want = -EINVAL },
	{ "v2 bare: unregister, not registered", V2_BARE, UNREG, .size = K64,
	  .want = -ENOENT },
	{ "v2 bare: EEH, unknown op", V2_BARE, EEH, .op = 99, .want = -EINVAL },

	{ "v2 reg: map, unknown direction bit", V2_REG, MAP, .dir = BAD_DIR,
	  .iova = 4 * GB, .size = K64, .want = -EINVAL },
	{ "v2 reg: map, memory not registered", V2_REG, MAP, .dir = RW,
	  .off = 2 * MB, .size = K64, .want = -EINVAL },
	{ "v2 reg: map", V2_REG, MAP, .dir = RW, .size = K64, .want = 0 },
	{ "v2 reg: register again", V2_REG, REG, .size = REGD, .want = -EBUSY },
	{ "v2 reg: unregister, unaligned size", V2_REG, UNREG, .size = 256,
	  .want = -EINVAL },

	/* No group: the C API's state errnos; the descriptor has no IOMMU. */
	{ "v1 no group: map", V1_NOGROUP, MAP, .dir = BAD_DIR, .size = K64,
	  .want = -EPERM, .ioctl = -EINVAL },
	{ "v1 no group: enable", V1_NOGROUP, ENABLE, .want = -ENODEV,
	  .ioctl = -EINVAL },
	{ "v1 no group: get info", V1_NOGROUP, INFO, .want = -ENXIO,
	  .ioctl = -EINVAL },
	{ "v2 no group: create window", V2_NOGROUP, CREATE, .shift = 13,
	  .size = GB, .levels = 1, .want = -ENXIO, .ioctl = -EINVAL },
	{ "v2 no group: remove window", V2_NOGROUP, REMOVE, .iova = 1ULL << 40,
	  .want = -ENXIO, .ioctl = -EINVAL },
	{ "v2 no group: EEH, unknown op", V2_NOGROUP, EEH, .op = 99,
	  .want = -ENODEV, .ioctl = -EINVAL },
};

static bool has_group(enum state s)
{
	return s != V1_NOGROUP && s != V2_NOGROUP;
}

static unsigned int type_of(enum state s)
{
	return s == V1_OFF || s == V1_ON || s == V1_NOGROUP ?
	       STCE_IOMMU_V1 : STCE_IOMMU_V2;
}

/* ---- through the ioctl ---------------------------------------------- */

static int answer(int ret)
{
	return ret < 0 ? -errno : ret;
}

static int ioctl_req(struct stce_host *h, int cfd, const struct row *r,
		     uint64_t buf)
{
	union {
		struct vfio_iommu_type1_dma_map map;
		struct vfio_iommu_type1_dma_unmap unmap;
		struct vfio_iommu_spapr_register_memory reg;
		struct vfio_iommu_spapr_tce_create create;
		struct vfio_iommu_spapr_tce_remove remove;
		struct vfio_eeh_pe_op eeh;
		struct vfio_iommu_spapr_tce_info info;
	} u;
	static const unsigned long request[] = {
		[MAP] = VFIO_IOMMU_MAP_DMA, [UNMAP] = VFIO_IOMMU_UNMAP_DMA,
		[ENABLE] = VFIO_IOMMU_ENABLE, [DISABLE] = VFIO_IOMMU_DISABLE,
		[REG] = VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
		[UNREG] = VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY,
		[CREATE] = VFIO_IOMMU_SPAPR_TCE_CREATE,
		[REMOVE] = VFIO_IOMMU_SPAPR_TCE_REMOVE,
		[EEH] = VFIO_EEH_PE_OP, [INFO] = VFIO_IOMMU_SPAPR_TCE_GET_INFO,
	};
	void *arg = &u;

	memset(&u, 0, sizeof(u));
	switch (r->req) {
	case MAP:
		u.map = (struct vfio_iommu_type1_dma_map){ sizeof(u.map),
			r->dir, buf + r->off, r->iova, r->size };
		break;
	case UNMAP:
		u.unmap = (struct vfio_iommu_type1_dma_unmap){ sizeof(u.unmap),
			0, r->iova, r->size };
		break;
	case REG:
	case UNREG:
		u.reg = (struct vfio_iommu_spapr_register_memory){
			sizeof(u.reg), 0, buf + r->off, r->size };
		break;
	case CREATE:
		u.create.argsz = sizeof(u.create);
		u.create.page_shift = r->shift;
		u.create.window_size = r->size;
		u.create.levels = r->levels;
		break;
	case REMOVE:
		u.remove.argsz = sizeof(u.remove);
		u.remove.start_addr = r->iova;
		break;
	case EEH:
		u.eeh.argsz = sizeof(u.eeh);
		u.eeh.op = r->op;
		break;
	case INFO:
		u.info.argsz = sizeof(u.info);
		break;
	case ENABLE:
	case DISABLE:
		arg = NULL;
		break;
	}
	if (r->null_arg)
		arg = NULL;
	return answer(stce_host_ioctl(h, cfd, request[r->req], arg));
}

static void ioctl_ok(struct stce_host *h, int fd, unsigned long req, void *arg)
{
	assert_int_equal(stce_host_ioctl(h, fd, req, arg), 0);
}

static int through_ioctl(struct stce_host *h, const struct row *r,
			 uint64_t buf)
{
	struct vfio_iommu_spapr_register_memory reg = {
		.argsz = sizeof(reg), .vaddr = buf, .size = REGD,
	};
	int cfd = stce_host_open(h, "/dev/vfio/vfio", O_RDWR);
	int gfd = -1, ret;

	assert_true(cfd >= 0);
	if (has_group(r->state)) {
		gfd = stce_host_open(h, "/dev/vfio/0", O_RDWR);
		assert_true(gfd >= 0);
		ioctl_ok(h, gfd, VFIO_GROUP_SET_CONTAINER, &cfd);
		ioctl_ok(h, cfd, VFIO_SET_IOMMU,
			 (void *)(uintptr_t)type_of(r->state));
	}
	if (r->state == V1_ON)
		ioctl_ok(h, cfd, VFIO_IOMMU_ENABLE, NULL);
	if (r->state == V2_REG)
		ioctl_ok(h, cfd, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg);
	ret = ioctl_req(h, cfd, r, buf);
	if (gfd >= 0)
		assert_int_equal(stce_host_close(h, gfd), 0);
	assert_int_equal(stce_host_close(h, cfd), 0);
	return ret;
}

/* ---- through the C API ---------------------------------------------- */

static int c_req(struct stce_container *c, const struct row *r, uint64_t buf)
{
	struct stce_container_info info;
	uint64_t start;

	switch (r->req) {
	case MAP:
		return stce_container_map(c, buf + r->off, r->iova, r->size,
					  r->dir);
	case UNMAP:
		return stce_container_unmap(c, r->iova, r->size);
	case ENABLE:
		return stce_container_enable(c);
	case DISABLE:
		return stce_container_disable(c);
	case REG:
		return stce_container_register(c, buf + r->off, r->size);
	case UNREG:
		return stce_container_unregister(c, buf + r->off, r->size);
	case CREATE:
		return stce_container_create_window(c, r->shift, r->size,
						    r->levels, &start);
	case REMOVE:
		return stce_container_remove_window(c, r->iova);
	case EEH:
		return stce_container_eeh_op(c, r->op);
	case INFO:
		return stce_container_get_info(c, &info);
	}
	fail();
	return 0;
}

static int through_c_api(struct stce_pe *pe, const struct row *r,
			 unsigned int flags, uint64_t buf)
{
	struct stce_container *c;
	int ret;

	assert_int_equal(stce_container_create(type_of(r->state), flags, &c), 0);
	if (has_group(r->state))
		assert_int_equal(stce_container_attach(c, pe), 0);
	if (r->state == V1_ON)
		assert_int_equal(stce_container_enable(c), 0);
	if (r->state == V2_REG)
		assert_int_equal(stce_container_register(c, buf, REGD), 0);
	ret = c_req(c, r, buf);
	stce_container_destroy(c);
	return ret;
}

/* ---- the table -------------------------------------------------------- */

static bool same(const char *what, const char *side, int got, int want)
{
	if (got == want)
		return true;
	print_error("%s: %s answers %d (%s), expected %d (%s)\n", what, side,
		    got, got < 0 ? strerror(-got) : "-", want,
		    want < 0 ? strerror(-want) : "-");
	return false;
}

static void every_pair_one_answer(void **state)
{
	uint64_t buf = map_aligned(BUF, HP, PROT_READ | PROT_WRITE);
	unsigned int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct stce_host *h;
		struct stce_pe *pe;

		assert_int_equal(stce_host_create(NULL, &h), 0);
		/* The C API's own PE: the host's second, as the first is. */
		pe = stce_platform_pe(stce_host_platform(h), 1);
		assert_non_null(pe);
		bad += !same(r->what, "the ioctl", through_ioctl(h, r, buf),
			     r->ioctl ? r->ioctl : r->want);
		if (!r->null_arg) {
			bad += !same(r->what, "the C API (kernel mode)",
				     through_c_api(pe, r,
					STCE_CONTAINER_KERNEL_QUIRKS, buf),
				     r->want);
			bad += !same(r->what, "the C API (strict)",
				     through_c_api(pe, r, 0, buf),
				     r->strict ? r->strict : r->want);
		}
		stce_host_destroy(h);
		assert_int_equal(stce_account_locked_pages(), 0);
		assert_int_equal(stce_prereg_count(), 0);
	}
	unmap(buf, BUF);
	assert_int_equal(bad, 0);
}

/* The check itself: each op's state errno, and an op it does not know. */
static void check_answers_each_op(void **state)
{
	struct stce_container *v1, *v2;

	(void)state;
	assert_int_equal(stce_container_create(STCE_IOMMU_V1, 0, &v1), 0);
	assert_int_equal(stce_container_create(STCE_IOMMU_V2, 0, &v2), 0);
	assert_int_equal(stce_container_check(v1, STCE_CONTAINER_OP_MAP), -EPERM);
	assert_int_equal(stce_container_check(v2, STCE_CONTAINER_OP_UNMAP), -EPERM);
	assert_int_equal(stce_container_check(v1, STCE_CONTAINER_OP_ENABLE), 0);
	assert_int_equal(stce_container_check(v2, STCE_CONTAINER_OP_DISABLE),
			 -ENOTTY);
	assert_int_equal(stce_container_check(v1, STCE_CONTAINER_OP_REGISTER),
			 -ENOTTY);
	assert_int_equal(stce_container_check(v2, STCE_CONTAINER_OP_UNREGISTER),
			 0);
	assert_int_equal(stce_container_check(v1,
			 STCE_CONTAINER_OP_CREATE_WINDOW), -ENOTTY);
	assert_int_equal(stce_container_check(v2,
			 STCE_CONTAINER_OP_REMOVE_WINDOW), -ENXIO);
	assert_int_equal(stce_container_check(v1, STCE_CONTAINER_OP_GET_INFO),
			 -ENXIO);
	assert_int_equal(stce_container_check(v2, STCE_CONTAINER_OP_EEH),
			 -ENODEV);
	assert_int_equal(stce_container_check(v1, STCE_CONTAINER_OP_EEH + 1),
			 -EINVAL);
	stce_container_destroy(v1);
	stce_container_destroy(v2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_pair_one_answer),
		cmocka_unit_test(check_answers_each_op),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
