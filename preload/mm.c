// SPDX-License-Identifier: MIT
/*
 * The memory-mapping calls, interposed so that pinned pages stay the
 * pinned ones (src/hostmem, docs/prereg.md): munmap, mremap, madvise,
 * shmdt, mmap/mmap64 with MAP_FIXED (through preload_mm_mmap(), which
 * preload.c's mmap calls), and syscall() for those numbers. Each is the
 * libc call when nothing is pinned (one atomic load) and on the library's
 * own system calls (stce_hostmem_in_hook()).
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spapr_tce/hostmem.h>

#include "preload_internal.h"

#define EXPORT __attribute__((visibility("default")))

/*
 * 0 or a negative errno, as a system call answers: -1 and errno; on
 * success errno is what it was (@saved), whatever the hook asked inside.
 */
static int answer(int ret, int saved)
{
	if (ret >= 0) {
		errno = saved;
		return ret;
	}
	errno = -ret;
	return -1;
}

EXPORT int munmap(void *addr, size_t len)
{
	int saved = errno;

	if (stce_hostmem_in_hook())
		return REAL(munmap)(addr, len);
	return answer(stce_hostmem_munmap(addr, len), saved);
}

EXPORT void *mremap(void *old_addr, size_t old_size, size_t new_size,
		    int flags, ...)
{
	void *new_addr = NULL, *out;
	int saved = errno, ret;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (stce_hostmem_in_hook())
		return REAL(mremap)(old_addr, old_size, new_size, flags,
				    new_addr);
	ret = stce_hostmem_mremap(old_addr, old_size, new_size, flags, new_addr,
				  &out);
	return answer(ret, saved) ? MAP_FAILED : out;
}

EXPORT int madvise(void *addr, size_t len, int advice)
{
	int saved = errno;

	if (stce_hostmem_in_hook())
		return REAL(madvise)(addr, len, advice);
	return answer(stce_hostmem_madvise(addr, len, advice), saved);
}

EXPORT int shmdt(const void *addr)
{
	int saved = errno;

	if (stce_hostmem_in_hook())
		return REAL(shmdt)(addr);
	return answer(stce_hostmem_shmdt(addr), saved);
}

void *preload_mm_mmap(void *(*real)(void *, size_t, int, int, int, off_t),
		      void *addr, size_t len, int prot, int flags, int fd,
		      off_t off)
{
	int saved = errno, ret;
	void *out;

	if (!(flags & MAP_FIXED) || stce_hostmem_in_hook())
		return real(addr, len, prot, flags, fd, off);
	ret = stce_hostmem_mmap(addr, len, prot, flags, fd, off, &out);
	return answer(ret, saved) ? MAP_FAILED : out;
}

/* The same numbers through syscall(2): a program's own wrappers. */
static bool routed(long nr)
{
	return nr == SYS_munmap || nr == SYS_mremap || nr == SYS_madvise ||
#ifdef SYS_shmdt
	       nr == SYS_shmdt ||
#endif
	       nr == SYS_mmap;
}

static long route(long nr, long a, long b, long c, long d, long e, long f)
{
	int saved = errno, ret;
	void *out;

	switch (nr) {
	case SYS_munmap:
		return answer(stce_hostmem_munmap((void *)a, (size_t)b), saved);
	case SYS_madvise:
		return answer(stce_hostmem_madvise((void *)a, (size_t)b, (int)c),
			      saved);
#ifdef SYS_shmdt
	case SYS_shmdt:
		return answer(stce_hostmem_shmdt((void *)a), saved);
#endif
	case SYS_mremap:
		ret = stce_hostmem_mremap((void *)a, (size_t)b, (size_t)c,
					  (int)d, (void *)e, &out);
		break;
	default:	/* SYS_mmap */
		ret = stce_hostmem_mmap((void *)a, (size_t)b, (int)c, (int)d,
					(int)e, (off_t)f, &out);
		break;
	}
	if (answer(ret, saved))
		return -1;
	return (long)out;
}

/*
 * Reads six arguments whatever the call takes, as libc's syscall() does:
 * past the ones passed is whatever the registers and stack hold, unused.
 */
EXPORT __attribute__((no_sanitize_address)) long syscall(long nr, ...)
{
	long a, b, c, d, e, f;
	va_list ap;

	va_start(ap, nr);
	a = va_arg(ap, long);
	b = va_arg(ap, long);
	c = va_arg(ap, long);
	d = va_arg(ap, long);
	e = va_arg(ap, long);
	f = va_arg(ap, long);
	va_end(ap);
	if (routed(nr) && !stce_hostmem_in_hook())
		return route(nr, a, b, c, d, e, f);
	return REAL(syscall)(nr, a, b, c, d, e, f);
}
