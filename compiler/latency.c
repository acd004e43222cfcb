/* latency.c: reading a latency profile (latency.h) with libyaml's event API, by recursive descent
 * over events: a mapping of operation kinds, each a mapping of `base` and `per-vm` durations.
 * Anything else is DRP055 at the node at fault, and a wrong value is skipped whole so that one
 * mistake is one diagnostic. Anchors, aliases and a second document stop the reading. */
#include "latency.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "../lib/utf8.h"
#include "parse.h"
#include "yamlpos.h"

/* How much of a wrong value a message quotes. */
#define QUOTE_MAX 40

enum field { FIELD_BASE, FIELD_PER_VM, N_FIELDS };
static const char *const field_names[] = {"base", "per-vm", NULL};

struct lat {
	const struct src_file *src;
	struct diag_list *diags;
	yaml_parser_t yaml;
	yaml_event_t ev;           /* the current event */
	bool have;                 /* ev holds an event to delete */
	bool stop;                 /* read no further */
	unsigned errors;
	struct yaml_pos pos;       /* libyaml's marks count characters: byte offsets */
	/* What the profile sets. */
	struct dag_latency out;
	struct src_range kind_at[DAG_N_OP_KINDS]; /* where each kind was given (file SRC_NONE: not) */
};


static struct src_range range(const struct lat *p, uint32_t start, uint32_t end)
{
	return src_range_make(p->src->id, start, end < start ? start : end);
}

static struct src_range event_range(struct lat *p)
{
	uint32_t start = yaml_pos_offset(&p->pos, p->ev.start_mark);
	return range(p, start, yaml_pos_offset(&p->pos, p->ev.end_mark));
}


__attribute__((format(printf, 4, 5))) static struct diag *lat_diag(struct lat *p, enum diag_severity severity,
                                                                   struct src_range at, const char *fmt, ...)
{
	if (p->stop)
		return NULL;
	if (severity == DIAG_ERROR && p->errors++ == LATENCY_MAX_ERRORS) {
		diag_add(p->diags, DIAG_ERROR, DRP013, at, "too many errors in this latency profile (%d); stopping here",
		         LATENCY_MAX_ERRORS);
		p->stop = true;
		return NULL;
	}
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = diag_vadd(p->diags, severity, DRP055, at, fmt, ap);
	va_end(ap);
	return d;
}

#define lat_error(p, at, ...) lat_diag((p), DIAG_ERROR, (at), __VA_ARGS__)

/* libyaml's error, at its position. */
static void syntax_error(struct lat *p)
{
	yaml_parser_t *y = &p->yaml;
	const char *problem = y->problem ? y->problem : "out of memory";
	struct src_range at;
	if (y->error == YAML_READER_ERROR) {
		size_t raw = p->pos.base + y->problem_offset;
		at = yaml_pos_char(&p->pos, (uint32_t)(raw < p->src->len ? raw : p->src->len));
	} else {
		at = yaml_pos_char(&p->pos, yaml_pos_offset(&p->pos, y->problem_mark));
	}
	struct diag *d = lat_error(p, at, "invalid YAML: %s", problem);
	if (d && y->context && y->error != YAML_READER_ERROR)
		diag_note(d, yaml_pos_char(&p->pos, yaml_pos_offset(&p->pos, y->context_mark)), "%s", y->context);
	p->stop = true;
}

/* Reads the next event into p->ev; false (reported) on a syntax error or once stopped. */
static bool next(struct lat *p)
{
	if (p->have)
		yaml_event_delete(&p->ev);
	p->have = false;
	if (p->stop)
		return false;
	if (!yaml_parser_parse(&p->yaml, &p->ev)) {
		syntax_error(p);
		return false;
	}
	p->have = true;
	return true;
}

/* Refuses anchors and aliases outright (so a small file cannot expand into a big one) and tags
 * (every value is plain text or a mapping); true if the current node may be read. */
static bool plain_node(struct lat *p)
{
	const yaml_event_t *ev = &p->ev;
	const yaml_char_t *anchor = NULL, *tag = NULL;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		lat_error(p, event_range(p), "YAML aliases are not allowed in a latency profile");
		p->stop = true;
		return false;
	case YAML_SCALAR_EVENT: anchor = ev->data.scalar.anchor; tag = ev->data.scalar.tag; break;
	case YAML_MAPPING_START_EVENT: anchor = ev->data.mapping_start.anchor; tag = ev->data.mapping_start.tag; break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	default: return true;
	}
	if (anchor) {
		lat_error(p, yaml_pos_char(&p->pos, yaml_pos_offset(&p->pos, ev->start_mark)),
		          "YAML anchors are not allowed in a latency profile");
		p->stop = true;
		return false;
	}
	/* A plain scalar's implicit tag is not written; only an explicit `!tag` reaches here. */
	if (tag && !(ev->type == YAML_SCALAR_EVENT && ev->data.scalar.plain_implicit)) {
		lat_error(p, yaml_pos_char(&p->pos, yaml_pos_offset(&p->pos, ev->start_mark)), "YAML tags are not allowed in a latency profile");
		return true; /* reported; the value itself can still be read */
	}
	return true;
}

/* Skips the node whose first event is current, nested collections included. Its last event
 * becomes current. */
static void skip_node(struct lat *p)
{
	if (p->ev.type != YAML_MAPPING_START_EVENT && p->ev.type != YAML_SEQUENCE_START_EVENT)
		return;
	for (size_t depth = 1; depth > 0;) {
		if (!next(p))
			return;
		if (p->ev.type == YAML_MAPPING_START_EVENT || p->ev.type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (p->ev.type == YAML_MAPPING_END_EVENT || p->ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
	}
}

/* The node's whole range when it is a scalar; a collection's first character otherwise (its end
 * is not known before it is read). */
static struct src_range node_at(struct lat *p)
{
	if (p->ev.type == YAML_SCALAR_EVENT || p->ev.type == YAML_ALIAS_EVENT)
		return event_range(p);
	return yaml_pos_char(&p->pos, yaml_pos_offset(&p->pos, p->ev.start_mark));
}

/* What the current node is, for "found ..." in messages. */
static void describe(struct lat *p, struct buf *b)
{
	if (p->ev.type == YAML_SEQUENCE_START_EVENT) {
		buf_puts(b, "a list");
	} else if (p->ev.type == YAML_MAPPING_START_EVENT) {
		buf_puts(b, "a mapping");
	} else if (p->ev.data.scalar.length == 0) {
		buf_puts(b, "an empty value");
	} else {
		size_t n = p->ev.data.scalar.length;
		bool cut = n > QUOTE_MAX;
		if (cut)
			for (n = QUOTE_MAX; n > 0 && (p->ev.data.scalar.value[n] & 0xC0) == 0x80; n--)
				; /* not in the middle of a character */
		buf_puts(b, "'");
		for (size_t i = 0; i < n; i++) {
			unsigned char c = p->ev.data.scalar.value[i];
			buf_putc(b, c < 0x20 || c == 0x7F ? '?' : (char)c);
		}
		buf_printf(b, "%s'", cut ? "..." : "");
	}
}

/* A duration value; false (reported) if it is not one. */
static bool read_duration(struct lat *p, const char *kind, const char *field, int64_t *ms)
{
	struct src_range at = node_at(p);
	if (p->ev.type != YAML_SCALAR_EVENT || p->ev.data.scalar.length == 0) {
		struct buf b = BUF_INIT;
		describe(p, &b);
		struct diag *d = lat_error(p, at, "expected a duration for '%s' of '%s', found %s", field, kind, b.data);
		if (d)
			diag_hint(d, "write it as in a plan: 90s, 5m, 1h30m, 250ms");
		buf_free(&b);
		skip_node(p);
		return false;
	}
	const char *text = (const char *)p->ev.data.scalar.value;
	size_t len = p->ev.data.scalar.length;
	const char *why = NULL;
	if (text[0] == '-')
		why = "a duration cannot be negative";
	if (why || !duration_parse(text, len, ms, &why)) {
		struct buf b = BUF_INIT;
		describe(p, &b);
		struct diag *d = lat_error(p, at, "invalid duration %s for '%s' of '%s': %s", b.data, field, kind, why);
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
	while (next(p) && p->ev.type != YAML_MAPPING_END_EVENT) {
		if (!plain_node(p))
			return;
		struct src_range key_at = node_at(p);
		int field = -1;
		n_keys++;
		if (p->ev.type == YAML_SCALAR_EVENT) {
			const char *k = (const char *)p->ev.data.scalar.value;
			size_t len = p->ev.data.scalar.length;
			for (int f = 0; f < N_FIELDS; f++)
				if (strlen(field_names[f]) == len && memcmp(field_names[f], k, len) == 0)
					field = f;
			if (field < 0) {
				struct buf b = BUF_INIT;
				describe(p, &b);
				struct diag *d = lat_error(p, key_at, "unknown field %s in '%s'; the fields are 'base' and 'per-vm'",
				                           b.data, name);
				const char *s = diag_suggest(k, len, field_names);
				if (d && s) {
					diag_hint(d, "did you mean '%s'?", s);
					diag_fixit(d, s);
				}
				buf_free(&b);
			} else if (given[field]) {
				struct diag *d = lat_error(p, key_at, "'%s' of '%s' is given twice", field_names[field], name);
				if (d)
					diag_note(d, seen[field], "first given here");
				field = -1;
			}
		} else {
			lat_error(p, key_at, "expected a field name ('base' or 'per-vm') in '%s'", name);
			skip_node(p);
		}
		if (!next(p))
			return;
		if (!plain_node(p))
			return;
		if (field < 0) {
			skip_node(p);
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
			                 kind == DAG_SNAPSHOT || kind == DAG_REVERSE;
			if (device_op && ms != 0) {
				struct diag *d = lat_diag(p, DIAG_WARNING, key_at,
				                          "'per-vm' has no effect on '%s', a device operation", name);
				if (d)
					diag_hint(d, "only workgroup operations (shutdown, migrate, register, power-on, run) "
					             "have VMs; device operations take 'base'");
			}
		}
	}
	if (n_keys == 0 && !p->stop) {
		struct diag *d = lat_error(p, kind_at, "'%s' sets neither 'base' nor 'per-vm'", name);
		if (d)
			diag_hint(d, "write '%s: {base: 30s, per-vm: 1s}', or remove the entry", name);
	}
}

/* Looks a key up among the kinds a profile may set; reports and returns -1 if it is not one. */
static int kind_index(struct lat *p, struct src_range at)
{
	const char *k = (const char *)p->ev.data.scalar.value;
	size_t len = p->ev.data.scalar.length;
	for (int i = 0; i < DAG_N_OP_KINDS; i++) {
		if (strlen(dag_op_kind_names[i]) != len || memcmp(dag_op_kind_names[i], k, len) != 0)
			continue;
		if (i == DAG_PROMPT || i == DAG_WAIT || i == DAG_GATE) {
			struct diag *d = lat_error(p, at, "the duration of '%s' cannot be set", dag_op_kind_names[i]);
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
	describe(p, &b);
	struct diag *d = lat_error(p, at, "unknown operation kind %s", b.data);
	buf_free(&b);
	if (d) {
		const char *s = diag_suggest(k, len, settable);
		if (s) {
			diag_hint(d, "did you mean '%s'?", s);
			diag_fixit(d, s);
		} else {
			diag_hint(d, "the kinds are sync, failover, prefer, shutdown, migrate, register, power-on, run, "
			             "snapshot and reverse");
		}
	}
	return -1;
}

/* The top-level mapping, whose start event is current. */
static void read_root(struct lat *p)
{
	while (next(p) && p->ev.type != YAML_MAPPING_END_EVENT) {
		if (!plain_node(p))
			return;
		struct src_range key_at = node_at(p);
		int kind = -1;
		if (p->ev.type == YAML_SCALAR_EVENT) {
			kind = kind_index(p, key_at);
			if (kind >= 0 && p->kind_at[kind].file != SRC_NONE) {
				struct diag *d = lat_error(p, key_at, "'%s' is given twice", dag_op_kind_names[kind]);
				if (d)
					diag_note(d, p->kind_at[kind], "first given here");
				kind = -1;
			}
		} else {
			lat_error(p, key_at, "expected an operation kind as a key");
			skip_node(p);
		}
		if (!next(p) || !plain_node(p))
			return;
		if (kind < 0) {
			skip_node(p);
			continue;
		}
		p->kind_at[kind] = key_at;
		if (p->ev.type != YAML_MAPPING_START_EVENT) {
			struct buf b = BUF_INIT;
			describe(p, &b);
			struct diag *d = lat_error(p, node_at(p), "expected a mapping for '%s', found %s",
			                           dag_op_kind_names[kind], b.data);
			if (d)
				diag_hint(d, "write '%s: {base: 30s, per-vm: 1s}'", dag_op_kind_names[kind]);
			buf_free(&b);
			skip_node(p);
			continue;
		}
		read_kind(p, (unsigned)kind, key_at);
	}
}

static void read_stream(struct lat *p)
{
	if (!next(p) || p->ev.type != YAML_STREAM_START_EVENT)
		return;
	if (!next(p) || p->ev.type == YAML_STREAM_END_EVENT)
		return; /* an empty file changes nothing */
	/* DOCUMENT_START; then the root node. */
	if (!next(p) || !plain_node(p))
		return;
	if (p->ev.type == YAML_MAPPING_START_EVENT) {
		read_root(p);
	} else if (!(p->ev.type == YAML_SCALAR_EVENT && p->ev.data.scalar.length == 0)) {
		struct buf b = BUF_INIT;
		describe(p, &b);
		struct diag *d = lat_error(p, node_at(p), "a latency profile is a mapping of operation kinds, found %s",
		                           b.data);
		if (d)
			diag_hint(d, "write one line per operation kind: 'power-on: {base: 20s, per-vm: 3s}'");
		buf_free(&b);
		skip_node(p);
	}
	if (!next(p)) /* DOCUMENT_END */
		return;
	if (next(p) && p->ev.type == YAML_DOCUMENT_START_EVENT) {
		struct diag *d = lat_error(p, event_range(p), "a second YAML document; a latency profile is one document");
		if (d)
			diag_hint(d, "remove the '---' and everything after it");
	}
}

bool latency_load(struct dag_latency *lat, const struct src_file *src, struct diag_list *diags)
{
	struct lat *p = xcalloc(1, sizeof *p);
	p->src = src;
	p->diags = diags;
	p->out = *lat;
	for (int i = 0; i < DAG_N_OP_KINDS; i++)
		p->kind_at[i] = src_range_make(SRC_NONE, 0, 0);
	yaml_pos_init(&p->pos, src);
	bool ok = false;
	if (!yaml_parser_initialize(&p->yaml)) {
		diag_add(diags, DIAG_ERROR, DRP055, range(p, 0, 0), "cannot start the YAML reader: out of memory");
		goto out;
	}
	yaml_parser_set_input_string(&p->yaml, (const unsigned char *)src->text + p->pos.base, src->len - p->pos.base);
	yaml_parser_set_encoding(&p->yaml, YAML_UTF8_ENCODING);
	read_stream(p);
	if (p->have)
		yaml_event_delete(&p->ev);
	yaml_parser_delete(&p->yaml);
	ok = p->errors == 0;
	if (ok)
		*lat = p->out;
out:
	free(p);
	return ok;
}
