// SPDX-License-Identifier: MIT
/*
 * QEMU's container calls, replayed: the steps of a QEMU run's trace
 * (kernel-check.sh generates the table from it), issued on whatever
 * /dev/vfio is there - the real kernel (the oracle) or spapr-tce under the
 * preload library - so that both sets of answers can be diffed.
 *
 * Only libc and <linux/vfio.h>. Guest RAM is one anonymous 64K-aligned
 * region of the size QEMU registered; MAP vaddrs are offsets into it.
 * Runs of the same call on consecutive pages are one step; a step prints
 * its first answer and says where a later call answered differently.
 * Output: "<call> <args> x<calls> = <ret> <errno>[ (not all)] out=<value>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

enum kind {
	REGISTER, GET_INFO, CREATE, REMOVE, MAP, UNMAP, EEH,
};

static const char *const kind_names[] = {
	"REGISTER", "GET_INFO", "CREATE", "REMOVE", "MAP", "UNMAP", "EEH_PE_OP",
};

/* a, b, c: REGISTER -, size; CREATE page_shift, window_size, levels;
 * REMOVE start; MAP iova, size, RAM offset; UNMAP iova, size; EEH op. */
struct step {
	enum kind kind;
	uint64_t a, b, c;
	unsigned int calls;
};

static const struct step steps[] = {
/* @STEPS@ */
};

static int container;
static uint8_t *ram;

static int call(const struct step *s, unsigned int i, uint64_t *out)
{
	struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof(reg) };
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_spapr_tce_create cr = { .argsz = sizeof(cr) };
	struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof(rm) };
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	struct vfio_eeh_pe_op eeh = { .argsz = sizeof(eeh) };
	uint64_t step = (uint64_t)i * s->b;
	int ret = -1;

	*out = 0;
	switch (s->kind) {
	case REGISTER:
		reg.vaddr = (uintptr_t)ram;
		reg.size = s->b;
		return ioctl(container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg);
	case GET_INFO:
		ret = ioctl(container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info);
		*out = info.dma32_window_size;
		return ret;
	case CREATE:
		cr.page_shift = (uint32_t)s->a;
		cr.window_size = s->b;
		cr.levels = (uint32_t)s->c;
		ret = ioctl(container, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr);
		*out = cr.start_addr;
		return ret;
	case REMOVE:
		rm.start_addr = s->a;
		return ioctl(container, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm);
	case MAP:
		map.iova = s->a + step;
		map.size = s->b;
		map.vaddr = (uintptr_t)ram + s->c + step;
		return ioctl(container, VFIO_IOMMU_MAP_DMA, &map);
	case UNMAP:
		unmap.iova = s->a + step;
		unmap.size = s->b;
		return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	case EEH:
		eeh.op = (uint32_t)s->a;
		return ioctl(container, VFIO_EEH_PE_OP, &eeh);
	}
	errno = ENOSYS;
	return ret;
}

static const char *err_name(int err)
{
	const char *n = err ? strerrorname_np(err) : NULL;

	return n ? n : err ? "E?" : "-";
}

static void run(const struct step *s)
{
	int ret0 = 0, err0 = 0;
	unsigned int same = 0;
	uint64_t out = 0;

	for (unsigned int i = 0; i < s->calls; i++) {
		int ret, err;

		errno = 0;
		ret = call(s, i, &out);
		err = errno;
		if (!i) {
			ret0 = ret;
			err0 = err;
		}
		if (ret == ret0 && err == err0)
			same++;
		else if (same == i)
			printf("  call %u answers %d %s\n", i, ret, err_name(err));
	}
	printf("%s 0x%llx 0x%llx 0x%llx x%u = %d %s%s out=0x%llx\n", kind_names[s->kind],
	       (unsigned long long)s->a, (unsigned long long)s->b, (unsigned long long)s->c,
	       s->calls, ret0, err_name(err0), same == s->calls ? "" : " (not all)",
	       (unsigned long long)out);
}

/* The RAM QEMU registered: the first REGISTER's size. */
static size_t ram_size(void)
{
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i].kind == REGISTER)
			return steps[i].b;
	return 1 << 16;
}

int main(void)
{
	const char *path = getenv("VFIO_GROUP0");
	size_t size = ram_size();
	uint8_t *p;
	int group;

	setvbuf(stdout, NULL, _IOLBF, 0);
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open(path ? path : "/dev/vfio/0", O_RDWR);
	if (container < 0 || group < 0 || ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU)) {
		printf("SETUP FAILED: %s\n", strerror(errno));
		return 2;
	}
	p = mmap(NULL, size + (1 << 16), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("SETUP FAILED: mmap: %s\n", strerror(errno));
		return 2;
	}
	ram = (uint8_t *)(((uintptr_t)p + 0xffff) & ~(uintptr_t)0xffff);
	memset(ram, 0x5a, size);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		run(&steps[i]);
	return 0;
}
