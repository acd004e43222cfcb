/* faults.c: the fault-injection proxy (faults.h) and the reader of its rules file, libyaml's event
 * API by recursive descent as in compiler/latency.c: anything wrong is DRP056 at the node at fault,
 * and a wrong value is skipped whole so that one mistake is one diagnostic. */
#include "faults.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "../compiler/parse.h"
#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "../lib/clock.h"
#include "../lib/glob.h"
#include "../compiler/yamlread.h"

const char *const fault_action_names[] = {"error",       "timeout",         "delay", "lost-reply",
                                          "crash-after", "partial-timeout", NULL};

/* The longest pattern kept. */
#define PATTERN_MAX 256

/* ---- The rules file. */

enum rule_field { F_MATCH, F_ACTION, F_TRANSIENT, F_PROBABILITY, F_DELAY, F_COUNT, N_RULE_FIELDS };
static const char *const rule_field_names[] = {"match", "action", "transient", "probability", "delay", "count", NULL};
enum match_field { M_KIND, M_SITE, M_DEVICE, M_VM, M_OP, N_MATCH_FIELDS };
static const char *const match_field_names[] = {"kind", "site", "device", "vm", "op", NULL};

struct reader {
	struct yaml_reader r;
	struct fault_rules *out;
	uint32_t cap;
};

static const struct yaml_reader_names rules_file = {
	DRP056, "a fault rules file", "in fault rules", "these fault rules", FAULTS_MAX_ERRORS,
};


static bool scalar_is(const struct reader *p, const char *s)
{
	return p->r.ev.type == YAML_SCALAR_EVENT && p->r.ev.data.scalar.length == strlen(s) &&
	       memcmp(p->r.ev.data.scalar.value, s, p->r.ev.data.scalar.length) == 0;
}

/* Index of the current scalar in names, or -1. */
static int lookup(const struct reader *p, const char *const *names)
{
	if (p->r.ev.type != YAML_SCALAR_EVENT)
		return -1;
	for (int i = 0; names[i]; i++)
		if (scalar_is(p, names[i]))
			return i;
	return -1;
}

/* A key of a mapping whose fields are names[]: its index, or -1 (reported; its value to skip). */
static int read_key(struct reader *p, const char *const *names, const char *what, bool *given,
                    struct src_range *seen)
{
	struct src_range at = yaml_reader_at(&p->r);
	if (p->r.ev.type != YAML_SCALAR_EVENT) {
		yaml_reader_error(&p->r, at, "expected a field name in %s", what);
		yaml_reader_skip(&p->r);
		return -1;
	}
	int f = lookup(p, names);
	if (f < 0) {
		struct buf b = BUF_INIT, all = BUF_INIT;
		yaml_reader_describe(&p->r, &b);
		for (int i = 0; names[i]; i++)
			buf_printf(&all, "%s'%s'", i ? ", " : "", names[i]);
		struct diag *d = yaml_reader_error(&p->r, at, "unknown field %s in %s; the fields are %s", b.data, what, all.data);
		const char *s = diag_suggest((const char *)p->r.ev.data.scalar.value, p->r.ev.data.scalar.length, names);
		if (d && s) {
			diag_hint(d, "did you mean '%s'?", s);
			diag_fixit(d, s);
		}
		buf_free(&b);
		buf_free(&all);
		return -1;
	}
	if (given[f]) {
		struct diag *d = yaml_reader_error(&p->r, at, "'%s' is given twice in %s", names[f], what);
		if (d)
			diag_note(d, seen[f], "first given here");
		return -1;
	}
	given[f] = true;
	seen[f] = at;
	return f;
}

/* A glob pattern value, copied; NULL (reported) if it is not one. */
static char *read_pattern(struct reader *p, const char *field)
{
	if (!yaml_reader_scalar(&p->r)) {
		yaml_reader_expected(&p->r, "a name or a pattern", field, "write e.g. 'vm: \"db-*\"'");
		return NULL;
	}
	if (p->r.ev.data.scalar.length > PATTERN_MAX || memchr(p->r.ev.data.scalar.value, '\0', p->r.ev.data.scalar.length)) {
		yaml_reader_error(&p->r, yaml_reader_at(&p->r), "the pattern for '%s' is too long (at most %d bytes) or holds a NUL", field,
		         PATTERN_MAX);
		return NULL;
	}
	return xstrndup((const char *)p->r.ev.data.scalar.value, p->r.ev.data.scalar.length);
}

static void read_match(struct reader *p, struct fault_rule *r)
{
	if (p->r.ev.type != YAML_MAPPING_START_EVENT) {
		yaml_reader_expected(&p->r, "a mapping", "match", "write 'match: {kind: power-on, vm: \"db-*\"}'");
		return;
	}
	bool given[N_MATCH_FIELDS] = {false};
	struct src_range seen[N_MATCH_FIELDS];
	while (yaml_reader_next(&p->r) && p->r.ev.type != YAML_MAPPING_END_EVENT) {
		if (!yaml_reader_plain(&p->r))
			return;
		int f = read_key(p, match_field_names, "'match'", given, seen);
		if (!yaml_reader_next(&p->r) || !yaml_reader_plain(&p->r))
			return;
		if (f < 0) {
			yaml_reader_skip(&p->r);
			continue;
		}
		if (f == M_KIND) {
			int k = yaml_reader_scalar(&p->r) ? lookup(p, dag_op_kind_names) : -1;
			if (k < 0 || k == DAG_PROMPT || k == DAG_WAIT || k == DAG_GATE || k == DAG_RUN) {
				struct buf b = BUF_INIT;
				yaml_reader_describe(&p->r, &b);
				struct diag *d = yaml_reader_error(&p->r, yaml_reader_at(&p->r), "%s is not a kind of operation an adapter performs", b.data);
				if (d) {
					const char *s = yaml_reader_scalar(&p->r) ? diag_suggest((const char *)p->r.ev.data.scalar.value,
					                                            p->r.ev.data.scalar.length, dag_op_kind_names)
					                             : NULL;
					if (s && k < 0) {
						diag_hint(d, "did you mean '%s'?", s);
						diag_fixit(d, s);
					} else
						diag_hint(d, "the kinds are sync, failover, prefer, shutdown, migrate, register, "
						             "power-on, snapshot and reverse");
				}
				buf_free(&b);
				yaml_reader_skip(&p->r);
				continue;
			}
			r->kind = k;
			continue;
		}
		char **slot = f == M_SITE ? &r->site : f == M_DEVICE ? &r->device : f == M_VM ? &r->vm : &r->op;
		*slot = read_pattern(p, match_field_names[f]);
	}
}

/* One rule, whose mapping start is current; appended to out if it is whole. */
static void read_rule(struct reader *p)
{
	struct src_range rule_at = yaml_reader_at(&p->r);
	struct fault_rule r = {.kind = -1, .probability = 1, .line = 0};
	r.line = src_position((struct src_file *)p->r.src, rule_at.start).line;
	if (p->r.ev.type != YAML_MAPPING_START_EVENT) {
		yaml_reader_expected(&p->r, "a mapping", "rules", "write each rule as '- {match: {kind: power-on}, action: error}'");
		return;
	}
	bool action_reported = false;
	bool given[N_RULE_FIELDS] = {false};
	struct src_range seen[N_RULE_FIELDS];
	while (yaml_reader_next(&p->r) && p->r.ev.type != YAML_MAPPING_END_EVENT) {
		if (!yaml_reader_plain(&p->r))
			goto drop;
		int f = read_key(p, rule_field_names, "a rule", given, seen);
		if (!yaml_reader_next(&p->r) || !yaml_reader_plain(&p->r))
			goto drop;
		if (f < 0) {
			yaml_reader_skip(&p->r);
			continue;
		}
		struct src_range at = yaml_reader_at(&p->r);
		switch (f) {
		case F_MATCH: read_match(p, &r); break;
		case F_ACTION: {
			int a = yaml_reader_scalar(&p->r) ? lookup(p, fault_action_names) : -1;
			if (a < 0) {
				yaml_reader_expected(&p->r, "an action (error, timeout, partial-timeout, delay, lost-reply or crash-after)",
				                     "action", NULL);
				given[F_ACTION] = false;
				action_reported = true; /* no "has no action" on top */
			} else {
				r.action = (enum fault_action)a;
			}
			break;
		}
		case F_TRANSIENT:
			if (scalar_is(p, "true"))
				r.transient = true;
			else if (scalar_is(p, "false"))
				r.transient = false;
			else
				yaml_reader_expected(&p->r, "true or false", "transient", NULL);
			break;
		case F_PROBABILITY: {
			char text[32];
			size_t n = p->r.ev.type == YAML_SCALAR_EVENT ? p->r.ev.data.scalar.length : 0;
			char *end = text;
			double v = NAN;
			if (n > 0 && n < sizeof text) {
				memcpy(text, p->r.ev.data.scalar.value, n);
				text[n] = '\0';
				errno = 0;
				v = strtod(text, &end);
			}
			if (n == 0 || n >= sizeof text || *end || errno || !(v >= 0 && v <= 1)) {
				if (p->r.ev.type != YAML_SCALAR_EVENT) {
					yaml_reader_expected(&p->r, "a number from 0 to 1", "probability", NULL);
				} else {
					struct buf b = BUF_INIT;
					yaml_reader_describe(&p->r, &b);
					struct diag *d = yaml_reader_error(&p->r, at, "the probability must be a number from 0 to 1, not %s", b.data);
					if (d)
						diag_hint(d, "write e.g. 'probability: 0.2' for one call in five");
					buf_free(&b);
				}
			} else {
				r.probability = v;
			}
			break;
		}
		case F_DELAY: {
			const char *why = NULL;
			if (!yaml_reader_scalar(&p->r)) {
				yaml_reader_expected(&p->r, "a duration", "delay", "write it as in a plan: 90s, 5m, 250ms");
			} else if (p->r.ev.data.scalar.value[0] == '-' ||
			           !duration_parse((const char *)p->r.ev.data.scalar.value, p->r.ev.data.scalar.length, &r.delay_ms,
			                           &why)) {
				struct buf b = BUF_INIT;
				yaml_reader_describe(&p->r, &b);
				struct diag *d = yaml_reader_error(&p->r, at, "invalid duration %s for 'delay': %s", b.data,
				                          why ? why : "a duration cannot be negative");
				if (d)
					diag_hint(d, "write it as in a plan: 90s, 5m, 250ms");
				buf_free(&b);
			}
			break;
		}
		case F_COUNT: {
			uint64_t v = 0;
			bool ok = yaml_reader_scalar(&p->r) && p->r.ev.data.scalar.length <= 9;
			for (size_t i = 0; ok && i < p->r.ev.data.scalar.length; i++) {
				unsigned char c = p->r.ev.data.scalar.value[i];
				ok = c >= '0' && c <= '9';
				v = v * 10 + (uint64_t)(c - '0');
			}
			if (!ok || v == 0) {
				if (p->r.ev.type != YAML_SCALAR_EVENT) {
					yaml_reader_expected(&p->r, "a whole number", "count", NULL);
				} else {
					struct buf b = BUF_INIT;
					yaml_reader_describe(&p->r, &b);
					yaml_reader_error(&p->r, at, "'count' must be a whole number from 1 to 999999999, not %s", b.data);
					buf_free(&b);
				}
			} else {
				r.count = v;
			}
			break;
		}
		default: break;
		}
	}
	if (p->r.stop)
		goto drop;
	/* What the action needs, and what it does not take. */
	if (!given[F_ACTION]) {
		if (!action_reported) {
			struct diag *d = yaml_reader_error(&p->r, rule_at, "this rule has no 'action'");
			if (d)
				diag_hint(d, "add 'action: error' (or timeout, partial-timeout, delay, lost-reply, crash-after)");
		}
	} else if (r.action == FAULT_DELAY && !given[F_DELAY]) {
		struct diag *d = yaml_reader_error(&p->r, seen[F_ACTION], "a 'delay' rule needs a 'delay' duration");
		if (d)
			diag_hint(d, "add 'delay: 30s'");
	} else if (r.action == FAULT_CRASH_AFTER && !given[F_COUNT]) {
		struct diag *d = yaml_reader_error(&p->r, seen[F_ACTION], "a 'crash-after' rule needs a 'count'");
		if (d)
			diag_hint(d, "add 'count: 40': the process exits after 40 calls");
	} else if (given[F_DELAY] && r.action != FAULT_DELAY) {
		yaml_reader_error(&p->r, seen[F_DELAY], "'delay' is for the delay action, not '%s'", fault_action_names[r.action]);
	} else if (given[F_COUNT] && r.action != FAULT_CRASH_AFTER) {
		yaml_reader_error(&p->r, seen[F_COUNT], "'count' is for the crash-after action, not '%s'", fault_action_names[r.action]);
	} else if (given[F_TRANSIENT] && r.action != FAULT_ERROR) {
		struct diag *d = yaml_reader_error(&p->r, seen[F_TRANSIENT], "'transient' is for the error action, not '%s'",
		                          fault_action_names[r.action]);
		if (d && r.action == FAULT_LOST_REPLY)
			diag_hint(d, "a lost reply is always transient");
	}
	if (p->r.errors != 0 || action_reported)
		goto drop;
	if (p->out->n == FAULTS_MAX_RULES) {
		yaml_reader_error(&p->r, rule_at, "more than %d rules", FAULTS_MAX_RULES);
		p->r.stop = true;
		goto drop;
	}
	if (p->out->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		p->out->rules = xrealloc(p->out->rules, p->cap * sizeof *p->out->rules);
	}
	p->out->rules[p->out->n++] = r;
	return;
drop:
	free(r.site);
	free(r.device);
	free(r.vm);
	free(r.op);
}

static void read_root(void *ctx)
{
	struct reader *p = ctx;
	bool seen_rules = false;
	while (yaml_reader_next(&p->r) && p->r.ev.type != YAML_MAPPING_END_EVENT) {
		if (!yaml_reader_plain(&p->r))
			return;
		struct src_range at = yaml_reader_at(&p->r);
		bool is_rules = scalar_is(p, "rules");
		if (!is_rules) {
			struct buf b = BUF_INIT;
			yaml_reader_describe(&p->r, &b);
			struct diag *d = yaml_reader_error(&p->r, at, "unknown key %s; a fault rules file has one key, 'rules'", b.data);
			if (d)
				diag_hint(d, "write 'rules:' and a list of rules under it");
			buf_free(&b);
			yaml_reader_skip(&p->r);
		} else if (seen_rules) {
			yaml_reader_error(&p->r, at, "'rules' is given twice");
			is_rules = false;
		}
		if (!yaml_reader_next(&p->r) || !yaml_reader_plain(&p->r))
			return;
		if (!is_rules) {
			yaml_reader_skip(&p->r);
			continue;
		}
		seen_rules = true;
		if (p->r.ev.type == YAML_SCALAR_EVENT && p->r.ev.data.scalar.length == 0)
			continue; /* `rules:` with nothing: no rules */
		if (p->r.ev.type != YAML_SEQUENCE_START_EVENT) {
			yaml_reader_expected(&p->r, "a list of rules", "rules", "write each rule on a line of its own: '  - {action: ...}'");
			continue;
		}
		while (yaml_reader_next(&p->r) && p->r.ev.type != YAML_SEQUENCE_END_EVENT) {
			if (!yaml_reader_plain(&p->r))
				return;
			read_rule(p);
		}
	}
}

void fault_rules_free(struct fault_rules *r)
{
	for (uint32_t i = 0; i < r->n; i++) {
		free(r->rules[i].site);
		free(r->rules[i].device);
		free(r->rules[i].vm);
		free(r->rules[i].op);
	}
	free(r->rules);
	r->rules = NULL;
	r->n = 0;
}

bool fault_rules_load(struct fault_rules *out, const struct src_file *src, struct diag_list *diags)
{
	memset(out, 0, sizeof *out);
	struct reader *p = xcalloc(1, sizeof *p);
	p->out = out;
	if (yaml_reader_open(&p->r, src, diags, &rules_file))
		yaml_reader_document(&p->r, read_root, p, "a mapping with a 'rules' list", "begin with 'rules:'");
	yaml_reader_close(&p->r);
	bool ok = p->r.errors == 0;
	if (!ok)
		fault_rules_free(out);
	free(p);
	return ok;
}

/* ---- The proxy. */

struct proxy {
	struct adapter base;           /* first: the scheduler's struct adapter * is a struct proxy * */
	struct adapter *inner;
	const struct dag *d;
	struct fault_rules rules;      /* a copy */
	uint64_t seed;
	_Atomic uint64_t *matched;     /* per rule: calls it matched (crash-after counts them) */
	_Atomic uint64_t injected;
};

static bool pattern_match(const char *pattern, const char *name)
{
	return name && glob_match(pattern, strlen(pattern), name, strlen(name));
}

static bool device_matches(const struct dag *d, const char *pattern, uint32_t dev)
{
	return dev < d->n_devices && pattern_match(pattern, d->devices[dev].name);
}

/* Does the rule's match part name this operation? */
static bool rule_matches(const struct proxy *px, const struct fault_rule *r, uint32_t op_index)
{
	const struct dag *d = px->d;
	const struct dag_op *op = &d->ops[op_index];
	if (r->kind >= 0 && r->kind != op->kind)
		return false;
	if (r->site && !(op->site < d->n_sites && pattern_match(r->site, d->sites[op->site].name)))
		return false;
	if (r->device) {
		bool hit = false;
		if (op->target_kind == DAG_TARGET_DEVICE) {
			hit = device_matches(d, r->device, op->target);
		} else if (op->target_kind == DAG_TARGET_GROUP && op->target < d->n_groups) {
			const struct dag_group *g = &d->groups[op->target];
			hit = pattern_match(r->device, g->name);
			for (uint32_t i = 0; !hit && i < g->n_devices; i++)
				hit = device_matches(d, r->device, g->devices[i]);
		} else if (op->target_kind == DAG_TARGET_WORKGROUP && op->target < d->n_workgroups) {
			const struct dag_workgroup *w = &d->workgroups[op->target];
			for (uint32_t i = 0; !hit && i < w->n_devices; i++)
				hit = device_matches(d, r->device, w->devices[i]);
		}
		if (!hit)
			return false;
	}
	if (r->vm) {
		bool hit = false;
		if (op->target_kind == DAG_TARGET_WORKGROUP && op->target < d->n_workgroups) {
			const struct dag_workgroup *w = &d->workgroups[op->target];
			for (uint32_t i = 0; !hit && i < w->n_vms; i++)
				hit = pattern_match(r->vm, d->vms[w->first_vm + i].name);
		}
		if (!hit)
			return false;
	}
	if (r->op) {
		struct buf id = BUF_INIT;
		dag_op_id(d, op_index, &id);
		bool hit = glob_match(r->op, strlen(r->op), id.data, id.len);
		buf_free(&id);
		if (!hit)
			return false;
	}
	return true;
}

/* splitmix64's finaliser: a good mix of a 64-bit value. */
static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* Whether the rule fires for this attempt: a draw from (seed, op, attempt, rule) only, so that the
 * same seed injects the same faults whatever the threads' interleaving. */
static bool draw(const struct proxy *px, const struct adapter_request *req, uint32_t rule)
{
	double pr = px->rules.rules[rule].probability;
	if (pr >= 1)
		return true;
	if (pr <= 0)
		return false;
	uint64_t h = mix(px->seed);
	h = mix(h ^ req->op);
	h = mix(h ^ ((uint64_t)req->attempt << 32));
	h = mix(h ^ ((uint64_t)rule << 16));
	return (double)(h >> 11) * 0x1.0p-53 < pr;
}

/* A partial timeout of a workgroup call: forwards it for the first *half of the *named VMs the
 * request names (none when it names one), as if the call had been cut off midway; reply is the
 * inner adapter's (DONE if nothing was forwarded). False for a call that is not on VMs (a plain
 * timeout then). */
static bool partial_call(struct proxy *px, const struct adapter_request *req, struct adapter_reply *reply,
                         adapter_fn entry, uint32_t *half_out, uint32_t *named_out)
{
	const struct dag *d = px->d;
	const struct dag_op *op = &d->ops[req->op];
	bool vms = op->kind == DAG_SHUTDOWN || op->kind == DAG_MIGRATE || op->kind == DAG_REGISTER ||
	           op->kind == DAG_POWER_ON;
	if (!vms || op->target_kind != DAG_TARGET_WORKGROUP || op->target >= d->n_workgroups)
		return false;
	uint32_t n = d->workgroups[op->target].n_vms, named = 0;
	for (uint32_t k = 0; k < n; k++)
		named += adapter_names_vm(req, k);
	uint32_t half = named / 2;
	reply->status = ADAPTER_DONE;
	reply->message[0] = '\0';
	if (half > 0) {
		uint8_t *sub = xcalloc((size_t)n + 1, 1);
		for (uint32_t k = 0, taken = 0; k < n && taken < half; k++)
			if (adapter_names_vm(req, k))
				sub[k] = 1, taken++;
		struct adapter_request q = *req;
		q.vms = sub;
		entry(px->inner, &q, reply);
		free(sub);
	}
	*half_out = half;
	*named_out = named;
	return true;
}

/* The fault (if any) for one call, then the call. `entry` is the inner adapter's entry to call. */
static void proxy_call(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply,
                       adapter_fn entry)
{
	struct proxy *px = (struct proxy *)a;
	int64_t delay = 0;
	int fault = -1; /* the rule whose error, timeout or lost-reply applies */
	uint32_t half = 0, named = 0;
	if (req->dag == px->d && req->op < px->d->n_ops) {
		for (uint32_t i = 0; i < px->rules.n; i++) {
			const struct fault_rule *r = &px->rules.rules[i];
			if (!rule_matches(px, r, req->op))
				continue;
			if (r->action == FAULT_CRASH_AFTER) {
				/* The calls it matched before this one: `count` went through, this one does not. */
				if (atomic_fetch_add(&px->matched[i], 1) >= r->count)
					_exit(FAULTS_CRASH_STATUS);
				continue;
			}
			if (!draw(px, req, i))
				continue;
			if (r->action == FAULT_DELAY)
				delay += r->delay_ms;
			else if (fault < 0)
				fault = (int)i;
		}
	}
	if (delay > 0 || fault >= 0)
		atomic_fetch_add(&px->injected, 1);
	if (delay > 0 && px->rules.sleep_delays)
		clock_sleep_ns(delay * 1000000);
	const struct fault_rule *r = fault >= 0 ? &px->rules.rules[fault] : NULL;
	if (r && r->action == FAULT_ERROR) {
		adapter_reply_set(reply, r->transient ? ADAPTER_TRANSIENT : ADAPTER_FAILED,
		                  "injected fault: rule %d (line %u)%s", fault + 1, r->line, r->transient ? ", transient" : "");
	} else if (r && r->action == FAULT_PARTIAL_TIMEOUT && partial_call(px, req, reply, entry, &half, &named)) {
		if (reply->status == ADAPTER_DONE)
			adapter_reply_set(reply, ADAPTER_TRANSIENT, "injected timeout after %u of %u VMs: rule %d (line %u)", half,
			                  named, fault + 1, r->line);
	} else if (r && (r->action == FAULT_TIMEOUT || r->action == FAULT_PARTIAL_TIMEOUT)) {
		adapter_reply_set(reply, ADAPTER_TRANSIENT, "injected timeout: rule %d (line %u)", fault + 1, r->line);
	} else {
		entry(px->inner, req, reply);
		if (r && r->action == FAULT_LOST_REPLY && reply->status == ADAPTER_DONE)
			adapter_reply_set(reply, ADAPTER_TRANSIENT, "reply lost: injected by rule %d (line %u)", fault + 1,
			                  r->line);
	}
	if (!px->rules.sleep_delays)
		reply->duration_ms += delay;
}

/* One vtable entry per inner entry; the failover's protected half passes through unaltered, so
 * that a rule on `failover` acts once per attempt. */
#define PROXY_ENTRY(name)                                                                                \
	static void proxy_##name(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply) \
	{                                                                                                  \
		proxy_call(a, req, reply, ((struct proxy *)a)->inner->vt->name);                               \
	}
PROXY_ENTRY(sync)
PROXY_ENTRY(failover)
PROXY_ENTRY(set_preference)
PROXY_ENTRY(snapshot)
PROXY_ENTRY(reverse)
PROXY_ENTRY(shutdown)
PROXY_ENTRY(migrate)
PROXY_ENTRY(register_vms)
PROXY_ENTRY(power_on)
PROXY_ENTRY(unregister_vms)
PROXY_ENTRY(discard_snapshot)

static void proxy_prepare_failover(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply)
{
	struct proxy *px = (struct proxy *)a;
	px->inner->vt->prepare_failover(px->inner, req, reply);
}

static void proxy_query(struct adapter *a, const struct adapter_request *req, struct adapter_answer *ans)
{
	struct proxy *px = (struct proxy *)a;
	if (px->inner->vt->query)
		px->inner->vt->query(px->inner, req, ans);
}

static bool proxy_flush(struct adapter *a, char *err, size_t errlen)
{
	struct proxy *px = (struct proxy *)a;
	return px->inner->vt->flush ? px->inner->vt->flush(px->inner, err, errlen) : true;
}

static void proxy_close(struct adapter *a)
{
	struct proxy *px = (struct proxy *)a;
	px->inner->vt->close(px->inner);
	fault_rules_free(&px->rules);
	free(px->matched);
	free((void *)px->base.vt);
	free(px);
}

struct adapter *faults_wrap(struct adapter *inner, const struct dag *d, const struct fault_rules *rules, uint64_t seed)
{
	struct proxy *px = xcalloc(1, sizeof *px);
	/* The inner adapter's missing entries stay missing, so adapter_perform's refusals are unchanged. */
	const struct adapter_vtable *in = inner->vt;
	struct adapter_vtable *vt = xcalloc(1, sizeof *vt);
	vt->name = in->name;
	vt->sync = in->sync ? proxy_sync : NULL;
	vt->prepare_failover = in->prepare_failover ? proxy_prepare_failover : NULL;
	vt->failover = in->failover ? proxy_failover : NULL;
	vt->set_preference = in->set_preference ? proxy_set_preference : NULL;
	vt->snapshot = in->snapshot ? proxy_snapshot : NULL;
	vt->reverse = in->reverse ? proxy_reverse : NULL;
	vt->shutdown = in->shutdown ? proxy_shutdown : NULL;
	vt->migrate = in->migrate ? proxy_migrate : NULL;
	vt->register_vms = in->register_vms ? proxy_register_vms : NULL;
	vt->power_on = in->power_on ? proxy_power_on : NULL;
	vt->query = proxy_query;
	vt->flush = in->flush ? proxy_flush : NULL;
	vt->close = proxy_close;
	vt->unregister_vms = in->unregister_vms ? proxy_unregister_vms : NULL;
	vt->discard_snapshot = in->discard_snapshot ? proxy_discard_snapshot : NULL;
	px->base.vt = vt;
	px->inner = inner;
	px->d = d;
	px->seed = seed;
	px->rules.sleep_delays = rules->sleep_delays;
	px->rules.n = rules->n;
	px->rules.rules = xcalloc((size_t)rules->n + 1, sizeof *px->rules.rules);
	for (uint32_t i = 0; i < rules->n; i++) {
		struct fault_rule *r = &px->rules.rules[i];
		*r = rules->rules[i];
		r->site = r->site ? xstrdup(r->site) : NULL;
		r->device = r->device ? xstrdup(r->device) : NULL;
		r->vm = r->vm ? xstrdup(r->vm) : NULL;
		r->op = r->op ? xstrdup(r->op) : NULL;
	}
	px->matched = xcalloc((size_t)rules->n + 1, sizeof *px->matched);
	return &px->base;
}

uint64_t faults_injected(struct adapter *proxy)
{
	return atomic_load(&((struct proxy *)proxy)->injected);
}
