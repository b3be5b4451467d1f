/* SPDX-License-Identifier: MIT */
/*
 * VFIO_IOMMU_SPAPR_TCE_GET_INFO on v1 and v2 with every interesting argsz.
 * The buffer is pre-filled with 0xa5 so the output shows exactly which bytes
 * the kernel wrote (an untouched 32-bit field reads 0xa5a5a5a5).
 */
#include "../../lib/conf.h"

struct info_buf {
	struct vfio_iommu_spapr_tce_info info;
	uint64_t tail;	/* must never be written */
};

static void pgsizes_bits(uint64_t v, char *out, size_t n)
{
	int b, len = 0;

	out[0] = 0;
	for (b = 0; b < 64 && len < (int)n - 4; b++)
		if (v & (1ULL << b))
			len += snprintf(out + len, n - len, "%s%d", len ? "," : "", b);
}

static void get_info(int c, const char *type, uint32_t argsz)
{
	struct info_buf b;
	char bits[96];

	memset(&b, 0xa5, sizeof(b));
	b.info.argsz = argsz;
	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &b));
	show(lbl("%s TCE_GET_INFO argsz=%u", type, argsz),
	     "argsz=0x%x flags=0x%x start=0x%x size=0x%x pgsizes=0x%llx maxwin=0x%x levels=0x%x tail=0x%llx",
	     b.info.argsz, b.info.flags, b.info.dma32_window_start,
	     b.info.dma32_window_size, (unsigned long long)b.info.ddw.pgsizes,
	     b.info.ddw.max_dynamic_windows_supported, b.info.ddw.levels,
	     (unsigned long long)b.tail);
	if (argsz == sizeof(b.info) && g_ret == 0) {
		pgsizes_bits(b.info.ddw.pgsizes, bits, sizeof(bits));
		note("%s pgsizes bits: %s", type, bits[0] ? bits : "none");
	}
}

static void run(int type, const char *name)
{
	static const uint32_t sizes[] = { 0, 4, 8, 12, 15, 16, 20, 24, 28, 31, 32, 40, 4096, 0xffffffff };
	int c, g;
	size_t i;

	setup(type, &c, &g);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		get_info(c, name, sizes[i]);
	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, NULL));
	show(lbl("%s TCE_GET_INFO(NULL)", name), NULL);
	teardown(c, g);
}

int main(void)
{
	conf_init();
	note("sizeof(struct vfio_iommu_spapr_tce_info) = %zu",
	     sizeof(struct vfio_iommu_spapr_tce_info));
	run(VFIO_SPAPR_TCE_v2_IOMMU, "v2");
	run(VFIO_SPAPR_TCE_IOMMU, "v1");
	return 0;
}
