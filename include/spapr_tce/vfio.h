/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: the VFIO ABI. A "host" is an emulated POWER machine (its
 * PEs and devices, from a topology) together with the VFIO files a
 * process has open on it: the container (/dev/vfio/vfio), groups
 * (/dev/vfio/<group>) and device files. Its open/ioctl/close take what
 * the syscalls take and answer as they do: a file descriptor or 0 (or a
 * positive value where the kernel returns one), else -1 with errno set,
 * errno for errno what Linux 6.12's sPAPR driver answers (docs/quirks.md).
 *
 * Every descriptor is a real one (an anonymous memfd), so it never
 * collides with the process's other files and survives dup-less use in
 * poll/fcntl; the host keeps what it means.
 *
 * Thread-safe. MAP/UNMAP and the other IOMMU ioctls take no lock; the
 * structural ones (SET_IOMMU, SET/UNSET_CONTAINER, opening devices,
 * close) serialise on the host.
 */
#ifndef SPAPR_TCE_VFIO_H
#define SPAPR_TCE_VFIO_H

#include <stdbool.h>

#include <spapr_tce/device.h>
#include <spapr_tce/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STCE_VFIO_CONTAINER_PATH	"/dev/vfio/vfio"
#define STCE_VFIO_GROUP_PREFIX		"/dev/vfio/"

struct stce_host;

/*
 * A host for @topo (NULL: the built-in default). The host keeps its own
 * copy of the platform built from it. -EINVAL, -ENOMEM.
 */
int stce_host_create(const struct stce_topology *topo, struct stce_host **out);

/* Close every descriptor still open and free the host. NULL: no-op. */
void stce_host_destroy(struct stce_host *host);

struct stce_platform *stce_host_platform(struct stce_host *host);

/*
 * The process-wide host the preload library and the shims use, made on
 * first use from $SPAPR_TCE_TOPOLOGY (or the default). NULL, with errno
 * set and a message on stderr, when that topology cannot be read.
 */
struct stce_host *stce_host_default(void);

/*
 * Is @path one of the host's? /dev/vfio/vfio, and /dev/vfio/<N> for
 * every group N of the topology.
 */
bool stce_host_path_ours(struct stce_host *host, const char *path);

/* open(2) of a host path. ENOENT for paths that are not the host's,
 * EBUSY for a group that is open already. */
int stce_host_open(struct stce_host *host, const char *path, int flags);

/* ioctl(2) on a host descriptor. EBADF for descriptors not the host's. */
int stce_host_ioctl(struct stce_host *host, int fd, unsigned long request,
		    void *arg);

/* close(2) of a host descriptor: tears down what it held. */
int stce_host_close(struct stce_host *host, int fd);

/* Is @fd a descriptor of the host's? */
bool stce_host_fd_ours(struct stce_host *host, int fd);

/* Descriptors open now (an audit figure: 0 once everything is closed). */
unsigned int stce_host_open_fds(struct stce_host *host);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_VFIO_H */
