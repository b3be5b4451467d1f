/* SPDX-License-Identifier: MIT */
/*
 * Read-only audits of a guest, for the hypercall fuzzer and tests: what
 * LIOBNs exist, their geometry, the windows they write, their guest view
 * and what they charge. Internal; nothing here changes state and nothing
 * is on a hot path (each call takes the guest's lock).
 */
#ifndef STCE_HCALL_AUDIT_H
#define STCE_HCALL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spapr_tce/hcall.h>

struct hcall_audit_window {
	struct stce_container *c;
	unsigned int num;		/* container window number */
	struct stce_table *t;		/* the table it was attached to */
	bool stale;			/* the container's window is another now */
};

struct hcall_audit_liobn {
	unsigned int page_shift;
	uint64_t offset;		/* first bus page */
	uint64_t size;			/* pages */
	uint64_t charged;		/* locked_vm pages */
	unsigned int nr_windows;	/* unique windows written */
	unsigned int nr_binds;		/* groups attached */
	struct hcall_audit_window w[STCE_HCALL_MAX_TABLES];
};

/* @liobn's geometry and attachments; -ENOENT when it does not exist. */
int hcall_audit_liobn(struct stce_guest *g, uint64_t liobn,
		      struct hcall_audit_liobn *out);

/* Copy guest view entries [first, first + n) of @liobn (indices from the
 * table's start) into @out; -ENOENT, or -ERANGE outside the table. */
int hcall_audit_view(struct stce_guest *g, uint64_t liobn, uint64_t first,
		     uint64_t n, uint64_t *out);

/* The LIOBNs (at most @max, sorted) into @out; returns how many exist. */
size_t hcall_audit_liobns(struct stce_guest *g, uint64_t *out, size_t max);

/* locked_vm pages the guest's tables charge (their views). */
uint64_t hcall_audit_charged(struct stce_guest *g);

#endif /* STCE_HCALL_AUDIT_H */
