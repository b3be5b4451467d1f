/* SPDX-License-Identifier: MIT */
/*
 * VFIO_EEH_PE_OP on the container: argsz, flags, bad ops, the state ops, with
 * and without the device fd open. Resets and real error injection are left
 * out (they depend on the platform's firmware, not on the VFIO driver).
 */
#include "../../lib/conf.h"

static long pe_op(int c, uint32_t argsz, uint32_t flags, uint32_t op)
{
	struct vfio_eeh_pe_op o;

	memset(&o, 0, sizeof(o));
	o.argsz = argsz;
	o.flags = flags;
	o.op = op;
	return TRY(ioctl(c, VFIO_EEH_PE_OP, &o));
}

#define OP(c, what, argsz, flags, op) (pe_op(c, argsz, flags, op), show(what, NULL))
#define EOPSZ ((uint32_t)sizeof(struct vfio_eeh_pe_op))

static void inject(int c, const char *what, uint32_t argsz, uint32_t type, uint32_t func)
{
	struct vfio_eeh_pe_op o;

	memset(&o, 0, sizeof(o));
	o.argsz = argsz;
	o.op = VFIO_EEH_PE_INJECT_ERR;
	o.err.type = type;
	o.err.func = func;
	TRY(ioctl(c, VFIO_EEH_PE_OP, &o));
	show(what, NULL);
}

static void state_ops(int c, const char *w)
{
	OP(c, lbl("%s GET_STATE", w), EOPSZ, 0, VFIO_EEH_PE_GET_STATE);
	OP(c, lbl("%s ENABLE", w), EOPSZ, 0, VFIO_EEH_PE_ENABLE);
	OP(c, lbl("%s GET_STATE", w), EOPSZ, 0, VFIO_EEH_PE_GET_STATE);
	OP(c, lbl("%s DISABLE", w), EOPSZ, 0, VFIO_EEH_PE_DISABLE);
	OP(c, lbl("%s GET_STATE", w), EOPSZ, 0, VFIO_EEH_PE_GET_STATE);
	OP(c, lbl("%s ENABLE", w), EOPSZ, 0, VFIO_EEH_PE_ENABLE);
	OP(c, lbl("%s UNFREEZE_IO", w), EOPSZ, 0, VFIO_EEH_PE_UNFREEZE_IO);
	OP(c, lbl("%s UNFREEZE_DMA", w), EOPSZ, 0, VFIO_EEH_PE_UNFREEZE_DMA);
	OP(c, lbl("%s CONFIGURE", w), EOPSZ, 0, VFIO_EEH_PE_CONFIGURE);
	OP(c, lbl("%s GET_STATE", w), EOPSZ, 0, VFIO_EEH_PE_GET_STATE);
}

int main(void)
{
	const char *name = device_name();
	int c, g, dev;

	conf_init();
	c = open_container();
	OP(c, "no iommu: GET_STATE", EOPSZ, 0, VFIO_EEH_PE_GET_STATE);
	TRY(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_EEH));
	show("CHECK_EXTENSION(VFIO_EEH)", NULL);
	close(c);

	setup(VFIO_SPAPR_TCE_v2_IOMMU, &c, &g);
	OP(c, "argsz=11", 11, 0, VFIO_EEH_PE_GET_STATE);
	OP(c, "argsz=0", 0, 0, VFIO_EEH_PE_GET_STATE);
	OP(c, "argsz=12 GET_STATE", 12, 0, VFIO_EEH_PE_GET_STATE);
	OP(c, "flags=1", EOPSZ, 1, VFIO_EEH_PE_GET_STATE);
	OP(c, "op=10", EOPSZ, 0, 10);
	OP(c, "op=99", EOPSZ, 0, 99);
	OP(c, "op=0xffffffff", EOPSZ, 0, 0xffffffff);
	TRY(ioctl(c, VFIO_EEH_PE_OP, NULL));
	show("NULL argument", NULL);
	inject(c, "INJECT_ERR argsz=12", 12, 0, 0);
	inject(c, "INJECT_ERR argsz=39", 39, 0, 0);
	inject(c, "INJECT_ERR type=99", EOPSZ, 99, 0);
	inject(c, "INJECT_ERR func=99", EOPSZ, 0, 99);
	state_ops(c, "v2 nodev");

	TRY(dev = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name ? name : "none"));
	show_fd("GROUP_GET_DEVICE_FD(device)", NULL);
	state_ops(c, "v2 dev");
	if (dev >= 0)
		close(dev);
	state_ops(c, "v2 closed");
	teardown(c, g);

	setup(VFIO_SPAPR_TCE_IOMMU, &c, &g);
	OP(c, "v1 GET_STATE", EOPSZ, 0, VFIO_EEH_PE_GET_STATE);
	OP(c, "v1 ENABLE", EOPSZ, 0, VFIO_EEH_PE_ENABLE);
	OP(c, "v1 op=99", EOPSZ, 0, 99);
	TRY(ioctl(g, VFIO_EEH_PE_OP, NULL));
	show("group fd: EEH_PE_OP", NULL);
	teardown(c, g);
	return 0;
}
