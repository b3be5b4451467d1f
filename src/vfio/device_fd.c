// SPDX-License-Identifier: MIT
/*
 * The device descriptor, as vfio-pci serves it for the emulated DMA test
 * device: GET_INFO, GET_REGION_INFO (config space and BAR0; the other
 * BARs and the ROM are empty), region read/write at the region offsets
 * (index << 40), GET_IRQ_INFO / SET_IRQS (INTx and REQ with eventfd
 * triggers), RESET.
 *
 * The first open enables the function as vfio-pci's does (Memory Space
 * on); BAR access is EIO while the user keeps Memory Space off.
 *
 * Opening one pins its group (and so the group's container) until it is
 * closed. A device opened through its cdev (/dev/vfio/devices/vfioN) has
 * no group: it answers VFIO_DEVICE_BIND_IOMMUFD only (EINVAL to the rest,
 * region access included) until it is bound to an iommufd, then attaches
 * to an IOAS or HWPT of it (src/iommufd); while it is bound, its group
 * cannot be opened, and while the group is open it cannot be bound.
 *
 * The interrupt set-up is per device, shared by its descriptors, and torn
 * down when the last one closes (vfio-pci's close_device). INTx follows
 * vfio-pci for a PCI 2.3 device with a level-triggered pin: automasked at
 * delivery, re-sent at UNMASK while the device still asserts, and masked
 * by the user's (virtualized) INTx Disable bit too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/vfio.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif

#include <spapr_tce/iommufd.h>

#include "common/alloc.h"
#include "vfio/vfio_internal.h"

/* Bytes the largest region (BAR0) holds: bounds one access. */
#define RW_MAX		STCE_DMATEST_BAR0_SIZE

static int device_index(struct stce_host *host, const struct stce_device *dev)
{
	for (unsigned int i = 0; i < stce_platform_nr_devices(host->platform); i++)
		if (stce_platform_device(host->platform, i) == dev)
			return (int)i;
	return -ENODEV;
}

/* ---- Interrupts ---------------------------------------------------- */

static void signal_eventfd(int fd)
{
	uint64_t one = 1;

	/* A full counter (2^64 - 2 unread signals) drops the signal. */
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		return;
}

/*
 * The user's eventfd, as vfio-pci sends it: in INTx mode, with a trigger,
 * and not while the user has set INTx Disable. irq_lock held.
 */
static void intx_send_locked(struct vfio_device_state *st)
{
	stce_assert_held(&st->irq_lock);
	if (st->intx_on && !st->virq_disabled && st->intx_trigger >= 0)
		signal_eventfd(st->intx_trigger);
}

/* An open line takes the interrupt: it masks (INTx is automasked) and the
 * user is signalled. irq_lock held. */
static void intx_deliver_locked(struct vfio_device_state *st)
{
	stce_assert_held(&st->irq_lock);
	if (!st->intx_on || st->intx_masked)
		return;
	st->intx_masked = true;
	intx_send_locked(st);
}

/*
 * The device's pin rose (its lock held). While the line is masked the
 * edge goes unseen, as at a masked interrupt source: the level stays, and
 * the unmask that opens the line finds it (intx_recheck).
 */
static void device_irq(void *ctx)
{
	struct vfio_device_state *st = ctx;

	pthread_mutex_lock(&st->irq_lock);
	intx_deliver_locked(st);
	pthread_mutex_unlock(&st->irq_lock);
}

/* MASK, or INTx Disable set. irq_lock held. */
static void intx_mask_locked(struct vfio_device_state *st)
{
	stce_assert_held(&st->irq_lock);
	if (st->intx_on)
		st->intx_masked = true;
}

/*
 * UNMASK, or INTx Disable cleared, irq_lock held: a masked line opens
 * unless the user keeps INTx disabled. True when it opened: the caller
 * then runs intx_recheck() without irq_lock.
 */
static bool intx_unmask_locked(struct vfio_device_state *st)
{
	stce_assert_held(&st->irq_lock);
	if (!st->intx_on || !st->intx_masked || st->virq_disabled)
		return false;
	st->intx_masked = false;
	return true;
}

/*
 * The rest of an unmask. vfio-pci opens the line only when the device is
 * not asserting; when it is, it sends the interrupt again and stays
 * masked. Here the line opened first (irq_lock cannot be held while the
 * device is asked), so an edge meanwhile was delivered by device_irq and
 * masked again: then nothing more is sent. The status is all-ones - so
 * asserting - while the PE is frozen, as the kernel's config read sees it.
 */
static void intx_recheck(struct vfio_device_state *st)
{
	uint32_t status = 0;

	if (stce_device_config_read(st->dev, STCE_PCI_STATUS, 2, &status) ||
	    !(status & STCE_PCI_STATUS_INTERRUPT))
		return;
	pthread_mutex_lock(&st->irq_lock);
	intx_deliver_locked(st);
	pthread_mutex_unlock(&st->irq_lock);
}

/*
 * The user wrote the command register's INTx Disable bit, which vfio-pci
 * virtualizes: the user reads back what it wrote, and the bit masks and
 * unmasks INTx as MASK and UNMASK do (and also blocks the eventfd).
 */
static void intx_disable_write(struct vfio_device_state *st, bool disable)
{
	bool recheck = false;

	pthread_mutex_lock(&st->irq_lock);
	if (disable != st->virq_disabled) {
		st->virq_disabled = disable;
		if (disable)
			intx_mask_locked(st);
		else
			recheck = intx_unmask_locked(st);
	}
	pthread_mutex_unlock(&st->irq_lock);
	if (recheck)
		intx_recheck(st);
}

static void close_trigger(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * What the first open does to the function: pci_enable_device turns
 * Memory Space on (BAR0 is a memory BAR; there is no I/O BAR), Bus Master
 * stays as the last close left it (off). vfio-pci's copy of the enable
 * starts as the device then shows it.
 */
static void device_enable(struct vfio_device_state *st)
{
	uint32_t cmd = 0;

	if (!stce_device_config_read(st->dev, STCE_PCI_COMMAND, 2, &cmd))
		stce_device_config_write(st->dev, STCE_PCI_COMMAND, 2,
					 cmd | STCE_PCI_COMMAND_MEMORY);
	if (stce_device_config_read(st->dev, STCE_PCI_COMMAND, 2, &cmd))
		cmd = 0;
	atomic_init(&st->mem_enabled, cmd & STCE_PCI_COMMAND_MEMORY);
}

static struct vfio_device_state *state_get_locked(struct stce_host *host,
						  struct stce_device *dev,
						  int idx)
{
	struct vfio_device_state *st = host->dev_state[idx];

	stce_assert_held(&host->lock);
	if (st) {
		st->users++;
		return st;
	}
	st = stce_zalloc(sizeof(*st));
	if (!st)
		return NULL;
	st->dev = dev;
	st->users = 1;
	st->intx_trigger = -1;
	st->req_trigger = -1;
	/* vfio-pci fills its virtual config space when the device opens. */
	if (stce_device_config_read(dev, 0, 4, &st->ids))
		st->ids = 0xffffffff;
	pthread_mutex_init(&st->irq_lock, NULL);
	device_enable(st);
	host->dev_state[idx] = st;
	stce_device_set_irq_handler(dev, device_irq, st);
	return st;
}

/* The last descriptor went: ioeventfds gone, interrupts off, bus
 * mastering off, as vfio-pci's disable path leaves the function. */
static void state_put_locked(struct stce_host *host, struct vfio_device_state *st)
{
	int idx;

	stce_assert_held(&host->lock);
	if (--st->users)
		return;
	vfio_device_ioeventfds_release(st);
	stce_device_set_irq_handler(st->dev, NULL, NULL);
	close_trigger(&st->intx_trigger);
	close_trigger(&st->req_trigger);
	stce_device_config_write(st->dev, STCE_PCI_COMMAND, 2, 0);
	stce_device_function_reset(st->dev);
	idx = device_index(host, st->dev);
	if (idx >= 0)
		host->dev_state[idx] = NULL;
	pthread_mutex_destroy(&st->irq_lock);
	stce_free(st);
}

/* ---- Open and close ------------------------------------------------ */

static struct vfio_device *device_alloc(struct stce_host *host,
				       struct stce_device *dev)
{
	struct vfio_device *d = stce_zalloc(sizeof(*d));

	if (!d)
		return NULL;
	d->obj.kind = VFIO_OBJ_DEVICE;
	atomic_init(&d->obj.refs, 1);
	d->dev = dev;
	d->pe_idx = (unsigned int)vfio_pe_index(host, stce_device_pe(dev));
	return d;
}

/* See vfio_internal.h. */
int vfio_device_cdev_open_locked(struct stce_host *host, unsigned int index,
				 int flags)
{
	struct vfio_device *d;
	int fd;

	stce_assert_held(&host->lock);
	if (index >= stce_platform_nr_devices(host->platform))
		return -ENOENT;
	d = device_alloc(host, stce_platform_device(host->platform, index));
	if (!d)
		return -ENOMEM;
	atomic_init(&d->granted, false);
	fd = vfio_fd_install(host, &d->obj, flags);
	if (fd < 0)
		stce_free(d);
	return fd;
}

/* See vfio_internal.h. */
int vfio_device_open_locked(struct stce_host *host, struct vfio_group *g,
			    const char *name)
{
	struct stce_device *dev = NULL;
	struct vfio_device *d;
	int fd, idx;

	stce_assert_held(&host->lock);
	for (unsigned int i = 0; i < stce_platform_nr_devices(host->platform); i++) {
		struct stce_device *cand = stce_platform_device(host->platform, i);

		if (stce_device_pe(cand) == g->pe &&
		    !strcmp(stce_device_name(cand), name))
			dev = cand;
	}
	if (!dev)
		return -ENODEV;
	/* A container with its IOMMU set, or an iommufd (the compat path,
	 * whose IOAS exists from SET_CONTAINER on). */
	if (!g->iommufd &&
	    (!g->container || !atomic_load(&g->container->iommu)))
		return -EINVAL;
	idx = device_index(host, dev);
	if (idx < 0)
		return idx;
	d = device_alloc(host, dev);
	if (!d)
		return -ENOMEM;
	d->group = g;
	atomic_init(&d->granted, true);
	d->state = state_get_locked(host, dev, idx);
	if (!d->state) {
		stce_free(d);
		return -ENOMEM;
	}
	/* An anonymous inode, as the kernel's: O_RDWR, close-on-exec. */
	fd = vfio_fd_install(host, &d->obj, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		state_put_locked(host, d->state);
		stce_free(d);
		return fd;
	}
	vfio_obj_get(&g->obj);
	g->nr_devices++;
	return fd;
}

/* Closing a bound cdev: the device object goes (detached first: its PE
 * back with the platform), then the context reference. */
static void cdev_unbind(struct vfio_device *d)
{
	stce_iommufd_unbind(d->ictx, d->dev_id);
	stce_iommufd_put(d->ictx);
	d->ictx = NULL;
}

/* See vfio_internal.h. */
void vfio_device_free(struct stce_host *host, struct vfio_device *d)
{
	/* As the kernel's close: the device first, then the binding (its
	 * PE leaves the domain and goes back to the platform). */
	if (d->state)
		state_put_locked(host, d->state);
	if (d->group) {
		d->group->nr_devices--;
		vfio_obj_put_locked(host, &d->group->obj);
	} else if (d->ictx) {
		cdev_unbind(d);
		host->cdev_bound[d->pe_idx]--;
	}
	stce_free(d);
}

/* ---- Regions ------------------------------------------------------- */

/* See vfio_internal.h. */
uint64_t vfio_device_region_size(unsigned int index)
{
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return STCE_PCI_CONFIG_SIZE;
	case VFIO_PCI_BAR0_REGION_INDEX:
		return STCE_DMATEST_BAR0_SIZE;
	default:
		return 0;
	}
}

/* The widest naturally aligned access of at most @max bytes at @pos. */
static unsigned int access_size(uint64_t pos, size_t left, unsigned int max)
{
	for (unsigned int size = max; size > 1; size /= 2)
		if (!(pos % size) && left >= size)
			return size;
	return 1;
}

/* INTx Disable is bit 10 of the command register: bit 2 of byte 5. */
#define INTX_DISABLE_BYTE	(STCE_PCI_COMMAND + 1)
#define INTX_DISABLE_BIT	(STCE_PCI_COMMAND_INTX_DISABLE >> 8)

/*
 * Config space: the device's, except INTx Disable, which is the user's
 * (vfio-pci virtualizes it): reads show what the user wrote, writes keep
 * the device's own bit clear and mask or unmask INTx instead. A write
 * starting at the command register also sets vfio-pci's copy of Memory
 * Space (reads show the device's bit: after an EEH reset cleared it,
 * BAR access still works until the user writes it).
 */
static int config_access(struct vfio_device_state *st, uint8_t *buf,
			 uint64_t pos, unsigned int size, bool write)
{
	bool intx = pos <= INTX_DISABLE_BYTE && INTX_DISABLE_BYTE < pos + size;
	uint32_t v = 0, bit = 0;
	int ret;

	/*
	 * vfio-pci serves the ids from its virtual copy (writes dropped),
	 * and while the PE is being reset it blocks the rest (-ENODEV,
	 * recorded: conformance client eeh_seq). An aligned access below 4
	 * stays below 4.
	 */
	if (pos < 4) {
		if (!write)
			memcpy(buf, (uint8_t *)&st->ids + pos, size);
		return 0;
	}
	if (stce_pe_reset_asserted(stce_device_pe(st->dev)))
		return -ENODEV;
	if (intx)
		bit = INTX_DISABLE_BIT << 8 * (INTX_DISABLE_BYTE - pos);

	if (write) {
		memcpy(&v, buf, size);	/* little-endian host, as the ABI */
		ret = stce_device_config_write(st->dev, (uint32_t)pos, size,
					       v & ~bit);
		if (ret)
			return ret;
		if (pos == STCE_PCI_COMMAND)
			atomic_store(&st->mem_enabled,
				     v & STCE_PCI_COMMAND_MEMORY);
		if (intx)
			intx_disable_write(st, v & bit);
		return 0;
	}
	ret = stce_device_config_read(st->dev, (uint32_t)pos, size, &v);
	if (ret)
		return ret;
	if (intx) {
		pthread_mutex_lock(&st->irq_lock);
		v = (v & ~bit) | (st->virq_disabled ? bit : 0);
		pthread_mutex_unlock(&st->irq_lock);
	}
	memcpy(buf, &v, size);
	return 0;
}

/*
 * BAR0: -EIO while Memory Space is off (vfio-pci checks every access).
 * 8- and 4-byte accesses go to the device as they are. A narrower read
 * reads the 4 bytes around it; a narrower write is refused (-EINVAL): the
 * device's registers take 4 and 8 bytes only.
 */
static int bar0_access(struct vfio_device_state *st, uint8_t *buf,
		       uint64_t pos, unsigned int size, bool write)
{
	struct stce_device *dev = st->dev;
	uint64_t v = 0;
	int ret;

	if (!atomic_load(&st->mem_enabled))
		return -EIO;
	if (size >= 4) {
		if (write) {
			memcpy(&v, buf, size);
			return stce_device_mmio_write(dev, 0, pos, size, v);
		}
		ret = stce_device_mmio_read(dev, 0, pos, size, &v);
		if (!ret)
			memcpy(buf, &v, size);
		return ret;
	}
	if (write)
		return -EINVAL;
	ret = stce_device_mmio_read(dev, 0, pos & ~3ULL, 4, &v);
	if (!ret)
		memcpy(buf, (uint8_t *)&v + (pos & 3), size);
	return ret;
}

/* See vfio_internal.h. */
int vfio_device_bar0_write(struct vfio_device_state *st, uint64_t pos,
			   unsigned int size, uint64_t val)
{
	uint8_t buf[8];

	memcpy(buf, &val, sizeof(buf));	/* little-endian, as the ABI */
	return bar0_access(st, buf, pos, size, true);
}

/* See vfio_internal.h. */
ssize_t vfio_device_rw(struct vfio_device *d, void *ubuf, size_t count,
		       uint64_t off, bool write)
{
	uint64_t index = VFIO_REGION_INDEX(off);
	uint64_t pos = off & (VFIO_REGION_OFFSET(1) - 1), size;
	uint8_t buf[RW_MAX];
	size_t done = 0;
	int ret = 0;

	if (!atomic_load(&d->granted))
		return -EINVAL;	/* a cdev not bound yet */
	if (index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	size = vfio_device_region_size((unsigned int)index);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		/* vfio-pci's config space: all of it inside, or EFAULT. */
		if (count && (pos >= size || count > size - pos))
			return -EFAULT;
	} else {
		/* A BAR: from inside it, clipped at its end. */
		if (pos >= size)
			return -EINVAL;
		if (count > size - pos)
			count = (size_t)(size - pos);
	}
	if (write) {
		ret = vfio_copy_from_user(buf, ubuf, count);
		if (ret)
			return ret;
	}
	while (done < count) {
		unsigned int n;

		if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
			n = access_size(pos + done, count - done, 4);
			ret = config_access(d->state, buf + done, pos + done,
					    n, write);
		} else {
			n = access_size(pos + done, count - done, 8);
			ret = bar0_access(d->state, buf + done, pos + done, n,
					  write);
		}
		if (ret)
			break;
		done += n;
	}
	/* As the kernel: a failure after some bytes reports those bytes. */
	if (!done && ret)
		return ret;
	if (!write && done) {
		ret = vfio_copy_to_user(ubuf, buf, done);
		if (ret)
			return ret;
	}
	return (ssize_t)done;
}

/* VFIO_DEVICE_GET_INFO: what every device of the emulated kind has. */
long vfio_op_device_info(struct vfio_call *call)
{
	struct vfio_device_info *info = &call->cmd.dev_info;

	info->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info->num_regions = VFIO_PCI_NUM_REGIONS;
	info->num_irqs = VFIO_PCI_NUM_IRQS;
	return vfio_copy_to_user(call->arg, info,
				 offsetofend(struct vfio_device_info, num_irqs));
}

/* VFIO_DEVICE_GET_REGION_INFO: a region's offset, size and flags. */
long vfio_op_region_info(struct vfio_call *call)
{
	struct vfio_region_info info = call->cmd.region;
	const size_t minsz = offsetofend(struct vfio_region_info, offset);

	/* No VGA on this device: its index is refused, as vfio-pci does. */
	if (info.index >= VFIO_PCI_NUM_REGIONS ||
	    info.index == VFIO_PCI_VGA_REGION_INDEX)
		return -EINVAL;
	info.offset = VFIO_REGION_OFFSET(info.index);
	info.size = vfio_device_region_size(info.index);
	/*
	 * Not mmap-able: the registers act on every access (a CMD write
	 * runs the DMA engine), which a plain mapping cannot emulate.
	 */
	info.flags = info.size ? VFIO_REGION_INFO_FLAG_READ |
				 VFIO_REGION_INFO_FLAG_WRITE : 0;
	info.cap_offset = 0;
	return vfio_copy_to_user(call->arg, &info, minsz);
}

/* ---- IRQ ioctls ---------------------------------------------------- */

/* Interrupts of each index: INTA; no MSI/MSI-X capability; no AER (not
 * PCI Express); one device request interrupt. */
static unsigned int irq_count(unsigned int index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

/* VFIO_DEVICE_GET_IRQ_INFO: INTx and the request interrupt. */
long vfio_op_irq_info(struct vfio_call *call)
{
	struct vfio_irq_info info = call->cmd.irq_info;
	const size_t minsz = offsetofend(struct vfio_irq_info, count);

	if (info.index >= VFIO_PCI_NUM_IRQS ||
	    info.index == VFIO_PCI_ERR_IRQ_INDEX)
		return -EINVAL;
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	info.count = irq_count(info.index);
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	return vfio_copy_to_user(call->arg, &info, minsz);
}

/* See vfio_internal.h. */
int vfio_own_fd(int (*make)(void *arg, int min), void *arg)
{
	struct rlimit rl, up;
	int fd = make(arg, 0);

	if (fd >= 0 || errno != EMFILE)
		return fd < 0 ? -errno : fd;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -EMFILE;
	up = rl;
	up.rlim_cur++;
	if (up.rlim_max < up.rlim_cur)
		up.rlim_max = up.rlim_cur;	/* CAP_SYS_RESOURCE only */
	if (setrlimit(RLIMIT_NOFILE, &up))
		return -EMFILE;
	fd = make(arg, (int)rl.rlim_cur);
	setrlimit(RLIMIT_NOFILE, &rl);
	return fd < 0 ? -EMFILE : fd;
}

/* A raw call: the preload library would take it for one of the
 * program's duplicates. */
static int dup_eventfd(void *arg, int min)
{
	return (int)syscall(SYS_fcntl, *(int *)arg, F_DUPFD_CLOEXEC, min);
}

/* See vfio_internal.h. */
int vfio_eventfd_get(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = 0;
	if (strcmp(target, "anon_inode:[eventfd]"))
		return -EINVAL;
	return vfio_own_fd(dup_eventfd, &fd);
}

/* Replace *@slot with the user's eventfd @fd (< 0: none). */
static int set_trigger(int *slot, int32_t fd)
{
	int own = -1;

	if (fd >= 0) {
		own = vfio_eventfd_get(fd);
		if (own < 0)
			return own;
	}
	close_trigger(slot);
	*slot = own;
	return 0;
}

struct irq_set_req {
	struct vfio_irq_set hdr;
	uint32_t data_type, action;
	uint8_t data[4];	/* the one element a count-1 set carries */
};

/* MASK and UNMASK, irq_lock held; *@recheck: run intx_recheck() after. */
static int intx_mask_set(struct vfio_device_state *st, struct irq_set_req *r,
			 bool *recheck)
{
	int32_t efd;

	if (!st->intx_on || r->hdr.start || r->hdr.count != 1)
		return -EINVAL;
	if (r->data_type == VFIO_IRQ_SET_DATA_BOOL && !r->data[0])
		return 0;
	if (r->action == VFIO_IRQ_SET_ACTION_MASK) {
		if (r->data_type == VFIO_IRQ_SET_DATA_EVENTFD)
			return -ENOTTY;	/* vfio-pci has no irqfd mask */
		intx_mask_locked(st);
		return 0;
	}
	if (r->data_type == VFIO_IRQ_SET_DATA_EVENTFD) {
		/* irqfd unmask (KVM's resample) is not offered; -1, which
		 * turns it off, has nothing to turn off. */
		memcpy(&efd, r->data, sizeof(efd));
		return efd < 0 ? 0 : -EINVAL;
	}
	*recheck = intx_unmask_locked(st);
	return 0;
}

/* TRIGGER, irq_lock held. */
static int intx_trigger_set(struct vfio_device_state *st,
			    struct irq_set_req *r)
{
	int32_t efd;
	int ret;

	if (st->intx_on && !r->hdr.count &&
	    r->data_type == VFIO_IRQ_SET_DATA_NONE) {
		close_trigger(&st->intx_trigger);
		st->intx_on = st->intx_masked = false;
		return 0;
	}
	if (r->hdr.start || r->hdr.count != 1)
		return -EINVAL;
	if (r->data_type == VFIO_IRQ_SET_DATA_EVENTFD) {
		memcpy(&efd, r->data, sizeof(efd));
		ret = set_trigger(&st->intx_trigger, efd);
		if (ret || st->intx_on)
			return ret;
		/*
		 * INTx mode starts (with or without an eventfd, as vfio-pci's
		 * for -1), masked when the user has INTx disabled. A level
		 * already asserted is not delivered until its next edge or
		 * unmask: what the kernel did on the oracle.
		 */
		st->intx_on = true;
		st->intx_masked = st->virq_disabled;
		return 0;
	}
	/* NONE or BOOL: a test interrupt (loopback), mask state unchanged. */
	if (!st->intx_on)
		return -EINVAL;
	if (r->data_type == VFIO_IRQ_SET_DATA_NONE || r->data[0])
		intx_send_locked(st);
	return 0;
}

static int req_set(struct vfio_device_state *st, struct irq_set_req *r)
{
	int32_t efd;

	if (r->action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -ENOTTY;
	if (!r->hdr.count && r->data_type == VFIO_IRQ_SET_DATA_NONE) {
		close_trigger(&st->req_trigger);
		return 0;
	}
	if (r->data_type == VFIO_IRQ_SET_DATA_EVENTFD) {
		memcpy(&efd, r->data, sizeof(efd));
		return set_trigger(&st->req_trigger, efd);
	}
	if (st->req_trigger < 0)
		return -EINVAL;
	if (r->data_type == VFIO_IRQ_SET_DATA_NONE || r->data[0])
		signal_eventfd(st->req_trigger);
	return 0;
}

/* The header checks of vfio_set_irqs_validate_and_prepare. */
static int irq_set_validate(void *arg, struct irq_set_req *r)
{
	const size_t minsz = offsetofend(struct vfio_irq_set, count);
	unsigned int elem, max;
	uint32_t flags;

	flags = r->hdr.flags;
	r->data_type = flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	r->action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	/* One data type; the action is the driver's to refuse (ENOTTY). */
	if (flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
		      VFIO_IRQ_SET_ACTION_TYPE_MASK) ||
	    __builtin_popcount(r->data_type) != 1)
		return -EINVAL;
	if (r->hdr.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	max = irq_count(r->hdr.index);
	if (r->hdr.start >= max || r->hdr.count > max - r->hdr.start)
		return -EINVAL;
	elem = r->data_type == VFIO_IRQ_SET_DATA_EVENTFD ? 4 :
	       r->data_type == VFIO_IRQ_SET_DATA_BOOL ? 1 : 0;
	if (!elem || !r->hdr.count)
		return 0;
	if (r->hdr.argsz - minsz < elem * r->hdr.count)
		return -EINVAL;
	/* count is 1 at most here: every index has one interrupt. */
	return vfio_copy_from_user(r->data, (const uint8_t *)arg + minsz, elem);
}

/* VFIO_DEVICE_SET_IRQS: INTx trigger, mask, unmask; the REQ trigger. */
long vfio_op_set_irqs(struct vfio_call *call)
{
	struct vfio_device_state *st = call->d->state;
	struct irq_set_req r;
	bool recheck = false;
	int ret;

	memset(&r, 0, sizeof(r));
	memcpy(&r.hdr, &call->cmd.irq_set,
	       offsetofend(struct vfio_irq_set, count));
	ret = irq_set_validate(call->arg, &r);
	if (ret)
		return ret;
	pthread_mutex_lock(&st->irq_lock);
	if (r.hdr.index != VFIO_PCI_INTX_IRQ_INDEX)
		ret = r.hdr.index == VFIO_PCI_REQ_IRQ_INDEX ? req_set(st, &r) :
							       -ENOTTY;
	else if (r.action == VFIO_IRQ_SET_ACTION_TRIGGER)
		ret = intx_trigger_set(st, &r);
	else if (r.action == VFIO_IRQ_SET_ACTION_MASK ||
		 r.action == VFIO_IRQ_SET_ACTION_UNMASK)
		ret = intx_mask_set(st, &r, &recheck);
	else
		ret = -ENOTTY;	/* no action, or several: vfio-pci has none */
	pthread_mutex_unlock(&st->irq_lock);
	if (recheck)
		intx_recheck(st);
	return ret;
}

/* ---- iommufd (the cdev) ------------------------------------------- */

/*
 * VFIO_DEVICE_BIND_IOMMUFD, with the kernel's checks in its order: the
 * struct (argsz, flags, a negative fd: EINVAL), a device opened through
 * its group (EINVAL), the group open (EBUSY), bound already (EINVAL), the
 * fd (not open EBADF, not an iommufd EBADFD), the device open through
 * another cdev (EINVAL: the cdev path opens a device once). Then the
 * device opens (its state), the iommufd makes its device object (EBUSY:
 * the PE is bound in that context already), and the binding holds a
 * reference on the context, as the kernel's file reference does.
 */
long vfio_op_bind(struct vfio_call *call)
{
	const size_t minsz = offsetofend(struct vfio_device_bind_iommufd,
					 out_devid);
	struct vfio_device_bind_iommufd b = call->cmd.bind;
	struct stce_host *host = call->host;
	struct vfio_device *d = call->d;
	void *arg = call->arg;
	struct stce_iommufd *ictx;
	int idx, ret;

	if (b.flags || b.iommufd < 0 || d->group)
		return -EINVAL;
	if (host->open_groups[d->pe_idx] ||
	    atomic_load(&host->inherited_busy[d->pe_idx]))
		return -EBUSY;
	if (atomic_load(&d->granted))
		return -EINVAL;
	ictx = vfio_iommufd_lookup(host, b.iommufd);
	if (!ictx)
		return fcntl(b.iommufd, F_GETFD) < 0 ? -EBADF : -EBADFD;
	idx = device_index(host, d->dev);
	if (idx < 0)
		return idx;
	if (host->dev_state[idx])
		return -EINVAL;
	d->state = state_get_locked(host, d->dev, idx);
	if (!d->state)
		return -ENOMEM;
	ret = stce_iommufd_bind(ictx, stce_device_pe(d->dev), &b.out_devid);
	if (ret)
		goto close;
	ret = vfio_copy_to_user(arg, &b, minsz);
	if (ret)
		goto unbind;
	stce_iommufd_get(ictx);
	d->ictx = ictx;
	d->dev_id = b.out_devid;
	host->cdev_bound[d->pe_idx]++;
	atomic_store(&d->granted, true);
	return 0;
unbind:
	stce_iommufd_unbind(ictx, b.out_devid);
close:
	state_put_locked(host, d->state);
	d->state = NULL;
	return ret;
}

/* ATTACH/DETACH_IOMMUFD_PT's check: cdev only; a group's device passes
 * them to vfio-pci (ENOTTY). A cdev granted access is bound. */
int vfio_check_cdev(struct vfio_call *call)
{
	return call->d->group ? -ENOTTY : 0;
}

/* VFIO_DEVICE_ATTACH_IOMMUFD_PT: an IOAS or HWPT id in, the HWPT out. */
long vfio_op_attach(struct vfio_call *call)
{
	const size_t minsz = offsetofend(struct vfio_device_attach_iommufd_pt,
					 pt_id);
	struct vfio_device_attach_iommufd_pt *a = &call->cmd.attach;
	struct vfio_device *d = call->d;
	int ret;

	if (a->flags)
		return -EINVAL;
	ret = stce_iommufd_attach(d->ictx, d->dev_id, &a->pt_id);
	if (ret)
		return ret;
	return vfio_copy_to_user(call->arg, a, minsz);
}

/* VFIO_DEVICE_DETACH_IOMMUFD_PT: back to no domain. */
long vfio_op_detach(struct vfio_call *call)
{
	if (call->cmd.detach.flags)
		return -EINVAL;
	return stce_iommufd_detach(call->d->ictx, call->d->dev_id);
}

/* VFIO_DEVICE_RESET: a function reset of the device. */
long vfio_op_reset(struct vfio_call *call)
{
	stce_device_function_reset(call->d->dev);
	return 0;
}
