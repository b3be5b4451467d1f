// SPDX-License-Identifier: MIT
/*
 * The VFIO layer copies ioctl arguments fault-safely so that a bad
 * pointer is EFAULT: on x86_64 with no system call (common/safecopy.h),
 * elsewhere with process_vm_readv/writev. Sandboxes (a container
 * runtime's seccomp profile) may forbid those calls: then the layer must
 * still work, and on x86_64 still answer EFAULT for every bad pointer
 * (it never needed them). A forked child installs a seccomp filter that
 * makes both fail with EPERM and runs a VFIO flow through the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/vfio.h>

#include <spapr_tce/vfio.h>

static int forbid_process_vm(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_writev, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/*
 * x86_64: unmapped, inaccessible, read-only (for a copy out) and
 * page-straddling arguments are EFAULT without process_vm_*: before the
 * fault-safe copy, the fallback memcpy crashed here. 0 when they are.
 */
static int bad_pointers(struct stce_host *host, int c, int g)
{
#if defined(__x86_64__)
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_group_status *ro, *straddle;
	struct vfio_iommu_spapr_tce_info *none;

	if (p == MAP_FAILED)
		return 1;
	none = (void *)p;
	ro = (void *)(p + pg);
	straddle = (void *)(p + 3 * pg - 4);
	ro->argsz = sizeof(*ro);
	straddle->argsz = sizeof(*straddle);
	if (mprotect(p, pg, PROT_NONE) || mprotect(p + pg, pg, PROT_READ) ||
	    munmap(p + 3 * pg, pg))
		return 2;
	errno = 0;
	if (stce_host_ioctl(host, c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, none) != -1 ||
	    errno != EFAULT)
		return 3;
	errno = 0;
	if (stce_host_ioctl(host, g, VFIO_GROUP_GET_STATUS, ro) != -1 ||
	    errno != EFAULT)
		return 4;
	errno = 0;
	if (stce_host_ioctl(host, g, VFIO_GROUP_GET_STATUS, straddle) != -1 ||
	    errno != EFAULT)
		return 5;
	errno = 0;
	if (stce_host_ioctl(host, c, VFIO_IOMMU_SPAPR_TCE_GET_INFO,
			    (void *)(uintptr_t)0x10) != -1 || errno != EFAULT)
		return 6;
	/*
	 * A wild pointer: unmapped in a plain process, inside ASan's shadow
	 * gap in a sanitizer build (where a copy through the intercepted
	 * memcpy faulted in the interceptor; found by fuzz_vfio_ioctl).
	 */
	errno = 0;
	if (stce_host_ioctl(host, c, VFIO_IOMMU_SPAPR_TCE_GET_INFO,
			    (void *)(uintptr_t)0x302fe0600ULL) != -1 ||
	    errno != EFAULT)
		return 7;
	munmap(p, 3 * pg);
#else
	(void)host, (void)c, (void)g;
#endif
	return 0;
}

/* Returns 0 when every step answered as it must. */
static int flow(void)
{
	struct vfio_iommu_spapr_tce_info info = { .argsz = sizeof(info) };
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct stce_host *host;
	char buf[16];
	int c, g;

	if (forbid_process_vm())
		return 10;
	/* The filter works: the call the layer uses is refused. */
	{
		struct iovec l = { buf, 1 }, r = { buf + 1, 1 };

		if (syscall(__NR_process_vm_readv, getpid(), &l, 1, &r, 1, 0) != -1 ||
		    errno != EPERM)
			return 11;
	}
	if (stce_host_create(NULL, &host))
		return 12;
	c = stce_host_open(host, "/dev/vfio/vfio", O_RDWR);
	g = stce_host_open(host, "/dev/vfio/0", O_RDWR);
	if (c < 0 || g < 0)
		return 13;
	if (stce_host_ioctl(host, g, VFIO_GROUP_GET_STATUS, &status) ||
	    status.flags != VFIO_GROUP_FLAGS_VIABLE)
		return 14;
	if (stce_host_ioctl(host, g, VFIO_GROUP_SET_CONTAINER, &c) ||
	    stce_host_ioctl(host, c, VFIO_SET_IOMMU, (void *)VFIO_SPAPR_TCE_v2_IOMMU))
		return 15;
	if (stce_host_ioctl(host, c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info) ||
	    info.dma32_window_size != 0x80000000u || !info.ddw.pgsizes)
		return 16;
	/* NULL is still EFAULT. */
	if (stce_host_ioctl(host, c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, NULL) != -1 ||
	    errno != EFAULT)
		return 17;
	if (bad_pointers(host, c, g))
		return 18;
	stce_host_destroy(host);
	return 0;
}

static void works_without_process_vm_calls(void **state)
{
	int status;
	pid_t pid = fork();

	(void)state;
	if (pid == 0)
		_exit(flow());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(works_without_process_vm_calls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
