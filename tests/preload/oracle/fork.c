// SPDX-License-Identifier: MIT
/*
 * What a fork child may do with the VFIO descriptors it inherited: every
 * container, group and device call on them, in the child, for a v2
 * container in use (registered, window, mapped), a v1 container in use
 * (enabled, mapped) and a v2 container nothing has bound to a process
 * yet; then what the child can open itself, and whether the parent still
 * works. Run on the real kernel (the oracle) and under the preload
 * library; the outputs are compared (fork-kernel.out, fork-spapr-tce.out:
 * where they differ is docs/preload.md's table). VmLck is not printed:
 * the child's locked memory is src/account's (docs/prereg.md).
 */
#include <sys/wait.h>

#include "../../lib/conf.h"

static uint8_t *A, *B;
static const char *dev;

static void container_calls(int c, int v2, const char *who)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vfio_eeh_pe_op eeh = { .argsz = sizeof(eeh), .op = VFIO_EEH_PE_GET_STATE };
	uint64_t w = 0;

	TRY(ioctl(c, VFIO_GET_API_VERSION));
	show(lbl("%s container GET_API_VERSION", who), NULL);
	TRY(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU));
	show(lbl("%s container CHECK_EXTENSION v2", who), NULL);
	TRY(ioctl(c, VFIO_SET_IOMMU, v2 ? VFIO_SPAPR_TCE_v2_IOMMU : VFIO_SPAPR_TCE_IOMMU));
	show(lbl("%s container SET_IOMMU again", who), NULL);
	TRY(ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	show(lbl("%s container GET_INFO", who), NULL);
	TRY(ioctl(c, VFIO_EEH_PE_OP, &eeh));
	show(lbl("%s container EEH GET_STATE", who), NULL);
	if (v2) {
		do_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, B, SZ_1M);
		show(lbl("%s container REGISTER B", who), NULL);
		do_reg(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, REGSZ, 0, B, SZ_1M);
		show(lbl("%s container UNREGISTER B", who), NULL);
		do_create(c, CREATESZ, 0, 16, SZ_1G, 1, &w);
		show(lbl("%s container TCE_CREATE", who), NULL);
		if (!g_ret) {
			do_remove(c, REMOVESZ, 0, w);
			show(lbl("%s container TCE_REMOVE", who), NULL);
		}
	} else {
		TRY(ioctl(c, VFIO_IOMMU_ENABLE));
		show(lbl("%s container ENABLE", who), NULL);
	}
	do_map(c, MAPSZ, RW, A, SZ_1M, SZ_64K);
	show(lbl("%s container MAP A iova=1M", who), NULL);
	do_unmap(c, UNMAPSZ, 0, SZ_1M, SZ_64K);
	show(lbl("%s container UNMAP iova=1M", who), NULL);
}

static void group_calls(int g, const char *who)
{
	uint32_t flags = 0;

	group_status(g, sizeof(struct vfio_group_status), &flags);
	show(lbl("%s group GET_STATUS", who), "flags 0x%x", flags);
}

static void device_calls(int d, const char *who)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info r = { .argsz = sizeof(r),
				      .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t vendor = 0, cmd = 0;

	TRY(ioctl(d, VFIO_DEVICE_GET_INFO, &info));
	show(lbl("%s device GET_INFO", who), NULL);
	TRY(ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &r));
	show(lbl("%s device GET_REGION_INFO config", who), NULL);
	TRY(pread(d, &vendor, 2, (off_t)r.offset));
	show(lbl("%s device pread config vendor", who), "%s",
	     g_ret == 2 ? "read" : "-");
	TRY(pread(d, &cmd, 2, (off_t)r.offset + 4));
	show(lbl("%s device pread config command", who), NULL);
	TRY(pwrite(d, &cmd, 2, (off_t)r.offset + 4));
	show(lbl("%s device pwrite config command", who), NULL);
}

/* In the child: the inherited descriptors, then fresh ones. */
static void child(int c, int g, int d, int v2)
{
	int c2, g2;

	container_calls(c, v2, "child");
	group_calls(g, "child");
	TRY(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, dev));
	show_fd("child group GET_DEVICE_FD", NULL);
	if (g_ret >= 0)
		close((int)g_ret);
	if (d >= 0)
		device_calls(d, "child");
	TRY(c2 = dup(c));
	show_fd("child dup container", NULL);
	TRY(ioctl(c2, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &(struct vfio_iommu_spapr_tce_info){ .argsz = 16 }));
	show("child dup container GET_INFO", NULL);
	TRY(close(c2));
	show("child close dup", NULL);
	note("child: new descriptors");
	TRY(c2 = open(container_path(), O_RDWR));
	show_fd("child open container", NULL);
	TRY(ioctl(c2, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU));
	show("child new container CHECK_EXTENSION v2", NULL);
	TRY(g2 = open(group_path(), O_RDWR));
	show_fd("child open group", NULL);
	if (g2 >= 0)
		close(g2);
	TRY(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	show("child inherited group UNSET_CONTAINER", NULL);
	if (d >= 0) {
		TRY(close(d));
		show("child close device", NULL);
	}
	TRY(close(g));
	show("child close group", NULL);
	TRY(close(c));
	show("child close container", NULL);
	TRY(close(c2));
	show("child close new container", NULL);
	exit(0);
}

static void run(const char *what, int v2, int bind)
{
	int c, g, d = -1, st;
	uint64_t w = 0;
	pid_t pid;

	note("%s", what);
	setup(v2 ? VFIO_SPAPR_TCE_v2_IOMMU : VFIO_SPAPR_TCE_IOMMU, &c, &g);
	if (bind && v2) {
		do_reg(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, REGSZ, 0, A, SZ_1M);
		show("parent REGISTER A", NULL);
		do_create(c, CREATESZ, 0, 16, SZ_1G, 1, &w);
		show("parent TCE_CREATE", NULL);
	}
	if (bind && !v2) {
		TRY(ioctl(c, VFIO_IOMMU_ENABLE));
		show("parent ENABLE", NULL);
	}
	if (bind) {
		do_map(c, MAPSZ, RW, A, 0, SZ_64K);
		show("parent MAP A iova=0", NULL);
	}
	TRY(d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, dev));
	show_fd("parent GET_DEVICE_FD", NULL);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		child(c, g, d, v2);
	waitpid(pid, &st, 0);
	note("parent: child exited %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	group_calls(g, "parent");
	container_calls(c, v2, "parent");
	if (d >= 0)
		device_calls(d, "parent");
	if (d >= 0)
		close(d);
	if (bind) {
		do_unmap(c, UNMAPSZ, 0, 0, SZ_64K);
		show("parent UNMAP iova=0", NULL);
	}
	teardown(c, g);
}

int main(void)
{
	conf_init();
	A = alloc_aligned(SZ_1M, SZ_16M, PROT_READ | PROT_WRITE);
	B = alloc_aligned(SZ_1M, SZ_16M, PROT_READ | PROT_WRITE);
	dev = device_name();
	if (!dev)
		die("no device");
	run("v2 in use: registered, a window, mapped", 1, 1);
	run("v1 in use: enabled, mapped", 0, 1);
	run("v2 set, nothing bound to a process yet", 1, 0);
	return 0;
}
