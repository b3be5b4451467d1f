/* SPDX-License-Identifier: MIT */
/*
 * What the VFIO ABI layer's files share. Internal.
 *
 * host.c: open, close, the entry of each call. ioctls.c: the ioctl table
 * (a row per ioctl each kind serves) and the dispatch through it; the
 * handlers are in their objects' files: container_fd.c the container's
 * (the VFIO core's and the sPAPR driver's), group_fd.c the group's,
 * device_fd.c the device's (and the cdev's: bind, attach, detach),
 * device_ops.c its feature, hot-reset and ioeventfd ioctls, iommufd_fd.c
 * /dev/iommu's, on the iommufd core's C API (<spapr_tce/iommufd.h>).
 *
 * Lifetimes. Every object has a reference count: one for each descriptor
 * naming it, one for each object that points to it (a group holds its
 * container, a device its group), one for each structural ioctl running
 * on it. Structure changes (SET_IOMMU, SET/UNSET_CONTAINER, device open,
 * the last put of an object) hold host->lock. The descriptor table and
 * the container's IOMMU (struct stce_container) are published with atomic
 * stores and read by the data-path calls inside a grace read-side section
 * of host->grace, so MAP/UNMAP and region access take no lock; what they
 * read is released only after a grace period.
 *
 * A descriptor's table entry (host.c) is the object's address with two
 * tag bits: VFIO_FD_CLOSING while a close (or a dup2 onto it) is
 * replacing the descriptor, VFIO_FD_INHERITED in a fork child for the
 * parent's objects, which the child never acts on.
 */
#ifndef STCE_VFIO_INTERNAL_H
#define STCE_VFIO_INTERNAL_H

#include <pthread.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/vfio.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif

#include <spapr_tce/container.h>
#include <spapr_tce/iommufd.h>
#include <spapr_tce/vfio.h>

#include "common/fdtab.h"
#include "common/grace.h"
#include "common/lockdep.h"

#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

#define HOST_MAX_GROUPS		STCE_TOPO_MAX_PES

/* Tag bits of a descriptor table entry (above). */
#define VFIO_FD_CLOSING		1u
#define VFIO_FD_INHERITED	2u
#define VFIO_FD_TAGS		3u

/* The public kinds' values: an object's kind picks its ioctl table. */
enum vfio_kind {
	VFIO_OBJ_CONTAINER = STCE_HOST_FD_CONTAINER,
	VFIO_OBJ_GROUP = STCE_HOST_FD_GROUP,
	VFIO_OBJ_DEVICE = STCE_HOST_FD_DEVICE,
	VFIO_OBJ_IOMMUFD = STCE_HOST_FD_IOMMUFD,	/* /dev/iommu */
};

struct stce_host;

/*
 * What a kernel file holds for every VFIO file: the kind, references,
 * the file position and status flags (shared by duplicates, as an open
 * file description's), the caller's tag (stce_host_fd_set_tag), and the
 * puts that a close nested in a served call left to that call's end.
 */
struct vfio_obj {
	enum vfio_kind kind;
	atomic_uint refs;
	struct stce_host *host;
	_Atomic int64_t pos;
	atomic_int fl;
	_Atomic uint32_t tag;
	atomic_uint deferred_puts;
	struct vfio_obj *_Atomic deferred_next;
};

struct vfio_group;

struct vfio_container {
	struct vfio_obj obj;
	struct stce_container *_Atomic iommu;	/* NULL until SET_IOMMU */
	struct vfio_group *groups[HOST_MAX_GROUPS];	/* host->lock */
	unsigned int nr_groups;
};

/*
 * An open /dev/iommu: the iommufd context (src/iommufd), which serialises
 * its own ioctls, so they run without host->lock (a context reference
 * taken in a grace read-side section keeps it alive).
 */
struct vfio_iommufd {
	struct vfio_obj obj;
	struct stce_iommufd *ictx;
};

struct vfio_group {
	struct vfio_obj obj;
	unsigned int number;
	struct stce_pe *pe;
	unsigned int pe_idx;			/* platform PE index */
	/* At most one of the two (VFIO_GROUP_SET_CONTAINER); host->lock. */
	struct vfio_container *container;
	struct vfio_iommufd *iommufd;		/* the iommufd compat */
	unsigned int nr_devices;		/* open device fds */
};

/*
 * What vfio-pci keeps once per device, whatever the number of its open
 * descriptors: the interrupt set-up, the virtualized INTx Disable bit of
 * the command register, its copy of the Memory Space bit and the
 * ioeventfds. Created by the first open, freed by the last close
 * (host->lock); the interrupt fields under irq_lock, which nests inside
 * the device model's own lock (the handler runs under it), so irq_lock is
 * never held while calling into the device.
 */
struct vfio_ioeventfds;

struct vfio_device_state {
	struct stce_device *dev;
	unsigned int users;		/* open device objects, host->lock */
	pthread_mutex_t irq_lock;
	bool intx_on;			/* INTx mode (a TRIGGER eventfd set) */
	int intx_trigger;		/* our duplicate of the eventfd, or -1 */
	bool intx_masked;		/* automasked by delivery, or MASK */
	bool virq_disabled;		/* INTx Disable as the user wrote it */
	int req_trigger;		/* REQ eventfd (never signalled), or -1 */
	uint32_t ids;			/* vendor | device << 16, read at open:
					 * vfio-pci's virtual copy */
	/* Memory Space as the user last wrote it (as the device showed it
	 * at open before that): BAR access is EIO while it is clear. */
	atomic_bool mem_enabled;
	struct vfio_ioeventfds *ioeventfds;	/* device_ops.c; host->lock */
};

/*
 * A device descriptor: opened through its group (VFIO_GROUP_GET_DEVICE_FD:
 * @group set, usable at once) or through its cdev /dev/vfio/devices/vfioN
 * (@group NULL: only VFIO_DEVICE_BIND_IOMMUFD until it is bound; @state
 * made at the bind, as the kernel opens the device there).
 */
struct vfio_device {
	struct vfio_obj obj;
	struct stce_device *dev;
	struct vfio_group *group;
	struct vfio_device_state *state;	/* NULL: cdev not bound */
	atomic_bool granted;			/* region access allowed */
	unsigned int pe_idx;			/* platform PE index */
	/* The cdev's binding (VFIO_DEVICE_BIND_IOMMUFD): a reference on the
	 * iommufd context and the device object's id in it; NULL: none. */
	struct stce_iommufd *ictx;
	uint32_t dev_id;
};

struct stce_host {
	/* Replaced once in a fork child (renew), under lock. */
	struct stce_platform *_Atomic platform;
	pthread_mutex_t lock;
	struct stce_grace grace;
	struct stce_fdtab fds;			/* tagged struct vfio_obj * */
	struct vfio_group *open_groups[HOST_MAX_GROUPS];	/* by PE index */
	atomic_uint nr_open;
	/* Entries made so far (an open, a dup, a dup2 target claimed): a
	 * dup sees whether the number it copied could have become ours. */
	_Atomic uint64_t installs;
	/* by platform device index; device_fd.c */
	struct vfio_device_state *dev_state[STCE_TOPO_MAX_DEVICES];
	/* cdev devices bound, by PE index: their group cannot be opened */
	unsigned int cdev_bound[HOST_MAX_GROUPS];
	/* fork child: inherited descriptors that keep a group open (the
	 * group's own, its devices'), by PE index: the group is EBUSY */
	atomic_uint inherited_busy[HOST_MAX_GROUPS];
	atomic_bool renew;			/* fork child: new platform due */
	/* fork child: the parent's objects its descriptors named, kept
	 * reachable once they are closed (never freed: see host.c) */
	struct vfio_obj **inherited;
	unsigned int nr_inherited;
	struct stce_host *next;			/* every host, for fork */
};

/* Set errno to -@ret and return -1 when @ret < 0, else return @ret. */
static inline int vfio_ret(int ret)
{
	if (ret >= 0)
		return ret;
	errno = -ret;
	return -1;
}

void vfio_obj_get(struct vfio_obj *obj);
/* Drop a reference; the last one frees the object. host->lock held. */
void vfio_obj_put_locked(struct stce_host *host, struct vfio_obj *obj);

/*
 * A new descriptor for @obj, published in the table: an O_PATH one, on
 * which every call that reaches the kernel instead of the host (a stale
 * or racing one) fails with EBADF. @flags: the open(2) flags (access
 * mode, status flags and O_CLOEXEC), what F_GETFL shows.
 */
int vfio_fd_install(struct stce_host *host, struct vfio_obj *obj, int flags);

/* The live object @fd names, or NULL (also while it is being closed, and
 * for a fork child's inherited ones: *inherited then says so). */
struct vfio_obj *vfio_fd_obj(struct stce_host *host, int fd, bool *inherited);

/*
 * @fd's table entry inside a read-side section of host->grace, which the
 * caller leaves with stce_grace_read_unlock() (the object stays valid
 * until then). 0, no section held, when @fd is not the host's or is
 * being closed. vfio_entry_obj: the object of an entry.
 */
uintptr_t vfio_fd_enter(struct stce_host *host, int fd,
			struct stce_grace_guard *guard);
static inline struct vfio_obj *vfio_entry_obj(uintptr_t e)
{
	return (struct vfio_obj *)(e & ~(uintptr_t)VFIO_FD_TAGS);
}

/* The same for @fd's table slot (stce_fdtab_peek: it lives as long as
 * the host), for a caller that looked at it already. Inline: every
 * ioctl's. */
static inline uintptr_t vfio_slot_enter(struct stce_host *host,
					_Atomic uintptr_t *slot,
					struct stce_grace_guard *guard)
{
	uintptr_t e;

	stce_grace_read_lock(&host->grace, guard);
	e = atomic_load_explicit(slot, memory_order_acquire);
	if (!e || (e & VFIO_FD_CLOSING)) {
		stce_grace_read_unlock(&host->grace, guard);
		return 0;
	}
	return e;
}

/* Host calls of this thread (descriptors.c): enter/leave bracket each
 * one; nested: a call is in progress (this one comes from a signal
 * handler that interrupted it). */
extern __thread unsigned int vfio_call_depth
	__attribute__((tls_model("initial-exec")));
/* Objects whose puts wait for this thread's outermost host call. */
extern __thread struct vfio_obj *_Atomic vfio_call_deferred
	__attribute__((tls_model("initial-exec")));
/* The outermost call returns: the puts its nested calls left. */
void vfio_call_run_deferred(void);

/* Inline: every ioctl, read and write brackets itself. */
static inline void vfio_call_enter(void)
{
	vfio_call_depth++;
	atomic_signal_fence(memory_order_seq_cst);
}

static inline void vfio_call_leave(void)
{
	atomic_signal_fence(memory_order_seq_cst);
	if (vfio_call_depth == 1 &&
	    atomic_load_explicit(&vfio_call_deferred, memory_order_relaxed))
		vfio_call_run_deferred();
	vfio_call_depth--;
}

static inline bool vfio_call_nested(void)
{
	return vfio_call_depth > 0;
}

/* fork child: every descriptor becomes inherited. */
void vfio_fds_fork_child(struct stce_host *host);
/* Close every descriptor (stce_host_destroy). */
void vfio_fds_close_all(struct stce_host *host);

int vfio_container_open(struct stce_host *host, int flags);
void vfio_container_free(struct stce_host *host, struct vfio_container *c);

/* The platform index of @pe (its slot in open_groups, cdev_bound). */
int vfio_pe_index(struct stce_host *host, const struct stce_pe *pe);

int vfio_group_open(struct stce_host *host, unsigned int number, int flags);
void vfio_group_free(struct stce_host *host, struct vfio_group *g);

/* Unset the group's container (UNSET_CONTAINER, or closing the group). */
void vfio_group_unset_container_locked(struct stce_host *host,
				       struct vfio_group *g);

int vfio_device_open_locked(struct stce_host *host, struct vfio_group *g,
			    const char *name);
/* open(2) of /dev/vfio/devices/vfio<@index> (platform device index). */
int vfio_device_cdev_open_locked(struct stce_host *host, unsigned int index,
				 int flags);
void vfio_device_free(struct stce_host *host, struct vfio_device *d);

int vfio_iommufd_open(struct stce_host *host, int flags);
void vfio_iommufd_free(struct vfio_iommufd *f);
/* The context of iommufd descriptor @fd, or NULL (host->lock held: the
 * context lives while it is). */
struct stce_iommufd *vfio_iommufd_lookup(struct stce_host *host, int fd);

/*
 * Our own reference to the user's eventfd @fd, as eventfd_ctx_fdget: a
 * duplicate (the caller closes it), -EBADF when @fd is not open, -EINVAL
 * when it is not an eventfd.
 */
int vfio_eventfd_get(int fd);

/*
 * A descriptor the kernel's driver would not need (it holds files without
 * one): @make(@arg, @min) makes it at @min or above (min 0 first). At
 * RLIMIT_NOFILE it is made just above the soft limit, which the program
 * can never be handed, the limit raised by one around @make where that is
 * allowed. The descriptor, or -errno (EMFILE when the limit cannot move).
 */
int vfio_own_fd(int (*make)(void *arg, int min), void *arg);


/* Region access (pread/pwrite at the VFIO region offsets). Lock-free:
 * the caller keeps @d alive (a grace read-side section of host->grace). */
ssize_t vfio_device_rw(struct vfio_device *d, void *buf, size_t count,
		       uint64_t off, bool write);

/* Bytes of region @index; 0 for the empty ones (BAR1-5, the ROM). */
uint64_t vfio_device_region_size(unsigned int index);

/*
 * One write of @size bytes of @val at @pos of BAR0, as a region write of
 * that size: -EIO while Memory Space is off, -EINVAL for what the
 * device's registers do not take (narrow or unaligned writes).
 */
int vfio_device_bar0_write(struct vfio_device_state *st, uint64_t pos,
			   unsigned int size, uint64_t val);


/* device_ops.c: the teardown of the device's ioeventfds at its last
 * close (host->lock; returns when no ioeventfd write runs or will run). */
void vfio_device_ioeventfds_release(struct vfio_device_state *st);

/* VFIO-PCI region offsets: the index in the top bits, as vfio-pci does. */
#define VFIO_REGION_SHIFT	40
#define VFIO_REGION_OFFSET(index)	((uint64_t)(index) << VFIO_REGION_SHIFT)
#define VFIO_REGION_INDEX(off)	((off) >> VFIO_REGION_SHIFT)

/*
 * argsz checking as the kernel does it: copy the first @minsz bytes of
 * the user's struct (-EFAULT for a NULL pointer) and refuse an argsz
 * below @minsz (-EINVAL).
 */
int vfio_copy_in(void *dst, const void *arg, size_t minsz);

/* Copy to or from the user's memory; -EFAULT where it is not there. */
int vfio_copy_from_user(void *dst, const void *arg, size_t len);
int vfio_copy_to_user(void *arg, const void *src, size_t len);

/* ---- the ioctl table (ioctls.c) ----------------------------------- */

/* Every struct an ioctl row copies in (the kernel's copy of the user's). */
union vfio_cmd {
	uint32_t argsz;			/* or iommufd's size: first in each */
	int32_t fd;			/* STCE_VFIO_ARG_FD */
	struct vfio_iommu_spapr_tce_info tce_info;
	struct vfio_iommu_type1_dma_map map;
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_iommu_spapr_register_memory reg;
	struct vfio_iommu_spapr_tce_create create;
	struct vfio_iommu_spapr_tce_remove remove;
	struct vfio_eeh_pe_op eeh;
	struct vfio_group_status status;
	struct vfio_device_info dev_info;
	struct vfio_region_info region;
	struct vfio_irq_info irq_info;
	struct vfio_irq_set irq_set;
	struct vfio_pci_hot_reset_info reset_info;
	struct vfio_pci_hot_reset reset;
	struct vfio_device_feature feature;
	struct vfio_device_ioeventfd ioeventfd;
	struct vfio_device_bind_iommufd bind;
	struct vfio_device_attach_iommufd_pt attach;
	struct vfio_device_detach_iommufd_pt detach;
	struct iommu_destroy destroy;
	struct iommu_ioas_alloc ioas_alloc;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map ioas_map;
	struct iommu_ioas_copy ioas_copy;
	struct iommu_ioas_unmap ioas_unmap;
	struct iommu_hwpt_alloc hwpt_alloc;
};

/*
 * One call through the table: what the descriptor names (the member of
 * its kind; @iommu the container's IOMMU, or the iommufd's compat one,
 * for the sPAPR driver's rows), the user's argument, and the copy of its
 * struct that the dispatch made (@usize: the size an iommufd command
 * gave, for its reply).
 */
struct vfio_call {
	struct stce_host *host;
	struct vfio_container *vc;
	struct vfio_group *g;
	struct vfio_device *d;
	struct stce_iommufd *ictx;
	struct stce_container *iommu;
	unsigned long arg_int;		/* STCE_VFIO_ARG_INT */
	void *arg;
	uint32_t usize;
	union vfio_cmd cmd;
};

/* Row flags. */
#define VFIO_OP_LOCKED	1u	/* a structural ioctl: under host->lock */
#define VFIO_OP_CORE	2u	/* container: the VFIO core's, no IOMMU needed */
#define VFIO_OP_COMPAT	16u	/* iommufd: on the compat IOAS's container */
#define VFIO_OP_UNBOUND	32u	/* device: before a cdev is bound too */
#define VFIO_OP_INHERITED 64u	/* answered on a fork child's inherited fd */

/*
 * A row: the ioctl's description (<spapr_tce/vfio.h>), the state checks
 * the kernel makes before it copies the struct in (@cop: 1 + the enum
 * stce_container_op that stce_container_check judges on call->iommu, 0
 * for none; then @check, NULL for none), and the handler, which gets the
 * copy. They return a negative errno or (the handler) the ioctl's value.
 */
struct vfio_ioctl_op {
	const struct stce_vfio_ioctl *info;
	unsigned int cop;
	int (*check)(struct vfio_call *call);
	long (*fn)(struct vfio_call *call);
	unsigned int flags;
};

/* The row of @request in @kind's table, or NULL. */
const struct vfio_ioctl_op *vfio_ioctl_op(enum stce_host_fd_kind kind,
					  unsigned long request);

/*
 * Run @request on @call's object of @kind (container, group, device,
 * iommufd; the caller holds what the row's flags ask for): the kind's
 * gates in the kernel's order, the row's checks, the copy-in, the
 * handler. -ENOTTY (or the kind's answer) for a request with no row.
 */
long vfio_ioctl_dispatch(enum stce_host_fd_kind kind, struct vfio_call *call,
			 unsigned long request);
/* The same with @kind's row of the request already looked up (@op; NULL:
 * none), for a caller that needed it first. */
long vfio_ioctl_dispatch_row(enum stce_host_fd_kind kind,
			     struct vfio_call *call,
			     const struct vfio_ioctl_op *op);

/*
 * MAP_DMA or UNMAP_DMA (@request) on @call->vc, inside the host's
 * read-side section that the descriptor's lookup opened (QEMU's call per
 * TCE): vfio_ioctl_dispatch_row() of the row, the same answers, and the
 * container's own check and section not made twice. @call: vc and arg set.
 */
long vfio_ioctl_container_dma(struct vfio_call *call, unsigned long request);

/* Run @op on @call: its checks, the copy-in its arg asks for, its handler. */
long vfio_ioctl_run(const struct vfio_ioctl_op *op, struct vfio_call *call);

/* The handlers, in the files of their objects (one-line contracts at
 * their definitions); the rows in ioctls.c name them. */
long vfio_op_api_version(struct vfio_call *call);
long vfio_op_check_extension(struct vfio_call *call);
long vfio_op_set_iommu(struct vfio_call *call);
long vfio_op_tce_get_info(struct vfio_call *call);
long vfio_op_map_dma(struct vfio_call *call);
long vfio_op_unmap_dma(struct vfio_call *call);
/* The two for vfio_ioctl_container_dma(): check made, host section held. */
long vfio_op_map_dma_held(struct vfio_call *call);
long vfio_op_unmap_dma_held(struct vfio_call *call);
long vfio_op_enable(struct vfio_call *call);
long vfio_op_disable(struct vfio_call *call);
long vfio_op_register(struct vfio_call *call);
long vfio_op_unregister(struct vfio_call *call);
long vfio_op_tce_create(struct vfio_call *call);
long vfio_op_tce_remove(struct vfio_call *call);
long vfio_op_eeh(struct vfio_call *call);

long vfio_op_group_status(struct vfio_call *call);
long vfio_op_set_container(struct vfio_call *call);
long vfio_op_unset_container(struct vfio_call *call);
long vfio_op_get_device_fd(struct vfio_call *call);

long vfio_op_device_info(struct vfio_call *call);
long vfio_op_region_info(struct vfio_call *call);
long vfio_op_irq_info(struct vfio_call *call);
long vfio_op_set_irqs(struct vfio_call *call);
long vfio_op_reset(struct vfio_call *call);
long vfio_op_bind(struct vfio_call *call);
long vfio_op_attach(struct vfio_call *call);
long vfio_op_detach(struct vfio_call *call);
int vfio_check_cdev(struct vfio_call *call);
int vfio_check_group_device(struct vfio_call *call);
long vfio_op_feature(struct vfio_call *call);
long vfio_op_hot_reset_info(struct vfio_call *call);
long vfio_op_hot_reset(struct vfio_call *call);
long vfio_op_ioeventfd(struct vfio_call *call);

long vfio_op_destroy(struct vfio_call *call);
long vfio_op_ioas_alloc(struct vfio_call *call);
long vfio_op_iova_ranges(struct vfio_call *call);
long vfio_op_ioas_map(struct vfio_call *call);
long vfio_op_ioas_copy(struct vfio_call *call);
long vfio_op_ioas_unmap(struct vfio_call *call);
long vfio_op_hwpt_alloc(struct vfio_call *call);
long vfio_op_compat_check_extension(struct vfio_call *call);
long vfio_op_compat_set_iommu(struct vfio_call *call);
long vfio_op_compat_eeh(struct vfio_call *call);
int vfio_check_compat_groups(struct vfio_call *call);

#endif /* STCE_VFIO_INTERNAL_H */
