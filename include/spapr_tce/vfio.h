/* SPDX-License-Identifier: MIT */
/*
 * spapr-tce: the VFIO ABI. A "host" is an emulated POWER machine (its
 * PEs and devices, from a topology) together with the VFIO files a
 * process has open on it: the container (/dev/vfio/vfio), groups
 * (/dev/vfio/<group>) and device files, and the iommufd ones: /dev/iommu
 * (<spapr_tce/iommufd.h>) and the device cdevs /dev/vfio/devices/vfioN. Its open/ioctl/close take what
 * the syscalls take and answer as they do: a file descriptor or 0 (or a
 * positive value where the kernel returns one), else -1 with errno set,
 * errno for errno what Linux 6.12's sPAPR driver answers (docs/quirks.md).
 *
 * Every descriptor is a real one (an O_PATH descriptor of "/"), so it
 * never collides with the process's other files and keeps its number,
 * close-on-exec flag and fcntl(F_GETFD/F_SETFD); the host keeps what it
 * means. A call that reaches the kernel with one instead of the host (a
 * raw syscall, a call racing its close, after exec) fails with EBADF.
 *
 * Thread-safe. MAP/UNMAP, the other IOMMU ioctls and region access take
 * no lock; the structural ones (SET_IOMMU, SET/UNSET_CONTAINER, opening
 * devices, the last close of an object) serialise on the host. A call
 * racing a close of its descriptor either runs against the object or
 * fails with EBADF.
 *
 * Signals: stce_host_close, the dups and stce_host_close_range may be
 * called from a signal handler whatever call of the host it interrupted
 * (what the interrupted call uses is released when it returns); any
 * other call made from a handler that interrupted one of this thread's
 * host calls fails with EDEADLK instead of waiting for it.
 *
 * fork: in the child every host's descriptors are the parent's objects
 * ("inherited"): closing and duplicating them work, the VFIO core's
 * container answers (API version, extensions) and a group's status are
 * given, everything else is EPERM; a group kept open by an inherited
 * descriptor stays busy. What the child opens lives on a fresh platform.
 */
#ifndef SPAPR_TCE_VFIO_H
#define SPAPR_TCE_VFIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <spapr_tce/export.h>
#include <spapr_tce/device.h>
#include <spapr_tce/topology.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STCE_VFIO_CONTAINER_PATH	"/dev/vfio/vfio"
#define STCE_VFIO_GROUP_PREFIX		"/dev/vfio/"
/* The device cdevs: vfio<N>, N the device's index in the topology (its
 * order of declaration), as the kernel numbers them in probe order. */
#define STCE_VFIO_CDEV_PREFIX		"/dev/vfio/devices/vfio"

struct stce_host;

/*
 * A host for @topo (NULL: the built-in default). The host keeps its own
 * copy of the platform built from it, and so the topology's host page is
 * the process's while the host lives (stce_platform_create): -EBUSY when
 * the process is on the other host page and cannot leave it (another host
 * of that page, memory registered or pinned), -EINVAL for a host page
 * below this machine's real page or a bad topology, -ENOMEM.
 */
STCE_API
int stce_host_create(const struct stce_topology *topo, struct stce_host **out);

/* Close every descriptor still open and free the host. NULL: no-op. */
STCE_API
void stce_host_destroy(struct stce_host *host);

STCE_API
struct stce_platform *stce_host_platform(struct stce_host *host);

/*
 * The process-wide host the preload library and the shims use, made on
 * first use from $SPAPR_TCE_TOPOLOGY (or the default). NULL, with errno
 * set and a message on stderr, when that topology cannot be read.
 */
STCE_API
struct stce_host *stce_host_default(void);

/*
 * Is @path one of the host's? /dev/vfio/vfio, /dev/iommu,
 * /dev/vfio/<N> for every group N of the topology and
 * /dev/vfio/devices/vfio<N> for every device (N its topology index).
 */
STCE_API
bool stce_host_path_ours(struct stce_host *host, const char *path);

/*
 * open(2) of a host path. ENOENT for paths that are not the host's,
 * EBUSY for a group that is open already, or whose device is bound to an
 * iommufd through its cdev. /dev/iommu: a new iommufd context
 * (<spapr_tce/iommufd.h>). A cdev: a device descriptor on which only
 * VFIO_DEVICE_BIND_IOMMUFD is valid until it is bound (EINVAL).
 */
STCE_API
int stce_host_open(struct stce_host *host, const char *path, int flags);

/* ioctl(2) on a host descriptor. EBADF for descriptors not the host's. */
STCE_API
int stce_host_ioctl(struct stce_host *host, int fd, unsigned long request,
		    void *arg);

/*
 * stce_host_fd_ours() and then stce_host_ioctl(), for an ioctl(2) wrapper
 * that hands the descriptors not the host's to the kernel: false when @fd
 * is not the host's (nothing done); true when it is, with *@ret the
 * ioctl's return (-1 and errno on failure). The descriptor is looked up
 * once.
 */
STCE_API
bool stce_host_ioctl_ours(struct stce_host *host, int fd,
			  unsigned long request, void *arg, int *ret);

/* close(2) of a host descriptor: tears down what it held. */
STCE_API
int stce_host_close(struct stce_host *host, int fd);

/* close_range(2)'s part for the host: every host descriptor in
 * [@first, @last] is closed as stce_host_close() would. */
STCE_API
void stce_host_close_range(struct stce_host *host, unsigned int first,
			   unsigned int last);

/*
 * Is @fd a descriptor of the host's (an inherited one included)? While
 * another thread is closing it, waits until that close is done; a call
 * made from a signal handler does not wait (true: the host answers it).
 */
STCE_API
bool stce_host_fd_ours(struct stce_host *host, int fd);

/*
 * A count of the descriptors the host has made (opens, dups). A caller
 * that asked the kernel itself about @fd because stce_host_fd_ours() said
 * no, and got an answer about an O_PATH descriptor, may be looking at one
 * of the host's made (and maybe closed) since: when the count moved and
 * the descriptor is not the host's now, the call is as if it came after
 * that close (EBADF); when it is the host's now, ask the host.
 */
STCE_API
uint64_t stce_host_fd_generation(struct stce_host *host);

/* A caller's 32-bit value kept with the object @fd names (its duplicates
 * share it; 0 until set). _set: -1 with EBADF when @fd is not the host's. */
STCE_API
uint32_t stce_host_fd_tag(struct stce_host *host, int fd);
STCE_API
int stce_host_fd_set_tag(struct stce_host *host, int fd, uint32_t tag);

/*
 * dup(2)/dup2/dup3/F_DUPFD of a host descriptor: the caller made @newfd a
 * real duplicate of @oldfd; from now on both name the same object, which
 * is torn down when the last of them is closed. A host object @newfd
 * named before is released (dup2 closes it). Returns @newfd, or -1 with
 * EBADF.
 */
STCE_API
int stce_host_dup(struct stce_host *host, int oldfd, int newfd);

/*
 * dup(2), dup2, dup3 or F_DUPFD of @oldfd, race-free against close: the
 * host takes @oldfd's object, @dup_fn(@arg) makes the real duplicate
 * (returning it, or -1 with errno), and the new descriptor names the
 * object. @target is the descriptor dup2/dup3 replace (-1 for dup and
 * F_DUPFD); a host object it named is released as its close would.
 * @oldfd and @target may be any descriptors, the host's or not. Returns
 * what @dup_fn returned; -1 with EBADF when @oldfd was closed while it
 * was being duplicated; EBUSY (dup2's race errno) when @target is being
 * closed by the call this one interrupted.
 */
STCE_API
int stce_host_dup_call(struct stce_host *host, int oldfd, int target,
		       int (*dup_fn)(void *arg), void *arg);

/*
 * pread(2)/pwrite(2) on a host descriptor: device region access at the
 * VFIO-PCI region offsets (region index << 40). Bytes done (a BAR access
 * is clipped at its end), or -1 with errno: EBADF, EINVAL (not a device, a
 * cdev not bound yet, an empty or unknown region, from past a BAR's end, a
 * write narrower than 4 bytes to BAR0), EFAULT (a bad buffer, or a config
 * space access not inside it: vfio-pci's rule).
 */
STCE_API
ssize_t stce_host_pread(struct stce_host *host, int fd, void *buf,
			size_t count, off_t off);
STCE_API
ssize_t stce_host_pwrite(struct stce_host *host, int fd, const void *buf,
			 size_t count, off_t off);

/* read(2)/write(2): the same at the descriptor's file position (0 after
 * open, shared by duplicates), which advances by what was done. */
STCE_API
ssize_t stce_host_read(struct stce_host *host, int fd, void *buf,
		       size_t count);
STCE_API
ssize_t stce_host_write(struct stce_host *host, int fd, const void *buf,
			size_t count);

/*
 * fcntl(2) F_GETFL and F_SETFL of a host descriptor, as the kernel's VFIO
 * files answer (the status flags of the open file, shared by duplicates:
 * O_APPEND, O_NONBLOCK and O_NOATIME can change, O_ASYNC is accepted
 * and not kept, O_DIRECT is EINVAL). Other commands: -1 with EINVAL.
 */
STCE_API
int stce_host_fcntl(struct stce_host *host, int fd, int cmd, long arg);

/*
 * Would mmap(2) of @fd at @off work? Never today: -1 with ENODEV for a
 * container, group or iommufd, EINVAL for a device (no region is
 * mmap-able).
 */
STCE_API
int stce_host_mmap_check(struct stce_host *host, int fd, off_t off);

/*
 * /proc/self/status as this process's kernel would show it with the
 * emulated VFIO accounting: the real file, with VmLck replaced by the
 * emulated locked_vm. A read-only stream (a temporary file); NULL with
 * errno on failure. Used by the preload library and the test shims.
 */
STCE_API
FILE *stce_proc_status_open(void);

/* What a host descriptor is (for tracers and diagnostics). */
enum stce_host_fd_kind {
	STCE_HOST_FD_NONE = 0,		/* not the host's */
	STCE_HOST_FD_CONTAINER,
	STCE_HOST_FD_GROUP,
	STCE_HOST_FD_DEVICE,
	STCE_HOST_FD_IOMMUFD,
};
STCE_API
enum stce_host_fd_kind stce_host_fd_kind(struct stce_host *host, int fd);

/*
 * The ioctl table: one row per ioctl a kind of host descriptor serves, as
 * the library dispatches it (src/vfio/ioctls.c). Tracers print calls from
 * it, fuzzers build their arguments from it.
 */
enum stce_vfio_arg {
	STCE_VFIO_ARG_NONE,	/* no argument (printed "0") */
	STCE_VFIO_ARG_INT,	/* an integer: an IOMMU type or extension */
	STCE_VFIO_ARG_FD,	/* a pointer to an int, a descriptor */
	STCE_VFIO_ARG_STRING,	/* a C string (a device name) */
	STCE_VFIO_ARG_ARGSZ,	/* a struct led by its u32 argsz (VFIO's) */
	STCE_VFIO_ARG_SIZE,	/* a struct led by its u32 size (iommufd's) */
};

/* How a field is printed. */
enum stce_vfio_fmt {
	STCE_VFIO_FMT_U,		/* decimal, unsigned */
	STCE_VFIO_FMT_D,		/* decimal, signed */
	STCE_VFIO_FMT_X,		/* 0x hex */
	STCE_VFIO_FMT_MAP_FLAGS,	/* MAP_DMA's READ|WRITE */
	STCE_VFIO_FMT_IOAS_FLAGS,	/* FIXED_IOVA|WRITEABLE|READABLE */
	STCE_VFIO_FMT_INFO_FLAGS,	/* TCE_GET_INFO's DDW */
	STCE_VFIO_FMT_GROUP_FLAGS,	/* VIABLE|CONTAINER_SET */
	STCE_VFIO_FMT_EEH_OP,		/* VFIO_EEH_PE_<op> */
	STCE_VFIO_FMT_EVENTFD,		/* SET_IRQS' first eventfd, [fd],
					 * after the struct when the flags
					 * say eventfds and count is not 0 */
};

struct stce_vfio_field {
	const char *name;	/* as printed; "a={b" opens a nested struct */
	uint16_t offset;	/* bytes from the start of the struct */
	uint8_t size;		/* 1, 2, 4 or 8 */
	uint8_t fmt;		/* enum stce_vfio_fmt */
	bool close;		/* a nested struct ends after it ("}") */
};

struct stce_vfio_ioctl {
	unsigned long request;
	const char *name;		/* the <linux/vfio.h> macro's name */
	enum stce_vfio_arg arg;
	uint32_t size;			/* the struct we know (bytes) */
	uint32_t minsz;			/* the shortest the kernel takes */
	const struct stce_vfio_field *fields;	/* what a trace prints */
	unsigned int nr_fields;		/* 0: printed as a pointer */
};

/*
 * The row of @request on a descriptor of @kind (STCE_HOST_FD_NONE: an
 * inherited one, looked up as a container's), or NULL when that kind
 * does not serve it (the call fails with ENOTTY or EINVAL).
 */
STCE_API
const struct stce_vfio_ioctl *stce_vfio_ioctl_info(unsigned long request,
						   enum stce_host_fd_kind kind);

/*
 * What @request is called: the row of the container, group or iommufd
 * tables that has it (in that order; the device's ioctls share numbers
 * with the container's and are found by stce_vfio_ioctl_info), else a
 * row for the iommufd commands the library knows and does not serve.
 * NULL for a number no table has.
 */
STCE_API
const struct stce_vfio_ioctl *stce_vfio_ioctl_named(unsigned long request);

/* The @i-th row of @kind's table (0 up); NULL past its end. */
STCE_API
const struct stce_vfio_ioctl *stce_vfio_ioctl_row(enum stce_host_fd_kind kind,
						  unsigned int i);

/* Descriptors open now (an audit figure: 0 once everything is closed). */
STCE_API
unsigned int stce_host_open_fds(struct stce_host *host);

struct stce_iommufd;

/*
 * ioctl(2) on a /dev/iommu descriptor, for an iommufd context of
 * <spapr_tce/iommufd.h> without a host: the IOMMU_* commands of
 * <linux/iommufd.h> (iommufd's size rules: -EINVAL below the minimum,
 * -E2BIG for a non-zero tail beyond the struct we know), and the legacy
 * VFIO container ioctls of the sPAPR TCE v2 driver on the compatibility
 * IOAS (GET_API_VERSION, CHECK_EXTENSION, SET_IOMMU, SPAPR_TCE_GET_INFO,
 * REGISTER/UNREGISTER_MEMORY, TCE_CREATE/REMOVE, MAP/UNMAP_DMA,
 * EEH_PE_OP). Returns >= 0 or -errno (not the syscall convention:
 * stce_host_ioctl is that); -ENOTTY for anything else.
 */
STCE_API
long stce_iommufd_ioctl(struct stce_iommufd *ictx, unsigned long request,
			void *arg);

/*
 * A bad ioctl argument is EFAULT through a fault handler (SIGSEGV,
 * SIGBUS) the host installs; a program's own sigaction of those signals
 * would displace it, so each copy checks it (a system call). A caller
 * that routes every sigaction of the process through
 * stce_host_sigaction() (the preload library) calls this once: then the
 * copies cost no system call. 0 or -errno.
 */
STCE_API
int stce_host_keep_fault_handler(void);

/*
 * sigaction(2) for such a caller: 1 when @sig is one the host's handler
 * owns (the program's @act is kept behind it, and gets every fault that
 * is not a copy's; @old is the program's previous one), 0 when the
 * caller must hand the call to libc.
 */
struct sigaction;
STCE_API
int stce_host_sigaction(int sig, const struct sigaction *act,
			struct sigaction *old);

#ifdef __cplusplus
}
#endif

#endif /* SPAPR_TCE_VFIO_H */
