// SPDX-License-Identifier: MIT
/*
 * SPAPR_TCE_STATS: at exit, each call the library served, with its count
 * and the time spent in it (docs/preload.md has the format):
 *
 *   [spapr-tce] stats pid 1234: 2000004 calls, 812.345 ms
 *   [spapr-tce]   call                                 count   total ms  mean us
 *   [spapr-tce]   ioctl VFIO_IOMMU_MAP_DMA           1000000    420.112    0.420
 *
 * SPAPR_TCE_STATS=1 (or "stderr") writes to stderr; any other non-empty
 * value but "0" is a file to append to. Unset, a call pays one load and a
 * branch. Set, two clock reads (the vDSO's: no system call) and two
 * plain stores into the calling thread's own counters, which no other
 * thread writes: no atomic read-modify-write, no shared line. The report
 * sums the threads' counters (those of threads that ended included).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "preload_internal.h"

#define PRELOAD_ENV_STATS	"SPAPR_TCE_STATS"
#define STATS_SLOTS		64	/* distinct calls a thread keeps */
#define KEY_CALL		(1ULL << 63)	/* else an ioctl's key */
#define TLS_IE __attribute__((tls_model("initial-exec")))

struct stats_entry {
	_Atomic uint64_t key;	/* 0: free */
	_Atomic uint64_t count;
	_Atomic uint64_t ns;
};

struct stats_thread {
	struct stats_thread *next;
	struct stats_entry e[STATS_SLOTS];
};

enum { STATS_UNKNOWN, STATS_OFF, STATS_ON };
static atomic_int state;
static int out_fd = -1;
static _Atomic(struct stats_thread *) threads;
static __thread struct stats_thread *mine TLS_IE;
static _Atomic uint64_t dropped;	/* calls past a full thread table */

static void stats_init(void)
{
	const char *v = getenv(PRELOAD_ENV_STATS);
	int s = STATS_OFF;

	if (v && *v && strcmp(v, "0")) {
		out_fd = !strcmp(v, "1") || !strcmp(v, "stderr") ? 2 :
			 open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (out_fd >= 0)
			s = STATS_ON;
	}
	atomic_store_explicit(&state, s, memory_order_release);
}

uint64_t stats_start(void)
{
	int s = atomic_load_explicit(&state, memory_order_relaxed);
	struct timespec ts;

	if (__builtin_expect(s == STATS_OFF, 1))
		return 0;
	if (s == STATS_UNKNOWN) {
		stats_init();
		if (atomic_load(&state) != STATS_ON)
			return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + 1;
}

/* This thread's counters, made on its first counted call. */
static struct stats_thread *thread_table(void)
{
	struct stats_thread *t = mine, *head;

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	head = atomic_load(&threads);
	do {
		t->next = head;
	} while (!atomic_compare_exchange_weak(&threads, &head, t));
	return mine = t;
}

static void count(uint64_t key, uint64_t t0)
{
	struct stats_thread *t;
	struct timespec ts;
	uint64_t now, h;

	if (!t0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + 1;
	t = thread_table();
	if (!t)
		return;
	h = (key * 0x9e3779b97f4a7c15ULL) >> 58;
	for (unsigned int i = 0; i < STATS_SLOTS; i++) {
		struct stats_entry *e = &t->e[(h + i) % STATS_SLOTS];
		uint64_t k = atomic_load_explicit(&e->key, memory_order_relaxed);

		if (!k)
			atomic_store_explicit(&e->key, k = key,
					      memory_order_relaxed);
		if (k != key)
			continue;
		/* Only this thread writes its entries: no read-modify-write. */
		atomic_store_explicit(&e->count, atomic_load_explicit(
			&e->count, memory_order_relaxed) + 1,
			memory_order_relaxed);
		atomic_store_explicit(&e->ns, atomic_load_explicit(
			&e->ns, memory_order_relaxed) + (now - t0),
			memory_order_relaxed);
		return;
	}
	atomic_fetch_add(&dropped, 1);
}

void stats_ioctl(enum stce_host_fd_kind kind, unsigned long req, uint64_t t0)
{
	count(((uint64_t)(kind + 1) << 32) | (uint32_t)req, t0);
}

void stats_call(const char *call, uint64_t t0)
{
	count((uint64_t)(uintptr_t)call | KEY_CALL, t0);
}

/* ---- the report ---- */

struct row {
	uint64_t key, count, ns;
};

static void add_row(struct row *rows, unsigned int *n, const struct stats_entry *e)
{
	uint64_t key = atomic_load_explicit(&e->key, memory_order_relaxed);
	unsigned int i;

	if (!key)
		return;
	for (i = 0; i < *n && rows[i].key != key; i++)
		;
	if (i == *n) {
		if (*n == 4 * STATS_SLOTS)
			return;
		rows[(*n)++] = (struct row){ .key = key };
	}
	rows[i].count += atomic_load_explicit(&e->count, memory_order_relaxed);
	rows[i].ns += atomic_load_explicit(&e->ns, memory_order_relaxed);
}

static int by_time(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

static void row_name(const struct row *r, char *buf, size_t len)
{
	enum stce_host_fd_kind kind;
	const char *name;

	if (r->key & KEY_CALL) {
		snprintf(buf, len, "%s", (const char *)(uintptr_t)(r->key & ~KEY_CALL));
		return;
	}
	kind = (enum stce_host_fd_kind)((r->key >> 32) - 1);
	name = trace_ioctl_name((uint32_t)r->key, kind);
	if (name)
		snprintf(buf, len, "ioctl %s", name);
	else
		snprintf(buf, len, "ioctl 0x%" PRIx64, r->key & 0xffffffffu);
}

/* Append to the report; one write(2) at the end. */
__attribute__((format(printf, 3, 4)))
static void put(char *buf, size_t *len, const char *fmt, ...)
{
	size_t cap = 64 * 1024;
	va_list ap;
	int n;

	if (*len >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < cap ? *len + (size_t)n : cap;
}

void stats_report(void)
{
	static struct row rows[4 * STATS_SLOTS];
	static char buf[64 * 1024];
	uint64_t calls = 0, ns = 0;
	unsigned int n = 0;
	size_t len = 0;
	char name[96];

	if (atomic_load(&state) != STATS_ON)
		return;
	for (struct stats_thread *t = atomic_load(&threads); t; t = t->next)
		for (unsigned int i = 0; i < STATS_SLOTS; i++)
			add_row(rows, &n, &t->e[i]);
	qsort(rows, n, sizeof(rows[0]), by_time);
	for (unsigned int i = 0; i < n; i++) {
		calls += rows[i].count;
		ns += rows[i].ns;
	}
	put(buf, &len, "[spapr-tce] stats pid %d: %" PRIu64 " calls, %.3f ms\n",
	    (int)getpid(), calls, (double)ns / 1e6);
	put(buf, &len, "[spapr-tce]   %-40s %10s %11s %9s\n", "call", "count",
	    "total ms", "mean us");
	for (unsigned int i = 0; i < n; i++) {
		if (!rows[i].count)
			continue;
		row_name(&rows[i], name, sizeof(name));
		put(buf, &len, "[spapr-tce]   %-40s %10" PRIu64 " %11.3f %9.3f\n",
		    name, rows[i].count, (double)rows[i].ns / 1e6,
		    (double)rows[i].ns / 1e3 / (double)rows[i].count);
	}
	if (atomic_load(&dropped))
		put(buf, &len, "[spapr-tce]   (%" PRIu64 " calls not counted: "
		    "more than %d distinct calls on a thread)\n",
		    atomic_load(&dropped), STATS_SLOTS);
	if (write(out_fd, buf, len) < 0)
		return;
}

/* fork child: its report counts its own calls only. */
void stats_fork_child(void)
{
	for (struct stats_thread *t = atomic_load(&threads); t; t = t->next)
		for (unsigned int i = 0; i < STATS_SLOTS; i++) {
			atomic_store(&t->e[i].count, 0);
			atomic_store(&t->e[i].ns, 0);
		}
	atomic_store(&dropped, 0);
}

__attribute__((destructor)) static void stats_exit(void)
{
	stats_report();
}
