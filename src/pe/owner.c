// SPDX-License-Identifier: MIT
/*
 * Who owns a PE: the platform (its own default window on the bus) or a
 * user, a container or a C API caller, that programs its own windows.
 * The hand-over is the kernel's table group take/release: the platform
 * window goes off the bus and is cleared before a user has the PE, and
 * comes back empty when it leaves. Under pe->lock, as window changes are.
 */
#include <errno.h>

#include <spapr_tce/pe.h>

#include "pe/pe_internal.h"

/* The platform window off the bus and cleared; -EBUSY if a user has it. */
int stce_pe_take_ownership(struct stce_pe *pe)
{
	int ret = 0;

	pthread_mutex_lock(&pe->lock);
	if (pe->user_owned) {
		ret = -EBUSY;
		goto out;
	}
	pe_window_unpublish(pe, 0);
	/* Off the bus and past the grace period: clear without a flush. */
	stce_table_clear(pe->platform, 0, stce_table_entries(pe->platform),
			 NULL, NULL, NULL);
	pe->user_owned = true;
out:
	pe_assert(pe);
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* Every user window off the bus at once, then the platform window back. */
int stce_pe_release_ownership(struct stce_pe *pe)
{
	int ret = 0;

	pthread_mutex_lock(&pe->lock);
	if (!pe->user_owned) {
		ret = -EINVAL;
		goto out;
	}
	pe_windows_unpublish_all(pe);
	pe->user_owned = false;
	atomic_store(&pe->win[0], &pe->platform_win);
out:
	pe_assert(pe);
	pthread_mutex_unlock(&pe->lock);
	return ret;
}

/* A snapshot under pe->lock: it may change once the lock is dropped. */
bool stce_pe_user_owned(const struct stce_pe *pe)
{
	struct stce_pe *mpe = (struct stce_pe *)pe;
	bool owned;

	pthread_mutex_lock(&mpe->lock);
	owned = pe->user_owned;
	pthread_mutex_unlock(&mpe->lock);
	return owned;
}
