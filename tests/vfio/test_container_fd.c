// SPDX-License-Identifier: MIT
/*
 * The container descriptor's ioctls answer as the kernel's: a call that
 * succeeds leaves errno as it was, whatever ran underneath. (The rest of
 * its rules are the conformance suite's, tests/conformance/.)
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/vfio.h>

#include <spapr_tce/vfio.h>

#include "../lib/prereg_test.h"

/*
 * v1 pins per MAP; the pages the process unmaps meanwhile stay pinned
 * until UNMAP releases them, and releasing them there meets memory that is
 * gone (munlock fails with ENOMEM). The UNMAP itself succeeds: errno must
 * not change.
 */
static void success_leaves_errno_alone(void **state)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = 0, .size = MB,
	};
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = 0, .size = MB,
	};
	struct stce_host *host;
	void *mem;
	int c, g;

	(void)state;
	assert_int_equal(stce_host_create(NULL, &host), 0);
	c = stce_host_open(host, "/dev/vfio/vfio", O_RDWR);
	g = stce_host_open(host, "/dev/vfio/0", O_RDWR);
	assert_true(c >= 0 && g >= 0);
	assert_int_equal(stce_host_ioctl(host, g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	assert_int_equal(stce_host_ioctl(host, c, VFIO_SET_IOMMU,
					 (void *)VFIO_SPAPR_TCE_IOMMU), 0);
	assert_int_equal(stce_host_ioctl(host, c, VFIO_IOMMU_ENABLE, NULL), 0);
	/*
	 * Whole host pages (64K here): a buffer mmap put at a 4K boundary
	 * shares its first and last host page with whatever lies beside it,
	 * and pinning fails (EFAULT) when that is a hole.
	 */
	mem = (void *)(uintptr_t)map_anon(MB);
	assert_non_null(mem);
	memset(mem, 0x5a, MB);
	map.vaddr = (uintptr_t)mem;
	errno = EXDEV;
	assert_int_equal(stce_host_ioctl(host, c, VFIO_IOMMU_MAP_DMA, &map), 0);
	assert_int_equal(errno, EXDEV);
	assert_int_equal(munmap(mem, MB), 0);
	errno = EXDEV;
	assert_int_equal(stce_host_ioctl(host, c, VFIO_IOMMU_UNMAP_DMA, &unmap), 0);
	assert_int_equal(errno, EXDEV);
	/* A failure still sets it. */
	unmap.flags = 1;
	assert_int_equal(stce_host_ioctl(host, c, VFIO_IOMMU_UNMAP_DMA, &unmap), -1);
	assert_int_equal(errno, EINVAL);
	stce_host_destroy(host);
}

/*
 * stce_host_ioctl_ours(), the preload library's ioctl: false, nothing
 * done, for what is not the host's (a descriptor of the kernel's, one out
 * of range, one the host closed); true with stce_host_ioctl()'s answer
 * for the host's, failures with their errno.
 */
static void ioctl_ours_answers_for_the_host_only(void **state)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .size = 1ULL << 16,
	};
	struct stce_host *host;
	int c, g, other, ret;

	(void)state;
	assert_int_equal(stce_host_create(NULL, &host), 0);
	c = stce_host_open(host, "/dev/vfio/vfio", O_RDWR);
	g = stce_host_open(host, "/dev/vfio/0", O_RDWR);
	other = open("/dev/null", O_RDONLY);
	assert_true(c >= 0 && g >= 0 && other >= 0);

	ret = 12345;
	assert_false(stce_host_ioctl_ours(host, other, VFIO_GET_API_VERSION,
					  NULL, &ret));
	assert_false(stce_host_ioctl_ours(host, -1, VFIO_GET_API_VERSION,
					  NULL, &ret));
	assert_false(stce_host_ioctl_ours(host, 1 << 30, VFIO_GET_API_VERSION,
					  NULL, &ret));
	assert_int_equal(ret, 12345);

	assert_true(stce_host_ioctl_ours(host, c, VFIO_GET_API_VERSION, NULL,
					 &ret));
	assert_int_equal(ret, VFIO_API_VERSION);
	/* A container without an IOMMU: MAP and UNMAP are EINVAL. */
	errno = 0;
	assert_true(stce_host_ioctl_ours(host, c, VFIO_IOMMU_UNMAP_DMA,
					 &unmap, &ret));
	assert_int_equal(ret, -1);
	assert_int_equal(errno, EINVAL);
	assert_true(stce_host_ioctl_ours(host, g, VFIO_GROUP_SET_CONTAINER, &c,
					 &ret));
	assert_int_equal(ret, 0);
	assert_true(stce_host_ioctl_ours(host, c, VFIO_SET_IOMMU,
					 (void *)VFIO_SPAPR_TCE_v2_IOMMU, &ret));
	assert_int_equal(ret, 0);
	/* v2 with nothing registered: EPERM before the struct is read. */
	errno = 0;
	assert_true(stce_host_ioctl_ours(host, c, VFIO_IOMMU_UNMAP_DMA, NULL,
					 &ret));
	assert_int_equal(ret, -1);
	assert_int_equal(errno, EPERM);

	assert_int_equal(stce_host_close(host, g), 0);
	assert_false(stce_host_ioctl_ours(host, g, VFIO_GROUP_GET_STATUS, NULL,
					  &ret));
	close(other);
	stce_host_destroy(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(success_leaves_errno_alone),
		cmocka_unit_test(ioctl_ours_answers_for_the_host_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
