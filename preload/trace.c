// SPDX-License-Identifier: MIT
/*
 * SPAPR_TCE_TRACE: one line per VFIO call the library serves, strace
 * style, with the ioctl's structure decoded after the call (so output
 * fields show what came back):
 *
 *   [spapr-tce] ioctl(3<container>, VFIO_IOMMU_MAP_DMA, {argsz=32,
 *       flags=READ|WRITE, vaddr=0x7f..., iova=0x0, size=0x100000}) = 0
 *   [spapr-tce] open("/dev/vfio/0", O_RDWR) = 4
 *   [spapr-tce] pwrite(5<device>, BAR0+0x28, 8) = 8
 *   [spapr-tce] ioctl(3<iommufd>, IOMMU_IOAS_MAP, {size=40, flags=FIXED_IOVA|
 *       WRITEABLE|READABLE, ioas_id=2, user_va=0x7f..., length=0x100000,
 *       iova=0x0}) = 0
 *
 * SPAPR_TCE_TRACE=1 (or "stderr") writes to stderr; any other non-empty
 * value other than "0" is a file to append to. Each line is one write(2),
 * so lines of concurrent threads do not mix.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/vfio.h>
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else
#include <spapr_tce/uapi/linux/iommufd.h>
#endif

#include "preload_internal.h"

#define LINE_MAX_BYTES	1024

static pthread_once_t trace_once = PTHREAD_ONCE_INIT;
static int trace_fd = -1;

static void trace_init(void)
{
	const char *v = getenv(PRELOAD_ENV_TRACE);

	if (!v || !*v || !strcmp(v, "0"))
		return;
	if (!strcmp(v, "1") || !strcmp(v, "stderr")) {
		trace_fd = 2;
		return;
	}
	trace_fd = open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

bool trace_enabled(void)
{
	pthread_once(&trace_once, trace_init);
	return trace_fd >= 0;
}

struct line {
	char buf[LINE_MAX_BYTES];
	size_t len;
};

__attribute__((format(printf, 2, 3)))
static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
	if (l->len > sizeof(l->buf) - 1)
		l->len = sizeof(l->buf) - 1;
}

static void emit(struct line *l)
{
	int saved = errno;

	if (l->len > sizeof(l->buf) - 2)
		l->len = sizeof(l->buf) - 2;
	l->buf[l->len++] = '\n';
	if (write(trace_fd, l->buf, l->len) < 0)
		trace_fd = -1;
	errno = saved;
}

static void start(struct line *l)
{
	l->len = 0;
	put(l, "[spapr-tce] ");
}

static void result(struct line *l, long ret, int err)
{
	if (ret < 0)
		put(l, " = -1 %s (%s)", strerrorname_np(err) ? strerrorname_np(err) : "E?",
		    strerror(err));
	else
		put(l, " = %ld", ret);
}

void trace_note(const char *fmt, ...)
{
	struct line l;
	va_list ap;
	int n;

	if (!trace_enabled())
		return;
	start(&l);
	va_start(ap, fmt);
	n = vsnprintf(l.buf + l.len, sizeof(l.buf) - l.len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l.len += (size_t)n < sizeof(l.buf) - l.len ? (size_t)n
							   : sizeof(l.buf) - l.len - 1;
	emit(&l);
}

void trace_open(const char *path, int flags, int ret, int err)
{
	struct line l;

	if (!trace_enabled())
		return;
	start(&l);
	put(&l, "open(\"%s\", %s%s)", path,
	    (flags & O_ACCMODE) == O_RDONLY ? "O_RDONLY" :
	    (flags & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : "O_RDWR",
	    flags & O_CLOEXEC ? "|O_CLOEXEC" : "");
	result(&l, ret, err);
	emit(&l);
}

void trace_close(int fd, int ret, int err)
{
	struct line l;

	if (!trace_enabled())
		return;
	start(&l);
	put(&l, "close(%d)", fd);
	result(&l, ret, err);
	emit(&l);
}

void trace_dup(const char *call, int oldfd, int ret, int err)
{
	struct line l;

	if (!trace_enabled())
		return;
	start(&l);
	put(&l, "%s(%d)", call, oldfd);
	result(&l, ret, err);
	emit(&l);
}

static const char *const region_names[VFIO_PCI_NUM_REGIONS] = {
	"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "CONFIG", "VGA",
};

void trace_rw(const char *call, int fd, size_t count, off_t off, ssize_t ret,
	      int err)
{
	uint64_t index = (uint64_t)off >> 40;
	struct line l;

	if (!trace_enabled())
		return;
	start(&l);
	if (off < 0)	/* at the file position, as strace shows read */
		put(&l, "%s(%d<device>, %zu)", call, fd, count);
	else if (index < VFIO_PCI_NUM_REGIONS)
		put(&l, "%s(%d<device>, %s+0x%llx, %zu)", call, fd,
		    region_names[index],
		    (unsigned long long)(off & ((1LL << 40) - 1)), count);
	else
		put(&l, "%s(%d<device>, 0x%llx, %zu)", call, fd,
		    (unsigned long long)off, count);
	result(&l, ret, err);
	emit(&l);
}

/* ---- ioctl decoding ------------------------------------------------ */

/* Read the caller's memory without faulting on a bad pointer. */
static bool peek(void *dst, const void *src, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)src, len };

	return src && process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)len;
}

static const char *extension_name(unsigned long ext)
{
	static const char *const names[] = {
		[VFIO_TYPE1_IOMMU] = "VFIO_TYPE1_IOMMU",
		[VFIO_SPAPR_TCE_IOMMU] = "VFIO_SPAPR_TCE_IOMMU",
		[VFIO_TYPE1v2_IOMMU] = "VFIO_TYPE1v2_IOMMU",
		[VFIO_DMA_CC_IOMMU] = "VFIO_DMA_CC_IOMMU",
		[VFIO_EEH] = "VFIO_EEH",
		[VFIO_TYPE1_NESTING_IOMMU] = "VFIO_TYPE1_NESTING_IOMMU",
		[VFIO_SPAPR_TCE_v2_IOMMU] = "VFIO_SPAPR_TCE_v2_IOMMU",
		[VFIO_NOIOMMU_IOMMU] = "VFIO_NOIOMMU_IOMMU",
	};

	return ext < sizeof(names) / sizeof(names[0]) && names[ext] ?
	       names[ext] : NULL;
}

static const char *eeh_op_name(uint32_t op)
{
	static const char *const names[] = {
		"DISABLE", "ENABLE", "UNFREEZE_IO", "UNFREEZE_DMA", "GET_STATE",
		"RESET_DEACTIVATE", "RESET_HOT", "RESET_FUNDAMENTAL",
		"CONFIGURE", "INJECT_ERR",
	};

	return op < sizeof(names) / sizeof(names[0]) ? names[op] : NULL;
}

static void put_ext(struct line *l, unsigned long v)
{
	const char *n = extension_name(v);

	if (n)
		put(l, "%s", n);
	else
		put(l, "%lu", v);
}

static void put_map_flags(struct line *l, uint32_t flags)
{
	if (!flags)
		put(l, "0");
	else if (flags == (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		put(l, "READ|WRITE");
	else if (flags == VFIO_DMA_MAP_FLAG_READ)
		put(l, "READ");
	else if (flags == VFIO_DMA_MAP_FLAG_WRITE)
		put(l, "WRITE");
	else
		put(l, "0x%x", flags);
}

#define PEEK_OR_BAIL(l, v, arg)					\
	do {							\
		if (!peek(&(v), (arg), sizeof(v))) {		\
			put((l), "%p", (arg));			\
			return;					\
		}						\
	} while (0)

static void decode_container(struct line *l, unsigned long req, void *arg)
{
	switch (req) {
	case VFIO_IOMMU_SPAPR_TCE_GET_INFO: {
		struct vfio_iommu_spapr_tce_info i;

		PEEK_OR_BAIL(l, i, arg);
		put(l, "{argsz=%u, flags=%s, dma32_window_start=0x%x, "
		    "dma32_window_size=0x%x, ddw={pgsizes=0x%llx, "
		    "max_dynamic_windows_supported=%u, levels=%u}}", i.argsz,
		    i.flags & VFIO_IOMMU_SPAPR_INFO_DDW ? "DDW" : "0",
		    i.dma32_window_start, i.dma32_window_size,
		    (unsigned long long)i.ddw.pgsizes,
		    i.ddw.max_dynamic_windows_supported, i.ddw.levels);
		return;
	}
	case VFIO_IOMMU_MAP_DMA: {
		struct vfio_iommu_type1_dma_map m;

		PEEK_OR_BAIL(l, m, arg);
		put(l, "{argsz=%u, flags=", m.argsz);
		put_map_flags(l, m.flags);
		put(l, ", vaddr=0x%llx, iova=0x%llx, size=0x%llx}",
		    (unsigned long long)m.vaddr, (unsigned long long)m.iova,
		    (unsigned long long)m.size);
		return;
	}
	case VFIO_IOMMU_UNMAP_DMA: {
		struct vfio_iommu_type1_dma_unmap u;

		PEEK_OR_BAIL(l, u, arg);
		put(l, "{argsz=%u, flags=0x%x, iova=0x%llx, size=0x%llx}",
		    u.argsz, u.flags, (unsigned long long)u.iova,
		    (unsigned long long)u.size);
		return;
	}
	case VFIO_IOMMU_SPAPR_REGISTER_MEMORY:
	case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: {
		struct vfio_iommu_spapr_register_memory r;

		PEEK_OR_BAIL(l, r, arg);
		put(l, "{argsz=%u, flags=0x%x, vaddr=0x%llx, size=0x%llx}",
		    r.argsz, r.flags, (unsigned long long)r.vaddr,
		    (unsigned long long)r.size);
		return;
	}
	case VFIO_IOMMU_SPAPR_TCE_CREATE: {
		struct vfio_iommu_spapr_tce_create c;

		PEEK_OR_BAIL(l, c, arg);
		put(l, "{argsz=%u, flags=0x%x, page_shift=%u, window_size=0x%llx, "
		    "levels=%u, start_addr=0x%llx}", c.argsz, c.flags,
		    c.page_shift, (unsigned long long)c.window_size, c.levels,
		    (unsigned long long)c.start_addr);
		return;
	}
	case VFIO_IOMMU_SPAPR_TCE_REMOVE: {
		struct vfio_iommu_spapr_tce_remove r;

		PEEK_OR_BAIL(l, r, arg);
		put(l, "{argsz=%u, flags=0x%x, start_addr=0x%llx}", r.argsz,
		    r.flags, (unsigned long long)r.start_addr);
		return;
	}
	case VFIO_EEH_PE_OP: {
		struct vfio_eeh_pe_op o;
		const char *n;

		PEEK_OR_BAIL(l, o, arg);
		n = eeh_op_name(o.op);
		put(l, "{argsz=%u, flags=0x%x, op=", o.argsz, o.flags);
		if (n)
			put(l, "VFIO_EEH_PE_%s}", n);
		else
			put(l, "%u}", o.op);
		return;
	}
	}
	put(l, "%p", arg);
}

static void decode_group(struct line *l, unsigned long req, void *arg)
{
	switch (req) {
	case VFIO_GROUP_GET_STATUS: {
		struct vfio_group_status s;

		PEEK_OR_BAIL(l, s, arg);
		put(l, "{argsz=%u, flags=%s%s%s}", s.argsz,
		    s.flags & VFIO_GROUP_FLAGS_VIABLE ? "VIABLE" : "",
		    (s.flags & VFIO_GROUP_FLAGS_VIABLE) &&
		    (s.flags & VFIO_GROUP_FLAGS_CONTAINER_SET) ? "|" : "",
		    s.flags & VFIO_GROUP_FLAGS_CONTAINER_SET ? "CONTAINER_SET" :
		    (s.flags & VFIO_GROUP_FLAGS_VIABLE) ? "" : "0");
		return;
	}
	case VFIO_GROUP_SET_CONTAINER: {
		int fd;

		PEEK_OR_BAIL(l, fd, arg);
		put(l, "[%d]", fd);
		return;
	}
	case VFIO_GROUP_UNSET_CONTAINER:
		put(l, "0");
		return;
	case VFIO_GROUP_GET_DEVICE_FD: {
		char name[64];
		size_t n = 0;

		while (n < sizeof(name) - 1 &&
		       peek(&name[n], (const char *)arg + n, 1) && name[n])
			n++;
		name[n] = 0;
		put(l, "\"%s\"", name);
		return;
	}
	}
	put(l, "%p", arg);
}

static void decode_device(struct line *l, unsigned long req, void *arg)
{
	switch (req) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info i;

		PEEK_OR_BAIL(l, i, arg);
		put(l, "{argsz=%u, flags=0x%x, num_regions=%u, num_irqs=%u}",
		    i.argsz, i.flags, i.num_regions, i.num_irqs);
		return;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info r;

		PEEK_OR_BAIL(l, r, arg);
		put(l, "{argsz=%u, index=%u, flags=0x%x, size=0x%llx, offset=0x%llx}",
		    r.argsz, r.index, r.flags, (unsigned long long)r.size,
		    (unsigned long long)r.offset);
		return;
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info i;

		PEEK_OR_BAIL(l, i, arg);
		put(l, "{argsz=%u, index=%u, flags=0x%x, count=%u}", i.argsz,
		    i.index, i.flags, i.count);
		return;
	}
	case VFIO_DEVICE_SET_IRQS: {
		struct vfio_irq_set s;
		int32_t efd;

		PEEK_OR_BAIL(l, s, arg);
		put(l, "{argsz=%u, flags=0x%x, index=%u, start=%u, count=%u", s.argsz,
		    s.flags, s.index, s.start, s.count);
		if ((s.flags & VFIO_IRQ_SET_DATA_EVENTFD) && s.count &&
		    peek(&efd, (const uint8_t *)arg + sizeof(s), sizeof(efd)))
			put(l, ", data=[%d]", efd);
		put(l, "}");
		return;
	}
	case VFIO_DEVICE_RESET:
		put(l, "0");
		return;
	case VFIO_DEVICE_BIND_IOMMUFD: {
		struct vfio_device_bind_iommufd b;

		PEEK_OR_BAIL(l, b, arg);
		put(l, "{argsz=%u, flags=0x%x, iommufd=%d, out_devid=%u}",
		    b.argsz, b.flags, b.iommufd, b.out_devid);
		return;
	}
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT: {
		struct vfio_device_attach_iommufd_pt a;

		PEEK_OR_BAIL(l, a, arg);
		put(l, "{argsz=%u, flags=0x%x, pt_id=%u}", a.argsz, a.flags,
		    a.pt_id);
		return;
	}
	case VFIO_DEVICE_DETACH_IOMMUFD_PT: {
		struct vfio_device_detach_iommufd_pt d;

		PEEK_OR_BAIL(l, d, arg);
		put(l, "{argsz=%u, flags=0x%x}", d.argsz, d.flags);
		return;
	}
	}
	put(l, "%p", arg);
}

static void put_ioas_map_flags(struct line *l, uint32_t flags)
{
	static const char *const names[] = { "FIXED_IOVA", "WRITEABLE", "READABLE" };
	const char *sep = "";

	if (!flags) {
		put(l, "0");
		return;
	}
	for (unsigned int i = 0; i < 3; i++) {
		if (!(flags & (1u << i)))
			continue;
		put(l, "%s%s", sep, names[i]);
		sep = "|";
	}
	if (flags & ~7u)
		put(l, "%s0x%x", sep, flags & ~7u);
}

/* The IOMMU_* commands of an iommufd (its legacy container ioctls are
 * decoded as a container's). */
static void decode_iommufd(struct line *l, unsigned long req, void *arg)
{
	switch (req) {
	case IOMMU_DESTROY: {
		struct iommu_destroy d;

		PEEK_OR_BAIL(l, d, arg);
		put(l, "{size=%u, id=%u}", d.size, d.id);
		return;
	}
	case IOMMU_IOAS_ALLOC: {
		struct iommu_ioas_alloc a;

		PEEK_OR_BAIL(l, a, arg);
		put(l, "{size=%u, flags=0x%x, out_ioas_id=%u}", a.size, a.flags,
		    a.out_ioas_id);
		return;
	}
	case IOMMU_IOAS_IOVA_RANGES: {
		struct iommu_ioas_iova_ranges r;

		PEEK_OR_BAIL(l, r, arg);
		put(l, "{size=%u, ioas_id=%u, num_iovas=%u, allowed_iovas=0x%llx, "
		    "out_iova_alignment=0x%llx}", r.size, r.ioas_id, r.num_iovas,
		    (unsigned long long)r.allowed_iovas,
		    (unsigned long long)r.out_iova_alignment);
		return;
	}
	case IOMMU_IOAS_MAP: {
		struct iommu_ioas_map m;

		PEEK_OR_BAIL(l, m, arg);
		put(l, "{size=%u, flags=", m.size);
		put_ioas_map_flags(l, m.flags);
		put(l, ", ioas_id=%u, user_va=0x%llx, length=0x%llx, iova=0x%llx}",
		    m.ioas_id, (unsigned long long)m.user_va,
		    (unsigned long long)m.length, (unsigned long long)m.iova);
		return;
	}
	case IOMMU_IOAS_COPY: {
		struct iommu_ioas_copy c;

		PEEK_OR_BAIL(l, c, arg);
		put(l, "{size=%u, flags=", c.size);
		put_ioas_map_flags(l, c.flags);
		put(l, ", dst_ioas_id=%u, src_ioas_id=%u, length=0x%llx, "
		    "dst_iova=0x%llx, src_iova=0x%llx}", c.dst_ioas_id,
		    c.src_ioas_id, (unsigned long long)c.length,
		    (unsigned long long)c.dst_iova,
		    (unsigned long long)c.src_iova);
		return;
	}
	case IOMMU_IOAS_UNMAP: {
		struct iommu_ioas_unmap u;

		PEEK_OR_BAIL(l, u, arg);
		put(l, "{size=%u, ioas_id=%u, iova=0x%llx, length=0x%llx}",
		    u.size, u.ioas_id, (unsigned long long)u.iova,
		    (unsigned long long)u.length);
		return;
	}
	case IOMMU_HWPT_ALLOC: {
		struct iommu_hwpt_alloc h;

		PEEK_OR_BAIL(l, h, arg);
		put(l, "{size=%u, flags=0x%x, dev_id=%u, pt_id=%u, out_hwpt_id=%u, "
		    "data_type=0x%x, data_len=%u, data_uptr=0x%llx}", h.size,
		    h.flags, h.dev_id, h.pt_id, h.out_hwpt_id, h.data_type,
		    h.data_len, (unsigned long long)h.data_uptr);
		return;
	}
	}
	decode_container(l, req, arg);
}

static const char *ioctl_name(unsigned long req, enum stce_host_fd_kind kind)
{
	/* The device and container ioctls share numbers from VFIO_BASE+7. */
	if (kind == STCE_HOST_FD_DEVICE) {
		switch (req) {
		case VFIO_DEVICE_GET_INFO: return "VFIO_DEVICE_GET_INFO";
		case VFIO_DEVICE_GET_REGION_INFO: return "VFIO_DEVICE_GET_REGION_INFO";
		case VFIO_DEVICE_GET_IRQ_INFO: return "VFIO_DEVICE_GET_IRQ_INFO";
		case VFIO_DEVICE_SET_IRQS: return "VFIO_DEVICE_SET_IRQS";
		case VFIO_DEVICE_RESET: return "VFIO_DEVICE_RESET";
		/* Same numbers as the sPAPR UNREGISTER/TCE_CREATE/REMOVE. */
		case VFIO_DEVICE_BIND_IOMMUFD: return "VFIO_DEVICE_BIND_IOMMUFD";
		case VFIO_DEVICE_ATTACH_IOMMUFD_PT: return "VFIO_DEVICE_ATTACH_IOMMUFD_PT";
		case VFIO_DEVICE_DETACH_IOMMUFD_PT: return "VFIO_DEVICE_DETACH_IOMMUFD_PT";
		}
	}
	switch (req) {
	case IOMMU_DESTROY: return "IOMMU_DESTROY";
	case IOMMU_IOAS_ALLOC: return "IOMMU_IOAS_ALLOC";
	/* Not served (ENOTTY), named; the fallback header has no macros. */
	case _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS): return "IOMMU_IOAS_ALLOW_IOVAS";
	case IOMMU_IOAS_COPY: return "IOMMU_IOAS_COPY";
	case IOMMU_IOAS_IOVA_RANGES: return "IOMMU_IOAS_IOVA_RANGES";
	case IOMMU_IOAS_MAP: return "IOMMU_IOAS_MAP";
	case IOMMU_IOAS_UNMAP: return "IOMMU_IOAS_UNMAP";
	case _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION): return "IOMMU_OPTION";
	case _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS): return "IOMMU_VFIO_IOAS";
	case IOMMU_HWPT_ALLOC: return "IOMMU_HWPT_ALLOC";
	case VFIO_GET_API_VERSION: return "VFIO_GET_API_VERSION";
	case VFIO_CHECK_EXTENSION: return "VFIO_CHECK_EXTENSION";
	case VFIO_SET_IOMMU: return "VFIO_SET_IOMMU";
	case VFIO_GROUP_GET_STATUS: return "VFIO_GROUP_GET_STATUS";
	case VFIO_GROUP_SET_CONTAINER: return "VFIO_GROUP_SET_CONTAINER";
	case VFIO_GROUP_UNSET_CONTAINER: return "VFIO_GROUP_UNSET_CONTAINER";
	case VFIO_GROUP_GET_DEVICE_FD: return "VFIO_GROUP_GET_DEVICE_FD";
	case VFIO_IOMMU_SPAPR_TCE_GET_INFO: return "VFIO_IOMMU_SPAPR_TCE_GET_INFO";
	case VFIO_IOMMU_MAP_DMA: return "VFIO_IOMMU_MAP_DMA";
	case VFIO_IOMMU_UNMAP_DMA: return "VFIO_IOMMU_UNMAP_DMA";
	case VFIO_IOMMU_ENABLE: return "VFIO_IOMMU_ENABLE";
	case VFIO_IOMMU_DISABLE: return "VFIO_IOMMU_DISABLE";
	case VFIO_IOMMU_SPAPR_REGISTER_MEMORY: return "VFIO_IOMMU_SPAPR_REGISTER_MEMORY";
	case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: return "VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY";
	case VFIO_IOMMU_SPAPR_TCE_CREATE: return "VFIO_IOMMU_SPAPR_TCE_CREATE";
	case VFIO_IOMMU_SPAPR_TCE_REMOVE: return "VFIO_IOMMU_SPAPR_TCE_REMOVE";
	case VFIO_EEH_PE_OP: return "VFIO_EEH_PE_OP";
	}
	return NULL;
}

const char *trace_ioctl_name(unsigned long req, enum stce_host_fd_kind kind)
{
	return ioctl_name(req, kind);
}

static const char *const kind_names[] = {
	[STCE_HOST_FD_NONE] = "inherited",
	[STCE_HOST_FD_CONTAINER] = "container",
	[STCE_HOST_FD_GROUP] = "group",
	[STCE_HOST_FD_DEVICE] = "device",
	[STCE_HOST_FD_IOMMUFD] = "iommufd",
};

void trace_ioctl(enum stce_host_fd_kind kind, int fd, unsigned long req,
		 void *arg, int ret, int err)
{
	const char *name;
	struct line l;

	if (!trace_enabled())
		return;
	name = ioctl_name(req, kind);
	start(&l);
	put(&l, "ioctl(%d<%s>, ", fd, kind_names[kind]);
	if (name)
		put(&l, "%s, ", name);
	else
		put(&l, "0x%lx, ", req);
	if (!name)
		put(&l, "%p", arg);
	else if (req == VFIO_CHECK_EXTENSION || req == VFIO_SET_IOMMU)
		put_ext(&l, (unsigned long)arg);
	else if (req == VFIO_GET_API_VERSION || req == VFIO_IOMMU_ENABLE ||
		 req == VFIO_IOMMU_DISABLE)
		put(&l, "0");
	else if (kind == STCE_HOST_FD_DEVICE)
		decode_device(&l, req, arg);
	else if (kind == STCE_HOST_FD_GROUP)
		decode_group(&l, req, arg);
	else if (kind == STCE_HOST_FD_IOMMUFD)
		decode_iommufd(&l, req, arg);
	else
		decode_container(&l, req, arg);
	put(&l, ")");
	result(&l, ret, err);
	emit(&l);
}
