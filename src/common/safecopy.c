// SPDX-License-Identifier: MIT
/*
 * Fault-safe copies (see safecopy.h for the contract).
 */
#include <errno.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/lockdep.h"
#include "common/safecopy.h"

#if defined(__x86_64__)

/*
 * Sanitizer builds copy with string instructions, not through memcpy:
 * TSan's memcpy is not a leaf, and ASan's checks the shadow of the user's
 * range first, so a wild pointer (one in ASan's shadow gap, say) faults
 * inside the interceptor, at an address no recovery bound covers.
 */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SAFECOPY_REP 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SAFECOPY_REP 1
#endif
#endif

/*
 * The copy, two ways. Both are written out so that where a fault may
 * happen and where to resume are known. rdi = dst, rsi = src, rdx = n;
 * returns rax = bytes left. The move (memmove) and the fill (memset, rsi
 * = the byte) are built the same way, so that a device's COPY between two
 * pinned ranges and its FILL need no bounce buffer.
 *
 *  - libc's memcpy under a recovery point (the default): the callee-saved
 *    registers and the thread's previous point (a copy this one
 *    interrupted, from a signal handler) are pushed, the stack pointer and
 *    the copy's bounds go to thread-local words, memcpy runs at its own speed (glibc's vector
 *    code beats `rep movsb` on a 4 KiB page from memory into a hot
 *    buffer). A fault in the bounds while the point is set resumes at
 *    safecopy_recover with the stack put back: the whole count is "left"
 *    (the caller's slow path redoes it).
 *  - `rep movsb` (ThreadSanitizer builds, whose memcpy interceptor keeps
 *    state that a jump out of it would leave behind): a fault leaves rcx
 *    at the bytes not yet moved, and resumes after the instruction.
 */
__thread uintptr_t stce_safecopy_sp
	__attribute__((tls_model("initial-exec"), visibility("hidden")));
__thread uintptr_t stce_safecopy_lo
	__attribute__((tls_model("initial-exec"), visibility("hidden")));
__thread uintptr_t stce_safecopy_n
	__attribute__((tls_model("initial-exec"), visibility("hidden")));
__thread uintptr_t stce_safecopy_lo2
	__attribute__((tls_model("initial-exec"), visibility("hidden")));
/*
 * The device engine's stream (stce_safecopy_stream): where this thread's
 * last transfer ended and how many bytes led up to it without a gap.
 * Defined before the assembly below, which leaves the section at .text.
 */
static __thread uintptr_t stream_end
	__attribute__((tls_model("initial-exec")));
static __thread size_t stream_len
	__attribute__((tls_model("initial-exec")));

/* A function's symbol (hidden: the library's own). */
#define SAFECOPY_ENTRY(name)						\
	".text\n"							\
	".globl " name "\n"						\
	".hidden " name "\n"						\
	".type " name ", @function\n"					\
	name ":\n"

/*
 * A fill of 2-4 KiB (a device's 4 KiB FILL) with 16-byte stores, when it
 * does not stream (stce_safecopy_vset() below); other sizes go on to
 * libc's memset. Why: glibc fills these sizes with `rep
 * stosb`, which streams fastest when nothing follows, but the stores
 * after it (the DMA's bookkeeping, the recovery point's restore, the next
 * MMIO write) wait for its stores: a device FILL of 4 KiB transfers ran
 * 15% faster with plain vector stores (docs/pe.md). Copies stay libc's:
 * its 32-byte loop into a hot buffer beats 16-byte moves (dma_read of
 * 4 KiB chunks fell from 0.83 to 0.67 of memcpy with them). A leaf: rdi =
 * dst, esi = the byte, rdx = n; it touches rax, r9, xmm0 and [dst, +n).
 */
__asm__(
	SAFECOPY_ENTRY("stce_safecopy_vset16")
	"	leaq -2048(%rdx), %rax\n"		/* n in [2048, 4096]? */
	"	cmpq $2048, %rax\n"
	"	ja memset@PLT\n"
	"	movzbl %sil, %eax\n"			/* the byte, 16 times */
	"	movd %eax, %xmm0\n"
	"	punpcklbw %xmm0, %xmm0\n"
	"	punpcklwd %xmm0, %xmm0\n"
	"	pshufd $0, %xmm0, %xmm0\n"
	"	movq %rdi, %rax\n"			/* memset's return */
	"	leaq -64(%rdi, %rdx), %r9\n"		/* the last 64 bytes */
	"1:	movdqu %xmm0, (%rdi)\n"
	"	movdqu %xmm0, 16(%rdi)\n"
	"	movdqu %xmm0, 32(%rdi)\n"
	"	movdqu %xmm0, 48(%rdi)\n"
	"	addq $64, %rdi\n"
	"	subq $64, %rdx\n"
	"	cmpq $64, %rdx\n"
	"	ja 1b\n"
	/* 1..64 bytes left: the last 64, over what is done. */
	"	movdqu %xmm0, (%r9)\n"
	"	movdqu %xmm0, 16(%r9)\n"
	"	movdqu %xmm0, 32(%r9)\n"
	"	movdqu %xmm0, 48(%r9)\n"
	"	ret\n"
	".size stce_safecopy_vset16, .-stce_safecopy_vset16\n");

void *stce_safecopy_vset16(void *dst, int c, size_t n);

/* See common/safecopy.h. */
bool stce_safecopy_stream(const void *dst, size_t n)
{
	uintptr_t d = (uintptr_t)dst;
	size_t run = d == stream_end ? stream_len + n : n;

	stream_end = d + n;
	stream_len = run;
	return run > STCE_SAFECOPY_STREAM_MIN && !((d | n) & 63);
}

/*
 * Streaming stores of whole 64-byte lines (@dst and @n multiples of 64):
 * a line is written to memory without being read first, and the store
 * fence at the end orders them before every later store (a DMA's section
 * exit, its completion), as a plain store is.
 */
static inline void stream_line(uint8_t *p, __m128i a, __m128i b, __m128i c,
			       __m128i d)
{
	_mm_stream_si128((__m128i *)p, a);
	_mm_stream_si128((__m128i *)(p + 16), b);
	_mm_stream_si128((__m128i *)(p + 32), c);
	_mm_stream_si128((__m128i *)(p + 48), d);
}

static void *stream_set(void *dst, int c, size_t n)
{
	__m128i v = _mm_set1_epi8((char)c);

	for (uint8_t *p = dst, *end = p + n; p < end; p += 64)
		stream_line(p, v, v, v, v);
	_mm_sfence();
	return dst;
}

static void *stream_move(void *dst, const void *src, size_t n)
{
	const uint8_t *s = src;

	for (uint8_t *p = dst, *end = p + n; p < end; p += 64, s += 64)
		stream_line(p, _mm_loadu_si128((const __m128i *)s),
			    _mm_loadu_si128((const __m128i *)(s + 16)),
			    _mm_loadu_si128((const __m128i *)(s + 32)),
			    _mm_loadu_si128((const __m128i *)(s + 48)));
	_mm_sfence();
	return dst;
}

/* See common/safecopy.h. */
void *stce_safecopy_vset(void *dst, int c, size_t n)
{
	if (stce_safecopy_stream(dst, n))
		return stream_set(dst, c, n);
	return stce_safecopy_vset16(dst, c, n);
}

/* See common/safecopy.h: ranges that overlap take libc's memmove. */
void *stce_safecopy_vmove(void *dst, const void *src, size_t n)
{
	uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;

	if (stce_safecopy_stream(dst, n) && d - s >= n && s - d >= n)
		return stream_move(dst, src, n);
	return memmove(dst, src, n);
}

#ifdef SAFECOPY_REP
/* One string instruction each: a fault resumes past it, rcx left. */
#define SAFECOPY_STRING(name, setup, insn, label)			\
	SAFECOPY_ENTRY(name)						\
	setup								\
	"	movq %rdx, %rcx\n"					\
	label "_insn:\n"						\
	"	" insn "\n"						\
	label "_resume:\n"						\
	"	movq %rcx, %rax\n"					\
	"	ret\n"							\
	".size " name ", .-" name "\n"

__asm__(
	SAFECOPY_STRING("stce_safe_copy", "", "rep movsb", "stce_safecopy")
	/* Overlap: forwards unless the destination starts inside the
	 * source, then backwards (direction flag set for the copy); a
	 * backward copy that faults reports every byte left. */
	SAFECOPY_ENTRY("stce_safe_move")
	"	movq %rdi, %rax\n"
	"	subq %rsi, %rax\n"
	"	cmpq %rdx, %rax\n"
	"	jae stce_safe_copy\n"
	"	movq %rdx, %rcx\n"
	"	leaq -1(%rdi, %rdx), %rdi\n"
	"	leaq -1(%rsi, %rdx), %rsi\n"
	"	std\n"
	"stce_safemove_insn:\n"
	"	rep movsb\n"
	"stce_safemove_resume:\n"
	"	cld\n"
	"	testq %rcx, %rcx\n"		/* a fault: all of it is left */
	"	cmovnzq %rdx, %rcx\n"
	"	movq %rcx, %rax\n"
	"	ret\n"
	".size stce_safe_move, .-stce_safe_move\n"
	SAFECOPY_STRING("stce_safe_set", "	movl %esi, %eax\n", "rep stosb",
			"stce_safeset")
	"stce_safecopy_recover:\n"
	"	ud2\n");
#else
/*
 * @callee (memcpy, memmove or memset: rdi = dst, rsi, rdx = n) under a
 * recovery point; the fault bounds are [rdi, +n) and [@lo2, +n) (memset:
 * the destination twice).
 */
#define SAFECOPY_CALL(name, callee, lo2)				\
	SAFECOPY_ENTRY(name)						\
	"	pushq %rbp\n"						\
	"	pushq %rbx\n"						\
	"	pushq %r12\n"						\
	"	pushq %r13\n"						\
	"	pushq %r14\n"						\
	"	pushq %r15\n"						\
	/* An outer copy this one interrupted (a signal handler's DMA). */ \
	"	movq stce_safecopy_lo@gottpoff(%rip), %rax\n"		\
	"	pushq %fs:(%rax)\n"					\
	"	movq %rdi, %fs:(%rax)\n"				\
	"	movq stce_safecopy_lo2@gottpoff(%rip), %rax\n"		\
	"	pushq %fs:(%rax)\n"					\
	"	movq " lo2 ", %fs:(%rax)\n"				\
	"	movq stce_safecopy_n@gottpoff(%rip), %rax\n"		\
	"	pushq %fs:(%rax)\n"					\
	"	movq %rdx, %fs:(%rax)\n"				\
	"	movq stce_safecopy_sp@gottpoff(%rip), %rax\n"		\
	"	pushq %fs:(%rax)\n"					\
	"	subq $8, %rsp\n"	/* 16-byte aligned at the call */ \
	"	movq %rsp, %fs:(%rax)\n"				\
	"	call " callee "\n"					\
	"	xorl %ebx, %ebx\n"	/* nothing left */		\
	"	jmp stce_safecopy_out\n"				\
	".size " name ", .-" name "\n"

__asm__(
	SAFECOPY_CALL("stce_safe_copy", "memcpy@PLT", "%rsi")
	/* The common tail, also where a fault resumes (rbx: bytes left). */
	"stce_safecopy_out:\n"
	"	addq $8, %rsp\n"
	"	movq stce_safecopy_sp@gottpoff(%rip), %rax\n"
	"	popq %fs:(%rax)\n"
	"	movq stce_safecopy_n@gottpoff(%rip), %rax\n"
	"	popq %fs:(%rax)\n"
	"	movq stce_safecopy_lo2@gottpoff(%rip), %rax\n"
	"	popq %fs:(%rax)\n"
	"	movq stce_safecopy_lo@gottpoff(%rip), %rax\n"
	"	popq %fs:(%rax)\n"
	"	movq %rbx, %rax\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	"stce_safecopy_recover:\n"		/* rsp as before the call */
	"	sfence\n"		/* a streaming move's or fill's stores */
	"	movq stce_safecopy_n@gottpoff(%rip), %rax\n"
	"	movq %fs:(%rax), %rbx\n"
	"	jmp stce_safecopy_out\n"
	SAFECOPY_CALL("stce_safe_move", "stce_safecopy_vmove", "%rsi")
	SAFECOPY_CALL("stce_safe_set", "stce_safecopy_vset", "%rdi")
	/* Never fault in this build: the handler's test stays simple. */
	"stce_safecopy_insn:\n"
	"stce_safecopy_resume:\n"
	"stce_safemove_insn:\n"
	"stce_safemove_resume:\n"
	"stce_safeset_insn:\n"
	"stce_safeset_resume:\n"
	"	ud2\n");
#endif

__asm__(
	".text\n"
	/* rdi = addr, rsi = n, rdx = step */
	".globl stce_safe_touch_write\n"
	".hidden stce_safe_touch_write\n"
	".type stce_safe_touch_write, @function\n"
	"stce_safe_touch_write:\n"
	"	xchgq %rsi, %rdx\n"		/* rdx = left, rsi = step */
	"1:	testq %rdx, %rdx\n"
	"	jz 2f\n"
	"stce_safetouch_insn:\n"
	"	lock orb $0, (%rdi)\n"
	"	cmpq %rsi, %rdx\n"
	"	jbe 3f\n"
	"	addq %rsi, %rdi\n"
	"	subq %rsi, %rdx\n"
	"	jmp 1b\n"
	"3:	xorl %edx, %edx\n"
	"2:\n"
	"stce_safetouch_resume:\n"
	"	movq %rdx, %rax\n"
	"	ret\n"
	".size stce_safe_touch_write, .-stce_safe_touch_write\n"
	/* The signal return trampoline when no libc one is at hand. */
	".type stce_safecopy_restorer, @function\n"
	"stce_safecopy_restorer:\n"
	"	movq $15, %rax\n"		/* rt_sigreturn */
	"	syscall\n"
	".size stce_safecopy_restorer, .-stce_safecopy_restorer\n");

extern const char stce_safecopy_insn[], stce_safecopy_resume[];
extern const char stce_safemove_insn[], stce_safemove_resume[];
extern const char stce_safeset_insn[], stce_safeset_resume[];
extern const char stce_safecopy_recover[];
extern const char stce_safetouch_insn[], stce_safetouch_resume[];
extern const char stce_safecopy_restorer[];

#define SA_RESTORER_FLAG	0x04000000

/* The kernel's struct sigaction (not libc's). */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

/* What was installed before us, per signal (SIGSEGV, SIGBUS). */
static struct ksigaction prev[2];
static pthread_mutex_t arm_lock = PTHREAD_MUTEX_INITIALIZER;

static int slot_of(int sig)
{
	return sig == SIGBUS;
}

static long raw_sigaction(int sig, const struct ksigaction *act,
			  struct ksigaction *old)
{
	return syscall(SYS_rt_sigaction, sig, act, old, sizeof(uint64_t));
}

/*
 * Not ours: hand the fault to whoever had the signal before. The default
 * action (or an ignored synchronous fault) is re-armed and the faulting
 * instruction runs again, so the process dies of it as it would have.
 */
__attribute__((no_sanitize_address, no_sanitize_thread, no_sanitize_undefined))
static void chain(int sig, siginfo_t *si, void *uc)
{
	const struct ksigaction *p = &prev[slot_of(sig)];
	struct ksigaction dfl = { 0 };

	if (p->handler == (void *)SIG_DFL || p->handler == (void *)SIG_IGN) {
		dfl.handler = (void *)SIG_DFL;
		raw_sigaction(sig, &dfl, NULL);
		return;
	}
	if (p->flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))p->handler)(sig, si, uc);
	else
		((void (*)(int))p->handler)(sig);
}

/*
 * The fault is the copy's: its address lies in the destination or the
 * source (an unrelated fault, in a signal handler that interrupted the
 * copy, goes on to the previous handler).
 */
__attribute__((no_sanitize_address, no_sanitize_thread, no_sanitize_undefined))
static bool in_copy(uintptr_t a)
{
	uintptr_t n = stce_safecopy_n;

	return a - stce_safecopy_lo < n || a - stce_safecopy_lo2 < n;
}

__attribute__((no_sanitize_address, no_sanitize_thread, no_sanitize_undefined))
static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *ip = &uc->uc_mcontext.gregs[REG_RIP];

	if (*ip == (greg_t)(uintptr_t)stce_safecopy_insn) {
		*ip = (greg_t)(uintptr_t)stce_safecopy_resume;
		return;
	}
	if (*ip == (greg_t)(uintptr_t)stce_safemove_insn) {
		*ip = (greg_t)(uintptr_t)stce_safemove_resume;
		return;
	}
	if (*ip == (greg_t)(uintptr_t)stce_safeset_insn) {
		*ip = (greg_t)(uintptr_t)stce_safeset_resume;
		return;
	}
	if (stce_safecopy_sp && in_copy((uintptr_t)si->si_addr)) {
		/* In memcpy under the recovery point: back to it. */
		uc->uc_mcontext.gregs[REG_RSP] = (greg_t)stce_safecopy_sp;
		*ip = (greg_t)(uintptr_t)stce_safecopy_recover;
		return;
	}
	if (*ip == (greg_t)(uintptr_t)stce_safetouch_insn) {
		*ip = (greg_t)(uintptr_t)stce_safetouch_resume;
		return;
	}
	chain(sig, si, ucv);
}

/* Our handler for @sig, the old one kept in prev[] to chain to. arm_lock
 * held: no armer that finds ours installed returns before prev[] is set. */
static int arm_one(int sig)
{
	struct ksigaction act = { 0 }, old;

	stce_assert_held(&arm_lock);
	if (raw_sigaction(sig, NULL, &old))
		return -errno;
	if (old.handler == (void *)on_fault)
		return 0;
	act.handler = (void *)on_fault;
	/* SA_NODEFER: a fault inside a chained handler is not blocked. */
	act.flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTORER_FLAG;
	act.restorer = (old.flags & SA_RESTORER_FLAG) && old.restorer ?
		       old.restorer : (void *)stce_safecopy_restorer;
	if (raw_sigaction(sig, &act, NULL))
		return -errno;
	prev[slot_of(sig)] = old;
	return 0;
}

/* Ours already: one system call, no lock (a signal handler may ask). */
static bool armed(void)
{
	struct ksigaction a, b;

	return !raw_sigaction(SIGSEGV, NULL, &a) && a.handler == (void *)on_fault &&
	       !raw_sigaction(SIGBUS, NULL, &b) && b.handler == (void *)on_fault;
}

/* See common/safecopy.h. */
int stce_safe_copy_arm(void)
{
	int ret;

	if (armed())
		return 0;
	pthread_mutex_lock(&arm_lock);
	ret = arm_one(SIGSEGV);
	if (!ret)
		ret = arm_one(SIGBUS);
	pthread_mutex_unlock(&arm_lock);
	return ret;
}

/* Set once the preload library keeps the handler in front. */
static atomic_bool watched;

/* See common/safecopy.h. */
int stce_safe_copy_ready(void)
{
	if (atomic_load_explicit(&watched, memory_order_relaxed))
		return 0;
	return stce_safe_copy_arm();
}

/* See common/safecopy.h. */
int stce_safe_copy_watch(void)
{
	int ret = stce_safe_copy_arm();

	if (!ret)
		atomic_store(&watched, true);
	return ret;
}

/* See common/safecopy.h. */
bool stce_safe_copy_owns(int sig)
{
	return (sig == SIGSEGV || sig == SIGBUS) && atomic_load(&watched);
}

/* See common/safecopy.h. */
int stce_safe_copy_sigaction(int sig, const struct sigaction *act,
			     struct sigaction *old)
{
	struct ksigaction *p = &prev[slot_of(sig)];

	pthread_mutex_lock(&arm_lock);
	if (old) {
		memset(old, 0, sizeof(*old));
		old->sa_handler = (void (*)(int))p->handler;
		old->sa_flags = (int)(p->flags & ~SA_RESTORER_FLAG);
		memcpy(&old->sa_mask, &p->mask, sizeof(p->mask));
	}
	if (act) {
		p->handler = (void *)act->sa_handler;
		p->flags = (unsigned long)(unsigned int)act->sa_flags;
		memcpy(&p->mask, &act->sa_mask, sizeof(p->mask));
		p->restorer = NULL;
	}
	pthread_mutex_unlock(&arm_lock);
	return 0;
}

/* See common/safecopy.h. */
bool stce_safe_copy_inline(void)
{
	return true;
}

/* fork child: the lock may have been copied held by another thread. */
static void atfork_child(void)
{
	pthread_mutex_init(&arm_lock, NULL);
}

__attribute__((constructor)) static void safecopy_init(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

#else /* no inline fault recovery: one system call a copy */

static atomic_bool direct;	/* a seccomp filter forbids process_vm_* */

/* See common/safecopy.h. */
size_t stce_safe_copy(void *dst, const void *src, size_t n)
{
	struct iovec l = { dst, n }, r = { (void *)src, n };
	ssize_t done;

	if (!n)
		return 0;
	if (!atomic_load_explicit(&direct, memory_order_relaxed)) {
		/* Both sides are ours: a fault on either is EFAULT, no crash. */
		done = process_vm_readv(getpid(), &l, 1, &r, 1, 0);
		if (done >= 0)
			return n - (size_t)done;
		if (errno != EPERM && errno != ENOSYS)
			return n;
		atomic_store(&direct, true);
	}
	memcpy(dst, src, n);
	return 0;
}

/* Overlapping moves and fills take the caller's slow path here. */
size_t stce_safe_move(void *dst, const void *src, size_t n)
{
	uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;

	if (d - s < n || s - d < n)
		return n;
	return stce_safe_copy(dst, src, n);
}

/* See common/safecopy.h: with no inline recovery, every fill says @n. */
size_t stce_safe_set(void *dst, int c, size_t n)
{
	(void)dst;
	(void)c;
	return n;
}

/* See common/safecopy.h. */
size_t stce_safe_touch_write(void *addr, size_t n, size_t step)
{
	for (size_t off = 0; off < n; off += step) {
		volatile unsigned char *p = (unsigned char *)addr + off;
		unsigned char b;

		if (stce_safe_copy(&b, (const void *)p, 1))
			return n - off;
		__atomic_fetch_or(p, 0, __ATOMIC_SEQ_CST);
	}
	return 0;
}

/* See common/safecopy.h. */
int stce_safe_copy_arm(void)
{
	return 0;
}

/* See common/safecopy.h. */
int stce_safe_copy_ready(void)
{
	return 0;
}

/* See common/safecopy.h. */
int stce_safe_copy_watch(void)
{
	return 0;
}

/* See common/safecopy.h. */
bool stce_safe_copy_owns(int sig)
{
	(void)sig;
	return false;
}

/* See common/safecopy.h. */
int stce_safe_copy_sigaction(int sig, const struct sigaction *act,
			     struct sigaction *old)
{
	(void)sig, (void)act, (void)old;
	return -ENOSYS;
}

/* See common/safecopy.h. */
bool stce_safe_copy_inline(void)
{
	return false;
}

#endif
