/* inventory.h: the inventory, the YAML file of facts that `drplan discover` writes (docs/inventory.md):
 * sites and their hosts, devices with their peers, VMs with their placement, and storage-migration
 * records. inventory_load reads it with libyaml's event API into plain records, every value with its
 * source range; it checks the document's shape (keys, types, required fields, limits) and nothing
 * else: whether names refer to anything is the resolver's business (resolve.c). All strings and
 * arrays live in the arena passed in. */
#ifndef DRP_INVENTORY_H
#define DRP_INVENTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "diag.h"
#include "source.h"

/* The only version of the format so far. */
#define INVENTORY_VERSION 1
/* Limits, documented in docs/inventory.md. */
#define INVENTORY_MAX_DEPTH 16          /* nesting of mappings and sequences */
#define INVENTORY_MAX_SCALAR 4096       /* bytes in one scalar */

/* A string value with where it was written. text == NULL: absent. */
struct inv_str {
	const char *text;
	uint32_t len;
	struct src_range at;
};

struct inv_site {
	struct inv_str name;
	struct inv_str *hosts;
	uint32_t n_hosts;
	struct src_range at; /* the whole entry */
};

enum inv_device_kind { INV_REPLICATED, INV_STRETCHED };

struct inv_device {
	struct inv_str id;
	struct inv_str site;
	enum inv_device_kind kind;
	struct src_range kind_at;
	struct inv_str peer_id;    /* peer: {id, site} */
	struct inv_str peer_site;
	struct inv_str consistency_group; /* optional */
	struct inv_str preference;        /* optional; stretched only */
	struct src_range at;
};

enum inv_power { INV_POWER_UNKNOWN, INV_POWER_ON, INV_POWER_OFF };

struct inv_vm {
	struct inv_str name;
	struct inv_str host;       /* optional */
	enum inv_power power;      /* optional: UNKNOWN when absent */
	struct inv_str *devices;   /* at least one */
	uint32_t n_devices;
	struct inv_str *tags;
	uint32_t n_tags;
	struct src_range at;
};

enum inv_migration_state { INV_MIGRATION_COMPLETED, INV_MIGRATION_IN_PROGRESS };

/* A VM that was being moved between two devices (seed: storage-migration records). */
struct inv_migration {
	struct inv_str vm;
	struct inv_str from;
	struct inv_str to;
	enum inv_migration_state state;
	struct inv_str time;       /* RFC 3339, as written */
	struct src_range at;
};

struct inventory {
	struct src_file *src;
	uint32_t version;
	struct inv_site *sites;
	uint32_t n_sites;
	struct inv_device *devices;
	uint32_t n_devices;
	struct inv_vm *vms;
	uint32_t n_vms;
	struct inv_migration *migrations;
	uint32_t n_migrations;
};

/* Reads the inventory at path (already resolved by the caller) into inv. `referenced_at` is the
 * plan's `inventory "..."` statement, where an unreadable file is reported. Problems become
 * diagnostics with the YAML file's own ranges; returns false if the file could not be read or is
 * not a usable inventory at all (what was read is still in inv). */
bool inventory_load(struct inventory *inv, struct arena *arena, struct src_set *sources,
                    struct diag_list *diags, const char *path, struct src_range referenced_at);

/* The same on text already in the source set (tests, fuzzers). */
bool inventory_parse(struct inventory *inv, struct arena *arena, struct src_file *src, struct diag_list *diags);

#endif
