// SPDX-License-Identifier: MIT
/*
 * The host's descriptors: install, lookup, close, the dups, and what a
 * fork child inherits.
 *
 * A descriptor is a real O_PATH one (of "/"), so a call that reaches the
 * kernel with it instead of the host - a stale one, one racing a close or
 * an open of the same number, a raw syscall - fails with EBADF, as on a
 * closed descriptor, and never acts on a file of ours. The table entry
 * for it (the object, tagged) is published once the kernel has handed out
 * the number:
 *
 *   close: claim (entry |= CLOSING, one winner), close the real
 *          descriptor, clear the entry unless an open or dup of another
 *          thread has the number by then, then drop the object's
 *          reference after a grace period (a lock-free caller may still
 *          use it);
 *   dup2:  claim the target the same way (even an empty one), make the
 *          duplicate, store its entry, release what the target named.
 *
 * A caller that finds CLOSING waits until the entry is settled (the
 * window is one close(2) or dup2(2)) and then asks the kernel, which
 * answers EBADF or for a file made since: it never sees our descriptor in
 * the window. Inside the host (a read-side section), CLOSING is EBADF at
 * once. The descriptors the host makes are counted (installs), so a dup
 * or fstat that asked the kernel can tell an O_PATH answer of ours.
 *
 * Signal handlers. A thread's host calls in progress are counted
 * (vfio_call_depth, thread-local). A close or dup made while one is in
 * progress - from a signal handler that interrupted it - cannot wait for
 * it (a grace period it holds, host->lock, a device's lock): it does the
 * descriptor part at once and leaves the object's put on the thread's
 * deferred list, which the interrupted call runs when it returns. Other
 * host calls refuse to nest (EDEADLK, host.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vfio/vfio_internal.h"

#define TLS_IE __attribute__((tls_model("initial-exec")))

/* See vfio_internal.h. */
__thread unsigned int vfio_call_depth TLS_IE;
__thread struct vfio_obj *_Atomic vfio_call_deferred TLS_IE;

/*
 * close(2) and openat(2) of our own descriptors: the ones after this
 * library (a sanitizer's interceptor, so it sees the descriptor come and
 * go, or libc's), never the preload library's, which would ask the host
 * about them. The raw syscall when there is none.
 */
static void *next_fn(void *_Atomic *slot, const char *name)
{
	void *fn = atomic_load_explicit(slot, memory_order_acquire);

	if (!fn) {
		fn = dlsym(RTLD_NEXT, name);
		atomic_store_explicit(slot, fn, memory_order_release);
	}
	return fn;
}

static int raw_close(int fd)
{
	static void *_Atomic slot;
	int (*fn)(int) = (int (*)(int))next_fn(&slot, "close");

	return fn ? fn(fd) : (int)syscall(SYS_close, fd);
}

static int raw_open_path(bool cloexec)
{
	static void *_Atomic slot;
	int (*fn)(int, const char *, int, ...) =
		(int (*)(int, const char *, int, ...))next_fn(&slot, "openat");
	int flags = O_PATH | (cloexec ? O_CLOEXEC : 0);

	return fn ? fn(AT_FDCWD, "/", flags) :
		    (int)syscall(SYS_openat, AT_FDCWD, "/", flags);
}

/* Drop the reference a descriptor held, now or, nested, at the end of
 * the call in progress. */
static void obj_release(struct vfio_obj *obj)
{
	struct stce_host *host = obj->host;
	struct vfio_obj *head;

	if (vfio_call_depth > 1) {
		/* Signal-safe: atomics on this thread's list only. */
		if (atomic_fetch_add(&obj->deferred_puts, 1))
			return;		/* listed already (maybe elsewhere) */
		head = atomic_load(&vfio_call_deferred);
		do {
			atomic_store(&obj->deferred_next, head);
		} while (!atomic_compare_exchange_weak(&vfio_call_deferred,
						       &head, obj));
		return;
	}
	/* No lock-free call can still be using the descriptor's object. */
	stce_grace_synchronize(&host->grace);
	pthread_mutex_lock(&host->lock);
	vfio_obj_put_locked(host, obj);
	pthread_mutex_unlock(&host->lock);
}

/* See vfio_internal.h. The outermost call returns (vfio_call_depth 1, so
 * a handler that runs now defers again): the puts its nested closes left. */
void vfio_call_run_deferred(void)
{
	struct vfio_obj *obj;

	while ((obj = atomic_exchange(&vfio_call_deferred, NULL))) {
		while (obj) {
			struct vfio_obj *next = atomic_load(&obj->deferred_next);
			struct stce_host *host = obj->host;
			unsigned int n = atomic_exchange(&obj->deferred_puts, 0);

			stce_grace_synchronize(&host->grace);
			pthread_mutex_lock(&host->lock);
			while (n--)
				vfio_obj_put_locked(host, obj);
			pthread_mutex_unlock(&host->lock);
			obj = next;
		}
	}
}

/*
 * @fd's entry once no close is replacing it, for a caller inside @own
 * host calls of its own (0 or 1). A nested call (a signal handler's)
 * cannot wait for a close the call it interrupted is making: it gets the
 * entry, CLOSING and all.
 */
static uintptr_t entry_settled(struct stce_host *host, int fd,
			       unsigned int own)
{
	uintptr_t e;

	for (;;) {
		e = stce_fdtab_get(&host->fds, fd);
		if (!(e & VFIO_FD_CLOSING) || vfio_call_depth > own)
			return e;
		sched_yield();
	}
}

/* See <spapr_tce/vfio.h>. */
bool stce_host_fd_ours(struct stce_host *host, int fd)
{
	return entry_settled(host, fd, 0) != 0;
}

/* See <spapr_tce/vfio.h>. */
uint64_t stce_host_fd_generation(struct stce_host *host)
{
	return atomic_load(&host->installs);
}

/* See vfio_internal.h. */
uintptr_t vfio_fd_enter(struct stce_host *host, int fd,
			struct stce_grace_guard *guard)
{
	_Atomic uintptr_t *slot = stce_fdtab_peek(&host->fds, fd);

	return slot ? vfio_slot_enter(host, slot, guard) : 0;
}

/* See vfio_internal.h. */
struct vfio_obj *vfio_fd_obj(struct stce_host *host, int fd, bool *inherited)
{
	uintptr_t e = stce_fdtab_get(&host->fds, fd);

	if (inherited)
		*inherited = (e & VFIO_FD_TAGS) == VFIO_FD_INHERITED;
	return e & VFIO_FD_TAGS ? NULL : vfio_entry_obj(e);
}

/* See vfio_internal.h. */
int vfio_fd_install(struct stce_host *host, struct vfio_obj *obj, int flags)
{
	_Atomic uintptr_t *slot;
	int fd;

	fd = raw_open_path(flags & O_CLOEXEC);
	if (fd < 0)
		return -errno;
	slot = stce_fdtab_slot(&host->fds, fd);
	if (!slot) {
		raw_close(fd);
		return (unsigned int)fd >= STCE_FDTAB_MAX ? -EMFILE : -ENOMEM;
	}
	obj->host = host;
	atomic_init(&obj->fl, flags & ~(O_CLOEXEC | O_CREAT | O_EXCL |
					O_NOCTTY | O_TRUNC));
	atomic_fetch_add(&host->nr_open, 1);
	atomic_fetch_add(&host->installs, 1);
	atomic_store(slot, (uintptr_t)obj);
	return fd;
}

/* ---- What a fork child inherited ----------------------------------- */

/* The PE whose group an inherited @obj keeps open, or -1. */
static int busy_pe(const struct vfio_obj *obj)
{
	const struct vfio_device *d = (const struct vfio_device *)obj;

	if (obj->kind == VFIO_OBJ_GROUP)
		return (int)((const struct vfio_group *)obj)->pe_idx;
	if (obj->kind == VFIO_OBJ_DEVICE && (d->group || d->ictx))
		return (int)d->pe_idx;
	return -1;
}

static void inherited_count(struct stce_host *host, struct vfio_obj *obj,
			    int delta)
{
	int pe = busy_pe(obj);

	if (pe >= 0)
		atomic_fetch_add(&host->inherited_busy[pe], (unsigned int)delta);
}

/*
 * In the child, just forked (one thread): every object is the parent's.
 * A close that a parent thread was making when it forked may or may not
 * have closed the real descriptor: the child's copy keeps it only if it
 * is still one of ours (O_PATH).
 */
/* Keep @obj reachable (leak checkers would call it lost once its last
 * inherited descriptor is closed). Best effort: without memory, not. */
static void inherited_keep(struct stce_host *host, struct vfio_obj *obj)
{
	struct vfio_obj **a;

	for (unsigned int i = 0; i < host->nr_inherited; i++)
		if (host->inherited[i] == obj)
			return;
	a = realloc(host->inherited, (host->nr_inherited + 1) * sizeof(*a));
	if (!a)
		return;
	a[host->nr_inherited++] = obj;
	host->inherited = a;
}

/* See vfio_internal.h. */
void vfio_fds_fork_child(struct stce_host *host)
{
	unsigned int n = 0;

	for (int fd = stce_fdtab_next(&host->fds, 0); fd >= 0;
	     fd = stce_fdtab_next(&host->fds, fd + 1)) {
		_Atomic uintptr_t *slot = stce_fdtab_peek(&host->fds, fd);
		uintptr_t e = atomic_load(slot);
		long fl;

		if (e & VFIO_FD_CLOSING) {
			fl = syscall(SYS_fcntl, fd, F_GETFL);
			if (!vfio_entry_obj(e) || fl < 0 || !(fl & O_PATH)) {
				atomic_store(slot, 0);
				continue;
			}
		}
		atomic_store(slot, (uintptr_t)vfio_entry_obj(e) | VFIO_FD_INHERITED);
		inherited_count(host, vfio_entry_obj(e), 1);
		inherited_keep(host, vfio_entry_obj(e));
		n++;
	}
	atomic_store(&host->nr_open, n);
}

/* ---- close ---------------------------------------------------------- */

/*
 * The real descriptor's part of a close, @slot claimed (@e | CLOSING):
 * the entry stays CLOSING until the real descriptor is closed, so no
 * caller asks the kernel about ours meanwhile. Once closed, the number
 * may be the kernel's answer to another thread's open or dup, whose
 * install may overwrite the entry first: it is cleared only if it is
 * still ours.
 */
static void fd_drop(struct stce_host *host, int fd, _Atomic uintptr_t *slot,
		    uintptr_t e)
{
	uintptr_t claimed = e | VFIO_FD_CLOSING;

	raw_close(fd);
	atomic_compare_exchange_strong(slot, &claimed, 0);
	atomic_fetch_sub(&host->nr_open, 1);
	if (e & VFIO_FD_INHERITED)
		inherited_count(host, vfio_entry_obj(e), -1);
	else
		obj_release(vfio_entry_obj(e));
}

/* Claim @slot for a close or dup2 (|= CLOSING): false when it is empty
 * or another one claimed it first. *e: the entry claimed. */
static bool slot_claim(_Atomic uintptr_t *slot, uintptr_t *e)
{
	*e = atomic_load(slot);
	do {
		if (!*e || (*e & VFIO_FD_CLOSING))
			return false;
	} while (!atomic_compare_exchange_weak(slot, e, *e | VFIO_FD_CLOSING));
	return true;
}

/* See <spapr_tce/vfio.h>. */
int stce_host_close(struct stce_host *host, int fd)
{
	_Atomic uintptr_t *slot = stce_fdtab_peek(&host->fds, fd);
	uintptr_t e;

	if (!slot)
		return vfio_ret(-EBADF);
	/* Entered first: a handler that interrupts the claimed window must
	 * see a call in progress, not wait for it. */
	vfio_call_enter();
	if (!slot_claim(slot, &e)) {
		vfio_call_leave();
		return vfio_ret(-EBADF);
	}
	fd_drop(host, fd, slot, e);
	vfio_call_leave();
	return 0;
}

/* See <spapr_tce/vfio.h>. */
void stce_host_close_range(struct stce_host *host, unsigned int first,
			   unsigned int last)
{
	int fd = first > STCE_FDTAB_MAX ? -1 : (int)first;

	for (fd = stce_fdtab_next(&host->fds, fd); fd >= 0 &&
	     (unsigned int)fd <= last; fd = stce_fdtab_next(&host->fds, fd + 1))
		stce_host_close(host, fd);
}

/* See vfio_internal.h. */
void vfio_fds_close_all(struct stce_host *host)
{
	stce_host_close_range(host, 0, ~0u);
}

/* ---- dup ------------------------------------------------------------ */

/* @fd's entry for a duplicate, with a reference on a live object (0: not
 * the host's; CLOSING only for a nested call, see entry_settled). */
static uintptr_t dup_source(struct stce_host *host, int fd)
{
	struct stce_grace_guard guard;
	uintptr_t e;

	/* A close may claim it between the two looks: look again. */
	do {
		e = entry_settled(host, fd, 1);
		if (!e || (e & VFIO_FD_CLOSING))
			return e & VFIO_FD_CLOSING;
		e = vfio_fd_enter(host, fd, &guard);
	} while (!e);
	if (!(e & VFIO_FD_INHERITED))
		vfio_obj_get(vfio_entry_obj(e));
	stce_grace_read_unlock(&host->grace, &guard);
	return e;
}

/* The reference dup_source took, unused. Nested, host->lock may be the
 * interrupted call's: the put waits for its end. */
static void dup_source_drop(struct stce_host *host, uintptr_t src)
{
	if (!src || (src & VFIO_FD_TAGS))
		return;
	if (vfio_call_depth > 1) {
		obj_release(vfio_entry_obj(src));
		return;
	}
	pthread_mutex_lock(&host->lock);
	vfio_obj_put_locked(host, vfio_entry_obj(src));
	pthread_mutex_unlock(&host->lock);
}

/*
 * Store @src (0: not the host's) in @slot, the entry of a new duplicate.
 * What it named before is released as its close would: a dup2 target we
 * @claimed, or a stale entry (a descriptor closed behind our back). An
 * entry another close claimed is that close's to release (the number was
 * closed and handed out again before it could clear it).
 */
static void dup_install(struct stce_host *host, _Atomic uintptr_t *slot,
			uintptr_t src, bool claimed)
{
	uintptr_t prev;

	if (src)
		atomic_fetch_add(&host->installs, 1);
	prev = atomic_exchange(slot, src);
	if ((prev & VFIO_FD_CLOSING) && !claimed)
		prev = 0;
	prev &= ~(uintptr_t)VFIO_FD_CLOSING;

	if (src)
		atomic_fetch_add(&host->nr_open, 1);
	if (src & VFIO_FD_INHERITED)
		inherited_count(host, vfio_entry_obj(src), 1);
	if (!prev)
		return;
	atomic_fetch_sub(&host->nr_open, 1);
	if (prev & VFIO_FD_INHERITED)
		inherited_count(host, vfio_entry_obj(prev), -1);
	else
		obj_release(vfio_entry_obj(prev));
}

/*
 * Did @newfd duplicate what @oldfd named when @src was taken (@gen: the
 * installs count then)? 0: yes - for one of ours, the entry is unchanged
 * (a close clears it only after the real close, so the dup came first);
 * for a foreign one, nothing of ours was installed since. Otherwise a
 * close (maybe an open too) of @oldfd raced the dup: -EBADF when one of
 * our O_PATH descriptors was copied (its object went, or its entry was
 * not made yet), 1 when the copy is of a foreign file opened since.
 */
static int dup_check(struct stce_host *host, int oldfd, uintptr_t src,
		     uint64_t gen, int newfd)
{
	long fl;

	if (src && stce_fdtab_get(&host->fds, oldfd) == src)
		return 0;
	if (!src && atomic_load(&host->installs) == gen)
		return 0;
	fl = syscall(SYS_fcntl, newfd, F_GETFL);
	return fl >= 0 && (fl & O_PATH) ? -EBADF : 1;
}

/*
 * Claim the dup2/dup3 target @target: its entry CLOSING until the dup is
 * installed, so callers wait for the dup2 to be whole (even when it was
 * not the host's: a new duplicate of ours must not be seen before its
 * entry). *slot is NULL when the table cannot have the entry (no memory:
 * then the dup cannot be ours either).
 */
static int dup_target(struct stce_host *host, int target,
		      _Atomic uintptr_t **slot, uintptr_t *prev)
{
	*slot = stce_fdtab_slot(&host->fds, target);
	if (!*slot)
		return 0;
	for (;;) {
		uintptr_t e = entry_settled(host, target, 1);

		if (e & VFIO_FD_CLOSING)
			return -EBUSY;	/* nested in the close of it */
		*prev = e;
		if (atomic_compare_exchange_weak(*slot, prev,
						 e | VFIO_FD_CLOSING)) {
			atomic_fetch_add(&host->installs, 1);
			return 0;
		}
	}
}

/* Where @newfd's entry goes: the claimed target, else its slot (made
 * when @src is to be stored there). */
static _Atomic uintptr_t *dup_slot(struct stce_host *host, int newfd,
				   _Atomic uintptr_t *tslot, int target,
				   uintptr_t src)
{
	if (tslot && newfd == target)
		return tslot;
	return src ? stce_fdtab_slot(&host->fds, newfd)
		   : stce_fdtab_peek(&host->fds, newfd);
}

/* See <spapr_tce/vfio.h>. */
int stce_host_dup_call(struct stce_host *host, int oldfd, int target,
		       int (*dup_fn)(void *arg), void *arg)
{
	_Atomic uintptr_t *tslot = NULL, *slot;
	uintptr_t src, prev = 0;
	int newfd, ret = 0, err;
	uint64_t gen;

	vfio_call_enter();
	gen = atomic_load(&host->installs);
	src = dup_source(host, oldfd);
	if (src == VFIO_FD_CLOSING)
		ret = -EBADF;
	else if (target >= 0 && target != oldfd)
		ret = dup_target(host, target, &tslot, &prev);
	if (ret)
		goto fail;
	newfd = dup_fn(arg);
	err = errno;
	if (newfd < 0) {
		uintptr_t claim = prev | VFIO_FD_CLOSING;

		/* dup2 left it alone (unless an open made it since). */
		if (tslot)
			atomic_compare_exchange_strong(tslot, &claim, prev);
		ret = -err;
		goto fail;
	}
	ret = dup_check(host, oldfd, src, gen, newfd);
	if (ret) {
		dup_source_drop(host, src);
		src = 0;
	}
	/* The entry is written while @newfd is still ours: once the number
	 * goes back to the kernel, another thread's may be there. */
	slot = dup_slot(host, newfd, tslot, target, src);
	if (!slot && src) {
		/* No memory for the table: as if out of descriptors. */
		dup_source_drop(host, src);
		ret = -EMFILE;
	} else if (slot) {
		dup_install(host, slot, src, slot == tslot);
	}
	if (ret < 0)
		raw_close(newfd);	/* lost to the close: EBADF */
	vfio_call_leave();
	if (ret < 0)
		return vfio_ret(ret);
	errno = err;
	return newfd;
fail:
	dup_source_drop(host, src);
	vfio_call_leave();
	return vfio_ret(ret);
}

/* The dup of a caller that made @newfd itself (no race to guard). */
static int dup_made(void *arg)
{
	return *(int *)arg;
}

/* See <spapr_tce/vfio.h>. */
int stce_host_dup(struct stce_host *host, int oldfd, int newfd)
{
	uintptr_t e = entry_settled(host, oldfd, 0);

	if (!e || newfd < 0 || (unsigned int)newfd >= STCE_FDTAB_MAX)
		return vfio_ret(-EBADF);
	if (oldfd == newfd)
		return newfd;
	return stce_host_dup_call(host, oldfd, newfd, dup_made, &newfd);
}
