// SPDX-License-Identifier: MIT
/*
 * The device descriptor's ioctls beyond regions and interrupts, as the
 * VFIO core and vfio-pci answer them (recorded: conformance client
 * device): VFIO_DEVICE_FEATURE (the core's header checks; of the features
 * only vfio-pci's power ones exist here, and entering or leaving low power
 * changes nothing an emulated function could show), the hot-reset pair
 * (every device on the function's bus is reset together, when the caller
 * holds all of their groups) and VFIO_DEVICE_IOEVENTFD (a BAR write done
 * each time an eventfd is signalled). Called with host->lock held.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "common/alloc.h"
#include "vfio/vfio_internal.h"

/* ---- VFIO_DEVICE_FEATURE ---------------------------------------------- */

#define FEATURE_OPS	(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)

/*
 * The core's rule for one feature: only the operations it has (@ops);
 * PROBE answers 0 there; otherwise GET or SET with @minsz bytes of data.
 * 1 when the caller is to do the operation.
 */
static int feature_check(uint32_t flags, size_t data, uint32_t ops, size_t minsz)
{
	if (flags & FEATURE_OPS & ~ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!(flags & FEATURE_OPS) || data < minsz)
		return -EINVAL;
	return 1;
}

/* LOW_POWER_ENTRY_WITH_WAKEUP: the eventfd must be one (never signalled). */
static int low_power_wakeup(const uint8_t *data)
{
	struct vfio_device_low_power_entry_with_wakeup w;
	int ret, fd;

	ret = vfio_copy_from_user(&w, data, sizeof(w));
	if (ret)
		return ret;
	if (w.reserved)
		return -EINVAL;
	fd = vfio_eventfd_get(w.wakeup_eventfd);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* VFIO_DEVICE_FEATURE: PROBE, and the low-power entries vfio-pci has. */
long vfio_op_feature(struct vfio_call *call)
{
	const size_t minsz = offsetofend(struct vfio_device_feature, flags);
	const uint8_t *data = (const uint8_t *)call->arg + minsz;
	struct vfio_device_feature f = call->cmd.feature;
	size_t len;
	int ret;

	if (f.flags & ~(VFIO_DEVICE_FEATURE_MASK | FEATURE_OPS |
			VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	if (!(f.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (f.flags & FEATURE_OPS) == FEATURE_OPS)
		return -EINVAL;
	len = f.argsz - minsz;
	switch (f.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
	case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		ret = feature_check(f.flags, len, VFIO_DEVICE_FEATURE_SET, 0);
		return ret == 1 ? 0 : ret;
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		ret = feature_check(f.flags, len, VFIO_DEVICE_FEATURE_SET,
			sizeof(struct vfio_device_low_power_entry_with_wakeup));
		return ret == 1 ? low_power_wakeup(data) : ret;
	default:
		/* Migration, dirty logging, a VF token: none here. */
		return -ENOTTY;
	}
}

/* ---- the hot-reset pair ----------------------------------------------- */

#define RESET_MAX	STCE_TOPO_MAX_DEVICES

struct bdf {
	unsigned int seg, bus, devfn;
};

static struct bdf bdf_of(const struct stce_device *dev)
{
	unsigned int seg = 0, bus = 0, slot = 0, fn = 0;

	/* The topology wrote it as dddd:bb:dd.f. */
	sscanf(stce_device_name(dev), "%x:%x:%x.%x", &seg, &bus, &slot, &fn);
	return (struct bdf){ seg, bus, (slot << 3) | fn };
}

/*
 * What a bus reset of @dev's bus resets: every device at the same domain
 * and bus (vfio-pci resets the bus when the slot cannot be reset alone).
 */
static unsigned int reset_set(struct stce_host *host,
			      const struct stce_device *dev,
			      struct stce_device **set)
{
	struct bdf me = bdf_of(dev);
	unsigned int n = 0;

	for (unsigned int i = 0; i < stce_platform_nr_devices(host->platform); i++) {
		struct stce_device *o = stce_platform_device(host->platform, i);
		struct bdf b = bdf_of(o);

		if (b.seg == me.seg && b.bus == me.bus && n < RESET_MAX)
			set[n++] = o;
	}
	return n;
}

/* GET_PCI_HOT_RESET_INFO's check: devices opened through their cdev
 * would name themselves by devid (not served: ENOTTY). */
int vfio_check_group_device(struct vfio_call *call)
{
	return call->d->group ? 0 : -ENOTTY;
}

/* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO (host->lock): the bus's devices. */
long vfio_op_hot_reset_info(struct vfio_call *call)
{
	const size_t minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_dependent_device dep[RESET_MAX];
	struct stce_host *host = call->host;
	struct vfio_device *d = call->d;
	void *arg = call->arg;
	struct stce_device *set[RESET_MAX];
	struct vfio_pci_hot_reset_info h = call->cmd.reset_info;
	unsigned int n;
	int ret, hret;

	h.flags = 0;
	n = reset_set(host, d->dev, set);
	h.count = n;
	if (n > (h.argsz - minsz) / sizeof(dep[0])) {
		ret = -ENOSPC;
	} else {
		for (unsigned int i = 0; i < n; i++) {
			struct bdf b = bdf_of(set[i]);

			dep[i] = (struct vfio_pci_dependent_device){
				.group_id = stce_pe_group(stce_device_pe(set[i])),
				.segment = (uint16_t)b.seg,
				.bus = (uint8_t)b.bus,
				.devfn = (uint8_t)b.devfn,
			};
		}
		ret = vfio_copy_to_user((uint8_t *)arg + minsz, dep,
					n * sizeof(dep[0]));
	}
	hret = vfio_copy_to_user(arg, &h, minsz);
	return hret ? hret : ret;
}

/* Is @pe the PE of one of the groups named by @fds? -EBADF, -EINVAL. */
static int groups_hold(struct stce_host *host, const int32_t *fds,
		       unsigned int n, const struct stce_pe *pe)
{
	bool held = false;

	for (unsigned int i = 0; i < n; i++) {
		struct vfio_obj *obj = vfio_fd_obj(host, fds[i], NULL);

		/* Not open: EBADF; open but no VFIO group (a fork child's
		 * inherited one is the parent's): EINVAL. */
		if (!obj)
			return fcntl(fds[i], F_GETFD) < 0 ? -EBADF : -EINVAL;
		if (obj->kind != VFIO_OBJ_GROUP)
			return -EINVAL;
		held |= ((struct vfio_group *)obj)->pe == pe;
	}
	return held ? 0 : -EINVAL;
}

/*
 * The kernel copies group_fds[count] whatever argsz says (recorded: count
 * 1 with an argsz of the bare header resets); count is only bounded by
 * the number of devices the reset affects (EINVAL above it).
 */
long vfio_op_hot_reset(struct vfio_call *call)
{
	const size_t minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct stce_host *host = call->host;
	struct vfio_device *d = call->d;
	void *arg = call->arg;
	struct stce_device *set[RESET_MAX];
	int32_t fds[RESET_MAX];
	struct vfio_pci_hot_reset h = call->cmd.reset;
	unsigned int n;
	int ret;

	/* A group's device names the groups; only a cdev's may give none. */
	if (h.flags || !d->group || !h.count)
		return -EINVAL;
	n = reset_set(host, d->dev, set);
	if (h.count > n)
		return -EINVAL;
	ret = vfio_copy_from_user(fds, (uint8_t *)arg + minsz,
				  h.count * sizeof(fds[0]));
	if (ret)
		return ret;
	for (unsigned int i = 0; i < n; i++) {
		ret = groups_hold(host, fds, h.count, stce_device_pe(set[i]));
		if (ret)
			return ret;
	}
	for (unsigned int i = 0; i < n; i++)
		stce_device_function_reset(set[i]);
	return 0;
}

/* ---- VFIO_DEVICE_IOEVENTFD -------------------------------------------- */

/*
 * vfio-pci watches the eventfd from the kernel's wakeup: each signal
 * takes the count and does the write in the signaller's context. Here a
 * thread per device (started by the first registration) waits on every
 * registered eventfd with one edge-triggered epoll: each signal wakes it,
 * it takes the count and does the write. So the write follows the signal
 * by a thread switch instead of within it, and signals that come before
 * the thread runs are one write (the kernel writes once a signal).
 *
 * Locking: ioe->lock guards the table and is held across each write, so
 * when a removal or the last close returns no write of it runs or will
 * run (vfio-pci flushes the same way). The write takes the device's lock
 * and, through its interrupt handler, irq_lock; neither is ever held while
 * ioe->lock is taken, and the thread never takes host->lock, which the
 * ioctls and the last close hold while they wait for ioe->lock or the
 * thread.
 */

#define IOEVENTFD_MAX	1000		/* vfio-pci's per device */
#define IOEVENTFD_STOP	UINT64_MAX	/* the stop eventfd's epoll key */
#define IOEVENTFD_BATCH	64		/* events taken per epoll_wait */

/* One registration: @count bytes of @data written at @off each signal. */
struct ioeventfd {
	uint64_t off, data;	/* off: the region offset, index << 40 | pos */
	unsigned int count;	/* 0: the slot is free */
	uint32_t gen;		/* bumped at each registration in the slot */
	int fd;			/* our duplicate of the user's eventfd */
};

struct vfio_ioeventfds {
	struct vfio_device_state *st;
	pthread_mutex_t lock;
	struct ioeventfd slot[IOEVENTFD_MAX];
	unsigned int nr;
	bool stopping;
	int epfd, stopfd;
	pthread_t thread;
};

/* The epoll key of a slot: an event harvested before the slot was freed
 * or reused names an older generation and is dropped. */
static uint64_t slot_key(const struct vfio_ioeventfds *ioe, unsigned int i)
{
	return (uint64_t)ioe->slot[i].gen << 32 | i;
}

static struct ioeventfd *slot_of_key(struct vfio_ioeventfds *ioe,
				     uint64_t key)
{
	uint32_t i = (uint32_t)key;

	if (i >= IOEVENTFD_MAX || !ioe->slot[i].count ||
	    ioe->slot[i].gen != (uint32_t)(key >> 32))
		return NULL;
	return &ioe->slot[i];
}

/*
 * Take the count from @fd, as the kernel's wakeup does, never blocking: a
 * thread of the program may read it first. RWF_NOWAIT leaves the user's
 * file status flags (shared with our duplicate) alone; kernels whose
 * eventfds refuse it get poll, then read. True when there was a count.
 * errno is kept: a registration that succeeds leaves it as it was.
 */
static bool eventfd_take(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int saved = errno;
	uint64_t cnt = 0;
	struct iovec iov = { &cnt, sizeof(cnt) };
	ssize_t n = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);

	if (n < 0 && errno == EOPNOTSUPP && poll(&p, 1, 0) == 1)
		n = read(fd, &cnt, sizeof(cnt));
	errno = saved;
	return n == sizeof(cnt);
}

/* The registered write; dropped (as vfio-pci's) while Memory Space is
 * off or where the device takes no such write. ioe->lock held. */
static void ioeventfd_fire_locked(struct vfio_ioeventfds *ioe,
				  const struct ioeventfd *e)
{
	uint64_t pos = e->off & (VFIO_REGION_OFFSET(1) - 1);

	stce_assert_held(&ioe->lock);
	(void)vfio_device_bar0_write(ioe->st, pos, e->count, e->data);
}

static void *ioeventfd_thread(void *arg)
{
	struct vfio_ioeventfds *ioe = arg;
	struct epoll_event ev[IOEVENTFD_BATCH];
	bool stop = false;

	while (!stop) {
		int n = epoll_wait(ioe->epfd, ev, IOEVENTFD_BATCH, -1);

		pthread_mutex_lock(&ioe->lock);
		for (int i = 0; i < n && !ioe->stopping; i++) {
			struct ioeventfd *e = slot_of_key(ioe, ev[i].data.u64);

			/* Every registration on the eventfd gets its own
			 * event; the first takes the count. */
			if (e) {
				eventfd_take(e->fd);
				ioeventfd_fire_locked(ioe, e);
			}
		}
		stop = ioe->stopping;
		pthread_mutex_unlock(&ioe->lock);
	}
	return NULL;
}

static void ioeventfds_free(struct vfio_ioeventfds *ioe)
{
	for (unsigned int i = 0; i < IOEVENTFD_MAX; i++)
		if (ioe->slot[i].count)
			close(ioe->slot[i].fd);
	if (ioe->epfd >= 0)
		close(ioe->epfd);
	if (ioe->stopfd >= 0)
		close(ioe->stopfd);
	pthread_mutex_destroy(&ioe->lock);
	stce_free(ioe);
}

/* The table's descriptors (vfio_own_fd: at RLIMIT_NOFILE too, where the
 * kernel needs none; the lowest free number is then the one above). */
static int make_epoll(void *arg, int min)
{
	(void)arg;
	(void)min;
	return epoll_create1(EPOLL_CLOEXEC);
}

static int make_stopfd(void *arg, int min)
{
	(void)arg;
	(void)min;
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

/*
 * The table, its epoll and its thread, at the first registration. The
 * thread takes no signal: the program's handlers stay on its threads.
 */
static int ioeventfds_create(struct vfio_device_state *st)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = IOEVENTFD_STOP };
	struct vfio_ioeventfds *ioe = stce_zalloc(sizeof(*ioe));
	sigset_t all, old;
	int ret;

	if (!ioe)
		return -ENOMEM;
	ioe->st = st;
	pthread_mutex_init(&ioe->lock, NULL);
	ioe->epfd = vfio_own_fd(make_epoll, NULL);
	ioe->stopfd = vfio_own_fd(make_stopfd, NULL);
	ret = -ENOMEM;
	if (ioe->epfd < 0 || ioe->stopfd < 0 ||
	    epoll_ctl(ioe->epfd, EPOLL_CTL_ADD, ioe->stopfd, &ev))
		goto fail;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&ioe->thread, NULL, ioeventfd_thread, ioe);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		goto fail;
	st->ioeventfds = ioe;
	return 0;
fail:
	ioeventfds_free(ioe);
	return ret == -EAGAIN ? -ENOMEM : ret;
}

/* See vfio_internal.h. */
void vfio_device_ioeventfds_release(struct vfio_device_state *st)
{
	struct vfio_ioeventfds *ioe = st->ioeventfds;
	uint64_t one = 1;

	if (!ioe)
		return;
	pthread_mutex_lock(&ioe->lock);
	ioe->stopping = true;
	pthread_mutex_unlock(&ioe->lock);
	/* Cannot fail: the stop eventfd's count is 0 until this write. */
	if (write(ioe->stopfd, &one, sizeof(one)) == sizeof(one))
		pthread_join(ioe->thread, NULL);
	ioeventfds_free(ioe);
	st->ioeventfds = NULL;
}

static struct ioeventfd *ioeventfd_find(struct vfio_ioeventfds *ioe,
					uint64_t off, uint64_t data,
					unsigned int count)
{
	for (unsigned int i = 0; i < IOEVENTFD_MAX; i++) {
		struct ioeventfd *e = &ioe->slot[i];

		if (e->count == count && e->off == off && e->data == data)
			return e;
	}
	return NULL;
}

/*
 * A new registration, ioe->lock held: the eventfd as eventfd_ctx_fdget
 * takes it (not open EBADF, not an eventfd EINVAL). A count the eventfd
 * already holds is taken and written at once, before the epoll watch
 * starts, so it is written once (the kernel writes it too, but leaves the
 * count).
 */
static int ioeventfd_add_locked(struct vfio_ioeventfds *ioe, uint64_t off,
				uint64_t data, unsigned int count, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct ioeventfd *e = NULL;
	unsigned int i;
	int own;

	stce_assert_held(&ioe->lock);
	for (i = 0; i < IOEVENTFD_MAX && !e; i++)
		if (!ioe->slot[i].count)
			e = &ioe->slot[i];
	own = vfio_eventfd_get(fd);
	if (own < 0)
		return own;
	*e = (struct ioeventfd){ .off = off, .data = data, .count = count,
				 .gen = e->gen + 1, .fd = own };
	if (eventfd_take(own))
		ioeventfd_fire_locked(ioe, e);
	ev.data.u64 = slot_key(ioe, (unsigned int)(e - ioe->slot));
	if (epoll_ctl(ioe->epfd, EPOLL_CTL_ADD, own, &ev)) {
		int ret = -errno;

		close(own);
		e->count = 0;
		return ret;
	}
	ioe->nr++;
	return 0;
}

static void ioeventfd_remove_locked(struct vfio_ioeventfds *ioe,
				    struct ioeventfd *e)
{
	stce_assert_held(&ioe->lock);
	epoll_ctl(ioe->epfd, EPOLL_CTL_DEL, e->fd, NULL);
	close(e->fd);
	e->count = 0;
	ioe->nr--;
}

/*
 * vfio-pci's checks in its order: the struct (argsz from the end of fd,
 * flags but the size bits, a size that is not one of 1, 2, 4, 8, an fd
 * below -1: EINVAL), a region that is not a BAR or a write not inside it
 * (EINVAL); then the table: the same (offset, data, size) is EEXIST, or
 * removed by fd -1; -1 (or below) for none is ENODEV; the 1000th
 * registration is the last (ENOSPC); then the eventfd. Unaligned offsets
 * are accepted, as vfio-pci accepts them; the device drops the write.
 */
long vfio_op_ioeventfd(struct vfio_call *call)
{
	struct vfio_device_state *st = call->d->state;
	struct vfio_device_ioeventfd req = call->cmd.ioeventfd;
	struct vfio_ioeventfds *ioe;
	struct ioeventfd *e;
	uint64_t index, pos;
	unsigned int count;
	int ret = 0;

	count = req.flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	if (req.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK ||
	    __builtin_popcount(count) != 1 || req.fd < -1)
		return -EINVAL;
	index = VFIO_REGION_INDEX(req.offset);
	pos = req.offset & (VFIO_REGION_OFFSET(1) - 1);
	if (index > VFIO_PCI_BAR5_REGION_INDEX ||
	    pos + count > vfio_device_region_size((unsigned int)index))
		return -EINVAL;
	if (!st->ioeventfds) {
		if (req.fd < 0)
			return -ENODEV;	/* nothing registered to remove */
		ret = ioeventfds_create(st);
		if (ret)
			return ret;
	}
	ioe = st->ioeventfds;
	pthread_mutex_lock(&ioe->lock);
	e = ioeventfd_find(ioe, req.offset, req.data, count);
	if (e && req.fd == -1)
		ioeventfd_remove_locked(ioe, e);
	else if (e)
		ret = -EEXIST;
	else if (req.fd < 0)
		ret = -ENODEV;
	else if (ioe->nr >= IOEVENTFD_MAX)
		ret = -ENOSPC;
	else
		ret = ioeventfd_add_locked(ioe, req.offset, req.data, count,
					   req.fd);
	pthread_mutex_unlock(&ioe->lock);
	return ret;
}
