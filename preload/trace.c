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

#include <spapr_tce/vfio.h>

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

static void put_group_flags(struct line *l, uint32_t flags)
{
	bool viable = flags & VFIO_GROUP_FLAGS_VIABLE;
	bool set = flags & VFIO_GROUP_FLAGS_CONTAINER_SET;

	put(l, "%s%s%s", viable ? "VIABLE" : "", viable && set ? "|" : "",
	    set ? "CONTAINER_SET" : viable ? "" : "0");
}

static uint64_t field_value(const uint8_t *s, const struct stce_vfio_field *f)
{
	uint64_t v = 0;

	switch (f->size) {
	case 1: v = s[f->offset]; break;
	case 2: v = *(const uint16_t *)(s + f->offset); break;
	case 4: v = *(const uint32_t *)(s + f->offset); break;
	case 8: v = *(const uint64_t *)(s + f->offset); break;
	}
	return v;
}

/* SET_IRQS' data: its first eventfd, when the header says there is one. */
static void put_eventfd(struct line *l, const uint8_t *s, const void *arg,
			const struct stce_vfio_field *f)
{
	const struct vfio_irq_set *hdr = (const struct vfio_irq_set *)s;
	int32_t efd;

	if ((hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) && hdr->count &&
	    peek(&efd, (const uint8_t *)arg + f->offset, sizeof(efd)))
		put(l, ", %s=[%d]", f->name, efd);
}

static void put_field(struct line *l, const uint8_t *s,
		      const struct stce_vfio_field *f)
{
	uint64_t v = field_value(s, f);
	const char *n;

	put(l, "%s=", f->name);
	switch (f->fmt) {
	case STCE_VFIO_FMT_U:
		put(l, "%llu", (unsigned long long)v);
		break;
	case STCE_VFIO_FMT_D:
		put(l, "%d", (int32_t)v);
		break;
	case STCE_VFIO_FMT_X:
		put(l, "0x%llx", (unsigned long long)v);
		break;
	case STCE_VFIO_FMT_MAP_FLAGS:
		put_map_flags(l, (uint32_t)v);
		break;
	case STCE_VFIO_FMT_IOAS_FLAGS:
		put_ioas_map_flags(l, (uint32_t)v);
		break;
	case STCE_VFIO_FMT_INFO_FLAGS:
		put(l, "%s", v & VFIO_IOMMU_SPAPR_INFO_DDW ? "DDW" : "0");
		break;
	case STCE_VFIO_FMT_GROUP_FLAGS:
		put_group_flags(l, (uint32_t)v);
		break;
	case STCE_VFIO_FMT_EEH_OP:
		n = eeh_op_name((uint32_t)v);
		if (n)
			put(l, "VFIO_EEH_PE_%s", n);
		else
			put(l, "%u", (uint32_t)v);
		break;
	}
	if (f->close)
		put(l, "}");
}

/* A struct by its row's fields, as the caller's memory holds it now. */
static void put_struct(struct line *l, const struct stce_vfio_ioctl *io,
		       void *arg)
{
	uint8_t s[256];
	const char *sep = "";

	if (!io->nr_fields || io->size > sizeof(s) || !peek(s, arg, io->size)) {
		put(l, "%p", arg);
		return;
	}
	put(l, "{");
	for (unsigned int i = 0; i < io->nr_fields; i++) {
		const struct stce_vfio_field *f = &io->fields[i];

		if (f->fmt == STCE_VFIO_FMT_EVENTFD) {
			put_eventfd(l, s, arg, f);
			continue;
		}
		put(l, "%s", sep);
		put_field(l, s, f);
		sep = ", ";
	}
	put(l, "}");
}

static void put_string(struct line *l, const char *arg)
{
	char name[64];
	size_t n = 0;

	while (n < sizeof(name) - 1 && peek(&name[n], arg + n, 1) && name[n])
		n++;
	name[n] = 0;
	put(l, "\"%s\"", name);
}

/* The argument as the ioctl's row on this descriptor describes it. */
static void put_arg(struct line *l, const struct stce_vfio_ioctl *io,
		    void *arg)
{
	int fd;

	switch (io->arg) {
	case STCE_VFIO_ARG_NONE:
		put(l, "0");
		return;
	case STCE_VFIO_ARG_INT:
		put_ext(l, (unsigned long)arg);
		return;
	case STCE_VFIO_ARG_FD:
		if (peek(&fd, arg, sizeof(fd)))
			put(l, "[%d]", fd);
		else
			put(l, "%p", arg);
		return;
	case STCE_VFIO_ARG_STRING:
		put_string(l, arg);
		return;
	default:
		put_struct(l, io, arg);
		return;
	}
}

/*
 * A request this descriptor does not serve, named by the table that has
 * it: the VFIO core's integer and empty arguments are printed as they are
 * everywhere; anything else stays a pointer.
 */
static void put_other_arg(struct line *l, const struct stce_vfio_ioctl *io,
			  void *arg)
{
	bool core = stce_vfio_ioctl_info(io->request,
					 STCE_HOST_FD_CONTAINER) == io;

	if (core && (io->arg == STCE_VFIO_ARG_NONE ||
		     io->arg == STCE_VFIO_ARG_INT))
		put_arg(l, io, arg);
	else
		put(l, "%p", arg);
}

static const char *const kind_names[] = {
	[STCE_HOST_FD_NONE] = "inherited",
	[STCE_HOST_FD_CONTAINER] = "container",
	[STCE_HOST_FD_GROUP] = "group",
	[STCE_HOST_FD_DEVICE] = "device",
	[STCE_HOST_FD_IOMMUFD] = "iommufd",
};

/* The ioctl's name and argument from the library's ioctl table
 * (<spapr_tce/vfio.h>): its row on this kind of descriptor, else the
 * name its number has elsewhere. */
void trace_ioctl(enum stce_host_fd_kind kind, int fd, unsigned long req,
		 void *arg, int ret, int err)
{
	const struct stce_vfio_ioctl *row, *named;
	struct line l;

	if (!trace_enabled())
		return;
	row = stce_vfio_ioctl_info(req, kind);
	named = row ? row : stce_vfio_ioctl_named(req);
	start(&l);
	put(&l, "ioctl(%d<%s>, ", fd, kind_names[kind]);
	if (!named) {
		put(&l, "0x%lx, %p", req, arg);
	} else {
		put(&l, "%s, ", named->name);
		if (row)
			put_arg(&l, row, arg);
		else
			put_other_arg(&l, named, arg);
	}
	put(&l, ")");
	result(&l, ret, err);
	emit(&l);
}
