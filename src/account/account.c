// SPDX-License-Identifier: MIT
/*
 * The process-wide locked_vm account (see include/spapr_tce/account.h).
 */
#include <assert.h>
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spapr_tce/account.h>

#include "account/hostpage.h"
#include "common/common.h"
#include "common/lockdep.h"

static pthread_mutex_t account_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t locked_pages;
static _Atomic unsigned int host_shift = 16;
static unsigned long host_holds;	/* under account_lock */

/* See <spapr_tce/account.h>. */
unsigned int stce_host_page_shift(void)
{
	return atomic_load_explicit(&host_shift, memory_order_relaxed);
}

/* See <spapr_tce/account.h>. */
uint64_t stce_account_bytes_to_pages(uint64_t bytes)
{
	unsigned int shift = stce_host_page_shift();

	/* Written so that bytes near 2^64 cannot overflow the rounding. */
	return (bytes >> shift) + !!(bytes & ((1ULL << shift) - 1));
}

/*
 * The effective capability set of the calling thread, read with the raw
 * syscall: capabilities are per thread and may be dropped at any time, so
 * this is asked on every charge, as the kernel's capable() would be.
 */
static bool has_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &
	       CAP_TO_MASK(CAP_IPC_LOCK);
}

/* RLIMIT_MEMLOCK in host pages; UINT64_MAX when unlimited. */
static uint64_t rlimit_pages(unsigned int shift)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return 0;
	if (rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return (uint64_t)rl.rlim_cur >> shift;
}

/* See <spapr_tce/account.h>. */
uint64_t stce_account_limit_pages(void)
{
	if (has_ipc_lock())
		return UINT64_MAX;
	return rlimit_pages(stce_host_page_shift());
}

/* See <spapr_tce/account.h>. */
int stce_account_charge(uint64_t npages)
{
	uint64_t cur, limit;
	int ret = 0;

	if (!npages)
		return 0;
	limit = stce_account_limit_pages();
	pthread_mutex_lock(&account_lock);
	cur = atomic_load(&locked_pages);
	if (npages > UINT64_MAX - cur || cur + npages > limit)
		ret = -ENOMEM;
	else
		atomic_store(&locked_pages, cur + npages);
	pthread_mutex_unlock(&account_lock);
	return ret;
}

/* See <spapr_tce/account.h>. */
void stce_account_uncharge(uint64_t npages)
{
	uint64_t cur;

	if (!npages)
		return;
	pthread_mutex_lock(&account_lock);
	cur = atomic_load(&locked_pages);
	assert(npages <= cur);
	atomic_store(&locked_pages, npages <= cur ? cur - npages : 0);
	pthread_mutex_unlock(&account_lock);
}

/* See <spapr_tce/account.h>. */
uint64_t stce_account_locked_pages(void)
{
	return atomic_load(&locked_pages);
}

/* -EINVAL unless @shift is 12 or 16 and not below this machine's page:
 * pins are taken in host pages, so one can never be smaller than a real
 * page. */
static int shift_check(unsigned int shift)
{
	long real = sysconf(_SC_PAGESIZE);

	if (shift != 12 && shift != 16)
		return -EINVAL;
	if (real > 0 && (1L << shift) < real)
		return -EINVAL;
	return 0;
}

/* Make @shift the host page, unless it is one already or something
 * depends on the current one. account_lock held. */
static int switch_locked(unsigned int shift)
{
	stce_assert_held(&account_lock);
	if (shift == stce_host_page_shift())
		return 0;
	if (atomic_load(&locked_pages) || host_holds)
		return -EBUSY;
	atomic_store(&host_shift, shift);
	return 0;
}

/* See account/hostpage.h. */
int stce_host_page_hold_at(unsigned int shift)
{
	int ret = shift_check(shift);

	if (ret)
		return ret;
	pthread_mutex_lock(&account_lock);
	ret = switch_locked(shift);
	if (!ret)
		host_holds++;
	pthread_mutex_unlock(&account_lock);
	return ret;
}

/* A switch is a hold at the new page, let go at once. */
int stce_set_host_page_shift(unsigned int shift)
{
	int ret = stce_host_page_hold_at(shift);

	if (!ret)
		stce_host_page_unhold();
	return ret;
}

/*
 * fork child: the kernel's locked_vm belongs to the parent's mm, so the
 * child's account starts at 0 with nothing held (its registrations and
 * pins start empty too), whatever the parent's threads were doing.
 */
static void atfork_child(void)
{
	pthread_mutex_init(&account_lock, NULL);
	atomic_store(&locked_pages, 0);
	host_holds = 0;
}

__attribute__((constructor)) static void account_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

/* See account/hostpage.h. */
unsigned int stce_host_page_hold(void)
{
	unsigned int shift;

	pthread_mutex_lock(&account_lock);
	host_holds++;
	shift = stce_host_page_shift();
	pthread_mutex_unlock(&account_lock);
	return shift;
}

/* See account/hostpage.h. */
void stce_host_page_unhold(void)
{
	pthread_mutex_lock(&account_lock);
	assert(host_holds);
	if (host_holds)
		host_holds--;
	pthread_mutex_unlock(&account_lock);
}
