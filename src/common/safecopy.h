/* SPDX-License-Identifier: MIT */
/*
 * Fault-safe copies: move bytes to or from memory that may be unmapped or
 * protected, and get a short count instead of a crash, as the kernel's
 * copy_to_user does with its exception tables.
 *
 * x86_64: libc's memcpy under a recovery point that a SIGSEGV/SIGBUS
 * handler knows (thread-local: the stack pointer and the copy's bounds); a
 * fault inside the bounds resumes there with the callee-saved registers
 * put back, the whole count reported left. ThreadSanitizer builds use one
 * `rep movsb` instead, resumed past with the remaining count (TSan's
 * memcpy interceptor keeps state a jump out of it would leave behind).
 * Every other fault goes on to the handler that was installed before
 * (sanitizers, the program, or the default action). No system call on
 * the way: the copy costs what memcpy does (bench-dma). The move and the
 * fill (a device's own COPY and FILL) stream past the cache on a long
 * run of adjacent transfers (stce_safecopy_stream).
 * The handler is installed with the raw rt_sigaction system call, under
 * any sanitizer interceptor, and can be displaced by a program that
 * installs its own later: stce_safe_copy_arm() puts it back (callers do
 * at every pin). Elsewhere: process_vm_readv/writev on the own process
 * (a system call a copy), or plain memcpy where a seccomp filter forbids
 * them.
 */
#ifndef STCE_SAFECOPY_H
#define STCE_SAFECOPY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Copy @n bytes from @src to @dst; either may fault. Returns 0 when all
 * were copied, else at least the bytes not copied (counted from the end;
 * the memcpy form says @n): redo that tail another way.
 */
size_t stce_safe_copy(void *dst, const void *src, size_t n);

/*
 * stce_safe_copy() for ranges that may overlap (memmove), and a fault-safe
 * memset of @n bytes of @c at @dst: the same returns (a backward move that
 * faults says @n; where no inline recovery exists, an overlapping move
 * and every fill say @n without touching a byte).
 */
size_t stce_safe_move(void *dst, const void *src, size_t n);
size_t stce_safe_set(void *dst, int c, size_t n);

#if defined(__x86_64__)
/*
 * The device engine's stream (the fills and moves of stce_safe_set() and
 * stce_safe_move(), which only a device's own FILL and COPY use): a
 * transfer to @dst that starts where this thread's last one ended adds to
 * its run, any other starts a new one. True when the run is past
 * STCE_SAFECOPY_STREAM_MIN bytes and @dst and @n are whole 64-byte lines:
 * then the transfer uses streaming stores, which write memory without
 * reading the lines first or keeping them in the cache (a run that long
 * has pushed its own start out of a core's L2 already; its bytes cost the
 * read for ownership and nothing is kept for a later reader). Counts the
 * transfer in the run whatever it returns.
 */
#define STCE_SAFECOPY_STREAM_MIN	(2u << 20)
bool stce_safecopy_stream(const void *dst, size_t n);

/* memset() and memmove() as stce_safe_set() and stce_safe_move() run them
 * (x86_64): streaming stores when stce_safecopy_stream() says so (a move
 * also needs ranges that do not overlap), else a fill of 2-4 KiB with
 * vector stores and libc's for the rest (safecopy.c says why). Not
 * fault-safe by themselves. */
void *stce_safecopy_vset(void *dst, int c, size_t n);
void *stce_safecopy_vmove(void *dst, const void *src, size_t n);
#endif

/*
 * Fault in [addr, addr + n) for writing without changing a byte (a
 * locked "or 0" on every @step bytes): the bytes other threads write
 * meanwhile are kept. Returns the bytes from the first page it could not
 * write to the end (0: all of them).
 */
size_t stce_safe_touch_write(void *addr, size_t n, size_t step);

/*
 * Make sure the fault handler is installed (first call installs it; later
 * ones put it back if something replaced it). 0 or a negative errno.
 * Not async-signal-safe; cheap (one system call) when nothing changed.
 */
int stce_safe_copy_arm(void);

/*
 * Before a copy from code that cannot know whether the handler is still
 * installed: arm it (a query system call when it is) unless a watcher
 * keeps it in front (stce_safe_copy_watch: then nothing). 0 or -errno.
 */
int stce_safe_copy_ready(void);

/*
 * The caller (the preload library) promises to route every sigaction of
 * SIGSEGV and SIGBUS through stce_safe_copy_sigaction(): the handler is
 * armed now and stce_safe_copy_ready() costs nothing from here on.
 */
int stce_safe_copy_watch(void);

/* True for the signals a watcher must route (SIGSEGV, SIGBUS, watched). */
bool stce_safe_copy_owns(int sig);

/*
 * sigaction(2) of a signal stce_safe_copy_owns(): the program's handler
 * is kept behind the copy's (which hands it every fault not a copy's);
 * @old is the program's previous one. 0.
 */
struct sigaction;
int stce_safe_copy_sigaction(int sig, const struct sigaction *act,
			     struct sigaction *old);

/* True when faults are caught without a system call (x86_64). */
bool stce_safe_copy_inline(void);

#endif /* STCE_SAFECOPY_H */
