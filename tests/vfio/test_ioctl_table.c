// SPDX-License-Identifier: MIT
/*
 * The ioctl table (<spapr_tce/vfio.h>, src/vfio/ioctls.c) is the whole
 * dispatch: each kind of descriptor has a row for exactly the ioctls of
 * the kernel's ABI it serves, every row reaches a handler (the call is
 * not ENOTTY on a descriptor in the right state), and every request
 * without a row is ENOTTY, whatever its number.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <cmocka.h>

#include <linux/vfio.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif

#include <spapr_tce/vfio.h>

#define N(a)	(sizeof(a) / sizeof((a)[0]))

/* What each kind serves: the kernel's ABI, written out independently of
 * the table so that a row dropped from it is seen. */
static const unsigned long container_reqs[] = {
	VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU,
	VFIO_IOMMU_SPAPR_TCE_GET_INFO, VFIO_IOMMU_MAP_DMA,
	VFIO_IOMMU_UNMAP_DMA, VFIO_IOMMU_ENABLE, VFIO_IOMMU_DISABLE,
	VFIO_IOMMU_SPAPR_REGISTER_MEMORY, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY,
	VFIO_IOMMU_SPAPR_TCE_CREATE, VFIO_IOMMU_SPAPR_TCE_REMOVE,
	VFIO_EEH_PE_OP,
};
static const unsigned long group_reqs[] = {
	VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER,
	VFIO_GROUP_UNSET_CONTAINER, VFIO_GROUP_GET_DEVICE_FD,
};
static const unsigned long device_reqs[] = {
	VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
	VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET,
	VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET,
	VFIO_DEVICE_FEATURE, VFIO_DEVICE_IOEVENTFD, VFIO_DEVICE_BIND_IOMMUFD,
	VFIO_DEVICE_ATTACH_IOMMUFD_PT, VFIO_DEVICE_DETACH_IOMMUFD_PT,
};
static const unsigned long iommufd_reqs[] = {
	IOMMU_DESTROY, IOMMU_IOAS_ALLOC, IOMMU_IOAS_IOVA_RANGES, IOMMU_IOAS_MAP,
	IOMMU_IOAS_COPY, IOMMU_IOAS_UNMAP, IOMMU_HWPT_ALLOC,
	/* the legacy container's, on the compatibility IOAS */
	VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU,
	VFIO_IOMMU_SPAPR_TCE_GET_INFO, VFIO_IOMMU_MAP_DMA,
	VFIO_IOMMU_UNMAP_DMA, VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
	VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, VFIO_IOMMU_SPAPR_TCE_CREATE,
	VFIO_IOMMU_SPAPR_TCE_REMOVE, VFIO_EEH_PE_OP,
};

static const struct {
	enum stce_host_fd_kind kind;
	const unsigned long *reqs;
	unsigned int n;
} expected[] = {
	{ STCE_HOST_FD_CONTAINER, container_reqs, N(container_reqs) },
	{ STCE_HOST_FD_GROUP, group_reqs, N(group_reqs) },
	{ STCE_HOST_FD_DEVICE, device_reqs, N(device_reqs) },
	{ STCE_HOST_FD_IOMMUFD, iommufd_reqs, N(iommufd_reqs) },
};

static unsigned int nr_rows(enum stce_host_fd_kind kind)
{
	unsigned int n = 0;

	while (stce_vfio_ioctl_row(kind, n))
		n++;
	return n;
}

/* Each kind's rows are the ioctls it serves, once each, described
 * consistently (a copy-in that fits the struct, fields inside it). */
static void rows_are_the_abi(void **state)
{
	(void)state;
	for (unsigned int k = 0; k < N(expected); k++) {
		enum stce_host_fd_kind kind = expected[k].kind;

		assert_int_equal(nr_rows(kind), expected[k].n);
		for (unsigned int i = 0; i < expected[k].n; i++) {
			const struct stce_vfio_ioctl *io =
				stce_vfio_ioctl_info(expected[k].reqs[i], kind);

			assert_non_null(io);
			assert_int_equal(io->request, expected[k].reqs[i]);
			assert_non_null(io->name);
			assert_true(!strncmp(io->name, "VFIO_", 5) ||
				    !strncmp(io->name, "IOMMU_", 6));
			assert_true(io->minsz <= io->size);
			for (unsigned int f = 0; f < io->nr_fields; f++)
				assert_true(io->fields[f].offset +
					    io->fields[f].size <= io->size + 4);
		}
	}
	assert_null(stce_vfio_ioctl_row(STCE_HOST_FD_NONE, 0));
	/* An inherited descriptor is looked up as a container's. */
	assert_ptr_equal(stce_vfio_ioctl_info(VFIO_IOMMU_MAP_DMA,
					      STCE_HOST_FD_NONE),
			 stce_vfio_ioctl_info(VFIO_IOMMU_MAP_DMA,
					      STCE_HOST_FD_CONTAINER));
	/* Names: the device's numbers are the container's elsewhere. */
	assert_string_equal(stce_vfio_ioctl_info(VFIO_DEVICE_FEATURE,
					STCE_HOST_FD_DEVICE)->name,
			    "VFIO_DEVICE_FEATURE");
	assert_string_equal(stce_vfio_ioctl_named(VFIO_DEVICE_FEATURE)->name,
			    "VFIO_IOMMU_SPAPR_REGISTER_MEMORY");
	assert_string_equal(stce_vfio_ioctl_named(
		_IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION))->name, "IOMMU_OPTION");
	assert_null(stce_vfio_ioctl_info(_IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION),
					 STCE_HOST_FD_IOMMUFD));
	assert_null(stce_vfio_ioctl_named(_IO(VFIO_TYPE, VFIO_BASE + 7)));
}

struct obj {
	struct stce_host *h;
	int fd;
	enum stce_host_fd_kind kind;
};

#define MAX_OBJS 16
struct fix {
	struct stce_host *h, *h2;
	struct obj objs[MAX_OBJS];
	unsigned int n;
};

static int add(struct fix *f, struct stce_host *h, int fd)
{
	assert_true(fd >= 0);
	f->objs[f->n++] = (struct obj){ h, fd, stce_host_fd_kind(h, fd) };
	return fd;
}

/*
 * One descriptor of each kind in each state a row needs: a v1 and a v2
 * container with an IOMMU (each with a device open, so UNSET_CONTAINER
 * is EBUSY), their groups and devices, an iommufd, and (on a second host,
 * whose groups stay closed) a cdev bound to an iommufd.
 */
static int setup(void **state)
{
	static struct fix fix;
	struct fix *f = &fix;
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	int c1, c2, g0, g1, iofd, cdev;

	memset(f, 0, sizeof(*f));
	assert_int_equal(stce_host_create(NULL, &f->h), 0);
	assert_int_equal(stce_host_create(NULL, &f->h2), 0);
	c1 = add(f, f->h, stce_host_open(f->h, "/dev/vfio/vfio", O_RDWR));
	c2 = add(f, f->h, stce_host_open(f->h, "/dev/vfio/vfio", O_RDWR));
	g0 = add(f, f->h, stce_host_open(f->h, "/dev/vfio/0", O_RDWR));
	g1 = add(f, f->h, stce_host_open(f->h, "/dev/vfio/1", O_RDWR));
	assert_int_equal(stce_host_ioctl(f->h, g0, VFIO_GROUP_SET_CONTAINER,
					 &c1), 0);
	assert_int_equal(stce_host_ioctl(f->h, g1, VFIO_GROUP_SET_CONTAINER,
					 &c2), 0);
	assert_int_equal(stce_host_ioctl(f->h, c1, VFIO_SET_IOMMU,
					 (void *)VFIO_SPAPR_TCE_IOMMU), 0);
	assert_int_equal(stce_host_ioctl(f->h, c2, VFIO_SET_IOMMU,
					 (void *)VFIO_SPAPR_TCE_v2_IOMMU), 0);
	add(f, f->h, stce_host_ioctl(f->h, g0, VFIO_GROUP_GET_DEVICE_FD,
				     "0030:01:00.0"));
	add(f, f->h, stce_host_ioctl(f->h, g1, VFIO_GROUP_GET_DEVICE_FD,
				     "0030:02:00.0"));
	add(f, f->h, stce_host_open(f->h, "/dev/iommu", O_RDWR));
	iofd = add(f, f->h2, stce_host_open(f->h2, "/dev/iommu", O_RDWR));
	cdev = add(f, f->h2, stce_host_open(f->h2, STCE_VFIO_CDEV_PREFIX "0",
					    O_RDWR));
	b.iommufd = iofd;
	assert_int_equal(stce_host_ioctl(f->h2, cdev, VFIO_DEVICE_BIND_IOMMUFD,
					 &b), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	stce_host_destroy(f->h);
	stce_host_destroy(f->h2);
	return 0;
}

/* -1 with ENOTTY: the call found no handler. */
static bool enotty(const struct obj *o, unsigned long req)
{
	errno = 0;
	return stce_host_ioctl(o->h, o->fd, req, NULL) == -1 && errno == ENOTTY;
}

/*
 * Every _IO(';', nr) on every descriptor (a NULL argument: the handlers
 * answer EFAULT or act harmlessly): with no row for its kind it is
 * ENOTTY on every descriptor of that kind; with one, at least one of
 * them serves it (the rest may refuse it as the kernel does: the other
 * flavour's container, a group's device for the cdev's ATTACH).
 */
static void dispatch_is_the_table(void **state)
{
	struct fix *f = *state;

	for (unsigned int nr = 0; nr < 256; nr++) {
		unsigned long req = _IO(VFIO_TYPE, nr);

		for (unsigned int k = 0; k < N(expected); k++) {
			enum stce_host_fd_kind kind = expected[k].kind;
			bool row = stce_vfio_ioctl_info(req, kind) != NULL;
			unsigned int served = 0;

			for (unsigned int i = 0; i < f->n; i++)
				if (f->objs[i].kind == kind &&
				    !enotty(&f->objs[i], req))
					served++;
			if (!row && served)
				fail_msg("%#lx served on kind %d with no row",
					 req, kind);
			if (row && !served)
				fail_msg("row %s (kind %d) reaches no handler",
					 stce_vfio_ioctl_info(req, kind)->name,
					 kind);
		}
	}
	/* The number is the whole request: size or direction bits make
	 * another one, which no table has. */
	for (unsigned int i = 0; i < f->n; i++)
		assert_true(enotty(&f->objs[i], _IOWR(VFIO_TYPE, VFIO_BASE + 13,
						      uint64_t)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rows_are_the_abi),
		cmocka_unit_test_setup_teardown(dispatch_is_the_table, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
