/* SPDX-License-Identifier: MIT */
/*
 * The served file tree, between its description (sysfs.c: which nodes
 * exist, their names, modes, contents and link targets, from the
 * topology) and the code that walks and serves it (vfs.c). Internal to
 * the preload library.
 *
 * A node is (kind, instance, entry) packed in 32 bits, so it can sit in
 * a descriptor table and be compared without allocation: the kind says
 * what the node is (a PCI device's directory, a group's directory, ...),
 * the instance which one (the topology device, PE, PCI root, module), and
 * a non-zero entry names one of the kind's static entries (an attribute
 * file, a link or a fixed subdirectory), entry - 1 in its table.
 */
#ifndef STCE_PRELOAD_VFS_H
#define STCE_PRELOAD_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <spapr_tce/topology.h>

typedef uint32_t vnode_t;

#define VNODE(kind, inst, entry)					\
	(((uint32_t)(kind) << 24) | ((uint32_t)(entry) << 16) |		\
	 (uint32_t)(inst))
#define VNODE_KIND(n)	((unsigned int)((n) >> 24))
#define VNODE_ENTRY(n)	((unsigned int)(((n) >> 16) & 0xff))
#define VNODE_INST(n)	((unsigned int)((n) & 0xffff))
#define VNODE_NONE	0u

enum vtype { VT_NONE, VT_DIR, VT_FILE, VT_LINK, VT_CHR };

/* The file systems the nodes live on (for st_dev and statfs). */
enum vfs_fs { VFS_SYSFS, VFS_DEVTMPFS };

struct vtree;

/* A static entry of a directory kind. */
struct vattr {
	const char *name;
	uint8_t type;		/* VT_FILE, VT_LINK, VT_DIR, VT_CHR */
	uint16_t mode;		/* permission bits */
	uint8_t child;		/* VT_DIR: the subdirectory's kind (same instance) */
	uint8_t only;		/* 0: every instance has it; else a mask of those that do */
	const char *text;	/* VT_FILE: fixed content (else show) */
	size_t (*show)(const struct vtree *t, vnode_t node, char *buf, size_t len);
	vnode_t (*link)(const struct vtree *t, vnode_t node);	/* VT_LINK */
	unsigned int (*rdev)(const struct vtree *t, vnode_t node);	/* VT_CHR */
	uint16_t size;		/* VT_FILE: st_size when not the page size */
};

/* What a node of a kind is, and where it sits. */
struct vkind {
	uint8_t type;		/* the node itself: VT_DIR, VT_LINK or VT_CHR */
	uint8_t fs;		/* enum vfs_fs */
	uint16_t mode;
	const char *name;	/* a fixed name, or NULL: get_name() */
	void (*get_name)(const struct vtree *t, vnode_t node, char *buf,
			 size_t len);
	/* The directory holding it; NULL for a root of the tree, which
	 * appears in the real directory @root. */
	vnode_t (*parent)(const struct vtree *t, vnode_t node);
	const char *root;
	const struct vattr *attrs;
	unsigned int nr_attrs;
	/* The @idx-th dynamic child of a directory, false past the last. */
	bool (*child)(const struct vtree *t, vnode_t dir, unsigned int idx,
		      vnode_t *out);
	vnode_t (*target)(const struct vtree *t, vnode_t node);	/* VT_LINK */
	unsigned int (*rdev)(const struct vtree *t, vnode_t node);	/* VT_CHR */
};

/* The emulated host's PCI roots: one a domain (with a root port at
 * dddd:00:00.0 above the devices on other buses), or one a bus where a
 * topology device itself sits at dddd:00:00.0. */
struct vroot {
	uint16_t domain;
	uint8_t bus;
	bool rp;		/* a root port at <domain>:00:00.0 */
	uint8_t max_bus;	/* the highest bus under it */
};

struct vtree {
	const struct stce_topology *topo;
	struct stce_platform *plat;
	unsigned int page_size;		/* the emulated host page */
	struct timespec time;		/* every node's timestamps */
	unsigned int nr_roots;
	struct vroot roots[STCE_TOPO_MAX_DEVICES];
	uint16_t dev_root[STCE_TOPO_MAX_DEVICES];	/* each device's root */
	bool dev_under_rp[STCE_TOPO_MAX_DEVICES];
	uint16_t dev_pe[STCE_TOPO_MAX_DEVICES];		/* each device's PE index */
	/* What the PCI core caches at probe time (sysfs shows these, not
	 * the live config space). */
	struct {
		uint16_t vendor, device, sub_vendor, sub_device;
		uint32_t class;
		uint8_t revision;
	} ids[STCE_TOPO_MAX_DEVICES];
};

/* ---- sysfs.c: the tree's description ---- */

/* Fill @t from the host's platform (its topology). */
void vtree_init(struct vtree *t, struct stce_platform *plat);

/* The kind table; NULL for an unknown kind. */
const struct vkind *vtree_kind(unsigned int kind);

/* The @idx-th root of the tree (false past the last). */
bool vtree_root(const struct vtree *t, unsigned int idx, vnode_t *out);

/* The static entry of @node, or NULL when @node is a kind's own node. */
const struct vattr *vtree_attr(vnode_t node);

/* Does instance @inst have static entry @a? */
bool vtree_attr_present(const struct vattr *a, unsigned int inst);

#endif /* STCE_PRELOAD_VFS_H */
