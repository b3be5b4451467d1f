/* SPDX-License-Identifier: MIT */
/*
 * Tests run as root in CI. To meet the limit path as an unprivileged
 * process does, a forked child drops CAP_IPC_LOCK from its capability sets
 * (capset) and lowers RLIMIT_MEMLOCK (setrlimit), then runs a check whose
 * return value becomes its exit status (0: passed, else the failing line).
 */
#ifndef STCE_TEST_UNPRIV_H
#define STCE_TEST_UNPRIV_H

#include <linux/capability.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* In a child: report the failing line and fail. */
#define CHILD_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "child check failed: %s:%d: %s\n", \
			__FILE__, __LINE__, #cond); \
		return 1; \
	} \
} while (0)

static inline int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].permitted &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].inheritable &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	return (int)syscall(SYS_capset, &hdr, data);
}

/* Run @fn in a child without CAP_IPC_LOCK and with @memlock bytes of
 * RLIMIT_MEMLOCK; return its exit status (0: passed; 1000 + signal if killed). */
static inline int run_unprivileged(unsigned long memlock, int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct rlimit rl = { memlock, memlock };

		if (drop_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(250);
		_exit(fn());
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

#endif /* STCE_TEST_UNPRIV_H */
