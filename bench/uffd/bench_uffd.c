// SPDX-License-Identifier: MIT
/*
 * bench-uffd: what a userfaultfd safety net would cost (docs/prereg.md,
 * "what interposition cannot see"). userfaultfd's non-cooperative events
 * (UNMAP, REMAP, REMOVE) on a write-protect-mode registration would tell
 * the library about every munmap/mremap/MADV_DONTNEED of pinned memory,
 * even those no interposer sees (glibc's own munmap in free(), inline
 * system calls). Measured here, each as a ratio to the same work without
 * it in the same run:
 *  - registering and unregistering 1 GiB with the uffd, next to
 *    mlock+munlock of the same bytes (the pin it would sit beside);
 *  - munmap of a registered 64 KiB range (the kernel blocks it until a
 *    monitor thread has read the UNMAP event), next to a plain munmap;
 * and the side effects: a second uffd (QEMU's postcopy) cannot register
 * the same range (EBUSY), and a fork child's copy loses the registration.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bench_common.h"

#define GB	(1ULL << 30)
#define PIECE	(64 << 10)
#define ROUNDS	2000

static int uffd_open(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_EVENT_REMAP |
			    UFFD_FEATURE_EVENT_REMOVE,
	};
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || ioctl(fd, UFFDIO_API, &api)) {
		perror("userfaultfd");
		return -1;
	}
	return fd;
}

static int uffd_register(int fd, void *p, uint64_t len)
{
	struct uffdio_register r = {
		.range = { (uintptr_t)p, len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	return ioctl(fd, UFFDIO_REGISTER, &r) ? -errno : 0;
}

static void uffd_unregister(int fd, void *p, uint64_t len)
{
	struct uffdio_range r = { (uintptr_t)p, len };

	ioctl(fd, UFFDIO_UNREGISTER, &r);
}

static atomic_bool stop;

/* The monitor: read events as they come (each unblocks a munmap). */
static void *monitor(void *arg)
{
	int fd = *(int *)arg;
	struct uffd_msg m;
	struct pollfd p = { fd, POLLIN, 0 };

	while (!atomic_load(&stop)) {
		if (poll(&p, 1, 10) <= 0)
			continue;
		while (read(fd, &m, sizeof(m)) == sizeof(m))
			;
	}
	return NULL;
}

static double time_munmaps(int fd)
{
	double t = 0;

	for (int i = 0; i < ROUNDS; i++) {
		void *p = mmap(NULL, PIECE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		double t0;

		if (fd >= 0 && uffd_register(fd, p, PIECE))
			abort();
		t0 = bench_now();
		munmap(p, PIECE);
		t += bench_now() - t0;
	}
	return t / ROUNDS;
}

int main(void)
{
	int fd = uffd_open(), fd2, status;
	double t_lock = 1e9, t_reg = 1e9, plain, watched;
	pthread_t mon;
	void *p;
	pid_t pid;

	if (fd < 0) {
		printf("bench-uffd: skipped (no userfaultfd here)\n");
		return 0;
	}
	printf("bench-uffd (ratios: same-run work without userfaultfd)\n");
	p = mmap(NULL, GB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	memset(p, 1, GB);
	for (int i = 0; i < 3; i++) {
		double t0 = bench_now(), t1, t2;

		syscall(SYS_mlock, p, GB);
		syscall(SYS_munlock, p, GB);
		t1 = bench_now();
		if (uffd_register(fd, p, GB))
			abort();
		uffd_unregister(fd, p, GB);
		t2 = bench_now();
		t_lock = t1 - t0 < t_lock ? t1 - t0 : t_lock;
		t_reg = t2 - t1 < t_reg ? t2 - t1 : t_reg;
	}
	bench_report("uffd register+unregister 1GiB", 1 / t_reg, "op",
		     1 / t_lock, "mlock+munlock");
	atomic_init(&stop, false);
	pthread_create(&mon, NULL, monitor, &fd);
	plain = time_munmaps(-1);
	watched = time_munmaps(fd);
	atomic_store(&stop, true);
	pthread_join(mon, NULL);
	bench_report("munmap 64K, registered (monitor reads)", 1 / watched,
		     "op", 1 / plain, "plain munmap");
	/* Side effects. */
	fd2 = uffd_open();
	if (uffd_register(fd, p, GB))
		abort();
	printf("  a second uffd on the same range (QEMU postcopy): %s\n",
	       uffd_register(fd2, p, GB) == -EBUSY ? "EBUSY" : "allowed");
	pid = fork();
	if (!pid) {
		/* Registered in the child? A second registration tells. */
		int c = uffd_open();

		_exit(c >= 0 && uffd_register(c, p, PIECE) == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	printf("  fork child's copy: registration %s\n",
	       WIFEXITED(status) && !WEXITSTATUS(status) ? "dropped" : "kept");
	uffd_unregister(fd, p, GB);
	munmap(p, GB);
	return 0;
}
