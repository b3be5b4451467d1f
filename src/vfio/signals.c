// SPDX-License-Identifier: MIT
/*
 * The fault handler behind the ioctl argument copies (host.c's
 * user_copy, common/safecopy.h), for the preload library: it routes the
 * program's sigaction of SIGSEGV and SIGBUS here, so the copy's handler
 * stays in front without a system call a copy to check it.
 */
#include <errno.h>
#include <signal.h>

#include <spapr_tce/vfio.h>

#include "common/safecopy.h"

/* See <spapr_tce/vfio.h>. */
int stce_host_keep_fault_handler(void)
{
	return stce_safe_copy_watch();
}

/* See <spapr_tce/vfio.h>. */
int stce_host_sigaction(int sig, const struct sigaction *act,
			struct sigaction *old)
{
	if (!stce_safe_copy_owns(sig))
		return 0;
	stce_safe_copy_sigaction(sig, act, old);
	return 1;
}
