/* latency.c: reading a latency profile (latency.h) with libyaml's event API, by recursive descent
 * over events: a mapping of operation kinds, each a mapping of `base` and `per-vm` durations.
 * Anything else is DRP055 at the node at fault, and a wrong value is skipped whole so that one
 * mistake is one diagnostic. Anchors, aliases and a second document stop the reading. */
#include "latency.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "parse.h"
#include "yamlread.h"

enum field { FIELD_BASE, FIELD_PER_VM, N_FIELDS };
static const char *const field_names[] = {"base", "per-vm", NULL};

struct lat {
	struct yaml_reader r;
	/* What the profile sets. */
	struct dag_latency out;
	struct src_range kind_at[DAG_N_OP_KINDS]; /* where each kind was given (file SRC_NONE: not) */
};

static const struct yaml_reader_names profile = {
	DRP055, "a latency profile", "in a latency profile", "this latency profile", LATENCY_MAX_ERRORS,
};


/* A duration value; false (reported) if it is not one. */
static bool read_duration(struct lat *p, const char *kind, const char *field, int64_t *ms)
{
	struct src_range at = yaml_reader_at(&p->r);
	if (p->r.ev.type != YAML_SCALAR_EVENT || p->r.ev.data.scalar.length == 0) {
		struct buf b = BUF_INIT;
		yaml_reader_describe(&p->r, &b);
		struct diag *d = yaml_reader_error(&p->r, at, "expected a duration for '%s' of '%s', found %s", field, kind, b.data);
		if (d)
			diag_hint(d, "write it as in a plan: 90s, 5m, 1h30m, 250ms");
		buf_free(&b);
		yaml_reader_skip(&p->r);
		return false;
	}
	const char *text = (const char *)p->r.ev.data.scalar.value;
	size_t len = p->r.ev.data.scalar.length;
	const char *why = NULL;
	if (text[0] == '-')
		why = "a duration cannot be negative";
	if (why || !duration_parse(text, len, ms, &why)) {
		struct buf b = BUF_INIT;
		yaml_reader_describe(&p->r, &b);
		struct diag *d = yaml_reader_error(&p->r, at, "invalid duration %s for '%s' of '%s': %s", b.data, field, kind, why);
		if (d)
			diag_hint(d, "write it as in a plan: 90s, 5m, 1h30m, 250ms");
		buf_free(&b);
		return false;
	}
	return true;
}

/* The mapping of one kind, whose start event is current. */
static void read_kind(struct lat *p, unsigned kind, struct src_range kind_at)
{
	const char *name = dag_op_kind_names[kind];
	struct src_range seen[N_FIELDS];
	bool given[N_FIELDS] = {false, false};
	uint32_t n_keys = 0;
	while (yaml_reader_next(&p->r) && p->r.ev.type != YAML_MAPPING_END_EVENT) {
		if (!yaml_reader_plain(&p->r))
			return;
		struct src_range key_at = yaml_reader_at(&p->r);
		int field = -1;
		n_keys++;
		if (p->r.ev.type == YAML_SCALAR_EVENT) {
			const char *k = (const char *)p->r.ev.data.scalar.value;
			size_t len = p->r.ev.data.scalar.length;
			for (int f = 0; f < N_FIELDS; f++)
				if (strlen(field_names[f]) == len && memcmp(field_names[f], k, len) == 0)
					field = f;
			if (field < 0) {
				struct buf b = BUF_INIT;
				yaml_reader_describe(&p->r, &b);
				struct diag *d = yaml_reader_error(&p->r, key_at, "unknown field %s in '%s'; the fields are 'base' and 'per-vm'",
				                           b.data, name);
				const char *s = diag_suggest(k, len, field_names);
				if (d && s) {
					diag_hint(d, "did you mean '%s'?", s);
					diag_fixit(d, s);
				}
				buf_free(&b);
			} else if (given[field]) {
				struct diag *d = yaml_reader_error(&p->r, key_at, "'%s' of '%s' is given twice", field_names[field], name);
				if (d)
					diag_note(d, seen[field], "first given here");
				field = -1;
			}
		} else {
			yaml_reader_error(&p->r, key_at, "expected a field name ('base' or 'per-vm') in '%s'", name);
			yaml_reader_skip(&p->r);
		}
		if (!yaml_reader_next(&p->r))
			return;
		if (!yaml_reader_plain(&p->r))
			return;
		if (field < 0) {
			yaml_reader_skip(&p->r);
			continue;
		}
		given[field] = true;
		seen[field] = key_at;
		int64_t ms;
		if (!read_duration(p, name, field_names[field], &ms))
			continue;
		if (field == FIELD_BASE) {
			p->out.base_ms[kind] = ms;
		} else {
			p->out.per_vm_ms[kind] = ms;
			bool device_op = kind == DAG_SYNC || kind == DAG_FAILOVER || kind == DAG_PREFER ||
			                 kind == DAG_SNAPSHOT || kind == DAG_REVERSE || kind == DAG_DISCARD;
			if (device_op && ms != 0) {
				struct diag *d = yaml_reader_diag(&p->r, DIAG_WARNING, key_at,
				                          "'per-vm' has no effect on '%s', a device operation", name);
				if (d)
					diag_hint(d, "only workgroup operations (shutdown, migrate, register, power-on, run, "
					             "unregister) "
					             "have VMs; device operations take 'base'");
			}
		}
	}
	if (n_keys == 0 && !p->r.stop) {
		struct diag *d = yaml_reader_error(&p->r, kind_at, "'%s' sets neither 'base' nor 'per-vm'", name);
		if (d)
			diag_hint(d, "write '%s: {base: 30s, per-vm: 1s}', or remove the entry", name);
	}
}

/* Looks a key up among the kinds a profile may set; reports and returns -1 if it is not one. */
static int kind_index(struct lat *p, struct src_range at)
{
	const char *k = (const char *)p->r.ev.data.scalar.value;
	size_t len = p->r.ev.data.scalar.length;
	for (int i = 0; i < DAG_N_OP_KINDS; i++) {
		if (strlen(dag_op_kind_names[i]) != len || memcmp(dag_op_kind_names[i], k, len) != 0)
			continue;
		if (i == DAG_PROMPT || i == DAG_WAIT || i == DAG_GATE) {
			struct diag *d = yaml_reader_error(&p->r, at, "the duration of '%s' cannot be set", dag_op_kind_names[i]);
			if (d)
				diag_hint(d, i == DAG_WAIT ? "a wait lasts the duration its step gives"
				           : i == DAG_PROMPT ? "a prompt waits for an operator, whose time the estimate leaves out"
				                             : "a gate joins edges and takes no time");
			return -1;
		}
		return i;
	}
	/* The kinds a profile may set, for "did you mean". */
	const char *settable[DAG_N_OP_KINDS + 1];
	size_t n = 0;
	for (int i = 0; i < DAG_N_OP_KINDS; i++)
		if (i != DAG_PROMPT && i != DAG_WAIT && i != DAG_GATE)
			settable[n++] = dag_op_kind_names[i];
	settable[n] = NULL;
	struct buf b = BUF_INIT;
	yaml_reader_describe(&p->r, &b);
	struct diag *d = yaml_reader_error(&p->r, at, "unknown operation kind %s", b.data);
	buf_free(&b);
	if (d) {
		const char *s = diag_suggest(k, len, settable);
		if (s) {
			diag_hint(d, "did you mean '%s'?", s);
			diag_fixit(d, s);
		} else {
			diag_hint(d, "the kinds are sync, failover, prefer, shutdown, migrate, register, power-on, run, "
			             "snapshot, reverse, unregister and discard");
		}
	}
	return -1;
}

/* The top-level mapping, whose start event is current. */
static void read_root(void *ctx)
{
	struct lat *p = ctx;
	while (yaml_reader_next(&p->r) && p->r.ev.type != YAML_MAPPING_END_EVENT) {
		if (!yaml_reader_plain(&p->r))
			return;
		struct src_range key_at = yaml_reader_at(&p->r);
		int kind = -1;
		if (p->r.ev.type == YAML_SCALAR_EVENT) {
			kind = kind_index(p, key_at);
			if (kind >= 0 && p->kind_at[kind].file != SRC_NONE) {
				struct diag *d = yaml_reader_error(&p->r, key_at, "'%s' is given twice", dag_op_kind_names[kind]);
				if (d)
					diag_note(d, p->kind_at[kind], "first given here");
				kind = -1;
			}
		} else {
			yaml_reader_error(&p->r, key_at, "expected an operation kind as a key");
			yaml_reader_skip(&p->r);
		}
		if (!yaml_reader_next(&p->r) || !yaml_reader_plain(&p->r))
			return;
		if (kind < 0) {
			yaml_reader_skip(&p->r);
			continue;
		}
		p->kind_at[kind] = key_at;
		if (p->r.ev.type != YAML_MAPPING_START_EVENT) {
			struct buf b = BUF_INIT;
			yaml_reader_describe(&p->r, &b);
			struct diag *d = yaml_reader_error(&p->r, yaml_reader_at(&p->r), "expected a mapping for '%s', found %s",
			                           dag_op_kind_names[kind], b.data);
			if (d)
				diag_hint(d, "write '%s: {base: 30s, per-vm: 1s}'", dag_op_kind_names[kind]);
			buf_free(&b);
			yaml_reader_skip(&p->r);
			continue;
		}
		read_kind(p, (unsigned)kind, key_at);
	}
}

bool latency_load(struct dag_latency *lat, const struct src_file *src, struct diag_list *diags)
{
	struct lat *p = xcalloc(1, sizeof *p);
	p->out = *lat;
	for (int i = 0; i < DAG_N_OP_KINDS; i++)
		p->kind_at[i] = src_range_make(SRC_NONE, 0, 0);
	if (yaml_reader_open(&p->r, src, diags, &profile))
		yaml_reader_document(&p->r, read_root, p, "a mapping of operation kinds",
		                     "write one line per operation kind: 'power-on: {base: 20s, per-vm: 3s}'");
	yaml_reader_close(&p->r);
	bool ok = p->r.errors == 0;
	if (ok)
		*lat = p->out;
	free(p);
	return ok;
}
