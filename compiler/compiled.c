/* compiled.c: the compiled plan (docs/compiled-plan.md). The writer drives libyaml's emitter over
 * the DAG and seals the text with its own SHA-256. The reader checks the format version and the
 * seal on the raw bytes first, then reads libyaml's events through a hand-written state machine
 * (no document tree: a million VMs cost their records and a fixed stack, as in inventory.c) and
 * checks every reference, so that what `drplan run` executes is exactly what was compiled.
 *
 * The top-level keys come in a fixed order, so that by the time a workgroup or an operation is
 * read, everything it names has been: references resolve as they are read and nothing is kept in
 * text form, except the few that point forward (from/to before sites, a device's consistency group
 * before the groups, an operation's predecessors after it). */
#include "compiled.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../lib/alloc.h"
#include "../lib/digest.h"
#include "../lib/strmap.h"
#include "../lib/utf8.h"
#include "yamlread.h"
#include "yamlwrite.h"

#define SEAL_PREFIX "sha256:"
#define SEAL_PREFIX_LEN 7
#define HEX_LEN 64

/* ---- The raw lines: format and seal, found without parsing YAML */

/* A top-level `key: value` line: where its value starts and ends (at the first blank or the end of
 * the line). start == SIZE_MAX: there is no such line. */
struct raw_value {
	size_t start, end;
};

/* The first line that starts with key (say "digest:") followed by a space or the end of the line.
 * Only column 0 counts: the format and the seal are keys of the top-level block mapping. */
static struct raw_value raw_line(const char *text, size_t len, const char *key)
{
	struct raw_value v = {SIZE_MAX, SIZE_MAX};
	size_t klen = strlen(key), i = 0;
	while (i < len) {
		if (len - i >= klen && memcmp(text + i, key, klen) == 0) {
			size_t s = i + klen;
			if (s == len || text[s] == ' ' || text[s] == '\n' || text[s] == '\r') {
				while (s < len && text[s] == ' ')
					s++;
				size_t e = s;
				while (e < len && text[e] != ' ' && text[e] != '\t' && text[e] != '\n' && text[e] != '\r')
					e++;
				v.start = s;
				v.end = e;
				return v;
			}
		}
		const char *nl = memchr(text + i, '\n', len - i);
		if (!nl)
			break;
		i = (size_t)(nl - text) + 1;
	}
	return v;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* True if s[0..n) is "sha256:" and 64 lowercase hex digits. */
static bool is_seal_value(const char *s, size_t n)
{
	return n == SEAL_PREFIX_LEN + HEX_LEN && memcmp(s, SEAL_PREFIX, SEAL_PREFIX_LEN) == 0 &&
	       is_lower_hex(s + SEAL_PREFIX_LEN, HEX_LEN);
}

/* The SHA-256 of text[0..len) with the 64 digits at `digits` taken as '0's. */
static void seal_of(const char *text, size_t len, size_t digits, char out[65])
{
	static const char zeros[HEX_LEN] = "0000000000000000000000000000000000000000000000000000000000000000";
	struct digest g;
	digest_init(&g);
	digest_update(&g, text, digits);
	digest_update(&g, zeros, HEX_LEN);
	digest_update(&g, text + digits + HEX_LEN, len - digits - HEX_LEN);
	digest_hex(&g, out);
}

bool compiled_reseal(char *text, size_t len)
{
	struct raw_value v = raw_line(text, len, "digest:");
	if (v.start == SIZE_MAX || !is_seal_value(text + v.start, v.end - v.start))
		return false;
	char hex[65];
	seal_of(text, len, v.start + SEAL_PREFIX_LEN, hex);
	memcpy(text + v.start + SEAL_PREFIX_LEN, hex, HEX_LEN);
	return true;
}

bool compiled_sniff(const char *text, size_t len)
{
	static const char prefix[] = "# drplan compiled plan:";
	return len >= sizeof prefix - 1 && memcmp(text, prefix, sizeof prefix - 1) == 0;
}

/* ---- Scalars that other YAML readers would not take for text */

/* word == s[0..n): without strlen, which would dominate the reading of a million names. */
static bool same_word(const char *word, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (word[i] == '\0' || word[i] != s[i])
			return false;
	return word[n] == '\0';
}

/* True if s[0..n), written plain, would be read by a YAML 1.1 or 1.2 reader as something other
 * than a string: null, a boolean, a number, a timestamp, a merge key. Such names and texts are
 * written quoted, and the reader refuses them plain. Numbers are recognised loosely (anything
 * that starts with a digit, or a dot and a digit, and holds only characters numbers use), which
 * quotes a few harmless names such as "10.0.0.1" too. */
static bool looks_nonstring(const char *s, size_t n)
{
	static const char *const words[] = {
		"~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
		"<<", "=", ".nan", ".NaN", ".NAN", NULL,
	};
	static const char *const infinities[] = {".inf", ".Inf", ".INF", NULL};
	if (n == 0)
		return true;
	if (n <= 5) /* the longest word */
		for (size_t i = 0; words[i]; i++)
			if (same_word(words[i], s, n))
				return true;
	size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
	if (n - i == 4)
		for (size_t k = 0; infinities[k]; k++)
			if (memcmp(infinities[k], s + i, 4) == 0)
				return true;
	if (i == n)
		return false;
	bool digit_first = s[i] >= '0' && s[i] <= '9';
	bool dot_digit = s[i] == '.' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9';
	if (!digit_first && !dot_digit)
		return false;
	/* A timestamp: four digits and a dash, whatever follows. */
	if (i == 0 && n >= 5 && s[4] == '-') {
		bool year = true;
		for (size_t k = 0; k < 4; k++)
			year = year && s[k] >= '0' && s[k] <= '9';
		if (year)
			return true;
	}
	for (size_t k = i; k < n; k++) {
		char c = s[k];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '_' ||
		      c == '.' || c == ':' || c == '+' || c == '-' || c == 'x' || c == 'X' || c == 'o' || c == 'O'))
			return false;
	}
	return true;
}

/* True if s[0..n) holds a control character, a line or paragraph separator or a byte order mark:
 * such text is written double-quoted, where every one of them is an escape. */
static bool needs_escapes(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		if (u[i] < 0x20 || u[i] == 0x7F)
			return true;
		if (u[i] == 0xC2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F)
			return true;
		if (u[i] == 0xE2 && i + 2 < n && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9))
			return true;
		if (u[i] == 0xEF && i + 2 < n && u[i + 1] == 0xBB && u[i + 2] == 0xBF)
			return true;
	}
	return false;
}

/* ---- The writer */

/* The output: every byte goes into the seal's digest and on to the sink, except that the first
 * HEAD bytes are held until the seal's line has gone by, to find where its digits are. */
#define HEAD 4096
struct stream {
	compiled_sink sink;
	void *ctx;
	struct digest seal;
	char head[HEAD];
	size_t head_len, total, seal_at;
	bool head_sent, failed;
};

struct writer {
	struct stream out;
	struct buf fixed; /* a string with its invalid UTF-8 replaced */
	char num[32];
	struct yw yw;
};

static void stream_head(struct stream *o)
{
	struct raw_value v = raw_line(o->head, o->head_len, "digest:");
	o->seal_at = v.start == SIZE_MAX ? SIZE_MAX : v.start + SEAL_PREFIX_LEN;
	o->failed |= !o->sink(o->ctx, o->head, o->head_len);
	o->head_sent = true;
}

static void stream_put(struct stream *o, const void *data, size_t size)
{
	digest_update(&o->seal, data, size);
	o->total += size;
	if (!o->head_sent) {
		size_t n = size < HEAD - o->head_len ? size : HEAD - o->head_len;
		memcpy(o->head + o->head_len, data, n);
		o->head_len += n;
		data = (const char *)data + n;
		size -= n;
		if (o->head_len < HEAD)
			return;
		stream_head(o);
	}
	if (size && !o->failed)
		o->failed = !o->sink(o->ctx, data, size);
}

static void write_out(void *data, const void *bytes, size_t size)
{
	stream_put(data, bytes, size);
}

static void w_scalar(struct writer *w, const char *s, size_t n, enum yw_style style)
{
	yw_scalar(&w->yw, s, n, style);
}

/* A key or a value from the format's own vocabulary, or a number: always plain. */
static void w_word(struct writer *w, const char *s)
{
	w_scalar(w, s, strlen(s), YW_PLAIN);
}

/* A name or a text from the plan: plain when YAML allows and nobody could misread it. */
/* True if every byte of s[0..n) is printable ASCII: no escapes, nothing to validate. */
static bool printable_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
			return false;
	return true;
}

static void w_text(struct writer *w, const char *s)
{
	if (!s)
		s = "";
	size_t n = strlen(s);
	enum yw_style style = YW_ANY;
	if (!printable_ascii(s, n)) {
		size_t i = 0;
		while (i < n) {
			size_t k = utf8_decode(s + i, n - i, NULL);
			if (!k)
				break;
			i += k;
		}
		if (i < n) {
			/* Not UTF-8 (the front end never lets that through): U+FFFD for each bad byte. */
			buf_clear(&w->fixed);
			for (i = 0; i < n;) {
				size_t k = utf8_decode(s + i, n - i, NULL);
				if (k) {
					buf_append(&w->fixed, s + i, k);
					i += k;
				} else {
					buf_puts(&w->fixed, "\xEF\xBF\xBD");
					i++;
				}
			}
			s = w->fixed.data;
			n = w->fixed.len;
		}
		if (needs_escapes(s, n))
			style = YW_DOUBLE;
	}
	if (style == YW_ANY && looks_nonstring(s, n))
		style = YW_SINGLE;
	w_scalar(w, s, n, style);
}

/* Decimal digits of v, without printf: there is a number in nearly every entry. */
static size_t format_int(char out[24], int64_t v)
{
	char tmp[24];
	size_t n = 0, k = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		out[k++] = '-';
	while (n)
		out[k++] = tmp[--n];
	out[k] = '\0';
	return k;
}

static void w_int(struct writer *w, int64_t v)
{
	w_scalar(w, w->num, format_int(w->num, v), YW_PLAIN);
}

/* "w12" */
static void w_workgroup(struct writer *w, uint32_t index)
{
	w->num[0] = 'w';
	w_scalar(w, w->num, 1 + format_int(w->num + 1, (int64_t)index + 1), YW_PLAIN);
}

static void w_map(struct writer *w, bool flow)
{
	yw_map(&w->yw, flow);
}

static void w_seq(struct writer *w, bool flow)
{
	yw_seq(&w->yw, flow);
}

static void w_map_end(struct writer *w)
{
	yw_end(&w->yw);
}

static void w_seq_end(struct writer *w)
{
	yw_end(&w->yw);
}

/* key: "sha256:<hex>", or '' when the digest is unknown. */
static void w_hash(struct writer *w, const char *key, const char *hex)
{
	w_word(w, key);
	if (!hex[0]) {
		w_scalar(w, "", 0, YW_SINGLE);
		return;
	}
	char v[SEAL_PREFIX_LEN + 65];
	int n = snprintf(v, sizeof v, "%s%s", SEAL_PREFIX, hex);
	w_scalar(w, v, (size_t)n, YW_PLAIN);
}

static void w_site(struct writer *w, const struct dag *d, const char *key, uint32_t site)
{
	if (site == DAG_NONE || site >= d->n_sites)
		return;
	w_word(w, key);
	w_text(w, d->sites[site].name);
}

static void w_key_int(struct writer *w, const char *key, int64_t v)
{
	w_word(w, key);
	w_int(w, v);
}

static void w_key_true(struct writer *w, const char *key, bool v)
{
	if (!v)
		return;
	w_word(w, key);
	w_word(w, "true");
}

static void write_world(struct writer *w, const struct dag *d)
{
	w_word(w, "protections");
	w_seq(w, true);
	for (uint32_t i = 0; i < d->n_protections; i++)
		w_text(w, d->protections[i]);
	w_seq_end(w);

	w_word(w, "sites");
	w_seq(w, true);
	for (uint32_t i = 0; i < d->n_sites; i++)
		w_text(w, d->sites[i].name);
	w_seq_end(w);

	/* Only when a site names an adapter: a plan on the simulator alone has no such key. */
	bool any = false;
	for (uint32_t i = 0; i < d->n_sites; i++)
		any |= d->sites[i].adapter != NULL;
	if (any) {
		w_word(w, "adapters");
		w_seq(w, false);
		for (uint32_t i = 0; i < d->n_sites; i++) {
			const struct dag_site *site = &d->sites[i];
			if (!site->adapter)
				continue;
			w_map(w, true);
			w_word(w, "site");
			w_text(w, site->name);
			w_word(w, "kind");
			w_text(w, site->adapter);
			if (site->n_settings) {
				w_word(w, "settings");
				w_map(w, true);
				for (uint32_t k = 0; k < site->n_settings; k++) {
					w_text(w, site->settings[k].key);
					w_text(w, site->settings[k].value);
				}
				w_map_end(w);
			}
			w_map_end(w);
		}
		w_seq_end(w);
	}

	w_word(w, "hosts");
	w_seq(w, false);
	for (uint32_t i = 0; i < d->n_hosts; i++) {
		w_map(w, true);
		w_word(w, "name");
		w_text(w, d->hosts[i].name);
		w_site(w, d, "site", d->hosts[i].site);
		w_map_end(w);
	}
	w_seq_end(w);

	w_word(w, "devices");
	w_seq(w, false);
	for (uint32_t i = 0; i < d->n_devices; i++) {
		const struct dag_device *dv = &d->devices[i];
		bool stretched = dv->kind == DAG_STRETCHED;
		w_map(w, true);
		w_word(w, "name");
		w_text(w, dv->name);
		w_word(w, "kind");
		w_word(w, stretched ? "stretched" : "replicated");
		w_site(w, d, "site", dv->site);
		/* A stretched device's peer is itself: written only if it is not. */
		if (dv->peer && !(stretched && dv->name && strcmp(dv->peer, dv->name) == 0)) {
			w_word(w, "peer");
			w_text(w, dv->peer);
		}
		w_site(w, d, "peer-site", dv->peer_site);
		if (dv->group != DAG_NONE && dv->group < d->n_groups) {
			w_word(w, "group");
			w_text(w, d->groups[dv->group].name);
		}
		w_site(w, d, "prefer", dv->prefer);
		w_map_end(w);
	}
	w_seq_end(w);

	w_word(w, "groups");
	w_seq(w, false);
	for (uint32_t i = 0; i < d->n_groups; i++) {
		w_map(w, true);
		w_word(w, "name");
		w_text(w, d->groups[i].name);
		w_word(w, "devices");
		w_seq(w, true);
		for (uint32_t k = 0; k < d->groups[i].n_devices; k++)
			w_text(w, d->devices[d->groups[i].devices[k]].name);
		w_seq_end(w);
		w_map_end(w);
	}
	w_seq_end(w);
}

static void write_steps(struct writer *w, const struct dag *d)
{
	w_word(w, "steps");
	w_seq(w, false);
	for (uint32_t i = 0; i < d->n_steps; i++) {
		const struct dag_step *s = &d->steps[i];
		w_map(w, true);
		w_word(w, "kind");
		w_word(w, ast_step_names[s->kind]);
		w_site(w, d, "site", s->site);
		if (s->text) {
			w_word(w, "text");
			w_text(w, s->text);
		}
		if (s->wait_ms)
			w_key_int(w, "wait-ms", s->wait_ms);
		w_key_true(w, "by-priority", s->by_priority);
		w_key_true(w, "per-workgroup", s->per_workgroup);
		if (s->timeout_ms)
			w_key_int(w, "timeout-ms", s->timeout_ms);
		if (s->retries)
			w_key_int(w, "retries", s->retries);
		if (s->backoff_ms)
			w_key_int(w, "backoff-ms", s->backoff_ms);
		w_key_true(w, "inserted", s->inserted);
		if (s->line)
			w_key_int(w, "line", s->line);
		w_map_end(w);
	}
	w_seq_end(w);

	w_word(w, "limits");
	w_seq(w, false);
	for (uint32_t i = 0; i < d->n_limits; i++) {
		const struct dag_limit *l = &d->limits[i];
		w_map(w, true);
		w_word(w, "operation");
		w_word(w, l->kind >= DAG_LIMIT_ALL ? "all" : dag_op_kind_names[l->kind]);
		w_key_int(w, "count", l->count);
		if (l->scope != DAG_SCOPE_PLAN) {
			w_word(w, "per");
			w_word(w, dag_scope_names[l->scope]);
		}
		w_map_end(w);
	}
	w_seq_end(w);

	w_word(w, "latency");
	w_map(w, false);
	for (int k = 0; k < DAG_N_OP_KINDS; k++) {
		if (!d->latency.base_ms[k] && !d->latency.per_vm_ms[k])
			continue;
		w_word(w, dag_op_kind_names[k]);
		w_map(w, true);
		w_key_int(w, "base-ms", d->latency.base_ms[k]);
		w_key_int(w, "per-vm-ms", d->latency.per_vm_ms[k]);
		w_map_end(w);
	}
	w_map_end(w);
}

static void write_workgroups(struct writer *w, const struct dag *d)
{
	w_word(w, "workgroups");
	w_seq(w, false);
	for (uint32_t i = 0; i < d->n_workgroups; i++) {
		const struct dag_workgroup *g = &d->workgroups[i];
		w_map(w, false);
		w_word(w, "id");
		w_workgroup(w, i);
		if (g->priority != DAG_NO_PRIORITY)
			w_key_int(w, "priority", g->priority);
		w_word(w, "move");
		w_word(w, g->live ? "live" : "storage");
		w_word(w, "devices");
		w_seq(w, true);
		for (uint32_t k = 0; k < g->n_devices; k++)
			w_text(w, d->devices[g->devices[k]].name);
		w_seq_end(w);
		w_word(w, "vms");
		w_map(w, true);
		for (uint32_t k = 0; k < g->n_vms; k++) {
			const struct dag_vm *vm = &d->vms[g->first_vm + k];
			w_text(w, vm->name);
			if (vm->host == DAG_NONE || vm->host >= d->n_hosts)
				w_word(w, "~");
			else
				w_text(w, d->hosts[vm->host].name);
		}
		w_map_end(w);
		w_map_end(w);
	}
	w_seq_end(w);
}

/* The recovery hosts the VMs are dealt to (dag.placement), only when there are some: a plan that
 * places nothing reads and writes as before. */
static void write_placement(struct writer *w, const struct dag *d)
{
	if (d->n_placement == 0)
		return;
	w_word(w, "placement");
	w_seq(w, true);
	for (uint32_t i = 0; i < d->n_placement; i++)
		w_text(w, d->hosts[d->placement[i]].name);
	w_seq_end(w);
}

/* The storage-migration records, only when there are some: a plan without them reads and writes
 * as before. */
static void write_migrations(struct writer *w, const struct dag *d)
{
	if (d->n_migrations == 0)
		return;
	w_word(w, "migrations");
	w_seq(w, false);
	for (uint32_t i = 0; i < d->n_migrations; i++) {
		const struct dag_migration *mg = &d->migrations[i];
		w_map(w, true);
		w_word(w, "vm");
		w_text(w, d->vms[mg->vm].name);
		w_word(w, "from");
		w_text(w, d->devices[mg->from].name);
		w_word(w, "to");
		w_text(w, d->devices[mg->to].name);
		w_word(w, "state");
		w_word(w, dag_migration_state_names[mg->state]);
		w_map_end(w);
	}
	w_seq_end(w);
}

static void write_ops(struct writer *w, const struct dag *d)
{
	/* Every id once, up front: an operation's id is written once as itself and once per edge. */
	struct buf ids = BUF_INIT;
	size_t *at = xmalloc(((size_t)d->n_ops + 1) * sizeof *at);
	for (uint32_t i = 0; i < d->n_ops; i++) {
		at[i] = ids.len;
		dag_op_id(d, i, &ids);
		buf_putc(&ids, '\0');
	}
	at[d->n_ops] = ids.len;

	/* An operation is its id and what it waits for: its kind, step and target are in the id, and its
	 * site, flags and the edges' kinds follow from them (dag.h); writing them again would triple
	 * the largest part of the file. */
	w_word(w, "operations");
	w_seq(w, false);
	for (uint32_t i = 0; i < d->n_ops; i++) {
		const struct dag_op *op = &d->ops[i];
		w_map(w, true);
		w_word(w, "id");
		w_text(w, ids.data + at[i]);
		if (op->n_preds) {
			w_word(w, "after");
			w_seq(w, true);
			for (uint32_t k = op->first_pred; k < op->first_pred + op->n_preds; k++)
				w_text(w, ids.data + at[d->edges[k].from]);
			w_seq_end(w);
		}
		w_map_end(w);
	}
	w_seq_end(w);
	free(at);
	buf_free(&ids);
}

bool compiled_emit(const struct dag *d, compiled_sink sink, void *ctx, char seal[65], size_t *seal_at)
{
	struct writer *w = xcalloc(1, sizeof *w);
	w->out.sink = sink;
	w->out.ctx = ctx;
	digest_init(&w->out.seal);
	stream_put(&w->out, COMPILED_HEADER, strlen(COMPILED_HEADER));
	/* Lines are never folded (the writer's width is unlimited): the text stays diffable per entry. */
	yw_init(&w->yw, write_out, &w->out);
	w_map(w, false);
	w_key_int(w, "format", DAG_FORMAT_VERSION);
	/* Zeros: the digest covers the file with these digits as zeros; the caller writes them. */
	w_word(w, "digest");
	w_word(w, SEAL_PREFIX "0000000000000000000000000000000000000000000000000000000000000000");
	w_word(w, "plan");
	w_text(w, d->name);
	w_hash(w, "plan-digest", d->plan_digest);
	w_hash(w, "inventory-digest", d->inventory_digest);
	w_word(w, "mode");
	w_word(w, ast_mode_names[d->mode]);
	w_site(w, d, "from", d->from);
	w_site(w, d, "to", d->to);
	w_key_int(w, "workgroup-size", d->workgroup_size);
	w_key_int(w, "rto-ms", d->rto_ms);
	write_world(w, d);
	write_steps(w, d);
	write_workgroups(w, d);
	write_migrations(w, d);
	write_placement(w, d);
	write_ops(w, d);
	w_map_end(w);
	yw_finish(&w->yw);
	if (!w->out.head_sent)
		stream_head(&w->out);
	if (w->out.seal_at == SIZE_MAX) {
		fprintf(stderr, "drplan: internal error: the compiled plan has no digest line to seal\n");
		abort();
	}
	digest_hex(&w->out.seal, seal);
	*seal_at = w->out.seal_at;
	bool ok = !w->out.failed;
	buf_free(&w->fixed);
	free(w);
	return ok;
}

static bool buf_sink(void *ctx, const void *data, size_t len)
{
	buf_append(ctx, data, len);
	return true;
}

void compiled_write(const struct dag *d, struct buf *out)
{
	size_t start = out->len, at;
	char seal[65];
	compiled_emit(d, buf_sink, out, seal, &at);
	memcpy(out->data + start + at, seal, HEX_LEN);
}

/* ---- The reader: shapes */

/* What an open collection is. The mappings with fixed keys come first and index `shapes`. */
enum ctx {
	C_ROOT,
	C_HOST,
	C_DEVICE,
	C_GROUP,
	C_STEP,
	C_LIMIT,
	C_LATENCY_ENTRY,
	C_WORKGROUP,
	C_OP,
	C_ADAPTER,
	C_MIGRATION,
	C_N_SHAPES,
	C_LATENCY = C_N_SHAPES, /* operation kind -> {base-ms, per-vm-ms} */
	C_VMS,                  /* VM name -> host or ~ */
	C_SETTINGS,             /* an adapter's settings: key -> value */
	C_LIST,                 /* a sequence of entries */
	C_NAMES,                /* a sequence of names */
	C_SKIP,                 /* a value being skipped, mapping or sequence */
};

/* What a key's value must be. */
enum vt {
	VT_FORMAT,   /* the format version */
	VT_SEAL,     /* the file's own digest, checked already */
	VT_HASH,     /* '' or sha256:<hex> */
	VT_NAME,     /* a name: non-empty text without control characters */
	VT_TEXT,     /* any text */
	VT_INT,      /* an integer in [min, max] */
	VT_MS,       /* milliseconds in [0, COMPILED_MAX_MS] */
	VT_BOOL,     /* true or false */
	VT_WORD,     /* a word of a vocabulary */
	VT_REF,      /* the name of a site, device or group */
	VT_WG,       /* a workgroup id: wN */
	VT_OPID,     /* an operation's id */
	VT_LIST,     /* a sequence of entries */
	VT_NAMES,    /* a sequence of names */
	VT_MAP,      /* a mapping keyed by data (latency, vms) */
};

/* What a sequence of names holds. */
enum names { NL_PROTECTIONS, NL_SITES, NL_DEVICES, NL_OPS, NL_PLACEMENT };

/* The tables a name may refer to. */
enum table { T_SITE, T_HOST, T_DEVICE, T_GROUP, T_VM, T_OP, T_N };

static const char *const table_nouns[T_N] = {"site", "host", "device", "consistency group", "VM", "operation"};

/* Vocabularies, besides those of dag.h and ast.h. */
static const char *const device_kind_words[] = {"replicated", "stretched", NULL};
static const char *const move_words[] = {"storage", "live", NULL};
static const char *const bool_words[] = {"false", "true", NULL};

enum vocab { W_MODE, W_DEVICE_KIND, W_STEP, W_LIMIT_OP, W_SCOPE, W_MOVE, W_OP_KIND, W_EDGE_KIND, W_MIGRATION };

static const char *const *vocabulary_words(enum vocab v)
{
	switch (v) {
	case W_MODE: return ast_mode_names;
	case W_DEVICE_KIND: return device_kind_words;
	case W_STEP: return ast_step_names;
	case W_LIMIT_OP: return ast_operation_names; /* dag's first ten kinds, then "all" */
	case W_SCOPE: return ast_scope_names;        /* dag's scopes after "plan" */
	case W_MOVE: return move_words;
	case W_OP_KIND: return dag_op_kind_names;
	case W_EDGE_KIND: return dag_edge_kind_names;
	case W_MIGRATION: return dag_migration_state_names;
	}
	return bool_words;
}

static const char *const vocabulary_nouns[] = {
	"mode", "device kind", "step kind", "limit operation", "limit scope", "way of moving",
	"operation kind", "edge kind", "migration state",
};

struct field {
	const char *name;
	uint8_t type; /* enum vt */
	uint8_t sub;  /* VT_WORD: enum vocab; VT_REF: enum table; VT_LIST: entry ctx; VT_NAMES: enum names;
	                 VT_MAP: ctx */
	int64_t min, max;
};

/* Keys, in the order the writer writes them (which the reader requires at the top level only). */
enum { R_FORMAT, R_DIGEST, R_PLAN, R_PLAN_DIGEST, R_INVENTORY_DIGEST, R_MODE, R_FROM, R_TO, R_WORKGROUP_SIZE,
       R_RTO, R_PROTECTIONS, R_SITES, R_ADAPTERS, R_HOSTS, R_DEVICES, R_GROUPS, R_STEPS, R_LIMITS, R_LATENCY, R_WORKGROUPS,
       R_MIGRATIONS, R_PLACEMENT, R_OPERATIONS, R_N };
enum { H_NAME, H_SITE, H_N };
enum { D_NAME, D_KIND, D_SITE, D_PEER, D_PEER_SITE, D_GROUP, D_PREFER, D_N };
enum { G_NAME, G_DEVICES, G_N };
enum { S_KIND, S_SITE, S_TEXT, S_WAIT, S_BY_PRIORITY, S_PER_WORKGROUP, S_TIMEOUT, S_RETRIES, S_BACKOFF,
       S_INSERTED, S_LINE, S_N };
enum { L_OPERATION, L_COUNT, L_PER, L_N };
enum { LT_BASE, LT_PER_VM, LT_N };
enum { WG_ID, WG_PRIORITY, WG_MOVE, WG_DEVICES, WG_VMS, WG_N };
enum { O_ID, O_AFTER, O_N };
enum { A_SITE, A_KIND, A_SETTINGS, A_N };
enum { M_VM, M_FROM, M_TO, M_STATE, M_N };
#define MAX_FIELDS R_N

#define I32 INT32_MAX
static const struct field root_fields[R_N] = {
	{"format", VT_FORMAT, 0, 0, 0},
	{"digest", VT_SEAL, 0, 0, 0},
	{"plan", VT_NAME, 0, 0, 0},
	{"plan-digest", VT_HASH, 0, 0, 0},
	{"inventory-digest", VT_HASH, 0, 0, 0},
	{"mode", VT_WORD, W_MODE, 0, 0},
	{"from", VT_NAME, 0, 0, 0}, /* resolved once the sites are read */
	{"to", VT_NAME, 0, 0, 0},
	{"workgroup-size", VT_INT, 0, 1, I32},
	{"rto-ms", VT_MS, 0, 0, 0},
	{"protections", VT_NAMES, NL_PROTECTIONS, 0, 0},
	{"sites", VT_NAMES, NL_SITES, 0, 0},
	{"adapters", VT_LIST, C_ADAPTER, 0, 0},
	{"hosts", VT_LIST, C_HOST, 0, 0},
	{"devices", VT_LIST, C_DEVICE, 0, 0},
	{"groups", VT_LIST, C_GROUP, 0, 0},
	{"steps", VT_LIST, C_STEP, 0, 0},
	{"limits", VT_LIST, C_LIMIT, 0, 0},
	{"latency", VT_MAP, C_LATENCY, 0, 0},
	{"workgroups", VT_LIST, C_WORKGROUP, 0, 0},
	{"migrations", VT_LIST, C_MIGRATION, 0, 0},
	{"placement", VT_NAMES, NL_PLACEMENT, 0, 0},
	{"operations", VT_LIST, C_OP, 0, 0},
};
static const struct field host_fields[H_N] = {
	{"name", VT_NAME, 0, 0, 0},
	{"site", VT_REF, T_SITE, 0, 0},
};
static const struct field device_fields[D_N] = {
	{"name", VT_NAME, 0, 0, 0},
	{"kind", VT_WORD, W_DEVICE_KIND, 0, 0},
	{"site", VT_REF, T_SITE, 0, 0},
	{"peer", VT_NAME, 0, 0, 0},
	{"peer-site", VT_REF, T_SITE, 0, 0},
	{"group", VT_NAME, 0, 0, 0}, /* resolved once the groups are read */
	{"prefer", VT_REF, T_SITE, 0, 0},
};
static const struct field group_fields[G_N] = {
	{"name", VT_NAME, 0, 0, 0},
	{"devices", VT_NAMES, NL_DEVICES, 0, 0},
};
static const struct field step_fields[S_N] = {
	{"kind", VT_WORD, W_STEP, 0, 0},
	{"site", VT_REF, T_SITE, 0, 0},
	{"text", VT_TEXT, 0, 0, 0},
	{"wait-ms", VT_MS, 0, 0, 0},
	{"by-priority", VT_BOOL, 0, 0, 0},
	{"per-workgroup", VT_BOOL, 0, 0, 0},
	{"timeout-ms", VT_MS, 0, 0, 0},
	{"retries", VT_INT, 0, 0, I32},
	{"backoff-ms", VT_MS, 0, 0, 0},
	{"inserted", VT_BOOL, 0, 0, 0},
	{"line", VT_INT, 0, 0, UINT32_MAX},
};
static const struct field limit_fields[L_N] = {
	{"operation", VT_WORD, W_LIMIT_OP, 0, 0},
	{"count", VT_INT, 0, 1, UINT32_MAX},
	{"per", VT_WORD, W_SCOPE, 0, 0},
};
static const struct field latency_fields[LT_N] = {
	{"base-ms", VT_MS, 0, 0, 0},
	{"per-vm-ms", VT_MS, 0, 0, 0},
};
static const struct field workgroup_fields[WG_N] = {
	{"id", VT_WG, 0, 0, 0},
	{"priority", VT_INT, 0, 0, I32 - 1}, /* I32 is DAG_NO_PRIORITY, written by leaving the key out */
	{"move", VT_WORD, W_MOVE, 0, 0},
	{"devices", VT_NAMES, NL_DEVICES, 0, 0},
	{"vms", VT_MAP, C_VMS, 0, 0},
};
static const struct field adapter_fields[A_N] = {
	{"site", VT_REF, T_SITE, 0, 0},
	{"kind", VT_NAME, 0, 0, 0},
	{"settings", VT_MAP, C_SETTINGS, 0, 0},
};
static const struct field migration_fields[M_N] = {
	{"vm", VT_REF, T_VM, 0, 0},
	{"from", VT_REF, T_DEVICE, 0, 0},
	{"to", VT_REF, T_DEVICE, 0, 0},
	{"state", VT_WORD, W_MIGRATION, 0, 0},
};
static const struct field op_fields[O_N] = {
	{"id", VT_OPID, 0, 0, 0},
	{"after", VT_NAMES, NL_OPS, 0, 0},
};

/* One kind of mapping: its keys, which of them are required, how messages name it. */
struct shape {
	const char *a;     /* "a device" */
	const char *noun;  /* "device" */
	const char *where; /* "in a device" */
	const struct field *fields;
	uint8_t n_fields;
	uint32_t required; /* bit per field */
};

#define BIT(i) (1u << (i))
#define FIELDS(a) a, (uint8_t)(sizeof a / sizeof a[0])
static const struct shape shapes[C_N_SHAPES] = {
	[C_ROOT] = {"the compiled plan", "compiled plan", "at the top level", FIELDS(root_fields),
	            (BIT(R_N) - 1) & ~(BIT(R_FROM) | BIT(R_TO) | BIT(R_ADAPTERS) | BIT(R_MIGRATIONS) | BIT(R_PLACEMENT))},
	[C_HOST] = {"a host", "host", "in a host", FIELDS(host_fields), BIT(H_NAME)},
	[C_DEVICE] = {"a device", "device", "in a device", FIELDS(device_fields),
	              BIT(D_NAME) | BIT(D_KIND) | BIT(D_SITE) | BIT(D_PEER_SITE)},
	[C_GROUP] = {"a consistency group", "consistency group", "in a consistency group", FIELDS(group_fields),
	             BIT(G_NAME) | BIT(G_DEVICES)},
	[C_STEP] = {"a step", "step", "in a step", FIELDS(step_fields), BIT(S_KIND)},
	[C_LIMIT] = {"a limit", "limit", "in a limit", FIELDS(limit_fields), BIT(L_OPERATION) | BIT(L_COUNT)},
	[C_LATENCY_ENTRY] = {"a latency figure", "latency figure", "in a latency figure", FIELDS(latency_fields),
	                     BIT(LT_BASE) | BIT(LT_PER_VM)},
	[C_WORKGROUP] = {"a workgroup", "workgroup", "in a workgroup", FIELDS(workgroup_fields),
	                 BIT(WG_ID) | BIT(WG_MOVE) | BIT(WG_DEVICES) | BIT(WG_VMS)},
	[C_OP] = {"an operation", "operation", "in an operation", FIELDS(op_fields), BIT(O_ID)},
	[C_ADAPTER] = {"an adapter", "adapter", "in an adapter", FIELDS(adapter_fields), BIT(A_SITE) | BIT(A_KIND)},
	[C_MIGRATION] = {"a storage migration", "storage migration", "in a storage migration", FIELDS(migration_fields),
	                 BIT(M_VM) | BIT(M_FROM) | BIT(M_TO) | BIT(M_STATE)},
};

/* ---- The reader: state */

/* What arrived where a value belongs. NODE_BAD: a scalar already reported (too long). */
enum node { NODE_SCALAR, NODE_SEQ, NODE_MAP, NODE_BAD };

/* A growable array: on the heap, or (arena set) a resizable block of that arena, for the DAG's
 * tables, which are never copied. */
struct vec {
	void *items;
	size_t len, cap, size;
	struct arena *arena;
};

/* Strings and small arrays carved from arena blocks, packed without the arena's rounding. */
#define POOL_BLOCK 16384
struct pool {
	struct arena *arena;
	char *next, *end;
};

/* A value read under a fixed key, kept until its mapping ends. */
struct slot {
	int64_t num;      /* VT_INT, VT_MS, VT_BOOL, VT_WORD, VT_REF, VT_WG */
	const void *ptr;  /* VT_NAME, VT_TEXT, VT_OPID, VT_HASH: the string; VT_NAMES: the uint32_t array */
	uint32_t len;     /* its length */
	struct src_range at;
};

struct frame {
	uint8_t ctx;         /* enum ctx */
	uint8_t sub;         /* C_LIST: the ctx of each entry; C_NAMES: enum names; C_LATENCY_ENTRY: op kind */
	bool map;            /* a mapping (else a sequence) */
	bool flow;           /* written [..] or {..}: its end event carries its real end */
	bool want_value;     /* mapping: a key was read, its value comes next */
	bool skip_value;     /* mapping: and that value is to be skipped */
	int8_t field;        /* fixed keys: the field of that key */
	int8_t last;         /* C_ROOT: the last field given, for the order */
	uint32_t seen;       /* fixed keys: fields whose key was given; C_LATENCY: kinds given */
	uint32_t done;       /* fixed keys: fields given a good value, in `slots` */
	uint32_t pending;    /* C_VMS: the VM of the key */
	uint32_t start, end; /* the node's bytes so far */
	struct diag *wrong;  /* C_SKIP: the diagnostic about this value, whose range ends with it */
	struct src_range keys[MAX_FIELDS];
	struct slot slots[MAX_FIELDS];
};

/* A reference read before what it names: resolved at the end. */
struct forward {
	const char *name;
	uint32_t len;
	uint32_t who;        /* the device (group names) or the operation waiting (after) */
	struct src_range at;
};

/* A VM whose name is not yet checked for duplicates. */
struct pending_vm {
	uint32_t vm, len;
	uint64_t hash;
	struct src_range at;
};

/* A device as listed by a consistency group, checked against the device's own `group`. */
struct member {
	uint32_t device, group;
	struct src_range at;
};

struct reader {
	struct dag *d;
	const struct src_file *src;
	struct diag_list *diags;
	yaml_parser_t yaml;
	struct pool strings;   /* in d->arena: the DAG's names and texts */
	struct arena scratch;  /* what only the reading needs */
	struct pool scratch_strings;
	struct yaml_pos pos;   /* libyaml's marks count characters: byte offsets */
	/* Where the raw checks found the format's and the seal's values. */
	struct src_range format_at, seal_at;
	/* Reading state. */
	bool stop, fatal, root_seen;
	unsigned documents;
	unsigned errors;
	unsigned depth;
	struct frame frames[COMPILED_MAX_DEPTH];
	/* The DAG's tables as they grow. */
	struct vec sites, hosts, devices, groups, steps, limits, workgroups, vms, migrations;
	struct strmap maps[T_N];
	uint8_t *vm_migrated;  /* per VM: a record was read (scratch, from the first record) */
	/* A sequence of device names being read, and its duplicates check. */
	struct vec list;
	uint32_t *device_mark, n_device_mark, list_serial;
	uint8_t *host_mark;            /* placement: hosts listed so far */
	uint32_t wg_first;     /* the first VM of the workgroup being read */
	struct buf idbuf;
	/* Operations: the index of the one being read, each one's id range, and for each operation the
	 * last one that named it in `after`, to find a predecessor given twice. */
	struct vec op_at, after_mark;
	uint32_t op_index;
	/* Forward references and group members, checked at the end. */
	struct vec device_groups, forward_edges, members;
	struct vec vm_batch;
	struct vec settings;   /* the settings of the adapter being read (struct dag_setting) */
};

/* ---- Memory */

static void vec_init(struct vec *v, size_t size, struct arena *arena)
{
	memset(v, 0, sizeof *v);
	v->size = size;
	v->arena = arena;
}

static void *vec_push(struct vec *v)
{
	if (v->len == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->items = v->arena ? arena_resize(v->arena, v->items, v->cap * v->size) : xrealloc(v->items, v->cap * v->size);
	}
	void *item = (char *)v->items + v->size * v->len++;
	memset(item, 0, v->size);
	return item;
}

static void *vec_at(const struct vec *v, size_t i)
{
	return (char *)v->items + v->size * i;
}

static void vec_free(struct vec *v)
{
	if (!v->arena)
		free(v->items);
	v->items = NULL;
	v->len = v->cap = 0;
}

static void *pool_alloc(struct pool *pl, size_t size, size_t align)
{
	if (size > POOL_BLOCK / 4)
		return arena_alloc(pl->arena, size);
	uintptr_t at = ((uintptr_t)pl->next + align - 1) & ~(uintptr_t)(align - 1);
	if (!pl->next || at + size > (uintptr_t)pl->end) {
		pl->next = arena_alloc(pl->arena, POOL_BLOCK);
		pl->end = pl->next + POOL_BLOCK;
		at = (uintptr_t)pl->next;
	}
	pl->next = (char *)(at + size);
	return (void *)at;
}

static const char *pool_strndup(struct pool *pl, const char *s, size_t n)
{
	char *out = pool_alloc(pl, n + 1, 1);
	memcpy(out, s, n); /* arena memory is zeroed: out is terminated */
	return out;
}

/* The DAG's tables follow their vectors, so that dag_op_id and the lookups see what is read. */
static void sync_tables(struct reader *p)
{
	struct dag *d = p->d;
	d->sites = p->sites.items;
	d->n_sites = (uint32_t)p->sites.len;
	d->hosts = p->hosts.items;
	d->n_hosts = (uint32_t)p->hosts.len;
	d->devices = p->devices.items;
	d->n_devices = (uint32_t)p->devices.len;
	d->groups = p->groups.items;
	d->n_groups = (uint32_t)p->groups.len;
	d->steps = p->steps.items;
	d->n_steps = (uint32_t)p->steps.len;
	d->limits = p->limits.items;
	d->n_limits = (uint32_t)p->limits.len;
	d->workgroups = p->workgroups.items;
	d->n_workgroups = (uint32_t)p->workgroups.len;
	d->vms = p->vms.items;
	d->n_vms = (uint32_t)p->vms.len;
	d->migrations = p->migrations.items;
	d->n_migrations = (uint32_t)p->migrations.len;
}

/* ---- Byte offsets */



static struct src_range range(const struct reader *p, uint32_t start, uint32_t end)
{
	return src_range_make(p->src->id, start, end);
}



/* ---- Diagnostics */

__attribute__((format(printf, 4, 5))) static struct diag *rd_error(struct reader *p, enum diag_rule rule,
                                                                struct src_range at, const char *fmt, ...)
{
	bool stopped = p->stop;
	va_list ap;
	va_start(ap, fmt);
	struct diag *dg = yaml_vdiag_capped(p->diags, &p->errors, &p->stop, COMPILED_MAX_ERRORS, "this compiled plan",
	                                    DIAG_ERROR, rule, at, fmt, ap);
	va_end(ap);
	if (!stopped && p->stop)
		p->fatal = true; /* the cap: what is left is not read */
	return dg;
}

/* Every DRP054 says how to get a good file; so do the shape errors. */
static void recompile_hint(struct diag *dg)
{
	if (dg)
		diag_hint(dg, "a compiled plan is written by `drplan compile`, never by hand: compile the plan again");
}

static int quote_len(size_t n)
{
	return (int)(n > YAML_QUOTE_MAX ? YAML_QUOTE_MAX : n);
}

/* What arrived, for "found ..." in messages. */
static void describe(struct buf *b, enum node kind, const yaml_event_t *ev)
{
	if (kind == NODE_SEQ) {
		buf_puts(b, "a list");
	} else if (kind == NODE_MAP) {
		buf_puts(b, "a mapping");
	} else if (kind == NODE_BAD) {
		buf_puts(b, "a huge value");
	} else if (yaml_is_null(ev)) {
		buf_puts(b, "an empty value");
	} else {
		buf_puts(b, ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? "plain " : "quoted ");
		yaml_quote(b, (const char *)ev->data.scalar.value, ev->data.scalar.length);
	}
}

/* "SUBJECT must be EXPECTED, found ...": the subject is a quoted key ("'count'") or a noun. */
static struct diag *wrong_type(struct reader *p, const char *subject, const char *expected, enum node kind,
                               const yaml_event_t *ev, struct src_range at)
{
	struct buf found = BUF_INIT;
	describe(&found, kind, ev);
	struct diag *dg = rd_error(p, DRP051, at, "%s must be %s, found %s", subject, expected, found.data);
	buf_free(&found);
	recompile_hint(dg);
	return dg;
}

/* ---- Frames */

static struct frame *top(struct reader *p)
{
	return &p->frames[p->depth - 1];
}

/* Opens a collection; the depth was checked by the caller. */
static struct frame *push(struct reader *p, enum ctx ctx, enum node kind, struct src_range at, bool flow)
{
	struct frame *f = &p->frames[p->depth++];
	/* Not memset: keys[i] and slots[i] are read only once their bit is set. */
	f->ctx = (uint8_t)ctx;
	f->sub = 0;
	f->map = kind == NODE_MAP;
	f->flow = flow;
	f->want_value = f->skip_value = false;
	f->field = f->last = -1;
	f->seen = f->done = 0;
	f->pending = DAG_NONE;
	f->start = f->end = at.start;
	f->wrong = NULL;
	return f;
}

/* Skips a value. `wrong`, if not NULL, is the diagnostic about it, whose range is extended to the
 * value's end when a collection closes. */
static void skip(struct reader *p, enum node kind, struct src_range at, bool flow, struct diag *wrong)
{
	if (kind == NODE_SEQ || kind == NODE_MAP)
		push(p, C_SKIP, kind, at, flow)->wrong = wrong;
}

/* "device 'lun-101'", "operation 's1.sync.lun-101'" or "a device", for messages about an entry. */
static void entry_name(struct buf *b, const struct frame *f)
{
	const struct shape *s = &shapes[f->ctx];
	int label = -1;
	switch ((enum ctx)f->ctx) {
	case C_HOST: label = H_NAME; break;
	case C_DEVICE: label = D_NAME; break;
	case C_GROUP: label = G_NAME; break;
	case C_OP: label = O_ID; break;
	default: break;
	}
	if (label >= 0 && (f->done & BIT(label))) {
		const struct slot *sl = &f->slots[label];
		buf_printf(b, "%s '%.*s'", s->noun, quote_len(sl->len), (const char *)sl->ptr);
	} else if (f->ctx == C_WORKGROUP && (f->done & BIT(WG_ID))) {
		buf_printf(b, "workgroup 'w%lld'", (long long)f->slots[WG_ID].num + 1);
	} else {
		buf_puts(b, s->a);
	}
}

/* ---- Scalars */

/* Parses an optionally negative decimal integer: false if s[0..n) is not one. A value beyond
 * 19 digits is clamped, so that it is reported as out of range rather than as not a number. */
static bool parse_int(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = n > 0 && s[0] == '-';
	if (neg)
		i = 1;
	if (i == n)
		return false;
	int64_t v = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v <= (INT64_MAX - 9) / 10)
			v = v * 10 + (s[i] - '0');
		else
			v = INT64_MAX;
	}
	*out = neg ? -v : v;
	return true;
}

/* A scalar where text belongs: not null, and not a plain word that YAML reads as something else. */
static bool take_text(struct reader *p, const char *what, const yaml_event_t *ev, struct src_range at)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	if (yaml_is_null(ev) || (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && looks_nonstring(v, n))) {
		struct diag *dg = wrong_type(p, what, "text", NODE_SCALAR, ev, at);
		if (dg && !yaml_is_null(ev))
			diag_note(dg, at, "written plain, YAML reads it as a boolean, a number or null; the writer quotes "
			                  "such text");
		return false;
	}
	return true;
}

/* A name: text, not empty, without control characters (they would reach terminals and files). */
static bool take_name(struct reader *p, const char *what, const yaml_event_t *ev, struct src_range at)
{
	if (!take_text(p, what, ev, at))
		return false;
	const unsigned char *v = ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	if (n == 0) {
		recompile_hint(rd_error(p, DRP054, at, "%s is empty", what));
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		bool c1 = v[i] == 0xC2 && i + 1 < n && v[i + 1] >= 0x80 && v[i + 1] <= 0x9F;
		if (v[i] < 0x20 || v[i] == 0x7F || c1) {
			recompile_hint(rd_error(p, DRP054, at, "%s contains a control character (U+%04X)", what,
			                        c1 ? v[i + 1] : v[i]));
			return false;
		}
	}
	return true;
}

/* An integer of a key: a plain decimal number. */
static bool take_int(struct reader *p, const char *key, const yaml_event_t *ev, struct src_range at,
                     const char *expected, int64_t *out)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !parse_int(v, n, out)) {
		wrong_type(p, key, expected, NODE_SCALAR, ev, at);
		return false;
	}
	return true;
}

/* The index of the word in words, or -1 after DRP051 with a suggestion. */
static int take_word(struct reader *p, enum vocab vocab, const yaml_event_t *ev, struct src_range at)
{
	const char *const *words = vocabulary_words(vocab);
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	for (int i = 0; words[i]; i++)
		if (same_word(words[i], v, n))
			return i;
	struct buf list = BUF_INIT, found = BUF_INIT;
	yaml_word_list(&list, words, " or ");
	describe(&found, NODE_SCALAR, ev);
	struct diag *dg = rd_error(p, DRP051, at, "unknown %s: found %s; expected %s", vocabulary_nouns[vocab],
	                           found.data, list.data);
	buf_free(&list);
	buf_free(&found);
	recompile_hint(dg);
	return -1;
}

/* The index of a name in a table, or -1 after DRP054. */
static int64_t take_ref(struct reader *p, enum table t, const char *key, const yaml_event_t *ev,
                        struct src_range at)
{
	if (!take_text(p, key, ev, at))
		return -1;
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	uint32_t i = strmap_get(&p->maps[t], v, n);
	if (i == STRMAP_NONE) {
		recompile_hint(rd_error(p, DRP054, at, "unknown %s '%.*s'", table_nouns[t], quote_len(n), v));
		return -1;
	}
	return i;
}

/* "w12" -> 11; -1 if the text is not a workgroup id. */
static int64_t workgroup_number(const char *v, size_t n)
{
	int64_t k;
	if (n < 2 || v[0] != 'w' || v[1] < '1' || v[1] > '9' || !parse_int(v + 1, n - 1, &k) || k > UINT32_MAX)
		return -1;
	return k - 1;
}

static void range_error(struct reader *p, const char *key, int64_t v, int64_t min, int64_t max,
                        struct src_range at)
{
	struct diag *dg;
	if (min == 0 && v < 0)
		dg = rd_error(p, DRP054, at, "%s is negative (%lld)", key, (long long)v);
	else
		dg = rd_error(p, DRP054, at, "%s is out of range: %lld is not between %lld and %lld", key, (long long)v,
		              (long long)min, (long long)max);
	recompile_hint(dg);
}

/* A scalar under a fixed key: checked and kept in the slot; false if it was reported. */
static bool scalar_value(struct reader *p, struct frame *f, const struct field *fld, const yaml_event_t *ev,
                         struct src_range at, const char *subj)
{
	struct slot *s = &f->slots[f->field];
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	switch ((enum vt)fld->type) {
	case VT_FORMAT:
	case VT_SEAL: {
		/* The values the raw checks read: the YAML must agree on where they are. */
		struct src_range raw = fld->type == VT_FORMAT ? p->format_at : p->seal_at;
		if (!plain || at.start != raw.start || at.end != raw.end) {
			struct diag *dg = rd_error(p, DRP051, at, "this '%s' is not the value on the file's '%s:' line",
			                           fld->name, fld->name);
			if (dg)
				diag_note(dg, raw, "the '%s:' line is here", fld->name);
			recompile_hint(dg);
			return false;
		}
		s->num = DAG_FORMAT_VERSION;
		return true;
	}
	case VT_HASH:
		if (!(n == 0 && !plain) && !(plain && is_seal_value(v, n))) {
			wrong_type(p, subj, "'' or sha256: and 64 lowercase hex digits", NODE_SCALAR, ev, at);
			return false;
		}
		s->ptr = n ? pool_strndup(&p->scratch_strings, v + SEAL_PREFIX_LEN, HEX_LEN) : "";
		return true;
	case VT_NAME:
	case VT_TEXT:
	case VT_OPID:
		if (fld->type == VT_TEXT ? !take_text(p, subj, ev, at) : !take_name(p, subj, ev, at))
			return false;
		if (memchr(v, '\0', n)) {
			recompile_hint(rd_error(p, DRP054, at, "%s contains a NUL character", subj));
			return false;
		}
		s->ptr = pool_strndup(fld->type == VT_OPID ? &p->scratch_strings : &p->strings, v, n);
		s->len = (uint32_t)n;
		return true;
	case VT_INT:
	case VT_MS: {
		int64_t k;
		if (!take_int(p, subj, ev, at, fld->type == VT_MS ? "a number of milliseconds" : "an integer", &k))
			return false;
		int64_t min = fld->type == VT_MS ? 0 : fld->min, max = fld->type == VT_MS ? COMPILED_MAX_MS : fld->max;
		if (k < min || k > max) {
			range_error(p, subj, k, min, max, at);
			return false;
		}
		s->num = k;
		return true;
	}
	case VT_BOOL:
		if (!plain || !((n == 4 && memcmp(v, "true", 4) == 0) || (n == 5 && memcmp(v, "false", 5) == 0))) {
			wrong_type(p, subj, "true or false", NODE_SCALAR, ev, at);
			return false;
		}
		s->num = v[0] == 't';
		return true;
	case VT_WORD: {
		int i = take_word(p, (enum vocab)fld->sub, ev, at);
		s->num = i;
		return i >= 0;
	}
	case VT_REF:
		s->num = take_ref(p, (enum table)fld->sub, subj, ev, at);
		return s->num >= 0;
	case VT_WG: {
		int64_t k = plain ? workgroup_number(v, n) : -1;
		if (k < 0) {
			wrong_type(p, subj, "a workgroup id (w1, w2, ...)", NODE_SCALAR, ev, at);
			return false;
		}
		if (f->ctx == C_WORKGROUP && k != (int64_t)p->workgroups.len) {
			recompile_hint(rd_error(p, DRP054, at, "workgroup '%.*s' is out of sequence: workgroups are numbered "
			                        "w1, w2, ... in order, so this one is 'w%zu'", quote_len(n), v,
			                        p->workgroups.len + 1));
			return false;
		}
		if (f->ctx == C_OP && k >= (int64_t)p->workgroups.len) {
			recompile_hint(rd_error(p, DRP054, at, "unknown workgroup '%.*s'", quote_len(n), v));
			return false;
		}
		s->num = k;
		return true;
	}
	case VT_LIST:
	case VT_NAMES:
	case VT_MAP:
		break;
	}
	return false;
}

/* ---- Edges, keys and values of the mappings keyed by data */

/* `to` waits for `from`: an edge, unless `after` already named `from` (a duplicate key). */
static void add_edge(struct reader *p, uint32_t from, uint32_t to, struct src_range at)
{
	uint32_t *mark = vec_at(&p->after_mark, from);
	if (*mark == to + 1) {
		recompile_hint(rd_error(p, DRP051, at, "duplicate key: 'after' names operation '%.*s' twice",
		                        quote_len(at.end - at.start), p->src->text + at.start));
		return;
	}
	*mark = to + 1;
	dag_add_edge(p->d, from, to, DAG_EDGE_STEP); /* the kind is derived in finish() */
}

static void dynamic_key(struct reader *p, struct frame *f, const yaml_event_t *ev, struct src_range at)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	switch ((enum ctx)f->ctx) {
	case C_LATENCY: {
		int k = take_word(p, W_OP_KIND, ev, at);
		if (k < 0)
			return;
		if (f->seen & BIT(k)) {
			struct diag *dg = rd_error(p, DRP051, at, "duplicate key '%s' in 'latency'", dag_op_kind_names[k]);
			if (dg)
				diag_note(dg, f->keys[k], "'%s' was first given here", dag_op_kind_names[k]);
			recompile_hint(dg);
			return;
		}
		f->seen |= BIT(k);
		f->keys[k] = at;
		f->pending = (uint32_t)k;
		f->skip_value = false;
		return;
	}
	case C_SETTINGS: {
		if (!take_name(p, "a setting's name", ev, at))
			return;
		for (size_t i = 0; i < p->settings.len; i++) {
			const struct dag_setting *o = vec_at(&p->settings, i);
			if (strlen(o->key) == n && memcmp(o->key, v, n) == 0) {
				recompile_hint(rd_error(p, DRP051, at, "duplicate key: setting '%.*s' is given twice", quote_len(n), v));
				return;
			}
		}
		struct dag_setting *st = vec_push(&p->settings);
		st->key = pool_strndup(&p->strings, v, n);
		st->value = NULL;
		f->pending = (uint32_t)p->settings.len - 1;
		f->skip_value = false;
		return;
	}
	case C_VMS: {
		if (!take_name(p, "a VM name", ev, at))
			return;
		/* Whether the name is new is decided when the mapping ends, a workgroup's VMs at a time:
		 * meanwhile the map's slot is prefetched, as a million VMs make every probe a cache miss. */
		const char *name = pool_strndup(&p->strings, v, n);
		struct pending_vm *b = vec_push(&p->vm_batch);
		b->vm = (uint32_t)p->vms.len;
		b->len = (uint32_t)n;
		b->hash = strmap_hash(name, n);
		b->at = at;
		strmap_prefetch(&p->maps[T_VM], b->hash);
		struct dag_vm *vm = vec_push(&p->vms);
		vm->name = name;
		vm->host = DAG_NONE;
		vm->workgroup = (uint32_t)p->workgroups.len;
		f->pending = b->vm;
		f->skip_value = false;
		return;
	}
	default:
		return;
	}
}

static void dynamic_value(struct reader *p, struct frame *f, const yaml_event_t *ev, enum node kind,
                          struct src_range at, bool flow)
{
	switch ((enum ctx)f->ctx) {
	case C_LATENCY:
		if (kind != NODE_MAP) {
			skip(p, kind, at, flow, wrong_type(p, "a latency figure", "a mapping of base-ms and per-vm-ms", kind, ev, at));
			return;
		}
		push(p, C_LATENCY_ENTRY, kind, at, flow)->sub = (uint8_t)f->pending;
		return;
	case C_SETTINGS: {
		if (kind != NODE_SCALAR) {
			skip(p, kind, at, flow, wrong_type(p, "a setting's value", "text", kind, ev, at));
			return;
		}
		if (!take_text(p, "a setting's value", ev, at))
			return;
		((struct dag_setting *)vec_at(&p->settings, f->pending))->value =
			pool_strndup(&p->strings, (const char *)ev->data.scalar.value, ev->data.scalar.length);
		return;
	}
	case C_VMS: {
		if (kind != NODE_SCALAR) {
			skip(p, kind, at, flow, wrong_type(p, "a VM's host", "a host name or ~", kind, ev, at));
			return;
		}
		if (yaml_is_null(ev))
			return; /* host unknown */
		int64_t h = take_ref(p, T_HOST, "a VM's host", ev, at);
		if (h >= 0)
			((struct dag_vm *)vec_at(&p->vms, f->pending))->host = (uint32_t)h;
		return;
	}
	default:
		return;
	}
}

/* The end of a workgroup's VMs: each name must be new. */
static void vms_end(struct reader *p)
{
	uint32_t wg = (uint32_t)p->workgroups.len;
	for (size_t i = 0; i < p->vm_batch.len; i++) {
		const struct pending_vm *b = vec_at(&p->vm_batch, i);
		struct dag_vm *vm = vec_at(&p->vms, b->vm);
		size_t n = b->len;
		uint32_t first = strmap_put_hashed(&p->maps[T_VM], vm->name, n, b->hash, b->vm);
		if (first == b->vm)
			continue;
		const struct dag_vm *other = vec_at(&p->vms, first);
		if (other->workgroup == wg)
			recompile_hint(rd_error(p, DRP051, b->at, "duplicate key: VM '%.*s' is given twice in workgroup 'w%u'",
			                        quote_len(n), vm->name, wg + 1));
		else
			recompile_hint(rd_error(p, DRP054, b->at, "VM '%.*s' is in two workgroups, 'w%u' and 'w%u'",
			                        quote_len(n), vm->name, other->workgroup + 1, wg + 1));
	}
	p->vm_batch.len = 0;
}

/* ---- Sequences of names */

static bool has(const struct frame *f, int field);

/* A host of `placement`: a host of the plan's `to`, listed once. The top level's `to` and `hosts`
 * were read before it (the order is part of the format). */
static void placement_item(struct reader *p, const yaml_event_t *ev, struct src_range at)
{
	int64_t k = take_ref(p, T_HOST, "a placement host", ev, at);
	if (k < 0)
		return;
	uint32_t h = (uint32_t)k;
	const struct frame *root = &p->frames[0];
	uint32_t to = has(root, R_TO) ? strmap_get(&p->maps[T_SITE], root->slots[R_TO].ptr, root->slots[R_TO].len)
	                              : STRMAP_NONE;
	const struct dag_host *host = vec_at(&p->hosts, h);
	if (!p->host_mark)
		p->host_mark = xcalloc(p->hosts.len + 1, 1);
	if (!has(root, R_TO)) {
		recompile_hint(rd_error(p, DRP054, at, "placement host '%s' is given, but the plan has no recovery site "
		                        "('to')", host->name));
	} else if (to == STRMAP_NONE) {
		; /* an unknown `to`: reported once, when the top level ends */
	} else if (host->site >= p->sites.len) {
		recompile_hint(rd_error(p, DRP054, at, "placement host '%s' has no site: it must be at the recovery site "
		                        "'%s'", host->name, ((const struct dag_site *)vec_at(&p->sites, to))->name));
	} else if (host->site != to) {
		recompile_hint(rd_error(p, DRP054, at, "placement host '%s' is at site '%s', not at the recovery site '%s'",
		                        host->name, ((const struct dag_site *)vec_at(&p->sites, host->site))->name,
		                        ((const struct dag_site *)vec_at(&p->sites, to))->name));
	} else if (p->host_mark[h]) {
		recompile_hint(rd_error(p, DRP054, at, "placement host '%s' is listed twice", host->name));
	} else {
		p->host_mark[h] = 1;
		*(uint32_t *)vec_push(&p->list) = h;
	}
}

static void names_item(struct reader *p, struct frame *f, const yaml_event_t *ev, struct src_range at)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	if (f->sub == NL_OPS) {
		if (!take_name(p, "an operation id in 'after'", ev, at))
			return;
		/* Usually an earlier operation; a later one is looked up once all are read. The edge's kind
		 * is derived at the end, from the two operations (dag_edge_kind_of). */
		uint32_t from = strmap_get(&p->maps[T_OP], v, n);
		if (from != STRMAP_NONE) {
			add_edge(p, from, p->op_index, at);
			return;
		}
		struct forward *fw = vec_push(&p->forward_edges);
		fw->name = pool_strndup(&p->scratch_strings, v, n);
		fw->len = (uint32_t)n;
		fw->who = p->op_index;
		fw->at = at;
		return;
	}
	if (f->sub == NL_PROTECTIONS) {
		if (!take_name(p, "a protection group's name", ev, at))
			return;
		struct dag *d = p->d;
		for (uint32_t i = 0; i < d->n_protections; i++)
			if (strlen(d->protections[i]) == n && memcmp(d->protections[i], v, n) == 0) {
				recompile_hint(rd_error(p, DRP054, at, "duplicate protection group '%.*s'", quote_len(n), v));
				return;
			}
		/* Few (a plan protects a handful of groups): a plain array that doubles. */
		if ((d->n_protections & (d->n_protections - 1)) == 0) {
			const char **grown = arena_alloc(&d->arena, 2 * ((size_t)d->n_protections + 1) * sizeof *grown);
			if (d->n_protections)
				memcpy(grown, d->protections, d->n_protections * sizeof *grown);
			d->protections = grown;
		}
		d->protections[d->n_protections++] = pool_strndup(&p->strings, v, n);
		return;
	}
	if (f->sub == NL_SITES) {
		if (!take_name(p, "a site name", ev, at))
			return;
		if (strmap_get(&p->maps[T_SITE], v, n) != STRMAP_NONE) {
			recompile_hint(rd_error(p, DRP054, at, "duplicate site '%.*s'", quote_len(n), v));
			return;
		}
		const char *name = pool_strndup(&p->strings, v, n);
		((struct dag_site *)vec_push(&p->sites))->name = name;
		strmap_put(&p->maps[T_SITE], name, n, (uint32_t)p->sites.len - 1);
		sync_tables(p);
		return;
	}
	if (f->sub == NL_PLACEMENT) {
		placement_item(p, ev, at);
		return;
	}
	int64_t dv = take_ref(p, T_DEVICE, "a device name", ev, at);
	if (dv < 0)
		return;
	if (p->n_device_mark < p->devices.len) {
		p->device_mark = xrealloc(p->device_mark, p->devices.len * sizeof *p->device_mark);
		memset(p->device_mark + p->n_device_mark, 0, (p->devices.len - p->n_device_mark) * sizeof *p->device_mark);
		p->n_device_mark = (uint32_t)p->devices.len;
	}
	if (p->device_mark[dv] == p->list_serial) {
		recompile_hint(rd_error(p, DRP054, at, "device '%.*s' is listed twice", quote_len(n), v));
		return;
	}
	p->device_mark[dv] = p->list_serial;
	*(uint32_t *)vec_push(&p->list) = (uint32_t)dv;
	if (p->frames[p->depth - 2].ctx == C_GROUP) {
		struct member *m = vec_push(&p->members);
		m->device = (uint32_t)dv;
		m->group = (uint32_t)p->groups.len;
		m->at = at;
	}
}

/* The end of a list of devices: the array goes to the entry's slot. Workgroups with the same
 * devices as the one before share its array (VMs are grouped by devices, so they are adjacent). */
static void names_end(struct reader *p, struct frame *f)
{
	if (f->sub != NL_DEVICES && f->sub != NL_PLACEMENT)
		return;
	struct frame *parent = &p->frames[p->depth - 2];
	uint32_t n = (uint32_t)p->list.len;
	const uint32_t *arr = NULL;
	if (parent->ctx == C_WORKGROUP && p->workgroups.len && f->sub == NL_DEVICES) {
		const struct dag_workgroup *prev = vec_at(&p->workgroups, p->workgroups.len - 1);
		if (prev->n_devices == n && n && memcmp(prev->devices, p->list.items, n * sizeof *arr) == 0)
			arr = prev->devices;
	}
	if (!arr && n) {
		uint32_t *copy = pool_alloc(&p->strings, n * sizeof *copy, sizeof *copy);
		memcpy(copy, p->list.items, n * sizeof *copy);
		arr = copy;
	}
	struct slot *s = &parent->slots[parent->field];
	s->ptr = arr;
	s->len = n;
	parent->done |= BIT(parent->field);
}

/* ---- The ends of entries */

static bool has(const struct frame *f, int field)
{
	return (f->done & BIT(field)) != 0;
}

/* Adds name to a table's map; DRP054 if it is there already. */
static void add_name(struct reader *p, enum table t, const struct slot *s, uint32_t index)
{
	if (strmap_put(&p->maps[t], s->ptr, s->len, index) != index)
		recompile_hint(rd_error(p, DRP054, s->at, "duplicate %s '%.*s'", table_nouns[t], quote_len(s->len),
		                        (const char *)s->ptr));
}

static void finish_host(struct reader *p, struct frame *f)
{
	struct dag_host *h = vec_push(&p->hosts);
	h->name = has(f, H_NAME) ? f->slots[H_NAME].ptr : "";
	h->site = has(f, H_SITE) ? (uint32_t)f->slots[H_SITE].num : DAG_NONE;
	if (has(f, H_NAME))
		add_name(p, T_HOST, &f->slots[H_NAME], (uint32_t)p->hosts.len - 1);
}

static void finish_device(struct reader *p, struct frame *f)
{
	const struct slot *s = f->slots;
	uint32_t i = (uint32_t)p->devices.len;
	struct dag_device *dv = vec_push(&p->devices);
	dv->name = has(f, D_NAME) ? s[D_NAME].ptr : "";
	dv->kind = has(f, D_KIND) && s[D_KIND].num == 1 ? DAG_STRETCHED : DAG_REPLICATED;
	dv->site = has(f, D_SITE) ? (uint32_t)s[D_SITE].num : DAG_NONE;
	dv->peer_site = has(f, D_PEER_SITE) ? (uint32_t)s[D_PEER_SITE].num : DAG_NONE;
	dv->group = DAG_NONE;
	dv->prefer = DAG_NONE;
	if (has(f, D_PEER)) {
		dv->peer = s[D_PEER].ptr;
	} else if (dv->kind == DAG_STRETCHED) {
		dv->peer = dv->name;
	} else if (has(f, D_KIND) && !(f->seen & BIT(D_PEER))) {
		recompile_hint(rd_error(p, DRP051, range(p, f->start, f->end), "missing key 'peer' in replicated device '%s'",
		                        dv->name));
	}
	if (has(f, D_PREFER)) {
		uint32_t site = (uint32_t)s[D_PREFER].num;
		if (dv->kind == DAG_REPLICATED && has(f, D_KIND))
			recompile_hint(rd_error(p, DRP054, f->keys[D_PREFER],
			                        "'prefer' applies only to stretched devices, and '%s' is replicated", dv->name));
		else if (site != dv->site && site != dv->peer_site)
			recompile_hint(rd_error(p, DRP054, s[D_PREFER].at, "device '%s' prefers site '%s', which is not one of "
			                        "its two sites", dv->name, p->d->sites[site].name));
		else
			dv->prefer = site;
	}
	if (has(f, D_GROUP)) {
		struct forward *fw = vec_push(&p->device_groups);
		fw->name = s[D_GROUP].ptr;
		fw->len = s[D_GROUP].len;
		fw->who = i;
		fw->at = s[D_GROUP].at;
	}
	if (has(f, D_NAME))
		add_name(p, T_DEVICE, &s[D_NAME], i);
}

static void finish_group(struct reader *p, struct frame *f)
{
	struct dag_group *g = vec_push(&p->groups);
	g->name = has(f, G_NAME) ? f->slots[G_NAME].ptr : "";
	if (has(f, G_DEVICES)) {
		g->devices = (uint32_t *)(uintptr_t)f->slots[G_DEVICES].ptr; /* our own copy, never shared */
		g->n_devices = f->slots[G_DEVICES].len;
		if (!g->n_devices)
			recompile_hint(rd_error(p, DRP054, f->keys[G_DEVICES], "consistency group '%s' has no devices", g->name));
	}
	if (has(f, G_NAME))
		add_name(p, T_GROUP, &f->slots[G_NAME], (uint32_t)p->groups.len - 1);
}

static void finish_step(struct reader *p, struct frame *f)
{
	const struct slot *s = f->slots;
	struct dag_step *st = vec_push(&p->steps);
	st->kind = has(f, S_KIND) ? (enum ast_step_kind)s[S_KIND].num : AST_STEP_SYNC;
	st->site = has(f, S_SITE) ? (uint32_t)s[S_SITE].num : DAG_NONE;
	st->text = has(f, S_TEXT) ? s[S_TEXT].ptr : NULL;
	st->wait_ms = has(f, S_WAIT) ? s[S_WAIT].num : 0;
	st->by_priority = has(f, S_BY_PRIORITY) && s[S_BY_PRIORITY].num;
	st->per_workgroup = has(f, S_PER_WORKGROUP) && s[S_PER_WORKGROUP].num;
	st->timeout_ms = has(f, S_TIMEOUT) ? s[S_TIMEOUT].num : 0;
	st->retries = has(f, S_RETRIES) ? (uint32_t)s[S_RETRIES].num : 0;
	st->backoff_ms = has(f, S_BACKOFF) ? s[S_BACKOFF].num : 0;
	st->inserted = has(f, S_INSERTED) && s[S_INSERTED].num;
	st->line = has(f, S_LINE) ? (uint32_t)s[S_LINE].num : 0;
}

static void finish_limit(struct reader *p, struct frame *f)
{
	const struct slot *s = f->slots;
	struct dag_limit *l = vec_push(&p->limits);
	/* ast_operation_names is dag's first ten kinds then "all", which is DAG_LIMIT_ALL. */
	l->kind = has(f, L_OPERATION) ? (uint32_t)s[L_OPERATION].num : DAG_LIMIT_ALL;
	l->scope = has(f, L_PER) ? (enum dag_scope)(s[L_PER].num + 1) : DAG_SCOPE_PLAN;
	l->count = has(f, L_COUNT) ? (uint32_t)s[L_COUNT].num : 1;
}

static void finish_latency(struct reader *p, struct frame *f)
{
	if (has(f, LT_BASE))
		p->d->latency.base_ms[f->sub] = f->slots[LT_BASE].num;
	if (has(f, LT_PER_VM))
		p->d->latency.per_vm_ms[f->sub] = f->slots[LT_PER_VM].num;
}

static void finish_adapter(struct reader *p, struct frame *f)
{
	const struct slot *s = f->slots;
	if (!has(f, A_SITE) || !has(f, A_KIND)) {
		p->settings.len = 0;
		return;
	}
	struct dag_site *site = &p->d->sites[s[A_SITE].num];
	if (site->adapter) {
		recompile_hint(rd_error(p, DRP054, s[A_SITE].at, "site '%s' is given two adapters", site->name));
		p->settings.len = 0;
		return;
	}
	site->adapter = s[A_KIND].ptr;
	uint32_t n = 0;
	for (size_t i = 0; i < p->settings.len; i++)
		n += ((struct dag_setting *)vec_at(&p->settings, i))->value != NULL;
	struct dag_setting *out = pool_alloc(&p->strings, (n + 1) * sizeof *out, sizeof(void *));
	for (size_t i = 0; i < p->settings.len; i++) {
		const struct dag_setting *st = vec_at(&p->settings, i);
		if (st->value)
			out[site->n_settings++] = *st;
	}
	site->settings = out;
	p->settings.len = 0;
}

static void finish_workgroup(struct reader *p, struct frame *f)
{
	const struct slot *s = f->slots;
	uint32_t i = (uint32_t)p->workgroups.len;
	struct dag_workgroup *g = vec_push(&p->workgroups);
	g->priority = has(f, WG_PRIORITY) ? (int32_t)s[WG_PRIORITY].num : DAG_NO_PRIORITY;
	g->live = has(f, WG_MOVE) && s[WG_MOVE].num == 1;
	if (has(f, WG_DEVICES)) {
		g->devices = s[WG_DEVICES].ptr;
		g->n_devices = s[WG_DEVICES].len;
	}
	g->first_vm = p->wg_first;
	g->n_vms = (uint32_t)p->vms.len - p->wg_first;
	if (has(f, WG_VMS) && g->n_vms == 0)
		recompile_hint(rd_error(p, DRP054, f->keys[WG_VMS], "workgroup 'w%u' has no VMs", i + 1));
	const struct frame *root = &p->frames[0];
	if (has(root, R_WORKGROUP_SIZE) && g->n_vms > root->slots[R_WORKGROUP_SIZE].num)
		recompile_hint(rd_error(p, DRP054, f->keys[WG_VMS], "workgroup 'w%u' has %u VMs, more than the workgroup size "
		                        "(%lld)", i + 1, g->n_vms, (long long)root->slots[R_WORKGROUP_SIZE].num));
}

/* A storage-migration record: its VM's workgroup must recover both devices before its register,
 * which chooses between the two copies (so neither may be stretched, nor the same). Records are
 * kept in VM order, as dag_vm_migration searches them. */
static void finish_migration(struct reader *p, struct frame *f)
{
	const struct slot *s = f->slots;
	if (!has(f, M_VM) || !has(f, M_FROM) || !has(f, M_TO) || !has(f, M_STATE))
		return;
	const struct dag *d = p->d;
	uint32_t vm = (uint32_t)s[M_VM].num, from = (uint32_t)s[M_FROM].num, to = (uint32_t)s[M_TO].num;
	const char *name = d->vms[vm].name;
	if (!p->vm_migrated)
		p->vm_migrated = arena_alloc(&p->scratch, p->vms.len + 1);
	if (p->vm_migrated[vm]) {
		recompile_hint(rd_error(p, DRP054, s[M_VM].at, "VM '%s' has two storage-migration records", name));
		return;
	}
	p->vm_migrated[vm] = 1;
	if (from == to) {
		recompile_hint(rd_error(p, DRP054, s[M_TO].at, "the storage migration of VM '%s' moves it from device "
		                        "'%s' to the same device", name, d->devices[from].name));
		return;
	}
	const struct dag_workgroup *wg = &d->workgroups[d->vms[vm].workgroup];
	for (int k = M_FROM; k <= M_TO; k++) {
		uint32_t dev = (uint32_t)s[k].num;
		if (d->devices[dev].kind == DAG_STRETCHED) {
			recompile_hint(rd_error(p, DRP054, s[k].at, "the storage migration of VM '%s' involves stretched device "
			                        "'%s'", name, d->devices[dev].name));
			return;
		}
		bool under = false;
		for (uint32_t j = 0; j < wg->n_devices && !under; j++)
			under = wg->devices[j] == dev;
		if (!under) {
			recompile_hint(rd_error(p, DRP054, s[k].at, "VM '%s' is being moved to or from device '%s', which its "
			                        "workgroup 'w%u' does not recover", name, d->devices[dev].name,
			                        d->vms[vm].workgroup + 1));
			return;
		}
	}
	struct dag_migration *mg = vec_push(&p->migrations);
	*mg = (struct dag_migration){vm, from, to, (uint32_t)s[M_STATE].num};
}

static int by_migration_vm(const void *a, const void *b)
{
	uint32_t x = ((const struct dag_migration *)a)->vm, y = ((const struct dag_migration *)b)->vm;
	return (x > y) - (x < y);
}

/* Whether an operation of this kind may act on this kind of target. */
/* An operation's id, "s<step>.<kind>[.<target>]" (dag_op_id), into its step, kind and target. The
 * target's table follows from the kind; a failover's is a consistency group if one has that name,
 * else a device. Reports and returns false if the id names no operation of this plan. */
static bool parse_op_id(struct reader *p, const char *id, uint32_t len, struct src_range at, struct dag_op *op)
{
	const struct dag *d = p->d;
	uint32_t i = 1;
	uint64_t step = 0;
	while (i < len && id[i] >= '0' && id[i] <= '9' && step <= UINT32_MAX)
		step = step * 10 + (uint64_t)(id[i++] - '0');
	if (len < 4 || id[0] != 's' || i == 1 || i >= len || id[i] != '.')
		goto malformed;
	if (step == 0 || step > d->n_steps) {
		recompile_hint(rd_error(p, DRP054, at, "operation '%.*s' is in step %llu, but the plan has %u step%s",
		                        quote_len(len), id, (unsigned long long)step, d->n_steps, d->n_steps == 1 ? "" : "s"));
		return false;
	}
	uint32_t k0 = ++i;
	while (i < len && id[i] != '.')
		i++;
	int kind = -1;
	for (int k = 0; k < DAG_N_OP_KINDS; k++)
		if (strlen(dag_op_kind_names[k]) == i - k0 && memcmp(dag_op_kind_names[k], id + k0, i - k0) == 0)
			kind = k;
	if (kind < 0)
		goto malformed;
	const char *t = i < len ? id + i + 1 : NULL;
	uint32_t tn = i < len ? len - i - 1 : 0;
	op->kind = (uint8_t)kind;
	op->step = (uint32_t)step - 1;
	op->target_kind = DAG_TARGET_PLAN;
	op->target = 0;
	const char *wants = NULL;
	uint32_t found = STRMAP_NONE;
	switch ((enum dag_op_kind)kind) {
	case DAG_SYNC:
	case DAG_PREFER:
	case DAG_REVERSE:
		wants = "device";
		if (t && (found = strmap_get(&p->maps[T_DEVICE], t, tn)) != STRMAP_NONE)
			op->target_kind = DAG_TARGET_DEVICE;
		break;
	case DAG_FAILOVER:
	case DAG_SNAPSHOT:
	case DAG_DISCARD:
		wants = "consistency group or device";
		if (t && (found = strmap_get(&p->maps[T_GROUP], t, tn)) != STRMAP_NONE)
			op->target_kind = DAG_TARGET_GROUP;
		else if (t && (found = strmap_get(&p->maps[T_DEVICE], t, tn)) != STRMAP_NONE)
			op->target_kind = DAG_TARGET_DEVICE;
		break;
	case DAG_RUN:
		if (!t)
			return true;
		__attribute__((fallthrough)); /* a per-workgroup run */
	case DAG_SHUTDOWN:
	case DAG_MIGRATE:
	case DAG_REGISTER:
	case DAG_POWER_ON:
	case DAG_UNREGISTER: {
		wants = "workgroup";
		int64_t w = t ? workgroup_number(t, tn) : -1;
		if (w >= 0 && w < d->n_workgroups) {
			found = (uint32_t)w;
			op->target_kind = DAG_TARGET_WORKGROUP;
		}
		break;
	}
	case DAG_PROMPT:
	case DAG_WAIT:
		if (t)
			goto malformed;
		return true;
	case DAG_GATE: {
		int64_t prio;
		wants = "priority";
		if (t && tn == 4 && memcmp(t, "last", 4) == 0)
			found = (uint32_t)DAG_NO_PRIORITY;
		else if (t && tn > 1 && t[0] == 'p' && parse_int(t + 1, tn - 1, &prio) && prio >= 0 && prio < INT32_MAX)
			found = (uint32_t)prio;
		break;
	}
	case DAG_N_OP_KINDS: break;
	}
	if (found == STRMAP_NONE) {
		recompile_hint(rd_error(p, DRP054, at, "operation '%.*s' names no %s of this plan", quote_len(len), id, wants));
		return false;
	}
	op->target = found;
	return true;
malformed:
	recompile_hint(rd_error(p, DRP054, at, "'%.*s' is not an operation id (s<step>.<kind>[.<target>], as in "
	                        "'s3.failover.cg-db')", quote_len(len), id));
	return false;
}

static void finish_op(struct reader *p, struct frame *f, struct src_range at)
{
	struct dag *d = p->d;
	const struct slot *s = f->slots;
	struct dag_op parsed = {.kind = DAG_GATE, .target_kind = DAG_TARGET_PLAN};
	sync_tables(p);
	bool ok = has(f, O_ID) && parse_op_id(p, s[O_ID].ptr, s[O_ID].len, s[O_ID].at, &parsed);
	/* Site and flags follow from the rest once the whole plan is read (finish). */
	uint32_t i = dag_add_op(d, (enum dag_op_kind)parsed.kind, (enum dag_target)parsed.target_kind, parsed.target,
	                        parsed.step, DAG_NONE, 0);
	*(struct src_range *)vec_push(&p->op_at) = has(f, O_ID) ? s[O_ID].at : at;
	vec_push(&p->after_mark);
	if (!has(f, O_ID))
		return;
	const char *id = s[O_ID].ptr;
	uint32_t len = s[O_ID].len;
	if (ok) {
		/* Only the canonical spelling: "s03.sync.x" would name the same operation differently. */
		buf_clear(&p->idbuf);
		dag_op_id(d, i, &p->idbuf);
		if (p->idbuf.len != len || memcmp(p->idbuf.data, id, len) != 0)
			recompile_hint(rd_error(p, DRP054, s[O_ID].at, "operation id '%.*s' is not written as drplan writes it: "
			                        "'%s'", quote_len(len), id, p->idbuf.data));
	}
	uint32_t prev = strmap_put(&p->maps[T_OP], id, len, i);
	if (prev != i) {
		struct diag *dg = rd_error(p, DRP054, s[O_ID].at, "duplicate operation id '%.*s'", quote_len(len), id);
		if (dg)
			diag_note(dg, *(struct src_range *)vec_at(&p->op_at, prev), "first given here");
		recompile_hint(dg);
	}
}

/* The end of the document: the references that pointed forward. */
static void finish_root(struct reader *p, struct frame *f)
{
	struct dag *d = p->d;
	const struct slot *s = f->slots;
	if (has(f, R_PLAN))
		d->name = s[R_PLAN].ptr;
	if (has(f, R_PLAN_DIGEST))
		snprintf(d->plan_digest, sizeof d->plan_digest, "%s", (const char *)s[R_PLAN_DIGEST].ptr);
	if (has(f, R_INVENTORY_DIGEST))
		snprintf(d->inventory_digest, sizeof d->inventory_digest, "%s", (const char *)s[R_INVENTORY_DIGEST].ptr);
	if (has(f, R_MODE))
		d->mode = (enum ast_mode)s[R_MODE].num;
	if (has(f, R_WORKGROUP_SIZE))
		d->workgroup_size = (uint32_t)s[R_WORKGROUP_SIZE].num;
	if (has(f, R_RTO))
		d->rto_ms = s[R_RTO].num;
	for (int k = R_FROM; k <= R_TO; k++) {
		if (!has(f, k))
			continue;
		uint32_t site = strmap_get(&p->maps[T_SITE], s[k].ptr, s[k].len);
		if (site == STRMAP_NONE)
			recompile_hint(rd_error(p, DRP054, s[k].at, "unknown site '%.*s'", quote_len(s[k].len),
			                        (const char *)s[k].ptr));
		else if (k == R_FROM)
			d->from = site;
		else
			d->to = site;
	}

	/* Consistency groups: each device's `group` and each group's `devices` must agree. */
	uint8_t *listed = xcalloc(p->devices.len + 1, 1);
	for (size_t i = 0; i < p->device_groups.len; i++) {
		const struct forward *fw = vec_at(&p->device_groups, i);
		uint32_t g = strmap_get(&p->maps[T_GROUP], fw->name, fw->len);
		if (g == STRMAP_NONE)
			recompile_hint(rd_error(p, DRP054, fw->at, "unknown consistency group '%.*s'", quote_len(fw->len), fw->name));
		else
			d->devices[fw->who].group = g;
	}
	for (size_t i = 0; i < p->members.len; i++) {
		const struct member *m = vec_at(&p->members, i);
		const struct dag_device *dv = &d->devices[m->device];
		if (dv->group == m->group)
			listed[m->device] = 1;
		else if (dv->group == DAG_NONE)
			recompile_hint(rd_error(p, DRP054, m->at, "consistency group '%s' lists device '%s', which names no group",
			                        d->groups[m->group].name, dv->name));
		else
			recompile_hint(rd_error(p, DRP054, m->at, "consistency group '%s' lists device '%s', which names group '%s'",
			                        d->groups[m->group].name, dv->name, d->groups[dv->group].name));
	}
	for (size_t i = 0; i < p->device_groups.len; i++) {
		const struct forward *fw = vec_at(&p->device_groups, i);
		const struct dag_device *dv = &d->devices[fw->who];
		if (dv->group != DAG_NONE && !listed[fw->who])
			recompile_hint(rd_error(p, DRP054, fw->at, "device '%s' names consistency group '%s', which does not list it",
			                        dv->name, d->groups[dv->group].name));
	}
	free(listed);
	if (p->migrations.len > 1) /* none: no array at all, which qsort may not be given */
		qsort(p->migrations.items, p->migrations.len, sizeof(struct dag_migration), by_migration_vm);
	if (has(f, R_PLACEMENT)) {
		d->placement = (uint32_t *)s[R_PLACEMENT].ptr;
		d->n_placement = s[R_PLACEMENT].len;
	}
}

static void mapping_end(struct reader *p, struct frame *f, struct src_range at)
{
	const struct shape *s = &shapes[f->ctx];
	uint32_t missing = s->required & ~f->seen;
	for (unsigned i = 0; missing && i < s->n_fields; i++) {
		if (!(missing & BIT(i)))
			continue;
		struct buf who = BUF_INIT;
		if (f->ctx == C_ROOT)
			buf_puts(&who, "at the top level");
		else if (f->ctx == C_LATENCY_ENTRY)
			buf_printf(&who, "in the latency of %s", dag_op_kind_names[f->sub]);
		else {
			buf_puts(&who, "in ");
			entry_name(&who, f);
		}
		struct diag *dg = rd_error(p, DRP051, f->ctx == C_ROOT ? range(p, f->start, f->start) : at,
		                           "missing key '%s' %s", s->fields[i].name, who.data);
		buf_free(&who);
		recompile_hint(dg);
	}
	switch ((enum ctx)f->ctx) {
	case C_ROOT: finish_root(p, f); break;
	case C_HOST: finish_host(p, f); break;
	case C_DEVICE: finish_device(p, f); break;
	case C_GROUP: finish_group(p, f); break;
	case C_STEP: finish_step(p, f); break;
	case C_LIMIT: finish_limit(p, f); break;
	case C_LATENCY_ENTRY: finish_latency(p, f); break;
	case C_WORKGROUP: finish_workgroup(p, f); break;
	case C_OP: finish_op(p, f, at); break;
	case C_ADAPTER: finish_adapter(p, f); break;
	case C_MIGRATION: finish_migration(p, f); break;
	default: break;
	}
	sync_tables(p);
}

/* Closes the innermost collection; `end` is its end event's end (exact for flow collections; a
 * block collection's end event sits at the next token, so its last child's end is used). */
static void pop(struct reader *p, uint32_t end)
{
	if (p->depth == 0)
		return;
	struct frame *f = top(p);
	if (!f->flow)
		end = f->end;
	if (end < f->start)
		end = f->start;
	struct src_range at = range(p, f->start, end);
	if (f->ctx == C_SKIP) {
		if (f->wrong && f->wrong->at.start == f->start)
			f->wrong->at.end = end;
	} else if (f->ctx < C_N_SHAPES) {
		mapping_end(p, f, at);
	} else if (f->ctx == C_NAMES) {
		names_end(p, f);
	} else if (f->ctx == C_VMS) {
		vms_end(p);
	}
	p->depth--;
	if (p->depth)
		top(p)->end = end;
}

/* ---- Nodes */

static const char *expected_of(const struct field *fld)
{
	switch ((enum vt)fld->type) {
	case VT_FORMAT: return "an integer";
	case VT_SEAL:
	case VT_HASH: return "a digest";
	case VT_INT: return "an integer";
	case VT_MS: return "a number of milliseconds";
	case VT_BOOL: return "true or false";
	case VT_WORD: return "a word";
	case VT_WG: return "a workgroup id";
	case VT_LIST:
	case VT_NAMES: return "a list";
	case VT_MAP: return "a mapping";
	case VT_NAME:
	case VT_TEXT:
	case VT_REF:
	case VT_OPID: break;
	}
	return "text";
}

static void entry_begin(struct reader *p, enum ctx ctx)
{
	if (ctx == C_WORKGROUP)
		p->wg_first = (uint32_t)p->vms.len;
	else if (ctx == C_OP)
		p->op_index = p->d->n_ops;
}

/* A value under a key of mapping f. */
static void value(struct reader *p, struct frame *f, const yaml_event_t *ev, enum node kind, struct src_range at,
                  bool flow)
{
	if (kind == NODE_BAD)
		return;
	if (f->ctx >= C_N_SHAPES) {
		dynamic_value(p, f, ev, kind, at, flow);
		return;
	}
	const struct field *fld = &shapes[f->ctx].fields[f->field];
	char subj[40];
	snprintf(subj, sizeof subj, "'%s'", fld->name);
	f->slots[f->field].at = at;
	switch ((enum vt)fld->type) {
	case VT_LIST:
	case VT_NAMES:
		if (kind != NODE_SEQ) {
			skip(p, kind, at, flow, wrong_type(p, subj, "a list", kind, ev, at));
			return;
		}
		if (fld->type == VT_NAMES) {
			p->list.len = 0;
			p->list_serial++;
		}
		push(p, fld->type == VT_LIST ? C_LIST : C_NAMES, kind, at, flow)->sub = fld->sub;
		if (fld->type == VT_LIST || (fld->sub != NL_DEVICES && fld->sub != NL_PLACEMENT))
			f->done |= BIT(f->field);
		return;
	case VT_MAP:
		if (kind != NODE_MAP) {
			skip(p, kind, at, flow, wrong_type(p, subj, "a mapping", kind, ev, at));
			return;
		}
		if (fld->sub == C_LATENCY)
			memset(&p->d->latency, 0, sizeof p->d->latency); /* what is not written is zero */
		push(p, (enum ctx)fld->sub, kind, at, flow);
		f->done |= BIT(f->field);
		return;
	default:
		if (kind != NODE_SCALAR) {
			skip(p, kind, at, flow, wrong_type(p, subj, expected_of(fld), kind, ev, at));
			return;
		}
		if (scalar_value(p, f, fld, ev, at, subj))
			f->done |= BIT(f->field);
	}
}

/* A key of mapping f. Its value is skipped unless the key is known and given for the first time. */
static void key(struct reader *p, struct frame *f, const yaml_event_t *ev, enum node kind, struct src_range at,
                bool flow)
{
	f->want_value = true;
	f->skip_value = true;
	f->field = -1;
	if (kind == NODE_SEQ || kind == NODE_MAP) {
		struct diag *dg = NULL;
		if (f->ctx != C_SKIP)
			dg = rd_error(p, DRP051, at, "a key must be text, found %s", kind == NODE_SEQ ? "a list" : "a mapping");
		recompile_hint(dg);
		skip(p, kind, at, flow, dg);
		return;
	}
	if (f->ctx == C_SKIP || kind == NODE_BAD)
		return;
	if (f->ctx >= C_N_SHAPES) {
		dynamic_key(p, f, ev, at);
		return;
	}
	const struct shape *s = &shapes[f->ctx];
	const char *k = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	for (unsigned i = 0; i < s->n_fields; i++) {
		const struct field *fld = &s->fields[i];
		if (!same_word(fld->name, k, n))
			continue;
		if (f->seen & BIT(i)) {
			struct diag *dg = rd_error(p, DRP051, at, "duplicate key '%s' %s", fld->name, s->where);
			if (dg)
				diag_note(dg, f->keys[i], "'%s' was first given here", fld->name);
			recompile_hint(dg);
			return;
		}
		f->seen |= BIT(i);
		f->keys[i] = at;
		if (f->ctx == C_ROOT && (int)i < f->last) {
			/* Later keys name what earlier ones define: the order is part of the format. */
			recompile_hint(rd_error(p, DRP051, at, "'%s' is out of order: it comes before '%s' in a compiled plan",
			                        fld->name, s->fields[f->last].name));
			return;
		}
		if (f->ctx == C_ROOT)
			f->last = (int8_t)i;
		f->field = (int8_t)i;
		f->skip_value = false;
		return;
	}
	/* No "did you mean": a compiled plan is never fixed by hand (the digest would not match). */
	recompile_hint(rd_error(p, DRP051, at, "unknown key '%.*s' %s", quote_len(n), k, s->where));
}

/* An item of sequence f. */
static void item(struct reader *p, struct frame *f, const yaml_event_t *ev, enum node kind, struct src_range at,
                 bool flow)
{
	if (f->ctx == C_SKIP || kind == NODE_BAD) {
		skip(p, kind, at, flow, NULL);
		return;
	}
	if (f->ctx == C_NAMES) {
		if (kind != NODE_SCALAR) {
			skip(p, kind, at, flow,
			     wrong_type(p, f->sub == NL_SITES ? "a site" : f->sub == NL_OPS ? "an operation in 'after'"
			                 : f->sub == NL_PROTECTIONS ? "a protection group"
			                 : f->sub == NL_PLACEMENT ? "a placement host" : "a device",
			                "a name", kind, ev, at));
			return;
		}
		names_item(p, f, ev, at);
		return;
	}
	const struct shape *s = &shapes[f->sub];
	if (kind != NODE_MAP) {
		skip(p, kind, at, flow, wrong_type(p, s->a, "a mapping", kind, ev, at));
		return;
	}
	entry_begin(p, (enum ctx)f->sub);
	push(p, (enum ctx)f->sub, kind, at, flow);
}

static void root(struct reader *p, const yaml_event_t *ev, enum node kind, struct src_range at, bool flow)
{
	p->root_seen = true;
	if (kind == NODE_MAP) {
		push(p, C_ROOT, kind, at, flow);
		return;
	}
	if (kind == NODE_SCALAR && yaml_is_null(ev)) {
		p->root_seen = false; /* comments only: reported as empty */
		return;
	}
	if (kind != NODE_BAD)
		wrong_type(p, "a compiled plan", "a mapping", kind, ev, at);
	p->stop = p->fatal = true;
}

/* Where a node lands depends only on the innermost open collection. */
static void node(struct reader *p, const yaml_event_t *ev, enum node kind, struct src_range at, bool flow)
{
	if (p->depth == 0) {
		root(p, ev, kind, at, flow);
		return;
	}
	struct frame *f = top(p);
	if (kind == NODE_SCALAR || kind == NODE_BAD)
		f->end = at.end;
	if (!f->map) {
		item(p, f, ev, kind, at, flow);
	} else if (!f->want_value) {
		key(p, f, ev, kind, at, flow);
	} else {
		f->want_value = false;
		if (f->skip_value || f->ctx == C_SKIP)
			skip(p, kind, at, flow, NULL);
		else
			value(p, f, ev, kind, at, flow);
	}
}

/* ---- Events */

static void refuse(struct reader *p, struct src_range at, const char *what)
{
	struct diag *dg = rd_error(p, DRP051, at, "YAML %s are not allowed in a compiled plan", what);
	recompile_hint(dg);
}

/* libyaml's error, as DRP051 at its position. */
static void syntax_error(struct reader *p)
{
	yaml_parser_t *y = &p->yaml;
	const char *problem = y->problem ? y->problem : "out of memory";
	struct src_range at;
	if (y->error == YAML_READER_ERROR) {
		size_t raw = p->pos.base + y->problem_offset;
		uint32_t off = (uint32_t)(raw < p->src->len ? raw : p->src->len);
		at = range(p, off, off < p->src->len ? off + 1 : off);
	} else {
		uint32_t off = yaml_pos_offset(&p->pos, y->problem_mark);
		at = yaml_pos_char(&p->pos, off);
	}
	struct diag *dg = rd_error(p, DRP051, at, "not a compiled plan: invalid YAML: %s", problem);
	if (dg && y->error != YAML_READER_ERROR && y->context) {
		uint32_t c = yaml_pos_offset(&p->pos, y->context_mark);
		if (c != at.start)
			diag_note(dg, yaml_pos_char(&p->pos, c), "%s", y->context);
	}
	recompile_hint(dg);
	p->stop = p->fatal = true;
}

static void handle(struct reader *p, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (p->documents++) {
			recompile_hint(rd_error(p, DRP051, yaml_pos_event(&p->pos, ev),
			                        "a second YAML document; a compiled plan is one document"));
			p->stop = p->fatal = true;
		}
		break;
	case YAML_STREAM_END_EVENT:
		if (!p->root_seen) {
			recompile_hint(rd_error(p, DRP051, range(p, 0, 0), "the compiled plan is empty"));
			p->fatal = true;
		}
		break;
	case YAML_ALIAS_EVENT:
		refuse(p, yaml_pos_event(&p->pos, ev), "aliases");
		p->stop = p->fatal = true;
		break;
	case YAML_SCALAR_EVENT: {
		struct src_range at = yaml_pos_event(&p->pos, ev);
		if (ev->data.scalar.anchor) {
			refuse(p, at, "anchors");
			p->stop = p->fatal = true;
			break;
		}
		if (ev->data.scalar.tag)
			refuse(p, at, "tags");
		enum node kind = NODE_SCALAR;
		if (ev->data.scalar.length > COMPILED_MAX_SCALAR) {
			recompile_hint(rd_error(p, DRP051, at, "a value of %zu bytes; the limit is %d bytes",
			                        ev->data.scalar.length, COMPILED_MAX_SCALAR));
			kind = NODE_BAD;
		}
		node(p, ev, kind, at, false);
		break;
	}
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool map = ev->type == YAML_MAPPING_START_EVENT;
		struct src_range at = yaml_pos_event(&p->pos, ev);
		if (map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor) {
			refuse(p, at, "anchors");
			p->stop = p->fatal = true;
			break;
		}
		if (map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag)
			refuse(p, at, "tags");
		if (p->depth == COMPILED_MAX_DEPTH) {
			recompile_hint(rd_error(p, DRP051, yaml_pos_char(&p->pos, at.start),
			                        "nesting deeper than %d levels", COMPILED_MAX_DEPTH));
			p->stop = p->fatal = true;
			break;
		}
		bool flow = map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
		                : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
		node(p, ev, map ? NODE_MAP : NODE_SEQ, range(p, at.start, at.start), flow);
		break;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		pop(p, yaml_pos_offset(&p->pos, ev->end_mark));
		break;
	default:
		break;
	}
}

/* handle and syntax_error as yaml_event_loop calls them. */
static void handle_event(void *p, const yaml_event_t *ev)
{
	handle(p, ev);
}

static void report_syntax_error(void *p)
{
	syntax_error(p);
}

/* ---- Before the YAML: the format version and the seal, on the raw bytes */

static bool raw_checks(struct reader *p)
{
	const char *t = p->src->text;
	size_t len = p->src->len;
	struct raw_value f = raw_line(t, len, "format:");
	if (f.start == SIZE_MAX) {
		struct diag *dg = rd_error(p, DRP052, range(p, 0, 0), "not a compiled plan: there is no 'format' line");
		if (dg)
			diag_hint(dg, "a compiled plan is the output of `drplan compile`; its second line is 'format: %d'",
			          DAG_FORMAT_VERSION);
		return false;
	}
	p->format_at = range(p, (uint32_t)f.start, (uint32_t)f.end);
	const char *v = t + f.start;
	size_t n = f.end - f.start;
	int64_t version;
	if (n == 0 || v[0] == '-' || !parse_int(v, n, &version)) {
		struct diag *dg = rd_error(p, DRP052, p->format_at, "the compiled plan's 'format' is '%.*s', not a version "
		                           "number", quote_len(n), v);
		if (dg)
			diag_hint(dg, "this drplan reads compiled plans of format %d: compile the plan again", DAG_FORMAT_VERSION);
		return false;
	}
	if (version != DAG_FORMAT_VERSION) {
		struct diag *dg = rd_error(p, DRP052, p->format_at, "compiled plan format %.*s is not supported: this drplan "
		                           "reads format %d", quote_len(n), v, DAG_FORMAT_VERSION);
		if (dg)
			diag_hint(dg, "compile the plan again with this drplan, or use the drplan that compiled it");
		return false;
	}

	struct raw_value s = raw_line(t, len, "digest:");
	if (s.start == SIZE_MAX) {
		struct diag *dg = rd_error(p, DRP053, range(p, 0, 0), "the compiled plan has no 'digest' line");
		if (dg)
			diag_hint(dg, "its content cannot be trusted: compile the plan again with `drplan compile`");
		return false;
	}
	p->seal_at = range(p, (uint32_t)s.start, (uint32_t)s.end);
	if (!is_seal_value(t + s.start, s.end - s.start)) {
		struct diag *dg = rd_error(p, DRP053, p->seal_at, "malformed digest '%.*s': a compiled plan's digest is "
		                           "sha256: and 64 lowercase hex digits", quote_len(s.end - s.start), t + s.start);
		if (dg)
			diag_hint(dg, "the file was edited or damaged: compile the plan again with `drplan compile`");
		return false;
	}
	char hex[65];
	seal_of(t, len, s.start + SEAL_PREFIX_LEN, hex);
	if (memcmp(hex, t + s.start + SEAL_PREFIX_LEN, HEX_LEN) != 0) {
		struct diag *dg = rd_error(p, DRP053, p->seal_at, "the compiled plan was edited or damaged after `drplan "
		                           "compile` wrote it: its content does not match its digest");
		if (dg)
			diag_hint(dg, "a run performs exactly what was compiled and reviewed: compile the plan again");
		return false;
	}
	memcpy(p->d->seal, hex, sizeof hex);
	return true;
}

/* ---- After the YAML: forward references and cycles */

/* Names one cycle among the operations that dag_topo_order could not order: from any of them,
 * following predecessors that are unordered too must come back to an operation already seen. */
static void report_cycle(struct reader *p, const uint32_t *order, uint32_t n_ordered)
{
	const struct dag *d = p->d;
	uint8_t *ordered = xcalloc((size_t)d->n_ops + 1, 1);
	uint32_t *pos = xmalloc(((size_t)d->n_ops + 1) * sizeof *pos);
	uint32_t *walk = xmalloc(((size_t)d->n_ops + 1) * sizeof *walk);
	for (uint32_t i = 0; i < n_ordered; i++)
		ordered[order[i]] = 1;
	uint32_t x = 0;
	while (x < d->n_ops && ordered[x])
		x++;
	for (uint32_t i = 0; i < d->n_ops; i++)
		pos[i] = DAG_NONE;
	uint32_t len = 0;
	while (x != DAG_NONE && pos[x] == DAG_NONE) {
		pos[x] = len;
		walk[len++] = x;
		const struct dag_op *op = &d->ops[x];
		uint32_t next = DAG_NONE;
		for (uint32_t k = op->first_pred; k < op->first_pred + op->n_preds; k++)
			if (!ordered[d->edges[k].from]) {
				next = d->edges[k].from;
				break;
			}
		x = next;
	}
	if (x != DAG_NONE) {
		/* walk[pos[x]..len) is the cycle, each one waiting for the next: print it in running order. */
		struct buf path = BUF_INIT;
		uint32_t first = pos[x], shown = 0;
		dag_op_id(d, x, &path);
		for (uint32_t k = len; k-- > first + 1 && shown < 12; shown++) {
			buf_puts(&path, " -> ");
			dag_op_id(d, walk[k], &path);
		}
		if (len - first - 1 > shown)
			buf_puts(&path, " -> ...");
		buf_puts(&path, " -> ");
		dag_op_id(d, x, &path);
		struct diag *dg = rd_error(p, DRP054, *(struct src_range *)vec_at(&p->op_at, x),
		                           "operations wait for each other in a cycle: %s", path.data);
		if (dg)
			diag_hint(dg, "%u operation%s never start (on a cycle, or waiting for one); compile the plan again",
			          d->n_ops - n_ordered, d->n_ops - n_ordered == 1 ? " would" : "s would");
		buf_free(&path);
	}
	free(walk);
	free(pos);
	free(ordered);
}

static void finish(struct reader *p)
{
	struct dag *d = p->d;
	sync_tables(p);
	for (size_t i = 0; i < p->forward_edges.len; i++) {
		const struct forward *fw = vec_at(&p->forward_edges, i);
		uint32_t from = strmap_get(&p->maps[T_OP], fw->name, fw->len);
		if (from == STRMAP_NONE)
			recompile_hint(rd_error(p, DRP054, fw->at, "'after' names operation '%.*s', which does not exist",
			                        quote_len(fw->len), fw->name));
		else
			add_edge(p, from, fw->who, fw->at);
	}
	dag_derive(d); /* sites, flags and edge kinds are not written: they follow from the rest */
	dag_finish(d);
	uint32_t *order = xmalloc(((size_t)d->n_ops + 1) * sizeof *order);
	uint32_t n = dag_topo_order(d, order);
	if (n < d->n_ops)
		report_cycle(p, order, n);
	free(order);
}

bool compiled_read(struct dag *d, const struct src_file *src, struct diag_list *diags)
{
	struct reader *p = xcalloc(1, sizeof *p);
	p->d = d;
	p->src = src;
	p->diags = diags;
	p->strings.arena = &d->arena;
	arena_init(&p->scratch);
	p->scratch_strings.arena = &p->scratch;
	struct vec *tables[] = {
		&p->sites, &p->hosts, &p->devices, &p->groups, &p->steps, &p->limits, &p->workgroups, &p->vms,
		&p->migrations,
	};
	static const size_t sizes[] = {
		sizeof(struct dag_site), sizeof(struct dag_host), sizeof(struct dag_device), sizeof(struct dag_group),
		sizeof(struct dag_step), sizeof(struct dag_limit), sizeof(struct dag_workgroup), sizeof(struct dag_vm),
		sizeof(struct dag_migration),
	};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		vec_init(tables[i], sizes[i], &d->arena);
	vec_init(&p->list, sizeof(uint32_t), NULL);
	vec_init(&p->op_at, sizeof(struct src_range), NULL);
	vec_init(&p->after_mark, sizeof(uint32_t), NULL);
	vec_init(&p->device_groups, sizeof(struct forward), NULL);
	vec_init(&p->forward_edges, sizeof(struct forward), NULL);
	vec_init(&p->members, sizeof(struct member), NULL);
	vec_init(&p->vm_batch, sizeof(struct pending_vm), NULL);
	vec_init(&p->settings, sizeof(struct dag_setting), NULL);
	for (int t = 0; t < T_N; t++)
		strmap_init(&p->maps[t]);

	bool parsed = false;
	if (!raw_checks(p))
		goto out;
	yaml_pos_init(&p->pos, src);
	if (!yaml_parser_initialize(&p->yaml)) {
		rd_error(p, DRP051, range(p, 0, 0), "cannot start the YAML reader: out of memory");
		goto out;
	}
	yaml_parser_set_input_string(&p->yaml, (const unsigned char *)src->text + p->pos.base, src->len - p->pos.base);
	yaml_parser_set_encoding(&p->yaml, YAML_UTF8_ENCODING);
	yaml_event_loop(&p->yaml, p, handle_event, report_syntax_error, &p->stop);
	yaml_parser_delete(&p->yaml);
	parsed = !p->fatal;
	if (parsed)
		finish(p);

out:
	sync_tables(p);
	if (!parsed) {
		/* Edges into an operation that was never finished: keep the DAG safe to look at. */
		uint32_t k = 0;
		for (uint32_t i = 0; i < d->n_edges; i++)
			if (d->edges[i].from < d->n_ops && d->edges[i].to < d->n_ops)
				d->edges[k++] = d->edges[i];
		d->n_edges = k;
	}
	bool ok = parsed && p->errors == 0 && !p->fatal;
	vec_free(&p->list);
	vec_free(&p->op_at);
	vec_free(&p->after_mark);
	vec_free(&p->device_groups);
	vec_free(&p->forward_edges);
	vec_free(&p->members);
	vec_free(&p->vm_batch);
	vec_free(&p->settings);
	for (int t = 0; t < T_N; t++)
		strmap_free(&p->maps[t]);
	free(p->device_mark);
	free(p->host_mark);
	buf_free(&p->idbuf);
	arena_free(&p->scratch);
	free(p);
	return ok;
}
