/* sim.c: the simulator adapter: a world derived from the compiled plan that performs operations
 * with the physics of replicated and stretched storage, logs every effect to an append-only,
 * group-committed effects.log (the truth) and snapshots the world to world.yaml at checkpoints.
 * docs/simulator.md describes the world, the files and the rules.
 *
 * Lock order: sim.mu (the world) before log.mu (the pending lines). Nobody writes or syncs the log
 * while holding either: a leader takes the pending lines, drops log.mu and does the I/O. */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "../../lib/alloc.h"
#include "../../lib/arena.h"
#include "../../lib/clock.h"
#include "../../lib/crc32c.h"
#include "../../lib/fsutil.h"
#include "../../lib/glob.h"
#include "../../lib/strmap.h"
#include "../../compiler/yamlwrite.h"

#define SIM_FORMAT 1
#define SIM_LOG_MAGIC "# drplan-sim-effects"
#define SIM_MAX_FILE ((size_t)1 << 31) /* effects.log and world.yaml: refuse anything larger */

/* One kind of side effect: one effects.log line per object (VM or device) it acts on. */
enum sim_effect {
	SIM_SYNC, SIM_PREPARE, SIM_FAILOVER, SIM_PREFER, SIM_SNAPSHOT, SIM_REVERSE,
	SIM_SHUTDOWN, SIM_MIGRATE, SIM_REGISTER, SIM_POWER_ON,
	SIM_UNREGISTER, SIM_DISCARD, /* cleanup: a VM leaves a site's inventory; a test snapshot goes */
	SIM_N_EFFECTS
};

static const char *const effect_names[SIM_N_EFFECTS] = {
	"sync", "prepare-failover", "failover", "prefer", "snapshot", "reverse",
	"shutdown", "migrate", "register", "power-on", "unregister", "discard-snapshot",
};

/* The operation kind each effect belongs to. */
static const uint8_t effect_kind[SIM_N_EFFECTS] = {
	DAG_SYNC, DAG_FAILOVER, DAG_FAILOVER, DAG_PREFER, DAG_SNAPSHOT, DAG_REVERSE,
	DAG_SHUTDOWN, DAG_MIGRATE, DAG_REGISTER, DAG_POWER_ON, DAG_UNREGISTER, DAG_DISCARD,
};

static bool vm_effect(enum sim_effect e)
{
	return e >= SIM_SHUTDOWN && e != SIM_DISCARD;
}

/* A replicated device has two sides: 0 is the device at its declared site, 1 its peer. */
struct sim_dev {
	uint8_t source;      /* the side replication copies from */
	uint8_t writable;    /* one bit per side */
	uint8_t snapshots;   /* one bit per side: a writable test snapshot exists there */
	uint8_t replicating; /* 0 once the peer is promoted (split), until a reverse */
	uint32_t prefer;     /* stretched: the preferred site, or DAG_NONE */
};

/* A VM at one site. AT_DESTINATION: a VM being moved (dag.migrations) runs from the destination
 * copy of its storage migration there, else from the source copy. */
enum { AT_REGISTERED = 1, AT_ON = 2, AT_SNAPSHOT = 4, AT_DESTINATION = 8 };
struct sim_at {
	uint32_t host;       /* DAG_NONE: none known */
	uint8_t flags;
};

/* Names in fail or transient lists, resolved once against the plan. */
struct sim_match {
	char **names;
	uint32_t n;
	uint8_t *vm, *dev, *group; /* per VM, device, group: named (directly or by a pattern) */
};

/* effects.log and its group commit. */
struct sim_log {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;               /* -1: the world is in memory only */
	struct buf pending;   /* lines appended but not yet written, in seq order */
	uint64_t pending_last;
	uint64_t written, durable;
	bool busy;            /* a leader is writing or syncing, outside the mutex */
	bool failed;          /* the disk refused: every later call fails */
	char error[200];
};

struct sim {
	struct adapter base;  /* first: the vtable's functions cast back */
	const struct dag *dag;
	uint64_t seed;
	bool virtual_time, defer_sync;
	bool adopting;        /* a cleanup loading the world of the test it undoes (open_dir) */
	double time_scale;
	uint32_t transient_failures;
	struct sim_match fail, transient;
	bool *site_down;
	char *dir, *log_path, *world_path;
	/* Lookups, built at open and read-only afterwards. */
	struct strmap vm_map, dev_map, host_map;
	uint32_t *host_first, *host_list; /* hosts of each site: host_list[host_first[s] ..
	                                     host_first[s + 1]) */
	uint64_t *op_bit;     /* first bit of each operation's objects in `logged_bits` */
	/* The world and the reconciliation index, under mu. */
	pthread_mutex_t mu;
	struct sim_dev *dev;
	struct sim_at *at;    /* n_vms * n_sites */
	uint64_t seq;         /* the last effect applied */
	uint64_t world_seq;   /* what world.yaml holds, once written (world_written): the run's end and
	                         sim_close both checkpoint, and at 1M VMs one write takes a second */
	bool world_written;
	uint64_t *logged_bits;/* per operation and object: its main effect is in effects.log */
	uint64_t *prepared_bits; /* per failover and device: its prepare-failover is */
	uint32_t *logged;     /* per operation: how many of its objects are */
	/* The storage-migration records as data on the devices, replicated with them: per DAG
	 * migration, the record found on the recovered copy of its source device, then of its
	 * destination (REC_*). The compiled plan's state on both, unless sim_options.records says
	 * otherwise. Read-only after open. */
	uint8_t *records;
	struct sim_log log;
};

enum { REC_NONE, REC_IN_PROGRESS, REC_COMPLETED };
static const char *const rec_words[] = {"none", "in-progress", "completed", NULL};

static const struct adapter_vtable sim_vtable;

/* ---- Small helpers */

static uint32_t site_count(const struct sim *s)
{
	return s->dag->n_sites;
}

static const char *site_name(const struct sim *s, uint32_t site)
{
	return site < s->dag->n_sites ? s->dag->sites[site].name : "(no site)";
}

static struct sim_at *at(struct sim *s, uint32_t vm, uint32_t site)
{
	return &s->at[(size_t)vm * site_count(s) + site];
}

static bool down(const struct sim *s, uint32_t site)
{
	return site < s->dag->n_sites && s->site_down[site];
}

static uint32_t side_site(const struct dag_device *d, unsigned side)
{
	return side ? d->peer_site : d->site;
}

static const char *side_name(const struct dag_device *d, unsigned side)
{
	return side ? d->peer : d->name;
}

/* The side of a replicated device at a site, or -1. */
static int side_at(const struct dag_device *d, uint32_t site)
{
	if (site == DAG_NONE)
		return -1;
	return site == d->site ? 0 : site == d->peer_site ? 1 : -1;
}

/* A deterministic host at `site` for a VM: its own if it is there, else the recovery host the plan
 * placed it on (dag_vm_to_host) if that is there, else one of the site's hosts. */
static uint32_t choose_host(const struct sim *s, uint32_t vm, uint32_t site)
{
	const uint32_t mine[2] = {s->dag->vms[vm].host, dag_vm_to_host(s->dag, vm)};
	for (int k = 0; k < 2; k++)
		if (mine[k] < s->dag->n_hosts && s->dag->hosts[mine[k]].site == site)
			return mine[k];
	uint32_t n = s->host_first[site + 1] - s->host_first[site];
	return n ? s->host_list[s->host_first[site] + vm % n] : DAG_NONE;
}

/* "90s", "1m30s", "250ms": durations in messages. */
static void format_ms(char *out, size_t len, int64_t ms)
{
	if (ms < 1000)
		snprintf(out, len, "%" PRId64 "ms", ms);
	else if (ms < 60000)
		snprintf(out, len, "%" PRId64 ".%01" PRId64 "s", ms / 1000, ms % 1000 / 100);
	else
		snprintf(out, len, "%" PRId64 "m%02" PRId64 "s", ms / 60000, ms % 60000 / 1000);
}

/* effects.log fields are separated by spaces, so names (which may be quoted in a plan and contain
 * anything printable) are written with control bytes, spaces and '%' as %XX. */
static void put_encoded(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= 0x20 || *p == 0x7F || *p == '%') {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			buf_append(b, e, 3);
		} else {
			buf_putc(b, (char)*p);
		}
	}
}

static int hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes s[0..len) into out; false if an escape is malformed. */
static bool decode(struct buf *out, const char *s, size_t len)
{
	buf_clear(out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			buf_putc(out, s[i]);
			continue;
		}
		if (i + 2 >= len)
			return false;
		int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
		if (hi < 0 || lo < 0)
			return false;
		buf_putc(out, (char)(hi * 16 + lo));
		i += 2;
	}
	if (!out->data)
		buf_puts(out, "");
	return true;
}

/* ---- Latency: the model's duration times a factor in [0.5, 2] drawn from (seed, op id, attempt).
 * The op id rather than its index, so that recompiling the plan draws the same latencies. */

static uint64_t mix64(uint64_t z)
{
	z += 0x9E3779B97F4A7C15u;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* 2^t with t triangular on (-1, 1): log-normal-ish, median 1, never below half or above double. */
static double latency_factor(uint64_t seed, const char *id, uint32_t attempt)
{
	uint64_t h = 0xCBF29CE484222325u;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 0x100000001B3u;
	uint64_t x = mix64(seed ^ mix64(h ^ mix64(attempt)));
	double u1 = (double)(mix64(x) >> 11) * 0x1.0p-53;
	double u2 = (double)(mix64(x ^ 0x5851F42D4C957F2Du) >> 11) * 0x1.0p-53;
	return exp2(u1 + u2 - 1.0);
}

/* ---- The operations' objects: a workgroup's VMs, a device, or a consistency group's devices. */

static uint32_t op_n_objects(const struct dag *d, const struct dag_op *op)
{
	switch ((enum dag_target)op->target_kind) {
	case DAG_TARGET_WORKGROUP: return d->workgroups[op->target].n_vms;
	case DAG_TARGET_DEVICE: return 1;
	case DAG_TARGET_GROUP: return d->groups[op->target].n_devices;
	case DAG_TARGET_PLAN: break;
	}
	return 0;
}

static uint32_t op_object(const struct dag *d, const struct dag_op *op, uint32_t k)
{
	switch ((enum dag_target)op->target_kind) {
	case DAG_TARGET_WORKGROUP: return d->workgroups[op->target].first_vm + k;
	case DAG_TARGET_DEVICE: return op->target;
	case DAG_TARGET_GROUP: return d->groups[op->target].devices[k];
	case DAG_TARGET_PLAN: break;
	}
	return DAG_NONE;
}

/* The position of object `obj` among the operation's objects, or DAG_NONE. */
static uint32_t op_object_index(const struct dag *d, const struct dag_op *op, uint32_t obj)
{
	switch ((enum dag_target)op->target_kind) {
	case DAG_TARGET_WORKGROUP: {
		const struct dag_workgroup *wg = &d->workgroups[op->target];
		return obj >= wg->first_vm && obj - wg->first_vm < wg->n_vms ? obj - wg->first_vm : DAG_NONE;
	}
	case DAG_TARGET_DEVICE: return obj == op->target ? 0 : DAG_NONE;
	case DAG_TARGET_GROUP:
		for (uint32_t k = 0; k < d->groups[op->target].n_devices; k++)
			if (d->groups[op->target].devices[k] == obj)
				return k;
		return DAG_NONE;
	case DAG_TARGET_PLAN: break;
	}
	return DAG_NONE;
}

/* Whether an operation of the DAG can carry effect e: the right kind and a target in range. */
static bool effect_fits(const struct dag *d, const struct dag_op *op, enum sim_effect e)
{
	if (op->kind != effect_kind[e])
		return false;
	switch ((enum dag_target)op->target_kind) {
	case DAG_TARGET_WORKGROUP: {
		if (!vm_effect(e) || op->target >= d->n_workgroups)
			return false;
		const struct dag_workgroup *wg = &d->workgroups[op->target];
		return wg->first_vm <= d->n_vms && wg->n_vms <= d->n_vms - wg->first_vm;
	}
	case DAG_TARGET_DEVICE: return !vm_effect(e) && op->target < d->n_devices;
	case DAG_TARGET_GROUP:
		return (e == SIM_PREPARE || e == SIM_FAILOVER || e == SIM_SNAPSHOT || e == SIM_DISCARD) &&
		       op->target < d->n_groups;
	case DAG_TARGET_PLAN: break;
	}
	return false;
}

/* Effects that answer "did the operation happen?": all but the prepare half of a failover, which
 * is idempotent and best-effort, so an operation with only that logged may simply run again. */
static bool main_effect(enum sim_effect e)
{
	return e != SIM_PREPARE;
}

/* Records that object `index` of operation `op` had effect e logged. Returns false for a
 * prepare-failover that this operation already logged for that device: the operation is being
 * resumed or retried after its prepare half (a crash, or a failed promote), and the half is
 * idempotent, so it is not logged again and effects.log keeps one line per operation, effect and
 * object. Under mu. */
static bool mark_logged(struct sim *s, enum sim_effect e, uint32_t op, uint32_t index)
{
	uint64_t bit = s->op_bit[op] + index;
	uint64_t mask = (uint64_t)1 << (bit & 63);
	if (e == SIM_PREPARE) {
		bool first = !(s->prepared_bits[bit >> 6] & mask);
		s->prepared_bits[bit >> 6] |= mask;
		return first;
	}
	if (!(s->logged_bits[bit >> 6] & mask)) {
		s->logged_bits[bit >> 6] |= mask;
		s->logged[op]++;
	}
	return true;
}

/* ---- The world: its initial state, and the physics */

/* The world before the plan runs, as its mode implies: a failover or test starts from healthy
 * replication with every VM on at its host's site; a reprotect follows a failover (peers promoted,
 * VMs on at the plan's `from`, the former recovery site); a cleanup follows a test (snapshots and
 * test copies at the recovery site). */
static void world_init(struct sim *s)
{
	const struct dag *d = s->dag;
	for (uint32_t i = 0; i < d->n_devices; i++) {
		const struct dag_device *dv = &d->devices[i];
		struct sim_dev *w = &s->dev[i];
		*w = (struct sim_dev){.source = 0, .writable = 1, .replicating = 1, .prefer = DAG_NONE};
		if (dv->kind == DAG_STRETCHED) {
			*w = (struct sim_dev){.writable = 3, .prefer = dv->prefer < d->n_sites ? dv->prefer : DAG_NONE};
		} else if (d->mode == AST_MODE_REPROTECT) {
			w->writable = 2;
			w->replicating = 0;
		} else if (d->mode == AST_MODE_CLEANUP) {
			w->snapshots = 2;
		}
	}
	uint32_t n_sites = site_count(s);
	memset(s->at, 0, (size_t)d->n_vms * n_sites * sizeof *s->at);
	for (size_t i = 0; i < (size_t)d->n_vms * n_sites; i++)
		s->at[i].host = DAG_NONE;
	if (n_sites == 0)
		return;
	for (uint32_t v = 0; v < d->n_vms; v++) {
		uint32_t h = d->vms[v].host, home = d->from;
		if (d->mode != AST_MODE_REPROTECT && h != DAG_NONE && h < d->n_hosts && d->hosts[h].site < n_sites)
			home = d->hosts[h].site;
		if (home >= n_sites)
			home = 0;
		*at(s, v, home) = (struct sim_at){choose_host(s, v, home), AT_REGISTERED | AT_ON};
		/* Before the disaster a VM being moved runs from where the inventory saw it. */
		const struct dag_migration *mg = dag_vm_migration(d, v);
		if (mg && mg->state == DAG_MIGRATION_COMPLETED)
			at(s, v, home)->flags |= AT_DESTINATION;
		uint32_t w = d->vms[v].workgroup;
		bool live = w < d->n_workgroups && d->workgroups[w].live;
		if (d->mode == AST_MODE_CLEANUP && !live && d->to < n_sites && d->to != home)
			*at(s, v, d->to) = (struct sim_at){choose_host(s, v, d->to), AT_REGISTERED | AT_ON | AT_SNAPSHOT};
	}
}

enum access { ACC_NONE, ACC_READ_ONLY, ACC_WRITABLE, ACC_SNAPSHOT };

/* What a VM at `site` can do with device i. */
static enum access access_at(const struct sim *s, uint32_t i, uint32_t site)
{
	const struct dag_device *dv = &s->dag->devices[i];
	int side = side_at(dv, site);
	if (side < 0)
		return ACC_NONE;
	if (dv->kind == DAG_STRETCHED)
		return ACC_WRITABLE;
	const struct sim_dev *w = &s->dev[i];
	if (w->writable & (1u << side))
		return ACC_WRITABLE;
	return w->snapshots & (1u << side) ? ACC_SNAPSHOT : ACC_READ_ONLY;
}

/* Explains why `vm` cannot use device i at `site` (what) and fails the reply. */
static bool refuse_device(struct sim *s, struct adapter_reply *r, const char *what, uint32_t vm, uint32_t i,
                          uint32_t site, enum access acc)
{
	const struct dag_device *dv = &s->dag->devices[i];
	const char *vm_name = s->dag->vms[vm].name, *at_site = site_name(s, site);
	if (acc == ACC_NONE) {
		adapter_reply_set(r, ADAPTER_FAILED, "cannot %s %s at %s: its device %s is not at %s", what, vm_name,
		                  at_site, dv->name, at_site);
		return false;
	}
	int side = side_at(dv, site);
	if (side != s->dev[i].source)
		adapter_reply_set(r, ADAPTER_FAILED,
		                  "cannot %s %s at %s: %s, the peer of %s, is passive at %s (read-only until promoted)",
		                  what, vm_name, at_site, side_name(dv, (unsigned)side), side_name(dv, (unsigned)!side), at_site);
	else
		adapter_reply_set(r, ADAPTER_FAILED, "cannot %s %s at %s: its device %s is read-only there (prepared for failover)",
		                  what, vm_name, at_site, side_name(dv, (unsigned)side));
	return false;
}

static bool need_site(struct sim *s, struct adapter_reply *r, uint32_t site, const char *what, const char *object)
{
	if (site >= site_count(s)) {
		adapter_reply_set(r, ADAPTER_FAILED, "cannot %s %s: the operation names no site", what, object);
		return false;
	}
	if (down(s, site)) {
		adapter_reply_set(r, ADAPTER_FAILED, "cannot %s %s: site %s is down", what, object, site_name(s, site));
		return false;
	}
	return true;
}

static bool need_replicated(struct adapter_reply *r, const struct dag_device *dv, const char *what)
{
	if (dv->kind == DAG_REPLICATED)
		return true;
	adapter_reply_set(r, ADAPTER_FAILED, "cannot %s %s: it is stretched, not replicated", what, dv->name);
	return false;
}

/* Discarding the test snapshot of device i at `site` takes the disks from under every test VM
 * still registered there on it: refused while one is. Under mu. */
static bool discard_ok(struct sim *s, uint32_t i, uint32_t site, struct adapter_reply *r)
{
	const struct dag *d = s->dag;
	for (uint32_t v = 0; v < d->n_vms; v++) {
		const struct sim_at *here = at(s, v, site);
		uint32_t w = d->vms[v].workgroup;
		if (!(here->flags & AT_REGISTERED) || !(here->flags & AT_SNAPSHOT) || w >= d->n_workgroups)
			continue;
		for (uint32_t k = 0; k < d->workgroups[w].n_devices; k++)
			if (d->workgroups[w].devices[k] == i) {
				adapter_reply_set(r, ADAPTER_FAILED,
				                  "cannot discard the snapshot of %s at %s: test VM %s is still registered on it "
				                  "(unregister it first)",
				                  side_name(&d->devices[i], (unsigned)(side_at(&d->devices[i], site) > 0)),
				                  site_name(s, site), d->vms[v].name);
				return false;
			}
	}
	return true;
}

/* Checks that effect e may act on object obj (a VM or a device) of op. Under mu. */
static bool check(struct sim *s, const struct dag_op *op, enum sim_effect e, uint32_t obj, struct adapter_reply *r)
{
	const struct dag *d = s->dag;
	if (!vm_effect(e)) {
		const struct dag_device *dv = &d->devices[obj];
		const struct sim_dev *w = &s->dev[obj];
		unsigned src = w->source, peer = !src;
		switch (e) {
		case SIM_SYNC:
			if (!need_replicated(r, dv, "sync"))
				return false;
			if (!w->replicating) {
				adapter_reply_set(r, ADAPTER_FAILED, "cannot sync %s: replication is split (%s at %s was promoted); reverse it first",
				                  dv->name, side_name(dv, peer), site_name(s, side_site(dv, peer)));
				return false;
			}
			return need_site(s, r, side_site(dv, src), "sync", dv->name) &&
			       need_site(s, r, side_site(dv, peer), "sync", dv->name);
		case SIM_PREPARE:
			if (!need_replicated(r, dv, "prepare failover of") ||
			    !need_site(s, r, side_site(dv, src), "prepare the failover of", side_name(dv, src)))
				return false;
			return true;
		case SIM_FAILOVER:
			return need_replicated(r, dv, "fail over") &&
			       need_site(s, r, side_site(dv, peer), "promote", side_name(dv, peer));
		case SIM_SNAPSHOT:
			return need_replicated(r, dv, "snapshot") &&
			       need_site(s, r, side_site(dv, peer), "snapshot", side_name(dv, peer));
		case SIM_DISCARD:
			return need_replicated(r, dv, "discard the snapshot of") &&
			       need_site(s, r, op->site, "discard the snapshot of", dv->name) && discard_ok(s, obj, op->site, r);
		case SIM_REVERSE:
			if (!need_replicated(r, dv, "reverse") || !need_site(s, r, dv->site, "reverse", dv->name) ||
			    !need_site(s, r, dv->peer_site, "reverse", dv->name))
				return false;
			if (w->replicating && side_site(dv, src) != d->from) {
				adapter_reply_set(r, ADAPTER_FAILED, "cannot reverse %s: it still replicates from %s to %s; fail it over first",
				                  dv->name, site_name(s, side_site(dv, src)), site_name(s, side_site(dv, peer)));
				return false;
			}
			if (!w->replicating && !(w->writable & (1u << peer))) {
				adapter_reply_set(r, ADAPTER_FAILED, "cannot reverse %s: its peer %s at %s was never promoted",
				                  dv->name, side_name(dv, peer), site_name(s, side_site(dv, peer)));
				return false;
			}
			return true;
		case SIM_PREFER:
			if (dv->kind != DAG_STRETCHED) {
				adapter_reply_set(r, ADAPTER_FAILED, "cannot set the site preference of %s: it is replicated, not stretched",
				                  dv->name);
				return false;
			}
			if (side_at(dv, op->site) < 0) {
				adapter_reply_set(r, ADAPTER_FAILED, "cannot make %s prefer %s: it spans %s and %s", dv->name,
				                  site_name(s, op->site), site_name(s, dv->site), site_name(s, dv->peer_site));
				return false;
			}
			return need_site(s, r, op->site, "set the site preference of", dv->name);
		default: return false;
		}
	}

	const struct dag_workgroup *wg = &d->workgroups[op->target];
	const char *name = d->vms[obj].name;
	uint32_t site = op->site;
	switch (e) {
	case SIM_SHUTDOWN:
		if (!need_site(s, r, site, "shut down", name))
			return false;
		if (d->mode == AST_MODE_CLEANUP && !(at(s, obj, site)->flags & AT_REGISTERED))
			return true; /* the test copy is gone already: a cleanup may run again */
		if (d->mode == AST_MODE_CLEANUP && !(at(s, obj, site)->flags & AT_SNAPSHOT)) {
			adapter_reply_set(r, ADAPTER_FAILED,
			                  "cannot shut down %s at %s in a cleanup: it runs from recovered storage, not a test "
			                  "snapshot; a cleanup touches only test VMs",
			                  name, site_name(s, site));
			return false;
		}
		if (!(at(s, obj, site)->flags & AT_REGISTERED)) {
			adapter_reply_set(r, ADAPTER_FAILED, "cannot shut down %s at %s: it is not registered there", name,
			                  site_name(s, site));
			return false;
		}
		return true;
	case SIM_MIGRATE: {
		if (!need_site(s, r, site, "live-migrate", name))
			return false;
		for (uint32_t k = 0; k < wg->n_devices; k++) {
			uint32_t i = wg->devices[k];
			const struct dag_device *dv = &d->devices[i];
			if (dv->kind != DAG_STRETCHED) {
				adapter_reply_set(r, ADAPTER_FAILED, "cannot live-migrate %s: its device %s is replicated, not stretched",
				                  name, dv->name);
				return false;
			}
			if (s->dev[i].prefer != site || side_at(dv, site) < 0) {
				adapter_reply_set(r, ADAPTER_FAILED, "cannot live-migrate %s to %s: stretched device %s prefers %s",
				                  name, site_name(s, site), dv->name,
				                  s->dev[i].prefer == DAG_NONE ? "no site" : site_name(s, s->dev[i].prefer));
				return false;
			}
		}
		if ((at(s, obj, site)->flags & (AT_REGISTERED | AT_ON)) == (AT_REGISTERED | AT_ON))
			return true; /* already there and running */
		for (uint32_t from = 0; from < site_count(s); from++)
			if (from != site && (at(s, obj, from)->flags & AT_ON)) {
				if (down(s, from)) {
					adapter_reply_set(r, ADAPTER_FAILED, "cannot live-migrate %s from %s: site %s is down", name,
					                  site_name(s, from), site_name(s, from));
					return false;
				}
				return true;
			}
		adapter_reply_set(r, ADAPTER_FAILED, "cannot live-migrate %s to %s: it is not running", name, site_name(s, site));
		return false;
	}
	case SIM_REGISTER:
		if (!need_site(s, r, site, "register", name))
			return false;
		if (at(s, obj, site)->flags & AT_REGISTERED)
			return true;
		for (uint32_t k = 0; k < wg->n_devices; k++) {
			enum access acc = access_at(s, wg->devices[k], site);
			if (acc != ACC_WRITABLE && acc != ACC_SNAPSHOT)
				return refuse_device(s, r, "register", obj, wg->devices[k], site, acc);
		}
		return true;
	case SIM_UNREGISTER: {
		if (!need_site(s, r, site, "unregister", name))
			return false;
		const struct sim_at *here = at(s, obj, site);
		if (!(here->flags & AT_REGISTERED))
			return true; /* gone already: nothing to undo */
		if (here->flags & AT_ON) {
			adapter_reply_set(r, ADAPTER_FAILED, "cannot unregister %s at %s: it is powered on (shut it down first)",
			                  name, site_name(s, site));
			return false;
		}
		if (!(here->flags & AT_SNAPSHOT)) {
			adapter_reply_set(r, ADAPTER_FAILED,
			                  "cannot unregister %s at %s: it runs from recovered storage, not a test snapshot; a "
			                  "cleanup removes only test VMs",
			                  name, site_name(s, site));
			return false;
		}
		return true;
	}
	case SIM_POWER_ON:
		if (!need_site(s, r, site, "power on", name))
			return false;
		if (!(at(s, obj, site)->flags & AT_REGISTERED)) {
			adapter_reply_set(r, ADAPTER_FAILED, "cannot power on %s at %s: it is not registered there", name,
			                  site_name(s, site));
			return false;
		}
		for (uint32_t k = 0; k < wg->n_devices; k++) {
			enum access acc = access_at(s, wg->devices[k], site);
			if (acc != ACC_WRITABLE && acc != ACC_SNAPSHOT)
				return refuse_device(s, r, "power on", obj, wg->devices[k], site, acc);
		}
		return true;
	default: return false;
	}
}

/* Which copy of a VM being moved `register` uses, from the records on its two recovered devices:
 * the destination only when both hold a completed record; else the source, and `why` (if not
 * NULL) says what was found. */
static bool choose_destination(const struct sim *s, const struct dag_migration *mg, struct buf *why)
{
	const struct dag *d = s->dag;
	size_t k = (size_t)(mg - d->migrations);
	uint8_t on_from = s->records[2 * k], on_to = s->records[2 * k + 1];
	const char *from = d->devices[mg->from].name, *to = d->devices[mg->to].name;
	bool dest = on_from == REC_COMPLETED && on_to == REC_COMPLETED;
	if (!why)
		return dest;
	if (dest)
		buf_printf(why, "the records on %s and %s both say the move completed", from, to);
	else if (on_from == REC_IN_PROGRESS && on_to == REC_IN_PROGRESS)
		buf_printf(why, "the records on %s and %s say the move was in progress", from, to);
	else if (on_from == REC_NONE && on_to == REC_NONE)
		buf_printf(why, "no migration record on %s or %s, so nothing says the move completed", from, to);
	else if (on_from == REC_NONE || on_to == REC_NONE)
		buf_printf(why, "no migration record on %s (%s says %s), so the move cannot be taken as completed",
		           on_from == REC_NONE ? from : to, on_from == REC_NONE ? to : from,
		           rec_words[on_from == REC_NONE ? on_to : on_from]);
	else
		buf_printf(why, "the records disagree (%s says %s, %s says %s), so the move cannot be taken as completed",
		           from, rec_words[on_from], to, rec_words[on_to]);
	return dest;
}

/* Applies effect e to object obj of op: the same code live and when replaying effects.log, so the
 * world after a restart is the world before it. Idempotent: an object already in the wanted state
 * stays as it is. Under mu (or single-threaded at open). */
static void apply(struct sim *s, const struct dag_op *op, enum sim_effect e, uint32_t obj)
{
	const struct dag *d = s->dag;
	if (!vm_effect(e)) {
		struct sim_dev *w = &s->dev[obj];
		unsigned peer = !w->source;
		switch (e) {
		case SIM_PREPARE: w->writable &= (uint8_t)~(1u << w->source); break;
		case SIM_FAILOVER:
			w->writable |= (uint8_t)(1u << peer);
			w->replicating = 0;
			break;
		case SIM_SNAPSHOT: w->snapshots |= (uint8_t)(1u << peer); break;
		case SIM_REVERSE:
			if (!w->replicating) {
				/* The promoted peer becomes the source; the old source, its passive peer. */
				w->source = (uint8_t)peer;
				w->writable = (uint8_t)(1u << peer);
				w->replicating = 1;
			}
			break;
		case SIM_PREFER: w->prefer = op->site; break;
		case SIM_DISCARD: {
			int side = side_at(&d->devices[obj], op->site);
			if (side >= 0)
				w->snapshots &= (uint8_t)~(1u << side);
			break;
		}
		default: break; /* sync copies data: nothing the world records changes */
		}
		return;
	}
	uint32_t site = op->site;
	struct sim_at *here = at(s, obj, site);
	const struct dag_workgroup *wg = &d->workgroups[op->target];
	switch (e) {
	case SIM_SHUTDOWN: here->flags &= (uint8_t)~AT_ON; break;
	case SIM_MIGRATE:
		if ((here->flags & (AT_REGISTERED | AT_ON)) == (AT_REGISTERED | AT_ON))
			break;
		for (uint32_t from = 0; from < site_count(s); from++)
			if (from != site && (at(s, obj, from)->flags & AT_ON)) {
				*at(s, obj, from) = (struct sim_at){DAG_NONE, 0};
				break;
			}
		*here = (struct sim_at){choose_host(s, obj, site), AT_REGISTERED | AT_ON};
		break;
	case SIM_REGISTER:
		if (here->flags & AT_REGISTERED)
			break;
		*here = (struct sim_at){choose_host(s, obj, site), AT_REGISTERED};
		for (uint32_t k = 0; k < wg->n_devices; k++)
			if (access_at(s, wg->devices[k], site) == ACC_SNAPSHOT)
				here->flags |= AT_SNAPSHOT;
		const struct dag_migration *mg = dag_vm_migration(d, obj);
		if (mg && choose_destination(s, mg, NULL))
			here->flags |= AT_DESTINATION;
		break;
	case SIM_POWER_ON: here->flags |= AT_ON; break;
	case SIM_UNREGISTER: *here = (struct sim_at){DAG_NONE, 0}; break;
	default: break;
	}
}

/* ---- effects.log */

/* Appends one line: "<crc32c> <seq> <run> <op id> <attempt> <effect> <object>\n", the CRC (8 hex
 * digits) covering everything after its separating space up to the newline. */
static void put_line(struct buf *b, uint64_t seq, uint32_t run, const char *id_enc, uint32_t attempt,
                     enum sim_effect e, const char *prefix, const char *name)
{
	size_t start = b->len;
	/* A million lines for a million VMs: no printf. */
	buf_append(b, "00000000 ", 9);
	buf_put_uint(b, seq);
	buf_putc(b, ' ');
	buf_put_uint(b, run);
	buf_putc(b, ' ');
	buf_puts(b, id_enc);
	buf_putc(b, ' ');
	buf_put_uint(b, attempt);
	buf_putc(b, ' ');
	buf_puts(b, effect_names[e]);
	buf_putc(b, ' ');
	buf_puts(b, prefix);
	put_encoded(b, name);
	crc32c_hex(b->data + start, crc32c(0, b->data + start + 9, b->len - start - 9));
	buf_putc(b, '\n');
}

static bool write_all(int fd, const char *p, size_t len, int *error)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error = n < 0 ? errno : EIO;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Queues lines (whose last seq is `last`) for the log. Called under mu, so lines queue in seq
 * order. */
static void log_queue(struct sim_log *l, const struct buf *lines, uint64_t last)
{
	pthread_mutex_lock(&l->mu);
	buf_append(&l->pending, lines->data, lines->len);
	l->pending_last = last;
	pthread_mutex_unlock(&l->mu);
}

/* Waits until the lines up to `seq` are written (and synced, if `durable`). Group commit: whoever
 * finds no leader at work becomes one, takes every queued line, writes them in one write() and
 * syncs once, for itself and all who queued meanwhile; the others wait for it. */
static bool log_wait(struct sim_log *l, uint64_t seq, bool durable, char *err, size_t errlen)
{
	if (l->fd < 0)
		return true;
	bool ok = true;
	pthread_mutex_lock(&l->mu);
	for (;;) {
		if (l->failed) {
			snprintf(err, errlen, "%s", l->error);
			ok = false;
			break;
		}
		if ((durable ? l->durable : l->written) >= seq)
			break;
		if (l->busy) {
			pthread_cond_wait(&l->cv, &l->mu);
			continue;
		}
		l->busy = true;
		struct buf batch = l->pending;
		l->pending = (struct buf)BUF_INIT;
		uint64_t upto = l->pending_last;
		pthread_mutex_unlock(&l->mu);
		int error = 0;
		bool done = write_all(l->fd, batch.data, batch.len, &error);
		if (done && durable && fdatasync(l->fd) != 0) {
			error = errno;
			done = false;
		}
		pthread_mutex_lock(&l->mu);
		if (!l->pending.cap) { /* keep the buffer for the next batch */
			buf_clear(&batch);
			l->pending = batch;
		} else {
			buf_free(&batch);
		}
		if (!done) {
			l->failed = true;
			snprintf(l->error, sizeof l->error, "cannot %s effects.log: %s", durable ? "write or sync" : "write",
			         strerror(error));
		} else {
			l->written = upto;
			if (durable)
				l->durable = upto;
		}
		l->busy = false;
		pthread_cond_broadcast(&l->cv);
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

/* ---- Failure injection */

static bool name_matches(const char *pattern, const char *name)
{
	size_t pl = strlen(pattern);
	return glob_is_pattern(pattern, pl) ? glob_match(pattern, pl, name, strlen(name)) : strcmp(pattern, name) == 0;
}

/* The name in m that selects this call (its op id, one of its VMs, its device or group, or one of
 * the group's devices), or NULL. */
static const char *match_call(const struct sim *s, const struct sim_match *m, const struct dag_op *op, const char *id)
{
	if (!m->n)
		return NULL;
	for (uint32_t k = 0; k < m->n; k++)
		if (name_matches(m->names[k], id))
			return id;
	const struct dag *d = s->dag;
	switch ((enum dag_target)op->target_kind) {
	case DAG_TARGET_WORKGROUP: {
		const struct dag_workgroup *wg = &d->workgroups[op->target];
		for (uint32_t v = wg->first_vm; v < wg->first_vm + wg->n_vms; v++)
			if (m->vm[v])
				return d->vms[v].name;
		break;
	}
	case DAG_TARGET_DEVICE:
		if (m->dev[op->target])
			return d->devices[op->target].name;
		break;
	case DAG_TARGET_GROUP:
		if (m->group[op->target])
			return d->groups[op->target].name;
		for (uint32_t k = 0; k < d->groups[op->target].n_devices; k++)
			if (m->dev[d->groups[op->target].devices[k]])
				return d->devices[d->groups[op->target].devices[k]].name;
		break;
	case DAG_TARGET_PLAN: break;
	}
	return NULL;
}

/* ---- Performing */

/* A register's note for each VM being moved: the copy it runs from at the site, and why. Under mu. */
static void note_copies(struct sim *s, const struct dag_op *op, struct adapter_reply *r)
{
	const struct dag *d = s->dag;
	const struct dag_workgroup *wg = &d->workgroups[op->target];
	struct buf why = BUF_INIT;
	for (uint32_t v = wg->first_vm; v < wg->first_vm + wg->n_vms; v++) {
		const struct dag_migration *mg = dag_vm_migration(d, v);
		if (!mg)
			continue;
		buf_clear(&why);
		choose_destination(s, mg, &why);
		bool dest = (at(s, v, op->site)->flags & AT_DESTINATION) != 0;
		adapter_note(r, d->vms[v].name, "registered the %s copy (on %s): %s", dest ? "destination" : "source",
		             d->devices[dest ? mg->to : mg->from].name, why.data);
	}
	buf_free(&why);
}

static void sim_call(struct adapter *a, const struct adapter_request *req, struct adapter_reply *r, enum sim_effect e)
{
	struct sim *s = (struct sim *)a;
	const struct dag *d = s->dag;
	r->status = ADAPTER_DONE;
	r->message[0] = '\0';
	r->duration_ms = 0;
	if (req->dag && req->dag != d) {
		adapter_reply_set(r, ADAPTER_FAILED, "the simulator was opened for another plan");
		return;
	}
	if (req->op >= d->n_ops || !effect_fits(d, &d->ops[req->op], e)) {
		adapter_reply_set(r, ADAPTER_FAILED, "the simulator cannot %s operation %u of this plan", effect_names[e], req->op);
		return;
	}
	const struct dag_op *op = &d->ops[req->op];
	struct buf id = BUF_INIT, lines = BUF_INIT, id_enc = BUF_INIT;
	dag_op_id(d, req->op, &id);

	/* The objects acted on: a workgroup's VMs that the request names (all by default), the first
	 * `acts` of them. A call for some of the VMs takes the model's time for those. */
	uint32_t n = op_n_objects(d, op), named_vms = 0;
	for (uint32_t k = 0; k < n; k++)
		named_vms += !vm_effect(e) || adapter_names_vm(req, k);
	uint32_t acts = named_vms;
	int64_t nominal = dag_op_duration_ms(d, req->op);
	if (vm_effect(e) && named_vms < n)
		nominal = d->latency.base_ms[op->kind] + d->latency.per_vm_ms[op->kind] * (int64_t)named_vms;
	/* A failover's two halves share one draw: together they last what the model says. */
	int64_t total = llround((double)nominal * latency_factor(s->seed, id.data, req->attempt));
	bool timed_out = req->timeout_ms > 0 && total > req->timeout_ms;
	int64_t whole = timed_out ? req->timeout_ms : total;
	/* A timeout ends the attempt in its first half: a prepare ignored as best-effort leaves the
	 * promote no time at all. */
	int64_t dur = whole;
	if (e == SIM_PREPARE)
		dur = timed_out ? whole : whole / 3;
	else if (e == SIM_FAILOVER)
		dur = timed_out ? 0 : whole - whole / 3;
	const char *named;
	bool effects = false;
	uint64_t last = 0;
	if ((named = match_call(s, &s->fail, op, id.data))) {
		adapter_reply_set(r, ADAPTER_FAILED, "%s: injected failure (%s is in the simulator's fail list)", id.data, named);
	} else if (req->attempt <= s->transient_failures && (named = match_call(s, &s->transient, op, id.data))) {
		adapter_reply_set(r, ADAPTER_TRANSIENT, "%s: injected transient failure %u of %u (%s)", id.data, req->attempt,
		                  s->transient_failures, named);
	} else if (timed_out) {
		/* A workgroup's VMs are acted on one after the other, each taking its share of the drawn
		 * latency: the timeout leaves the first `acts` done and the others not. Transient: a retry
		 * asks which VMs are done (sim_query) and acts on the others. */
		char limit[32], would[32];
		format_ms(limit, sizeof limit, req->timeout_ms);
		format_ms(would, sizeof would, total);
		if (vm_effect(e)) {
			acts = (uint32_t)((int64_t)named_vms * req->timeout_ms / (total > 0 ? total : 1));
			adapter_reply_set(r, ADAPTER_TRANSIENT,
			                  "%s: timed out after %s with %u of %u VMs done (the simulated call takes %s)", id.data,
			                  limit, acts, named_vms, would);
			effects = acts > 0;
		} else {
			adapter_reply_set(r, ADAPTER_TRANSIENT, "%s: timed out after %s (the simulated call takes %s)", id.data,
			                  limit, would);
		}
	} else {
		effects = true;
	}
	if (!s->virtual_time)
		clock_sleep_ns(llround((double)dur * s->time_scale * 1e6));
	if (!effects)
		goto out;

	if (s->log.fd >= 0)
		put_encoded(&id_enc, id.data);
	pthread_mutex_lock(&s->mu);
	char broken[sizeof s->log.error] = "";
	pthread_mutex_lock(&s->log.mu);
	if (s->log.failed)
		snprintf(broken, sizeof broken, "%s", s->log.error);
	pthread_mutex_unlock(&s->log.mu);
	if (broken[0]) {
		pthread_mutex_unlock(&s->mu);
		adapter_reply_set(r, ADAPTER_FAILED, "the simulator cannot record effects any more: %s", broken);
		goto out;
	}
	for (uint32_t k = 0, i = 0; k < n && i < acts; k++) {
		if (vm_effect(e) && !adapter_names_vm(req, k))
			continue;
		i++;
		if (!check(s, op, e, op_object(d, op, k), r)) {
			pthread_mutex_unlock(&s->mu);
			goto out;
		}
	}
	/* Every line of the call goes into one append, one line per object as it is acted on: a call
	 * is in the log whole or (torn by a crash mid-write) recognisably partial. */
	for (uint32_t k = 0, i = 0; k < n && i < acts; k++) {
		if (vm_effect(e) && !adapter_names_vm(req, k))
			continue;
		i++;
		uint32_t obj = op_object(d, op, k);
		apply(s, op, e, obj);
		if (!mark_logged(s, e, req->op, k))
			continue;
		last = ++s->seq;
		if (s->log.fd >= 0)
			put_line(&lines, last, req->run, id_enc.data, req->attempt, e, vm_effect(e) ? "vm:" : "dev:",
			         vm_effect(e) ? d->vms[obj].name : d->devices[obj].name);
	}
	if (s->log.fd >= 0 && last)
		log_queue(&s->log, &lines, last);
	if (e == SIM_REGISTER)
		note_copies(s, op, r);
	pthread_mutex_unlock(&s->mu);
	/* If the disk refuses, the world in memory is ahead of the log: the log is marked failed, so
	 * this and every later call fail, and a reopen believes the log. */
	char err[200];
	if (last && !log_wait(&s->log, last, !s->defer_sync, err, sizeof err))
		adapter_reply_set(r, ADAPTER_FAILED, "%s: %s", id.data, err);
out:
	r->duration_ms = s->virtual_time ? dur : 0;
	buf_free(&id);
	buf_free(&id_enc);
	buf_free(&lines);
}

/* The vtable's entries: one per kind of effect. */
#define SIM_ENTRY(fn, effect)                                                                    \
	static void fn(struct adapter *a, const struct adapter_request *q, struct adapter_reply *r) \
	{                                                                                            \
		sim_call(a, q, r, effect);                                                               \
	}
SIM_ENTRY(sim_sync, SIM_SYNC)
SIM_ENTRY(sim_prepare, SIM_PREPARE)
SIM_ENTRY(sim_failover, SIM_FAILOVER)
SIM_ENTRY(sim_prefer, SIM_PREFER)
SIM_ENTRY(sim_snapshot, SIM_SNAPSHOT)
SIM_ENTRY(sim_reverse, SIM_REVERSE)
SIM_ENTRY(sim_shutdown, SIM_SHUTDOWN)
SIM_ENTRY(sim_migrate, SIM_MIGRATE)
SIM_ENTRY(sim_register, SIM_REGISTER)
SIM_ENTRY(sim_power_on, SIM_POWER_ON)
SIM_ENTRY(sim_unregister, SIM_UNREGISTER)
SIM_ENTRY(sim_discard, SIM_DISCARD)

static void describe_vm_locked(struct sim *s, uint32_t v, struct buf *out);

/* Reconciliation: per VM of a workgroup operation, whether its effect is in the log (and where the
 * VM is now); for a device operation, whether every object has its main effect there. */
static void sim_query(struct adapter *a, const struct adapter_request *req, struct adapter_answer *ans)
{
	struct sim *s = (struct sim *)a;
	const struct dag *d = s->dag;
	ans->outcome = ADAPTER_UNKNOWN;
	if (req->op >= d->n_ops) {
		snprintf(ans->message, sizeof ans->message, "sim: no operation %u in the plan", req->op);
		return;
	}
	const struct dag_op *op = &d->ops[req->op];
	enum sim_effect e = SIM_N_EFFECTS;
	for (unsigned k = 0; k < SIM_N_EFFECTS; k++)
		if (effect_kind[k] == op->kind && main_effect((enum sim_effect)k))
			e = (enum sim_effect)k;
	if (e == SIM_N_EFFECTS || !effect_fits(d, op, e)) {
		snprintf(ans->message, sizeof ans->message, "sim: operation %u has no effect to look for", req->op);
		return;
	}
	uint32_t n = op_n_objects(d, op);
	struct buf where = BUF_INIT;
	pthread_mutex_lock(&s->mu);
	uint32_t logged = s->logged[req->op];
	if (vm_effect(e) && ans->vms && ans->n_vms == n) {
		for (uint32_t k = 0; k < n; k++) {
			if (!adapter_names_vm(req, k))
				continue;
			uint64_t bit = s->op_bit[req->op] + k;
			bool done = (s->logged_bits[bit >> 6] >> (bit & 63)) & 1;
			ans->vms[k].outcome = done ? ADAPTER_HAPPENED : ADAPTER_NOT_HAPPENED;
			buf_clear(&where);
			describe_vm_locked(s, op_object(d, op, k), &where);
			snprintf(ans->vms[k].where, sizeof ans->vms[k].where, "%s", where.data);
		}
	}
	pthread_mutex_unlock(&s->mu);
	buf_free(&where);
	if (logged == n && n > 0)
		ans->outcome = ADAPTER_HAPPENED;
	else if (logged == 0)
		ans->outcome = ADAPTER_NOT_HAPPENED;
	else
		snprintf(ans->message, sizeof ans->message, "sim: %u of the %u objects of operation %u have their effect",
		         logged, n, req->op);
}

static bool sim_flush(struct adapter *a, char *err, size_t errlen)
{
	struct sim *s = (struct sim *)a;
	pthread_mutex_lock(&s->mu);
	uint64_t seq = s->seq;
	pthread_mutex_unlock(&s->mu);
	return log_wait(&s->log, seq, true, err, errlen);
}

/* ---- world.yaml: writing */

static void to_buf(void *ctx, const void *data, size_t size)
{
	buf_append(ctx, data, size);
}

static void e_str(struct yw *w, const char *s)
{
	yw_scalar(w, s, strlen(s), YW_ANY);
}

/* A flow list of the sites whose bit is set in `bits` (sides of device dv). */
static void e_sides(struct yw *w, const struct sim *s, const struct dag_device *dv, unsigned bits)
{
	yw_seq(w, true);
	for (unsigned side = 0; side < 2; side++)
		if (bits & (1u << side))
			e_str(w, site_name(s, side_site(dv, side)));
	yw_end(w);
}

/* The world as YAML. dev and at are copies taken under mu, so writing holds no lock. */
static void world_yaml(const struct sim *s, const struct sim_dev *dev, const struct sim_at *ats, uint64_t seq,
                       struct buf *out)
{
	const struct dag *d = s->dag;
	struct yw *w = xmalloc(sizeof *w);
	yw_init(w, to_buf, out);
	char num[32];
	yw_map(w, false);
	e_str(w, "format");
	snprintf(num, sizeof num, "%d", SIM_FORMAT);
	e_str(w, num);
	e_str(w, "plan");
	e_str(w, d->name ? d->name : "");
	e_str(w, "plan-digest");
	e_str(w, d->plan_digest);
	e_str(w, "seq");
	snprintf(num, sizeof num, "%" PRIu64, seq);
	e_str(w, num);
	e_str(w, "devices");
	yw_map(w, false);
	for (uint32_t i = 0; i < d->n_devices; i++) {
		const struct dag_device *dv = &d->devices[i];
		e_str(w, dv->name);
		yw_map(w, true);
		if (dv->kind == DAG_STRETCHED) {
			if (dev[i].prefer != DAG_NONE) {
				e_str(w, "prefer");
				e_str(w, site_name(s, dev[i].prefer));
			}
		} else {
			e_str(w, "source");
			e_str(w, site_name(s, side_site(dv, dev[i].source)));
			e_str(w, "writable");
			e_sides(w, s, dv, dev[i].writable);
			e_str(w, "snapshots");
			e_sides(w, s, dv, dev[i].snapshots);
			e_str(w, "replicating");
			e_str(w, dev[i].replicating ? "true" : "false");
		}
		yw_end(w);
	}
	yw_end(w);
	e_str(w, "vms");
	yw_map(w, false);
	uint32_t n_sites = site_count(s);
	for (uint32_t v = 0; v < d->n_vms; v++) {
		e_str(w, d->vms[v].name);
		yw_map(w, true);
		for (uint32_t site = 0; site < n_sites; site++) {
			const struct sim_at *p = &ats[(size_t)v * n_sites + site];
			if (!(p->flags & AT_REGISTERED))
				continue;
			e_str(w, site_name(s, site));
			yw_map(w, true);
			if (p->host != DAG_NONE) {
				e_str(w, "host");
				e_str(w, d->hosts[p->host].name);
			}
			e_str(w, "power");
			e_str(w, p->flags & AT_ON ? "on" : "off");
			if (p->flags & AT_SNAPSHOT) {
				e_str(w, "from");
				e_str(w, "snapshot");
			}
			const struct dag_migration *mg = dag_vm_migration(d, v);
			if (mg) {
				e_str(w, "copy");
				e_str(w, d->devices[p->flags & AT_DESTINATION ? mg->to : mg->from].name);
			}
			yw_end(w);
		}
		yw_end(w);
	}
	yw_end(w);
	yw_end(w);
	yw_finish(w);
	free(w);
}

bool sim_checkpoint(struct adapter *a, char *err, size_t errlen)
{
	struct sim *s = (struct sim *)a;
	if (!s->dir)
		return true;
	pthread_mutex_lock(&s->mu);
	bool unchanged = s->world_written && s->world_seq == s->seq;
	pthread_mutex_unlock(&s->mu);
	if (unchanged)
		return true;
	const struct dag *d = s->dag;
	size_t n_at = (size_t)d->n_vms * site_count(s);
	struct sim_dev *dev = xmalloc(((size_t)d->n_devices + 1) * sizeof *dev);
	struct sim_at *ats = xmalloc((n_at + 1) * sizeof *ats);
	pthread_mutex_lock(&s->mu);
	memcpy(dev, s->dev, (size_t)d->n_devices * sizeof *dev);
	memcpy(ats, s->at, n_at * sizeof *ats);
	uint64_t seq = s->seq;
	pthread_mutex_unlock(&s->mu);
	/* The snapshot must never get ahead of the log: a crash would leave effects in the world that
	 * the truth does not have. */
	bool ok = log_wait(&s->log, seq, true, err, errlen);
	struct buf text = BUF_INIT;
	if (ok) {
		world_yaml(s, dev, ats, seq, &text);
		ok = fs_write_atomic(s->world_path, text.data, text.len, err, errlen);
	}
	if (ok) {
		s->world_written = true;
		s->world_seq = seq;
	}
	buf_free(&text);
	free(dev);
	free(ats);
	return ok;
}

/* ---- world.yaml: reading (our own file, but read as if it were not: every loop is bounded by
 * the plan's sizes before anything is trusted) */

struct reader {
	yaml_document_t doc;
	char *err;
	size_t errlen;
	const char *path;
};

static bool r_fail(struct reader *r, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool r_fail(struct reader *r, const yaml_node_t *n, const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (n)
		snprintf(r->err, r->errlen, "%s:%lu: %s", r->path, (unsigned long)n->start_mark.line + 1, what);
	else
		snprintf(r->err, r->errlen, "%s: %s", r->path, what);
	return false;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct reader *r, int id)
{
	return yaml_document_get_node(&r->doc, id);
}

static yaml_node_t *map_get(struct reader *r, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(r, p->key));
		if (k && !strcmp(k, key))
			return node(r, p->value);
	}
	return NULL;
}

static uint32_t find_site(const struct sim *s, const char *name)
{
	for (uint32_t i = 0; name && i < site_count(s); i++)
		if (!strcmp(s->dag->sites[i].name, name))
			return i;
	return DAG_NONE;
}

/* A flow list of at most two sites of dv, as side bits. */
static bool r_sides(struct reader *r, const struct sim *s, const struct dag_device *dv, yaml_node_t *n, uint8_t *bits)
{
	*bits = 0;
	if (!n || n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top - n->data.sequence.items.start > 2)
		return r_fail(r, n, "device %s: expected a list of its sites", dv->name);
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		int side = side_at(dv, find_site(s, scalar(node(r, *it))));
		if (side < 0)
			return r_fail(r, n, "device %s: a site it is not at", dv->name);
		*bits |= (uint8_t)(1u << side);
	}
	return true;
}

static bool r_device(struct reader *r, struct sim *s, uint32_t i, yaml_node_t *n)
{
	const struct dag_device *dv = &s->dag->devices[i];
	struct sim_dev *w = &s->dev[i];
	if (!n || n->type != YAML_MAPPING_NODE)
		return r_fail(r, n, "device %s: expected a mapping", dv->name);
	if (dv->kind == DAG_STRETCHED) {
		w->prefer = DAG_NONE;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			const char *k = scalar(node(r, p->key));
			if (!k || strcmp(k, "prefer"))
				return r_fail(r, n, "device %s: unknown key", dv->name);
			uint32_t site = find_site(s, scalar(node(r, p->value)));
			if (side_at(dv, site) < 0)
				return r_fail(r, n, "device %s: a preference for a site it is not at", dv->name);
			w->prefer = site;
		}
		return true;
	}
	const char *src = scalar(map_get(r, n, "source")), *rep = scalar(map_get(r, n, "replicating"));
	int side = side_at(dv, find_site(s, src));
	if (side < 0 || !rep || (strcmp(rep, "true") && strcmp(rep, "false")))
		return r_fail(r, n, "device %s: expected its source site and whether it replicates", dv->name);
	w->source = (uint8_t)side;
	w->replicating = !strcmp(rep, "true");
	return r_sides(r, s, dv, map_get(r, n, "writable"), &w->writable) &&
	       r_sides(r, s, dv, map_get(r, n, "snapshots"), &w->snapshots);
}

static bool r_vm(struct reader *r, struct sim *s, uint32_t v, yaml_node_t *n)
{
	const char *name = s->dag->vms[v].name;
	if (!n || n->type != YAML_MAPPING_NODE)
		return r_fail(r, n, "VM %s: expected a mapping of sites", name);
	for (uint32_t site = 0; site < site_count(s); site++)
		*at(s, v, site) = (struct sim_at){DAG_NONE, 0};
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		uint32_t site = find_site(s, scalar(node(r, p->key)));
		if (site == DAG_NONE || (at(s, v, site)->flags & AT_REGISTERED))
			return r_fail(r, n, "VM %s: an unknown or repeated site", name);
		yaml_node_t *m = node(r, p->value);
		const char *power = scalar(map_get(r, m, "power")), *host = scalar(map_get(r, m, "host"));
		const char *from = scalar(map_get(r, m, "from"));
		if (!power || (strcmp(power, "on") && strcmp(power, "off")) || (from && strcmp(from, "snapshot")))
			return r_fail(r, m, "VM %s: expected power on or off", name);
		struct sim_at *here = at(s, v, site);
		here->flags = (uint8_t)(AT_REGISTERED | (!strcmp(power, "on") ? AT_ON : 0) | (from ? AT_SNAPSHOT : 0));
		const char *copy = scalar(map_get(r, m, "copy"));
		const struct dag_migration *mg = dag_vm_migration(s->dag, v);
		if (copy && (!mg || (strcmp(copy, s->dag->devices[mg->from].name) &&
		                     strcmp(copy, s->dag->devices[mg->to].name))))
			return r_fail(r, m, "VM %s: 'copy' names no device of its storage migration", name);
		if (copy && !strcmp(copy, s->dag->devices[mg->to].name))
			here->flags |= AT_DESTINATION;
		if (host) {
			uint32_t h = strmap_get(&s->host_map, host, strlen(host));
			if (h == STRMAP_NONE || s->dag->hosts[h].site != site)
				return r_fail(r, m, "VM %s: a host that is not at its site", name);
			here->host = h;
		}
	}
	return true;
}

enum load { LOAD_OK, LOAD_ERROR, LOAD_OTHER_PLAN };

/* Loads world.yaml into the world. LOAD_OTHER_PLAN (with *seq set and the world untouched) if it
 * is another plan's. */
static enum load world_load(struct sim *s, const char *text, size_t len, uint64_t *seq, char *other,
                            size_t otherlen, char *err, size_t errlen)
{
	struct reader r = {.err = err, .errlen = errlen, .path = s->world_path};
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		snprintf(err, errlen, "%s: out of memory", s->world_path);
		return LOAD_ERROR;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &r.doc)) {
		snprintf(err, errlen, "%s:%lu: %s", s->world_path, (unsigned long)p.problem_mark.line + 1,
		         p.problem ? p.problem : "not YAML");
		yaml_parser_delete(&p);
		return LOAD_ERROR;
	}
	yaml_parser_delete(&p);
	enum load result = LOAD_ERROR;
	yaml_node_t *root = yaml_document_get_root_node(&r.doc);
	const char *format = scalar(map_get(&r, root, "format")), *plan = scalar(map_get(&r, root, "plan"));
	const char *digest = scalar(map_get(&r, root, "plan-digest")), *seq_text = scalar(map_get(&r, root, "seq"));
	char *end = NULL;
	if (!format || strcmp(format, "1") || !plan || !digest || !seq_text) {
		r_fail(&r, NULL, "%s", "not a simulator world (format 1): expected format, plan, plan-digest and seq");
		goto out;
	}
	errno = 0;
	*seq = strtoull(seq_text, &end, 10);
	if (errno || *end || !*seq_text || *seq_text == '-') {
		r_fail(&r, NULL, "seq is not a number: %s", seq_text);
		goto out;
	}
	if (!s->adopting && (strcmp(plan, s->dag->name ? s->dag->name : "") || strcmp(digest, s->dag->plan_digest))) {
		snprintf(other, otherlen, "plan '%s'%s%.12s", plan, *digest ? " digest " : "", digest);
		result = LOAD_OTHER_PLAN;
		goto out;
	}
	const struct dag *d = s->dag;
	yaml_node_t *devices = map_get(&r, root, "devices"), *vms = map_get(&r, root, "vms");
	if (!devices || devices->type != YAML_MAPPING_NODE || !vms || vms->type != YAML_MAPPING_NODE) {
		r_fail(&r, root, "%s", "expected the mappings devices and vms");
		goto out;
	}
	uint8_t *seen = xcalloc((size_t)d->n_devices + d->n_vms + 1, 1);
	bool ok = true;
	uint32_t count = 0;
	for (yaml_node_pair_t *q = devices->data.mapping.pairs.start; ok && q < devices->data.mapping.pairs.top; q++) {
		const char *name = scalar(node(&r, q->key));
		uint32_t i = name ? strmap_get(&s->dev_map, name, strlen(name)) : STRMAP_NONE;
		if (i == STRMAP_NONE || seen[i])
			ok = r_fail(&r, node(&r, q->key), "an unknown or repeated device %s", name ? name : "(not a name)");
		else if ((ok = r_device(&r, s, i, node(&r, q->value))))
			seen[i] = 1, count++;
	}
	if (ok && count != d->n_devices)
		ok = r_fail(&r, devices, "%s", "some devices of the plan are missing");
	count = 0;
	for (yaml_node_pair_t *q = vms->data.mapping.pairs.start; ok && q < vms->data.mapping.pairs.top; q++) {
		const char *name = scalar(node(&r, q->key));
		uint32_t v = name ? strmap_get(&s->vm_map, name, strlen(name)) : STRMAP_NONE;
		if (v == STRMAP_NONE || seen[d->n_devices + v])
			ok = r_fail(&r, node(&r, q->key), "an unknown or repeated VM %s", name ? name : "(not a name)");
		else if ((ok = r_vm(&r, s, v, node(&r, q->value))))
			seen[d->n_devices + v] = 1, count++;
	}
	if (ok && count != d->n_vms)
		ok = r_fail(&r, vms, "%s", "some VMs of the plan are missing");
	free(seen);
	if (ok)
		result = LOAD_OK;
out:
	yaml_document_delete(&r.doc);
	return result;
}

/* ---- effects.log: reading and replaying */

/* Reads a whole file; false with errno (ENOENT: it does not exist). */
static bool read_file(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	int e = 0;
	if (fstat(fd, &st) != 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if ((uint64_t)st.st_size > SIM_MAX_FILE)
		e = EFBIG;
	else
		buf_reserve(out, (size_t)st.st_size + 1);
	while (!e) {
		buf_reserve(out, 65536);
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0) {
			if (errno != EINTR)
				e = errno;
			continue;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len > SIM_MAX_FILE)
			e = EFBIG;
	}
	close(fd);
	if (e) {
		errno = e;
		return false;
	}
	if (!out->data)
		buf_puts(out, "");
	return true;
}

/* One parsed line. */
struct record {
	uint64_t seq;
	uint32_t op, index, obj;
	enum sim_effect effect;
};

/* Splits a line (without its newline) into its seven fields; false if it is not one. */
static bool split_line(char *line, size_t len, char *field[7], size_t flen[7])
{
	size_t k = 0, i = 0;
	while (k < 7) {
		field[k] = line + i;
		while (i < len && line[i] != ' ')
			i++;
		flen[k] = (size_t)(line + i - field[k]);
		if (!flen[k])
			return false;
		k++;
		if (i == len)
			break;
		i++;
	}
	return k == 7 && i == len;
}

static bool parse_u64(const char *s, size_t len, uint64_t *v)
{
	if (!len || len > 20)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

/* Parses and checks a line against the plan: a checksum that matches, known op id, effect and
 * object. Returns NULL, or why the line is not valid. */
/* What replay keeps from line to line. Consecutive lines are mostly one operation's objects in
 * order, so the previous line predicts the next one's operation and object, sparing two hash
 * look-ups (cache misses, in a big plan) per line. */
struct replay {
	struct strmap ops;    /* op id -> index */
	struct buf tmp, last_id;
	uint32_t last_op, last_obj;
};

static const char *parse_record(struct sim *s, struct replay *rp, char *line, size_t len, struct record *rec)
{
	struct buf *tmp = &rp->tmp;
	char *f[7];
	size_t fl[7];
	if (!split_line(line, len, f, fl) || fl[0] != 8)
		return "not an effect line";
	uint64_t crc_field = 0;
	for (int i = 0; i < 8; i++) {
		int h = hex_value(f[0][i]);
		if (h < 0)
			return "not an effect line";
		crc_field = crc_field * 16 + (uint64_t)h;
	}
	if (crc32c(0, f[1], (size_t)(line + len - f[1])) != crc_field)
		return "checksum mismatch";
	uint64_t run, attempt;
	if (!parse_u64(f[1], fl[1], &rec->seq) || !parse_u64(f[2], fl[2], &run) || !parse_u64(f[4], fl[4], &attempt))
		return "a number field is not a number";
	if (!decode(tmp, f[3], fl[3]))
		return "a malformed escape in the operation id";
	uint32_t op = rp->last_op;
	if (op == DAG_NONE || tmp->len != rp->last_id.len || memcmp(tmp->data, rp->last_id.data, tmp->len)) {
		op = strmap_get(&rp->ops, tmp->data, tmp->len);
		if (op == STRMAP_NONE)
			return "an operation that the plan does not have";
		buf_clear(&rp->last_id);
		buf_append(&rp->last_id, tmp->data, tmp->len);
		rp->last_op = op;
		rp->last_obj = DAG_NONE;
	}
	rec->op = op;
	rec->effect = SIM_N_EFFECTS;
	for (unsigned e = 0; e < SIM_N_EFFECTS; e++)
		if (strlen(effect_names[e]) == fl[5] && !memcmp(effect_names[e], f[5], fl[5]))
			rec->effect = (enum sim_effect)e;
	if (rec->effect == SIM_N_EFFECTS || !effect_fits(s->dag, &s->dag->ops[op], rec->effect))
		return "an effect that its operation does not have";
	if ((vm_effect(rec->effect) || rec->effect == SIM_PREFER) && s->dag->ops[op].site >= s->dag->n_sites)
		return "an operation that acts at no site";
	bool vm = vm_effect(rec->effect);
	const char *prefix = vm ? "vm:" : "dev:";
	size_t pl = strlen(prefix);
	if (fl[6] <= pl || memcmp(f[6], prefix, pl) || !decode(tmp, f[6] + pl, fl[6] - pl))
		return "a malformed object";
	const struct dag_op *o = &s->dag->ops[op];
	uint32_t n = op_n_objects(s->dag, o), next = rp->last_obj == DAG_NONE ? 0 : rp->last_obj + 1;
	const char *guess = next < n ? (vm ? s->dag->vms[op_object(s->dag, o, next)].name
	                                   : s->dag->devices[op_object(s->dag, o, next)].name)
	                             : NULL;
	if (guess && strlen(guess) == tmp->len && !memcmp(guess, tmp->data, tmp->len)) {
		rec->obj = op_object(s->dag, o, next);
		rec->index = next;
	} else {
		rec->obj = strmap_get(vm ? &s->vm_map : &s->dev_map, tmp->data, tmp->len);
		rec->index = rec->obj == STRMAP_NONE ? DAG_NONE : op_object_index(s->dag, o, rec->obj);
		if (rec->index == DAG_NONE)
			return "an object that its operation does not act on";
	}
	rp->last_obj = rec->index;
	return NULL;
}

/* "# drplan-sim-effects 1 <plan> <digest or ->" */
static void log_header(const struct dag *d, struct buf *out)
{
	buf_printf(out, "%s %d ", SIM_LOG_MAGIC, SIM_FORMAT);
	put_encoded(out, d->name ? d->name : "");
	buf_printf(out, " %s\n", d->plan_digest[0] ? d->plan_digest : "-");
}

/* Replays effects.log (text, already read): effects after the snapshot's seq (world_seq) go into
 * the world, and all of them into the reconciliation index. A torn or corrupt tail (nothing valid
 * after it) is cut off at *keep; anything invalid followed by valid lines is an error. */
static bool log_replay(struct sim *s, char *text, size_t len, uint64_t world_seq, size_t *keep, uint64_t *last_seq,
                       char *err, size_t errlen)
{
	const struct dag *d = s->dag;
	struct arena names;
	struct replay rp = {.tmp = BUF_INIT, .last_id = BUF_INIT, .last_op = DAG_NONE, .last_obj = DAG_NONE};
	arena_init(&names);
	strmap_init(&rp.ops);
	strmap_reserve(&rp.ops, d->n_ops);
	struct buf id = BUF_INIT;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		buf_clear(&id);
		dag_op_id(d, i, &id);
		strmap_put(&rp.ops, arena_strndup(&names, id.data, id.len), id.len, i);
	}
	bool ok = true;
	size_t pos = (size_t)((const char *)memchr(text, '\n', len) - text) + 1; /* the header, checked before */
	size_t bad_at = 0, bad_line = 0, line_no = 1;
	const char *why = NULL;
	uint64_t prev = 0;
	*keep = len;
	while (pos < len) {
		line_no++;
		char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct record rec;
		const char *problem = nl ? parse_record(s, &rp, text + pos, line_len, &rec) : "a line without its end";
		if (!problem && rec.seq <= prev)
			problem = "a sequence number out of order";
		if (problem) {
			if (!why) {
				why = problem;
				bad_at = pos;
				bad_line = line_no;
			}
		} else if (why) {
			snprintf(err, errlen, "%s:%zu: %s, and valid effects after it: the log is corrupt, not torn",
			         s->log_path, bad_line, why);
			ok = false;
			break;
		} else {
			prev = rec.seq;
			const struct dag_op *op = &d->ops[rec.op];
			if (rec.seq > world_seq)
				apply(s, op, rec.effect, rec.obj);
			mark_logged(s, rec.effect, rec.op, rec.index);
		}
		pos += line_len + (nl ? 1 : 0);
	}
	if (ok && why)
		*keep = bad_at;
	*last_seq = prev;
	buf_free(&id);
	buf_free(&rp.tmp);
	buf_free(&rp.last_id);
	strmap_free(&rp.ops);
	arena_free(&names);
	return ok;
}

/* ---- Opening and closing */

static void match_free(struct sim_match *m)
{
	for (uint32_t k = 0; k < m->n; k++)
		free(m->names[k]);
	free(m->names);
	free(m->vm);
	free(m->dev);
	free(m->group);
}

static void sim_free(struct sim *s)
{
	if (s->log.fd >= 0)
		close(s->log.fd);
	buf_free(&s->log.pending);
	pthread_mutex_destroy(&s->log.mu);
	pthread_cond_destroy(&s->log.cv);
	pthread_mutex_destroy(&s->mu);
	match_free(&s->fail);
	match_free(&s->transient);
	strmap_free(&s->vm_map);
	strmap_free(&s->dev_map);
	strmap_free(&s->host_map);
	free(s->site_down);
	free(s->dir);
	free(s->log_path);
	free(s->world_path);
	free(s->host_first);
	free(s->host_list);
	free(s->op_bit);
	free(s->dev);
	free(s->at);
	free(s->logged_bits);
	free(s->prepared_bits);
	free(s->logged);
	free(s->records);
	free(s);
}

static void sim_close(struct adapter *a)
{
	struct sim *s = (struct sim *)a;
	char err[256];
	/* A failed final snapshot loses nothing: effects.log has every effect and the next open
	 * replays them. */
	(void)sim_checkpoint(a, err, sizeof err);
	sim_free(s);
}

/* Resolves a fail or transient list; a plain name (not a pattern) must name something. */
static bool match_init(struct sim *s, struct sim_match *m, const char *const *names, uint32_t n, const char *list,
                       char *err, size_t errlen)
{
	const struct dag *d = s->dag;
	m->n = n;
	m->names = xcalloc((size_t)n + 1, sizeof *m->names);
	m->vm = xcalloc((size_t)d->n_vms + 1, 1);
	m->dev = xcalloc((size_t)d->n_devices + 1, 1);
	m->group = xcalloc((size_t)d->n_groups + 1, 1);
	struct buf id = BUF_INIT;
	bool ok = true;
	for (uint32_t k = 0; k < n && ok; k++) {
		const char *name = names[k] ? names[k] : "";
		m->names[k] = xstrdup(name);
		bool found = false;
		for (uint32_t v = 0; v < d->n_vms; v++)
			if (name_matches(name, d->vms[v].name))
				m->vm[v] = 1, found = true;
		for (uint32_t i = 0; i < d->n_devices; i++)
			if (name_matches(name, d->devices[i].name))
				m->dev[i] = 1, found = true;
		for (uint32_t g = 0; g < d->n_groups; g++)
			if (name_matches(name, d->groups[g].name))
				m->group[g] = 1, found = true;
		for (uint32_t i = 0; i < d->n_ops && !found; i++) {
			buf_clear(&id);
			dag_op_id(d, i, &id);
			found = name_matches(name, id.data);
		}
		if (!found && !glob_is_pattern(name, strlen(name))) {
			snprintf(err, errlen, "the simulator's %s list names '%s', which is no operation, VM, device or consistency group of plan %s",
			         list, name, d->name ? d->name : "");
			ok = false;
		}
	}
	buf_free(&id);
	return ok;
}

/* The records on the devices: the compiled plan's state on both devices of each record, then
 * o->records, "DEVICE=STATE" (DEVICE may be a pattern), for what the recovered copy of DEVICE holds
 * instead: a rehearsal of a record that did not replicate, or a move that completed after the last
 * copy. */
static bool records_init(struct sim *s, const struct sim_options *o, char *err, size_t errlen)
{
	const struct dag *d = s->dag;
	s->records = xcalloc((size_t)d->n_migrations * 2 + 1, 1);
	for (uint32_t k = 0; k < d->n_migrations; k++) {
		uint8_t rec = d->migrations[k].state == DAG_MIGRATION_COMPLETED ? REC_COMPLETED : REC_IN_PROGRESS;
		s->records[2 * k] = s->records[2 * k + 1] = rec;
	}
	for (uint32_t i = 0; i < o->n_records; i++) {
		const char *entry = o->records[i] ? o->records[i] : "";
		const char *eq = strrchr(entry, '=');
		int state = -1;
		for (int w = 0; eq && rec_words[w]; w++)
			if (!strcmp(eq + 1, rec_words[w]))
				state = w;
		if (state < 0) {
			snprintf(err, errlen, "'%s' is not DEVICE=STATE, with STATE completed, in-progress or none", entry);
			return false;
		}
		char *device = xstrndup(entry, (size_t)(eq - entry));
		bool found = false;
		for (uint32_t k = 0; k < d->n_migrations; k++)
			for (int side = 0; side < 2; side++)
				if (name_matches(device, d->devices[side ? d->migrations[k].to : d->migrations[k].from].name)) {
					s->records[2 * k + side] = (uint8_t)state;
					found = true;
				}
		if (!found && !glob_is_pattern(device, strlen(device))) {
			snprintf(err, errlen, "the simulator's migration records name '%s', which is no device of a storage-migration "
			         "record of plan %s", device, d->name ? d->name : "");
			free(device);
			return false;
		}
		free(device);
	}
	return true;
}

static char *path_in(const char *dir, const char *file)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/%s", dir, file);
	return buf_detach(&b);
}

/* Checks effects.log's header; *other describes another plan's. */
static bool header_check(const struct sim *s, const char *text, size_t len, bool *same, char *other, size_t otherlen,
                         char *err, size_t errlen)
{
	const char *nl = memchr(text, '\n', len);
	size_t magic = strlen(SIM_LOG_MAGIC);
	if (!nl || (size_t)(nl - text) < magic || memcmp(text, SIM_LOG_MAGIC " ", magic + 1)) {
		snprintf(err, errlen, "%s: not a simulator effects log (no '%s' header)", s->log_path, SIM_LOG_MAGIC);
		return false;
	}
	struct buf want = BUF_INIT;
	log_header(s->dag, &want);
	*same = (size_t)(nl - text + 1) == want.len && !memcmp(text, want.data, want.len);
	if (!*same) {
		if (len < magic + 3 || memcmp(text + magic + 1, "1 ", 2)) {
			snprintf(err, errlen, "%s: an effects log of another format version", s->log_path);
			buf_free(&want);
			return false;
		}
		snprintf(other, otherlen, "the header '%.*s'", (int)(nl - text > 120 ? 120 : nl - text), text);
	}
	buf_free(&want);
	return true;
}

/* The largest seq among the whole, checksummed effect lines of a log (0 if none). */
static uint64_t log_last_seq(const char *text, size_t len)
{
	uint64_t last = 0;
	const char *p = memchr(text, '\n', len), *end = text + len;
	for (p = p ? p + 1 : end; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* a torn tail: never acknowledged */
		char *line = xstrndup(p, (size_t)(nl - p));
		char *f[7];
		size_t fl[7];
		uint64_t seq, crc = 0;
		bool ok = split_line(line, (size_t)(nl - p), f, fl) && fl[0] == 8 && parse_u64(f[1], fl[1], &seq);
		for (int i = 0; ok && i < 8; i++)
			ok = hex_value(f[0][i]) >= 0, crc = crc * 16 + (uint64_t)hex_value(f[0][i]);
		if (ok && crc32c(0, f[1], (size_t)(nl - p) - 9) == crc && seq > last)
			last = seq;
		free(line);
		p = nl + 1;
	}
	return last;
}

/* A cleanup undoes a test on the test's world: it takes over the state directory of the test it
 * follows (docs/simulator.md, "Cleanup"), provided that the test's world.yaml holds every effect
 * of its log (the test's run ended, or was checkpointed) and has exactly this plan's devices and
 * VMs. The test's effects.log is kept as effects.log.N (the first free N); world.yaml is rewritten
 * as this plan's, at the same seq, before the fresh log is started, so a crash in between leaves
 * either the test's world or ours, never a mix. */
static bool adopt_test_world(struct sim *s, const struct buf *world_text, const struct buf *log_text, bool have_log,
                             uint64_t *world_seq, char *err, size_t errlen)
{
	uint64_t last = have_log ? log_last_seq(log_text->data, log_text->len) : 0;
	if (last > *world_seq) {
		snprintf(err, errlen, "%s holds a world whose last effects (up to %" PRIu64 ") are not in its world.yaml "
		         "(seq %" PRIu64 "): finish that run first (drplan run --resume), then run the cleanup",
		         s->dir, last, *world_seq);
		return false;
	}
	char other[200] = "";
	s->adopting = true;
	enum load loaded = world_load(s, world_text->data, world_text->len, world_seq, other, sizeof other, err, errlen);
	s->adopting = false;
	if (loaded != LOAD_OK)
		return false;
	if (have_log) {
		struct buf keep = BUF_INIT;
		for (unsigned n = 1;; n++) {
			buf_clear(&keep);
			buf_printf(&keep, "%s.%u", s->log_path, n);
			if (access(keep.data, F_OK) != 0)
				break;
		}
		bool moved = rename(s->log_path, keep.data) == 0;
		if (!moved)
			snprintf(err, errlen, "cannot keep %s as %s: %s", s->log_path, keep.data, strerror(errno));
		buf_free(&keep);
		if (!moved)
			return false;
	}
	struct buf text = BUF_INIT;
	world_yaml(s, s->dev, s->at, *world_seq, &text);
	bool ok = fs_write_atomic(s->world_path, text.data, text.len, err, errlen);
	buf_free(&text);
	return ok;
}

/* Sets up the state directory: reads the snapshot and the log, or creates them. */
static bool open_dir(struct sim *s, char *err, size_t errlen)
{
	if (mkdir(s->dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the simulator's state directory %s: %s", s->dir, strerror(errno));
		return false;
	}
	struct stat st;
	if (stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", s->dir);
		return false;
	}
	bool ok = false;
	struct buf world_text = BUF_INIT, log_text = BUF_INIT;
	bool have_world = read_file(s->world_path, &world_text);
	if (!have_world && errno != ENOENT) {
		snprintf(err, errlen, "cannot read %s: %s", s->world_path, strerror(errno));
		goto out;
	}
	bool have_log = read_file(s->log_path, &log_text);
	if (!have_log && errno != ENOENT) {
		snprintf(err, errlen, "cannot read %s: %s", s->log_path, strerror(errno));
		goto out;
	}
	if (have_log && log_text.len == 0)
		have_log = false; /* created, never written: fs_write_atomic makes this unlikely */

	/* Whose world is it? Another plan's is refused unless it never recorded an effect. */
	char other[200] = "";
	bool same_log = true;
	if (have_log && !header_check(s, log_text.data, log_text.len, &same_log, other, sizeof other, err, errlen))
		goto out;
	uint64_t world_seq = 0;
	enum load loaded = LOAD_OK;
	if (have_world) {
		char other_world[200] = "";
		loaded = world_load(s, world_text.data, world_text.len, &world_seq, other_world, sizeof other_world, err, errlen);
		if (loaded == LOAD_ERROR)
			goto out;
		if (loaded == LOAD_OTHER_PLAN)
			snprintf(other, sizeof other, "%s", other_world);
	}
	if (s->dag->mode == AST_MODE_CLEANUP && loaded == LOAD_OTHER_PLAN && world_seq > 0) {
		if (!adopt_test_world(s, &world_text, &log_text, have_log, &world_seq, err, errlen))
			goto out;
		loaded = LOAD_OK;
		have_log = false;
		same_log = true;
	}
	const char *nl = have_log ? memchr(log_text.data, '\n', log_text.len) : NULL;
	bool log_used = nl && (size_t)(nl - log_text.data) + 1 < log_text.len;
	if ((!same_log && log_used) || (loaded == LOAD_OTHER_PLAN && world_seq > 0)) {
		snprintf(err, errlen, "%s holds the simulated world of another plan (%s), not of plan %s: give another state directory, or remove it to start afresh",
		         s->dir, other, s->dag->name ? s->dag->name : "");
		goto out;
	}
	/* Another plan's files that never recorded an effect are taken over. */
	if (loaded == LOAD_OTHER_PLAN) {
		world_seq = 0;
		have_world = false;
		if (unlink(s->world_path) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove %s: %s", s->world_path, strerror(errno));
			goto out;
		}
	}
	if (!same_log)
		have_log = false; /* a fresh header replaces it below */

	size_t keep = 0;
	uint64_t last = 0;
	if (have_log) {
		if (!log_replay(s, log_text.data, log_text.len, world_seq, &keep, &last, err, errlen))
			goto out;
	} else {
		struct buf header = BUF_INIT;
		log_header(s->dag, &header);
		bool made = fs_write_atomic(s->log_path, header.data, header.len, err, errlen);
		buf_free(&header);
		if (!made)
			goto out;
	}
	s->seq = last > world_seq ? last : world_seq;
	s->log.fd = open(s->log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (s->log.fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", s->log_path, strerror(errno));
		goto out;
	}
	if (have_log && keep < log_text.len) {
		/* A torn tail: effects that were never acknowledged. Cut them off so that the next
		 * appends follow the last whole line. */
		if (ftruncate(s->log.fd, (off_t)keep) != 0 || fdatasync(s->log.fd) != 0) {
			snprintf(err, errlen, "cannot cut the torn tail of %s: %s", s->log_path, strerror(errno));
			goto out;
		}
	}
	s->log.written = s->log.durable = s->log.pending_last = s->seq;
	ok = true;
out:
	buf_free(&world_text);
	buf_free(&log_text);
	return ok;
}

struct adapter *sim_open(const struct dag *d, const struct sim_options *o, char *err, size_t errlen)
{
	struct sim *s = xcalloc(1, sizeof *s);
	s->base.vt = &sim_vtable;
	s->dag = d;
	s->seed = o->seed;
	s->virtual_time = o->virtual_time;
	s->defer_sync = o->defer_sync;
	s->time_scale = o->time_scale > 0 ? o->time_scale : 0;
	s->transient_failures = o->transient_failures;
	s->log.fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->log.mu, NULL);
	pthread_cond_init(&s->log.cv, NULL);
	strmap_init(&s->vm_map);
	strmap_init(&s->dev_map);
	strmap_init(&s->host_map);

	uint32_t n_sites = d->n_sites;
	/* Hosts by site, in the DAG's (name) order. */
	s->host_first = xcalloc((size_t)n_sites + 2, sizeof *s->host_first);
	s->host_list = xcalloc((size_t)d->n_hosts + 1, sizeof *s->host_list);
	for (uint32_t h = 0; h < d->n_hosts; h++)
		if (d->hosts[h].site < n_sites)
			s->host_first[d->hosts[h].site + 1]++;
	for (uint32_t i = 0; i < n_sites; i++)
		s->host_first[i + 1] += s->host_first[i];
	uint32_t *fill = xcalloc((size_t)n_sites + 1, sizeof *fill);
	for (uint32_t h = 0; h < d->n_hosts; h++)
		if (d->hosts[h].site < n_sites)
			s->host_list[s->host_first[d->hosts[h].site] + fill[d->hosts[h].site]++] = h;
	free(fill);

	strmap_reserve(&s->vm_map, d->n_vms);
	for (uint32_t v = 0; v < d->n_vms; v++)
		strmap_put(&s->vm_map, d->vms[v].name, strlen(d->vms[v].name), v);
	strmap_reserve(&s->host_map, d->n_hosts);
	for (uint32_t h = 0; h < d->n_hosts; h++)
		strmap_put(&s->host_map, d->hosts[h].name, strlen(d->hosts[h].name), h);
	strmap_reserve(&s->dev_map, d->n_devices);
	for (uint32_t i = 0; i < d->n_devices; i++)
		strmap_put(&s->dev_map, d->devices[i].name, strlen(d->devices[i].name), i);

	/* The reconciliation index: one bit per object of every operation the adapter performs. */
	s->op_bit = xcalloc((size_t)d->n_ops + 1, sizeof *s->op_bit);
	uint64_t bits = 0;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		s->op_bit[i] = bits;
		const struct dag_op *op = &d->ops[i];
		bool valid = op->target_kind == DAG_TARGET_WORKGROUP ? op->target < d->n_workgroups
		             : op->target_kind == DAG_TARGET_DEVICE  ? op->target < d->n_devices
		             : op->target_kind == DAG_TARGET_GROUP   ? op->target < d->n_groups
		                                                     : false;
		bool adapters = (op->kind <= DAG_REVERSE && op->kind != DAG_RUN) || op->kind == DAG_UNREGISTER ||
		                op->kind == DAG_DISCARD;
		if (valid && adapters)
			bits += op_n_objects(d, op);
	}
	s->logged_bits = xcalloc((size_t)(bits / 64) + 1, sizeof *s->logged_bits);
	s->prepared_bits = xcalloc((size_t)(bits / 64) + 1, sizeof *s->prepared_bits);
	s->logged = xcalloc((size_t)d->n_ops + 1, sizeof *s->logged);
	s->dev = xcalloc((size_t)d->n_devices + 1, sizeof *s->dev);
	s->at = xcalloc((size_t)d->n_vms * n_sites + 1, sizeof *s->at);
	world_init(s);

	s->site_down = xcalloc((size_t)n_sites + 1, sizeof *s->site_down);
	for (uint32_t k = 0; k < o->n_down_sites; k++) {
		uint32_t site = find_site(s, o->down_sites[k]);
		if (site == DAG_NONE) {
			struct buf known = BUF_INIT;
			for (uint32_t i = 0; i < n_sites; i++)
				buf_printf(&known, "%s%s", i ? ", " : "", d->sites[i].name);
			snprintf(err, errlen, "no site '%s' in plan %s (its sites: %s)", o->down_sites[k] ? o->down_sites[k] : "",
			         d->name ? d->name : "", known.len ? known.data : "none");
			buf_free(&known);
			goto fail;
		}
		s->site_down[site] = true;
	}
	if (!match_init(s, &s->fail, o->fail, o->n_fail, "fail", err, errlen) ||
	    !match_init(s, &s->transient, o->transient, o->n_transient, "transient", err, errlen) ||
	    !records_init(s, o, err, errlen))
		goto fail;

	if (o->state_dir) {
		s->dir = xstrdup(o->state_dir);
		s->log_path = path_in(o->state_dir, "effects.log");
		s->world_path = path_in(o->state_dir, "world.yaml");
		if (!open_dir(s, err, errlen))
			goto fail;
	}
	return &s->base;
fail:
	sim_free(s);
	return NULL;
}

/* ---- Describing */

void sim_describe_vm(struct adapter *a, const char *vm, struct buf *out)
{
	if (a->vt != &sim_vtable) {
		buf_puts(out, "(not a simulator)");
		return;
	}
	struct sim *s = (struct sim *)a;
	uint32_t v = strmap_get(&s->vm_map, vm, strlen(vm));
	if (v == STRMAP_NONE) {
		buf_printf(out, "no VM named %s", vm);
		return;
	}
	pthread_mutex_lock(&s->mu);
	describe_vm_locked(s, v, out);
	pthread_mutex_unlock(&s->mu);
}

/* VM v's state in words (sim_describe_vm). Under mu. */
static void describe_vm_locked(struct sim *s, uint32_t v, struct buf *out)
{
	size_t start = out->len;
	/* Running copies first: they are what an operator asks about. */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t site = 0; site < site_count(s); site++) {
			const struct sim_at *p = at(s, v, site);
			if (!(p->flags & AT_REGISTERED) || (!(p->flags & AT_ON)) != pass)
				continue;
			buf_printf(out, "%s%s at %s", out->len > start ? "; " : "", p->flags & AT_ON ? "on" : "off",
			           site_name(s, site));
			const struct dag_migration *mg = dag_vm_migration(s->dag, v);
			if (p->host != DAG_NONE || (p->flags & AT_SNAPSHOT) || mg) {
				size_t open = out->len;
				buf_puts(out, " (");
				if (p->host != DAG_NONE)
					buf_puts(out, s->dag->hosts[p->host].name);
				if (p->flags & AT_SNAPSHOT)
					buf_printf(out, "%stest copy", out->len > open + 2 ? ", " : "");
				if (mg)
					buf_printf(out, "%s%s copy on %s", out->len > open + 2 ? ", " : "",
					           p->flags & AT_DESTINATION ? "destination" : "source",
					           s->dag->devices[p->flags & AT_DESTINATION ? mg->to : mg->from].name);
				buf_putc(out, ')');
			}
		}
	if (out->len == start)
		buf_puts(out, "not registered anywhere");
}

void sim_describe_device(struct adapter *a, const char *device, struct buf *out)
{
	if (a->vt != &sim_vtable) {
		buf_puts(out, "(not a simulator)");
		return;
	}
	struct sim *s = (struct sim *)a;
	uint32_t i = strmap_get(&s->dev_map, device, strlen(device));
	if (i == STRMAP_NONE) {
		buf_printf(out, "no device named %s", device);
		return;
	}
	const struct dag_device *dv = &s->dag->devices[i];
	pthread_mutex_lock(&s->mu);
	struct sim_dev w = s->dev[i];
	pthread_mutex_unlock(&s->mu);
	if (dv->kind == DAG_STRETCHED) {
		buf_printf(out, "stretched between %s and %s, prefers %s", site_name(s, dv->site), site_name(s, dv->peer_site),
		           w.prefer == DAG_NONE ? "no site" : site_name(s, w.prefer));
		return;
	}
	for (unsigned side = 0; side < 2; side++) {
		buf_printf(out, "%s at %s: %s", side_name(dv, side), site_name(s, side_site(dv, side)),
		           w.writable & (1u << side) ? "writable" : side == w.source ? "read-only" : "passive");
		if (w.snapshots & (1u << side))
			buf_puts(out, ", test snapshot");
		buf_puts(out, "; ");
	}
	if (w.replicating)
		buf_printf(out, "replicating %s -> %s", site_name(s, side_site(dv, w.source)),
		           site_name(s, side_site(dv, !w.source)));
	else
		buf_puts(out, "replication split");
}

uint64_t sim_effects(struct adapter *a)
{
	struct sim *s = (struct sim *)a;
	pthread_mutex_lock(&s->mu);
	uint64_t seq = s->seq;
	pthread_mutex_unlock(&s->mu);
	return seq;
}

static const struct adapter_vtable sim_vtable = {
	.name = "sim",
	.sync = sim_sync,
	.prepare_failover = sim_prepare,
	.failover = sim_failover,
	.set_preference = sim_prefer,
	.snapshot = sim_snapshot,
	.reverse = sim_reverse,
	.shutdown = sim_shutdown,
	.migrate = sim_migrate,
	.register_vms = sim_register,
	.power_on = sim_power_on,
	.query = sim_query,
	.flush = sim_flush,
	.close = sim_close,
	.unregister_vms = sim_unregister,
	.discard_snapshot = sim_discard,
};
