/* verify.c: the DAG verifier: from the model alone it works out which operations a plan needs and
 * which must come before which, and checks the finished DAG against that (the list is in verify.h,
 * what a violation means in docs/diagnostics.md, DRP050). It shares no code with lowering: names,
 * never indices, lead from the DAG's tables back to the model. */
#include "verify.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "../lib/strmap.h"

#define NONE DAG_NONE

/* The guarantees, each named in its violations' messages. */
enum guarantee {
	G_STRUCTURE, /* 0: references in range, kinds that fit */
	G_ACYCLIC,   /* 1 */
	G_WORKGROUPS,
	G_STEPS,     /* 1b: one operation per workgroup or device and step, in step order */
	G_PREFER,    /* 2 */
	G_STORAGE,   /* 3 */
	G_SYNC,      /* 4 */
	G_SHUTDOWN,  /* 4 */
	G_PRIORITY,  /* 5 */
	G_AFTER,     /* 5 */
	G_CGROUP,    /* 6 */
	G_TEST,      /* 7 */
	G_BARRIER,   /* 8 */
	G_CLEANUP,   /* 9: no snapshot discarded while a test VM on it is registered */
	G_CLEANUP_SITE, /* 9: a cleanup acts at the recovery site only */
};

static const char *const guarantee_names[] = {
	"well-formed graph", "no cycle", "workgroups", "one operation per step, in step order",
	"prefer before migrate", "storage before register and power-on", "sync before failover",
	"shutdown before failover", "power-on by priority", "after dependencies",
	"one failover per consistency group", "test mode leaves the protected site alone", "plan-wide steps",
	"no snapshot discarded while a test VM on it is registered", "cleanup mode leaves the protected site alone",
};

/* Below this many pairs, "every operation of S reaches every operation of T" is asked pair by pair;
 * above it, as a whole (all_pairs). */
#define PAIRWISE_MAX 256
/* 64-bit words per operation in one mask-propagation pass: 512 sources at a time. */
#define MASK_WORDS 8
/* Operation ids one message may name at once. */
#define ID_BUFS 6
/* Name look-ups hashed and prefetched this many ahead (a million VMs: nearly every probe misses). */
#define LOOKAHEAD 8

enum step_class { CLASS_DEVICE, CLASS_WORKGROUP, CLASS_PLAN };

/* A stamped visited set: mark[i] == epoch means "in the set"; a new epoch empties it at no cost. */
struct stamps {
	uint32_t *mark;
	uint32_t epoch;
	uint32_t n;
};

/* A growable list of indices, for scratch. */
struct u32s {
	uint32_t *a;
	uint32_t n, cap;
};

static void u32s_push(struct u32s *l, uint32_t x)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->a = xrealloc(l->a, l->cap * sizeof *l->a);
	}
	l->a[l->n++] = x;
}

struct verifier {
	const struct dag *d;
	const struct model *m;
	const struct model_plan *plan;
	struct diag_list *diags;
	struct src_range at;
	uint64_t n_violations;
	bool searching, gave_up;  /* in the reachability checks; stopped early past the limit */
	struct buf ids[ID_BUFS];
	unsigned next_id;
	/* The DAG's tables, by name, in the model. */
	uint32_t *dev_m;          /* DAG device -> model device, or NONE */
	uint32_t *group_m;        /* DAG consistency group -> model group, or NONE */
	uint32_t *vm_m;           /* DAG VM -> model VM, or NONE */
	uint32_t *vm_wg;          /* model VM -> its DAG workgroup, or NONE */
	/* Operations by step: step_ops[step_first[s] .. step_first[s + 1]). */
	uint32_t *step_first, *step_ops;
	/* Each step's slot among the workgroup steps (CLASS_WORKGROUP) or device steps (CLASS_DEVICE),
	 * in step order; NONE for plan steps. */
	uint32_t *slot;
	uint32_t n_wslots, n_dslots;
	uint32_t *wslot_step, *dslot_step; /* slot -> step */
	uint32_t *wg_op;          /* [workgroup * n_wslots + slot]: its operation, or NONE */
	uint32_t *dev_op;         /* [model device * n_dslots + slot]: the operation covering it, or NONE */
	uint32_t *plan_op;        /* per plan step: its one operation, NONE if none, NONE - 1 if several */
	/* The first step of each kind, as a slot (NONE if the plan has none). */
	uint32_t shutdown_slot, migrate_slot, register_slot, power_slot; /* workgroup slots */
	uint32_t failover_slot, prefer_slot;                             /* device slots */
	uint32_t unregister_slot, discard_slot;                          /* cleanup: the same */
	/* `after` clauses: the plan's VMs that carry each, after_vms[after_first[a] .. [a + 1]). */
	uint32_t *after_first, *after_vms;
	/* The graph. */
	uint32_t *order, *pos;    /* a topological order, and each operation's position in it */
	struct dag_succ succ;
	bool have_succ;
	struct stamps seen, seen2, in_s, want, dedup, dedup2;
	uint32_t *stack;          /* n_ops entries: a search pushes each operation at most once */
	uint32_t *sub_index;      /* all_pairs: an operation's place in the subgraph */
	uint32_t *s_index;        /* all_pairs: an operation's place in S */
	struct u32s list, list2, list3; /* scratch */
	bool *ok;                 /* reach_many results */
	uint32_t ok_cap;
};

/* ---- Reporting ---- */

/* Counts a violation; true if it is to be shown. Past the limit, the searching checks stop (gave_up):
 * a badly broken DAG could cost a full search per operation only to raise the count. */
static bool report_more(struct verifier *v)
{
	if (++v->n_violations > VERIFY_MAX_REPORTS && v->searching)
		v->gave_up = true;
	return v->n_violations <= VERIFY_MAX_REPORTS;
}

static struct diag *violation(struct verifier *v, enum guarantee g, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct diag *violation(struct verifier *v, enum guarantee g, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	struct diag *e = diag_add(v->diags, DIAG_ERROR, DRP050, v->at, "compiled DAG breaks '%s': %s",
	                          guarantee_names[g], msg.data);
	buf_free(&msg);
	if (v->n_violations == 1)
		diag_hint(e, "this is a bug in drplan, not in the plan, and nothing was written: please report it "
		             "with the plan");
	return e;
}

/* Formats only the violations that are shown (ids and all), and counts the rest. */
#define VIOLATION(v, ...) (report_more(v) ? violation((v), __VA_ARGS__) : NULL)

/* An operation's id in a buffer that stays valid for the next ID_BUFS - 1 calls. */
static const char *op_id(struct verifier *v, uint32_t op)
{
	struct buf *b = &v->ids[v->next_id++ % ID_BUFS];
	buf_clear(b);
	dag_op_id(v->d, op, b);
	return b->data;
}

/* The same for an operation that may not be well-formed (dag_op_id would index out of range). */
static bool op_sane(const struct dag *d, uint32_t i)
{
	const struct dag_op *op = &d->ops[i];
	if (op->kind >= DAG_N_OP_KINDS)
		return false;
	switch (op->target_kind) {
	case DAG_TARGET_PLAN: return true;
	case DAG_TARGET_DEVICE: return op->target < d->n_devices && d->devices[op->target].name;
	case DAG_TARGET_GROUP: return op->target < d->n_groups && d->groups[op->target].name;
	case DAG_TARGET_WORKGROUP: return op->target < d->n_workgroups;
	default: return false;
	}
}

static const char *safe_op_id(struct verifier *v, uint32_t op)
{
	if (op < v->d->n_ops && op_sane(v->d, op))
		return op_id(v, op);
	struct buf *b = &v->ids[v->next_id++ % ID_BUFS];
	buf_clear(b);
	buf_printf(b, "operation #%u", op);
	return b->data;
}

static const char *step_word(const struct dag_step *st)
{
	return (unsigned)st->kind < AST_N_STEP_KINDS ? ast_step_names[st->kind] : "?";
}

/* ---- Small tools ---- */

static uint32_t *nones(size_t n)
{
	uint32_t *a = xmalloc((n ? n : 1) * sizeof *a);
	memset(a, 0xff, (n ? n : 1) * sizeof *a);
	return a;
}

static void stamps_init(struct stamps *s, uint32_t n)
{
	s->mark = xcalloc((size_t)n + 1, sizeof *s->mark);
	s->epoch = 0;
	s->n = n;
}

static void stamps_next(struct stamps *s)
{
	if (++s->epoch == 0) {
		memset(s->mark, 0, ((size_t)s->n + 1) * sizeof *s->mark);
		s->epoch = 1;
	}
}

static bool *ok_array(struct verifier *v, uint32_t n)
{
	if (n > v->ok_cap) {
		v->ok_cap = n > 2 * v->ok_cap ? n : 2 * v->ok_cap;
		v->ok = xrealloc(v->ok, v->ok_cap * sizeof *v->ok);
	}
	return v->ok;
}

static enum step_class step_class(const struct dag_step *st)
{
	switch (st->kind) {
	case AST_STEP_SYNC:
	case AST_STEP_FAILOVER:
	case AST_STEP_REVERSE:
	case AST_STEP_PREFER:
	case AST_STEP_DISCARD:
		return CLASS_DEVICE;
	case AST_STEP_SHUTDOWN:
	case AST_STEP_MIGRATE:
	case AST_STEP_REGISTER:
	case AST_STEP_POWER_ON:
	case AST_STEP_UNREGISTER:
		return CLASS_WORKGROUP;
	case AST_STEP_RUN:
		return st->per_workgroup ? CLASS_WORKGROUP : CLASS_PLAN;
	case AST_STEP_PROMPT:
	case AST_STEP_WAIT:
		break;
	}
	return CLASS_PLAN;
}

/* The kind of operation a step makes. */
static enum dag_op_kind step_op_kind(const struct dag_step *st, enum ast_mode mode)
{
	switch (st->kind) {
	case AST_STEP_SYNC: return DAG_SYNC;
	case AST_STEP_SHUTDOWN: return DAG_SHUTDOWN;
	case AST_STEP_FAILOVER: return mode == AST_MODE_TEST ? DAG_SNAPSHOT : DAG_FAILOVER;
	case AST_STEP_REVERSE: return DAG_REVERSE;
	case AST_STEP_PREFER: return DAG_PREFER;
	case AST_STEP_MIGRATE: return DAG_MIGRATE;
	case AST_STEP_REGISTER: return DAG_REGISTER;
	case AST_STEP_POWER_ON: return DAG_POWER_ON;
	case AST_STEP_RUN: return DAG_RUN;
	case AST_STEP_PROMPT: return DAG_PROMPT;
	case AST_STEP_UNREGISTER: return DAG_UNREGISTER;
	case AST_STEP_DISCARD: return DAG_DISCARD;
	case AST_STEP_WAIT: break;
	}
	return DAG_WAIT;
}

/* Does a workgroup step act on a workgroup that moves live (or by storage)? Storage workgroups are
 * shut down, registered and powered on; live ones migrate (and are running already). */
static bool wstep_applies(const struct dag_step *st, bool live)
{
	switch (st->kind) {
	case AST_STEP_SHUTDOWN:
	case AST_STEP_REGISTER:
	case AST_STEP_POWER_ON:
	case AST_STEP_UNREGISTER:
		return !live;
	case AST_STEP_MIGRATE:
		return live;
	default:
		return true; /* run ... per workgroup */
	}
}

/* Does a device step act on a device of this kind? */
static bool dstep_applies(const struct dag_step *st, enum ast_device_kind kind)
{
	return st->kind == AST_STEP_PREFER ? kind == AST_DEVICE_STRETCHED : kind == AST_DEVICE_REPLICATED;
}

/* Operations that act at the protected site: a test must make none. */
static bool touches_protected_site(enum dag_op_kind kind)
{
	return kind == DAG_SHUTDOWN || kind == DAG_FAILOVER || kind == DAG_SYNC || kind == DAG_PREFER ||
	       kind == DAG_MIGRATE || kind == DAG_REVERSE;
}

static bool vm_in_plan(const struct verifier *v, const struct model_vm *vm)
{
	for (uint32_t k = 0; k < vm->n_devices; k++)
		if (v->plan->covered[vm->devices[k]])
			return true;
	return false;
}

static const char *model_site_name(const struct verifier *v, uint32_t site)
{
	return site == MODEL_NONE ? "(none)" : v->m->sites[site].name;
}

static const char *dag_site_name(const struct verifier *v, uint32_t site)
{
	if (site == NONE)
		return "(none)";
	return v->d->sites[site].name ? v->d->sites[site].name : "(no name)";
}

/* A DAG site (in range, or NONE) against a model site, by name. */
static bool same_site(const struct verifier *v, uint32_t dag_site, uint32_t model_site)
{
	if (dag_site == NONE || model_site == MODEL_NONE)
		return dag_site == NONE && model_site == MODEL_NONE;
	const char *name = v->d->sites[dag_site].name;
	return name && strcmp(name, v->m->sites[model_site].name) == 0;
}

/* ---- 0: structure ---- */

static void check_plan_facts(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct model_plan *p = v->plan;
	for (uint32_t s = 0; s < d->n_sites; s++)
		if (!d->sites[s].name) {
			VIOLATION(v, G_STRUCTURE, "site #%u has no name", s);
			return;
		}
	if (d->mode != p->mode)
		VIOLATION(v, G_STRUCTURE, "the DAG is of a %s plan, the plan's mode is %s",
		          (unsigned)d->mode <= AST_MODE_REPROTECT ? ast_mode_names[d->mode] : "?", ast_mode_names[p->mode]);
	if ((d->from != NONE && d->from >= d->n_sites) || (d->to != NONE && d->to >= d->n_sites)) {
		VIOLATION(v, G_STRUCTURE, "the plan's sites (%u, %u) are out of range (%u sites)", d->from, d->to,
		          d->n_sites);
		return;
	}
	if (!same_site(v, d->from, p->from) || !same_site(v, d->to, p->to))
		VIOLATION(v, G_STRUCTURE, "the DAG goes from '%s' to '%s', the plan from '%s' to '%s'",
		          dag_site_name(v, d->from), dag_site_name(v, d->to), model_site_name(v, p->from),
		          model_site_name(v, p->to));
}

static void check_devices(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct model *m = v->m;
	v->dev_m = nones(d->n_devices);
	uint32_t *seen = nones(m->n_devices);
	for (uint32_t i = 0; i < d->n_devices; i++) {
		const struct dag_device *dd = &d->devices[i];
		if (!dd->name) {
			VIOLATION(v, G_STRUCTURE, "device #%u has no name", i);
			continue;
		}
		uint32_t md = strmap_get(&m->device_names, dd->name, strlen(dd->name));
		if (md == STRMAP_NONE) {
			VIOLATION(v, G_STRUCTURE, "device '%s' of the DAG is not in the model", dd->name);
			continue;
		}
		if (seen[md] != NONE) {
			VIOLATION(v, G_STRUCTURE, "device '%s' is in the DAG's devices twice (#%u and #%u)", dd->name,
			          seen[md], i);
			continue;
		}
		seen[md] = i;
		v->dev_m[i] = md;
		const struct model_device *mdev = &m->devices[md];
		if ((dd->kind == DAG_STRETCHED) != (mdev->kind == AST_DEVICE_STRETCHED))
			VIOLATION(v, G_STRUCTURE, "device '%s' is %s in the DAG but %s in the model", dd->name,
			          dd->kind == DAG_STRETCHED ? "stretched" : "replicated",
			          mdev->kind == AST_DEVICE_STRETCHED ? "stretched" : "replicated");
		if (dd->group != NONE && (dd->group >= d->n_groups || !d->groups[dd->group].name)) {
			VIOLATION(v, G_STRUCTURE, "device '%s' is in consistency group #%u, out of range", dd->name, dd->group);
			continue;
		}
		const char *dg = dd->group == NONE ? NULL : d->groups[dd->group].name;
		const char *mg = mdev->consistency == MODEL_NONE ? NULL : m->groups[mdev->consistency].name;
		if ((dg == NULL) != (mg == NULL) || (dg && strcmp(dg, mg) != 0))
			VIOLATION(v, G_CGROUP, "device '%s' is in consistency group '%s' in the DAG but in '%s' in the model",
			          dd->name, dg ? dg : "(none)", mg ? mg : "(none)");
	}
	free(seen);
}

static void check_groups(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct model *m = v->m;
	v->group_m = nones(d->n_groups);
	uint32_t *seen = nones(m->n_groups);
	uint32_t *listed = xcalloc((size_t)m->n_devices + 1, sizeof *listed);
	for (uint32_t g = 0; g < d->n_groups; g++) {
		const struct dag_group *dg = &d->groups[g];
		if (!dg->name) {
			VIOLATION(v, G_STRUCTURE, "consistency group #%u has no name", g);
			continue;
		}
		uint32_t mg = strmap_get(&m->group_names, dg->name, strlen(dg->name));
		if (mg == STRMAP_NONE) {
			VIOLATION(v, G_STRUCTURE, "consistency group '%s' of the DAG is not in the model", dg->name);
			continue;
		}
		if (seen[mg] != NONE) {
			VIOLATION(v, G_STRUCTURE, "consistency group '%s' is in the DAG's groups twice", dg->name);
			continue;
		}
		seen[mg] = g;
		v->group_m[g] = mg;
		if (dg->n_devices && !dg->devices) {
			VIOLATION(v, G_STRUCTURE, "consistency group '%s' has %u devices but no list of them", dg->name,
			          dg->n_devices);
			continue;
		}
		/* The runtime fails over what the DAG's group lists: exactly the model's group. */
		uint32_t distinct = 0;
		for (uint32_t k = 0; k < dg->n_devices; k++) {
			uint32_t i = dg->devices[k];
			if (i >= d->n_devices) {
				VIOLATION(v, G_STRUCTURE, "consistency group '%s' lists device #%u, out of range", dg->name, i);
				continue;
			}
			uint32_t md = v->dev_m[i];
			if (md == NONE)
				continue;
			if (m->devices[md].consistency != mg) {
				VIOLATION(v, G_CGROUP, "consistency group '%s' of the DAG lists device '%s', which is not in it",
				          dg->name, m->devices[md].name);
				continue;
			}
			if (listed[md] == g + 1) {
				VIOLATION(v, G_CGROUP, "consistency group '%s' lists device '%s' twice", dg->name, m->devices[md].name);
				continue;
			}
			listed[md] = g + 1;
			distinct++;
		}
		if (distinct != m->groups[mg].n_devices)
			for (uint32_t k = 0; k < m->groups[mg].n_devices; k++) {
				uint32_t md = m->groups[mg].devices[k];
				if (listed[md] != g + 1)
					VIOLATION(v, G_CGROUP, "consistency group '%s' of the DAG leaves out its device '%s'", dg->name,
					          m->devices[md].name);
			}
	}
	free(listed);
	free(seen);
}

/* VM names to model VMs: a million look-ups, so hashed and prefetched ahead. */
static void map_vms(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct strmap *map = &v->m->vm_names;
	v->vm_m = nones(d->n_vms);
	uint64_t hashes[LOOKAHEAD];
	size_t lens[LOOKAHEAD];
	for (uint32_t i = 0; i < d->n_vms && i < LOOKAHEAD; i++) {
		const char *name = d->vms[i].name;
		lens[i] = name ? strlen(name) : 0;
		hashes[i] = name ? strmap_hash(name, lens[i]) : 0;
		strmap_prefetch(map, hashes[i]);
	}
	for (uint32_t i = 0; i < d->n_vms; i++) {
		const char *name = d->vms[i].name;
		uint64_t hash = hashes[i % LOOKAHEAD];
		size_t len = lens[i % LOOKAHEAD];
		if (i + LOOKAHEAD < d->n_vms) {
			const char *next = d->vms[i + LOOKAHEAD].name;
			lens[i % LOOKAHEAD] = next ? strlen(next) : 0;
			hashes[i % LOOKAHEAD] = next ? strmap_hash(next, lens[i % LOOKAHEAD]) : 0;
			strmap_prefetch(map, hashes[i % LOOKAHEAD]);
		}
		if (!name) {
			VIOLATION(v, G_STRUCTURE, "VM #%u has no name", i);
			continue;
		}
		uint32_t mv = strmap_get_hashed(map, name, len, hash);
		if (mv == STRMAP_NONE)
			VIOLATION(v, G_WORKGROUPS, "VM '%s' of the DAG is not in the model", name);
		else
			v->vm_m[i] = mv;
	}
}

static void check_workgroup_tables(struct verifier *v)
{
	const struct dag *d = v->d;
	uint64_t total = 0;
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		const struct dag_workgroup *wg = &d->workgroups[w];
		if (wg->first_vm > d->n_vms || wg->n_vms > d->n_vms - wg->first_vm) {
			VIOLATION(v, G_STRUCTURE, "workgroup w%u's VMs (%u from #%u) are out of range (%u VMs)", w + 1,
			          wg->n_vms, wg->first_vm, d->n_vms);
			continue;
		}
		total += wg->n_vms;
		for (uint32_t k = wg->first_vm; k < wg->first_vm + wg->n_vms; k++)
			if (d->vms[k].workgroup != w) {
				VIOLATION(v, G_WORKGROUPS, "VM '%s' is listed in workgroup w%u but says it is in workgroup w%u",
				          d->vms[k].name ? d->vms[k].name : "?", w + 1, d->vms[k].workgroup + 1);
				break;
			}
		if (wg->n_devices && !wg->devices) {
			VIOLATION(v, G_STRUCTURE, "workgroup w%u has %u devices but no list of them", w + 1, wg->n_devices);
			continue;
		}
		for (uint32_t k = 0; k < wg->n_devices; k++)
			if (wg->devices[k] >= d->n_devices) {
				VIOLATION(v, G_STRUCTURE, "workgroup w%u lists device #%u, out of range", w + 1, wg->devices[k]);
				break;
			}
	}
	if (total != d->n_vms)
		VIOLATION(v, G_WORKGROUPS, "the workgroups hold %llu VMs, the DAG lists %u", (unsigned long long)total,
		          d->n_vms);
}

/* The DAG's steps are the plan's, in its order, plus at most one `prefer` that the compiler inserted
 * before the first `migrate live` of a plan without one (DESIGN.md section 3, guarantee 2). */
static void check_steps(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct model_plan *p = v->plan;
	bool plan_prefers = false;
	for (uint32_t i = 0; i < p->n_steps; i++)
		plan_prefers |= p->steps[i].kind == AST_STEP_PREFER;
	uint32_t j = 0, inserted = NONE, first_migrate = NONE;
	for (uint32_t s = 0; s < d->n_steps; s++) {
		const struct dag_step *st = &d->steps[s];
		if ((unsigned)st->kind >= AST_N_STEP_KINDS) {
			VIOLATION(v, G_STRUCTURE, "step %u is of an unknown kind (%d)", s + 1, (int)st->kind);
			continue;
		}
		if (st->site != NONE && st->site >= d->n_sites) {
			VIOLATION(v, G_STRUCTURE, "step %u (%s) is at site #%u, out of range", s + 1, step_word(st), st->site);
			continue;
		}
		if (st->kind == AST_STEP_MIGRATE && first_migrate == NONE)
			first_migrate = s;
		if (st->inserted) {
			if (st->kind != AST_STEP_PREFER || plan_prefers || inserted != NONE)
				VIOLATION(v, G_STRUCTURE,
				          "step %u (%s) was inserted by the compiler, but only a 'prefer' step may be, once, "
				          "into a plan that has none",
				          s + 1, step_word(st));
			else
				inserted = s;
			if (st->kind == AST_STEP_PREFER && !same_site(v, st->site, p->to))
				VIOLATION(v, G_PREFER, "the inserted step %u prefers site '%s', not the recovery site '%s'", s + 1,
				          dag_site_name(v, st->site), model_site_name(v, p->to));
			continue;
		}
		if (j == p->n_steps) {
			VIOLATION(v, G_STRUCTURE, "step %u (%s) is not one of the plan's steps: the plan has %u", s + 1,
			          step_word(st), p->n_steps);
			continue;
		}
		const struct model_step *ms = &p->steps[j++];
		if (ms->kind != st->kind) {
			VIOLATION(v, G_STRUCTURE, "step %u is '%s', but the plan's step %u is '%s'", s + 1, step_word(st), j,
			          ast_step_names[ms->kind]);
			continue;
		}
		bool sited = st->kind == AST_STEP_SHUTDOWN || st->kind == AST_STEP_REGISTER || st->kind == AST_STEP_PREFER ||
		             st->kind == AST_STEP_UNREGISTER;
		if (sited && !same_site(v, st->site, ms->site))
			VIOLATION(v, G_STRUCTURE, "step %u (%s) is at site '%s', the plan's at '%s'", s + 1, step_word(st),
			          dag_site_name(v, st->site), model_site_name(v, ms->site));
		const struct ast_step *as = &ms->stmt->u.step;
		if (st->kind == AST_STEP_POWER_ON && st->by_priority != as->by_priority)
			VIOLATION(v, G_PRIORITY, "step %u (power-on) is %s in the DAG but %s in the plan", s + 1,
			          st->by_priority ? "by priority" : "not by priority",
			          as->by_priority ? "by priority" : "not by priority");
		if (st->kind == AST_STEP_RUN && st->per_workgroup != as->per_workgroup)
			VIOLATION(v, G_STRUCTURE, "step %u (run) is %s in the DAG but %s in the plan", s + 1,
			          st->per_workgroup ? "per workgroup" : "plan-wide", as->per_workgroup ? "per workgroup" : "plan-wide");
	}
	for (; j < p->n_steps; j++)
		VIOLATION(v, G_STRUCTURE, "the plan's step %u (%s) is not in the DAG", j + 1, ast_step_names[p->steps[j].kind]);
	if (inserted != NONE && (first_migrate == NONE || inserted > first_migrate))
		VIOLATION(v, G_PREFER, "the inserted 'prefer' step %u does not come before a 'migrate live' step",
		          inserted + 1);
}

static void check_ops(struct verifier *v)
{
	const struct dag *d = v->d;
	enum ast_mode mode = v->plan->mode;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		const struct dag_op *op = &d->ops[i];
		if (op->kind >= DAG_N_OP_KINDS || op->target_kind > DAG_TARGET_WORKGROUP) {
			VIOLATION(v, G_STRUCTURE, "operation #%u is of an unknown kind (%u) or target kind (%u)", i, op->kind,
			          op->target_kind);
			continue;
		}
		if (!op_sane(d, i)) {
			VIOLATION(v, G_STRUCTURE, "operation #%u (%s) acts on #%u, out of range", i, dag_op_kind_names[op->kind],
			          op->target);
			continue;
		}
		if (op->step >= d->n_steps) {
			VIOLATION(v, G_STRUCTURE, "%s is in step %u of %u", op_id(v, i), op->step + 1, d->n_steps);
			continue;
		}
		if (op->site != NONE && op->site >= d->n_sites) {
			VIOLATION(v, G_STRUCTURE, "%s acts at site #%u, out of range", op_id(v, i), op->site);
			continue;
		}
		if (mode == AST_MODE_TEST && touches_protected_site(op->kind))
			VIOLATION(v, G_TEST, "a test must not touch the protected site, but the DAG has %s", op_id(v, i));
		else if (mode == AST_MODE_TEST && op->site != NONE && op->site == d->from)
			VIOLATION(v, G_TEST, "%s acts at the protected site '%s' in a test", op_id(v, i), dag_site_name(v, op->site));
		if (mode == AST_MODE_CLEANUP && op->site != NONE && op->site != d->to)
			VIOLATION(v, G_CLEANUP_SITE, "%s acts at site '%s' in a cleanup, not at the recovery site '%s' where the "
			          "test ran", op_id(v, i), dag_site_name(v, op->site), dag_site_name(v, d->to));
		if (op->kind == DAG_GATE) {
			if (op->target_kind != DAG_TARGET_PLAN)
				VIOLATION(v, G_STRUCTURE, "%s is a gate on a device, group or workgroup", op_id(v, i));
			continue;
		}
		const struct dag_step *st = &d->steps[op->step];
		if ((unsigned)st->kind >= AST_N_STEP_KINDS)
			continue; /* reported with the steps */
		enum dag_op_kind want = step_op_kind(st, mode);
		if (op->kind != want) {
			VIOLATION(v, G_STRUCTURE, "%s is a %s operation in step %u, whose operations are %s", op_id(v, i),
			          dag_op_kind_names[op->kind], op->step + 1, dag_op_kind_names[want]);
			continue;
		}
		enum step_class c = step_class(st);
		bool fits = c == CLASS_WORKGROUP ? op->target_kind == DAG_TARGET_WORKGROUP
		          : c == CLASS_PLAN      ? op->target_kind == DAG_TARGET_PLAN
		          : op->target_kind == DAG_TARGET_DEVICE ||
		                    ((st->kind == AST_STEP_FAILOVER || st->kind == AST_STEP_DISCARD) &&
		                     op->target_kind == DAG_TARGET_GROUP);
		if (!fits) {
			static const char *const targets[] = {"the plan", "a device", "a consistency group", "a workgroup"};
			VIOLATION(v, G_STRUCTURE, "%s acts on %s, which step %u (%s) does not", op_id(v, i),
			          targets[op->target_kind], op->step + 1, step_word(st));
			continue;
		}
		if (op->kind == DAG_PREFER && op->site != st->site)
			VIOLATION(v, G_PREFER, "%s prefers site '%s', but its step prefers '%s'", op_id(v, i),
			          dag_site_name(v, op->site), dag_site_name(v, st->site));
	}
}

static void check_edges(struct verifier *v)
{
	const struct dag *d = v->d;
	if (!d->finished) {
		VIOLATION(v, G_STRUCTURE, "the DAG was not finished (its edges are not indexed)");
		return;
	}
	for (uint32_t e = 0; e < d->n_edges; e++) {
		const struct dag_edge *x = &d->edges[e];
		if (x->from >= d->n_ops || x->to >= d->n_ops) {
			VIOLATION(v, G_STRUCTURE, "edge #%u joins operations #%u and #%u, out of range (%u operations)", e,
			          x->from, x->to, d->n_ops);
			return;
		}
		if (e > 0) {
			const struct dag_edge *y = &d->edges[e - 1];
			if (y->to > x->to || (y->to == x->to && y->from >= x->from)) {
				VIOLATION(v, G_STRUCTURE, "edge #%u (%s -> %s) is out of order or repeated", e, safe_op_id(v, x->from),
				          safe_op_id(v, x->to));
				return;
			}
		}
		if (x->kind >= DAG_N_EDGE_KINDS)
			VIOLATION(v, G_STRUCTURE, "edge %s -> %s is of an unknown kind (%u)", safe_op_id(v, x->from),
			          safe_op_id(v, x->to), x->kind);
	}
	uint64_t total = 0;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		const struct dag_op *op = &d->ops[i];
		total += op->n_preds;
		if (op->n_preds == 0)
			continue;
		if (op->first_pred >= d->n_edges || op->n_preds > d->n_edges - op->first_pred ||
		    d->edges[op->first_pred].to != i || d->edges[op->first_pred + op->n_preds - 1].to != i) {
			VIOLATION(v, G_STRUCTURE, "the predecessors of %s are not indexed", safe_op_id(v, i));
			return;
		}
	}
	if (total != d->n_edges)
		VIOLATION(v, G_STRUCTURE, "the operations index %llu predecessors, but there are %u edges",
		          (unsigned long long)total, d->n_edges);
}

/* ---- Indexes the later checks share ---- */

static void index_steps(struct verifier *v)
{
	const struct dag *d = v->d;
	v->slot = nones(d->n_steps);
	v->wslot_step = nones(d->n_steps);
	v->dslot_step = nones(d->n_steps);
	v->shutdown_slot = v->migrate_slot = v->register_slot = v->power_slot = NONE;
	v->failover_slot = v->prefer_slot = NONE;
	v->unregister_slot = v->discard_slot = NONE;
	for (uint32_t s = 0; s < d->n_steps; s++) {
		const struct dag_step *st = &d->steps[s];
		switch (step_class(st)) {
		case CLASS_WORKGROUP: {
			uint32_t k = v->n_wslots++;
			v->slot[s] = k;
			v->wslot_step[k] = s;
			uint32_t *first = st->kind == AST_STEP_SHUTDOWN ? &v->shutdown_slot
			                : st->kind == AST_STEP_MIGRATE  ? &v->migrate_slot
			                : st->kind == AST_STEP_REGISTER ? &v->register_slot
			                : st->kind == AST_STEP_POWER_ON ? &v->power_slot
			                : st->kind == AST_STEP_UNREGISTER ? &v->unregister_slot
			                                                : NULL;
			if (first && *first == NONE)
				*first = k;
			break;
		}
		case CLASS_DEVICE: {
			uint32_t k = v->n_dslots++;
			v->slot[s] = k;
			v->dslot_step[k] = s;
			if (st->kind == AST_STEP_FAILOVER && v->failover_slot == NONE)
				v->failover_slot = k;
			if (st->kind == AST_STEP_PREFER && v->prefer_slot == NONE)
				v->prefer_slot = k;
			if (st->kind == AST_STEP_DISCARD && v->discard_slot == NONE)
				v->discard_slot = k;
			break;
		}
		case CLASS_PLAN:
			break;
		}
	}
	v->step_first = xcalloc((size_t)d->n_steps + 1, sizeof *v->step_first);
	v->step_ops = xmalloc(((size_t)d->n_ops + 1) * sizeof *v->step_ops);
	for (uint32_t i = 0; i < d->n_ops; i++)
		v->step_first[d->ops[i].step + 1]++;
	for (uint32_t s = 0; s < d->n_steps; s++)
		v->step_first[s + 1] += v->step_first[s];
	uint32_t *fill = xmalloc(((size_t)d->n_steps + 1) * sizeof *fill);
	memcpy(fill, v->step_first, ((size_t)d->n_steps + 1) * sizeof *fill);
	for (uint32_t i = 0; i < d->n_ops; i++)
		v->step_ops[fill[d->ops[i].step]++] = i;
	free(fill);
}

/* ---- Workgroups: exactly the plan's VMs, alike within each workgroup ---- */

static void check_workgroups(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct model *m = v->m;
	v->vm_wg = nones(m->n_vms);
	/* wg_dev[md] == w + 1: md is one of workgroup w's devices; vm_dev[md] == seq: one of the VM's. */
	uint32_t *wg_dev = xcalloc((size_t)m->n_devices + 1, sizeof *wg_dev);
	uint32_t *vm_dev = xcalloc((size_t)m->n_devices + 1, sizeof *vm_dev);
	uint32_t seq = 0;
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		const struct dag_workgroup *wg = &d->workgroups[w];
		if (wg->n_vms == 0)
			VIOLATION(v, G_WORKGROUPS, "workgroup w%u has no VMs", w + 1);
		if (d->workgroup_size && wg->n_vms > d->workgroup_size)
			VIOLATION(v, G_WORKGROUPS, "workgroup w%u has %u VMs, more than the workgroup size %u", w + 1, wg->n_vms,
			          d->workgroup_size);
		for (uint32_t k = 0; k < wg->n_devices; k++) {
			uint32_t md = v->dev_m[wg->devices[k]];
			if (wg_dev[md] == w + 1)
				VIOLATION(v, G_WORKGROUPS, "workgroup w%u lists device '%s' twice", w + 1, m->devices[md].name);
			wg_dev[md] = w + 1;
		}
		for (uint32_t k = wg->first_vm; k < wg->first_vm + wg->n_vms; k++) {
			uint32_t mv = v->vm_m[k];
			const struct model_vm *vm = &m->vms[mv];
			if (v->vm_wg[mv] != NONE) {
				VIOLATION(v, G_WORKGROUPS, "VM '%s' is in two workgroups, w%u and w%u", vm->name, v->vm_wg[mv] + 1,
				          w + 1);
				continue;
			}
			v->vm_wg[mv] = w;
			if (!vm_in_plan(v, vm)) {
				VIOLATION(v, G_WORKGROUPS, "VM '%s' is in workgroup w%u, but the plan does not protect its devices",
				          vm->name, w + 1);
				continue;
			}
			if (vm->priority != wg->priority)
				VIOLATION(v, G_WORKGROUPS, "VM '%s' of priority %d is in workgroup w%u of priority %d", vm->name,
				          vm->priority, w + 1, wg->priority);
			if (vm->live != wg->live)
				VIOLATION(v, G_WORKGROUPS, "VM '%s' moves by %s but is in workgroup w%u, which moves by %s", vm->name,
				          vm->live ? "live migration" : "storage failover", w + 1,
				          wg->live ? "live migration" : "storage failover");
			seq++;
			uint32_t distinct = 0;
			bool stray = false;
			/* Its devices, and for a VM being moved both devices of its storage-migration record:
			 * both copies are recovered before its register, which chooses one (guarantee 3). */
			const struct model_migration *mg =
			        m->vm_migration && m->vm_migration[mv] != MODEL_NONE ? &m->migrations[m->vm_migration[mv]] : NULL;
			for (uint32_t j = 0; j < vm->n_devices + (mg ? 2 : 0); j++) {
				uint32_t md = j < vm->n_devices ? vm->devices[j] : j == vm->n_devices ? mg->from : mg->to;
				if (vm_dev[md] == seq)
					continue;
				vm_dev[md] = seq;
				distinct++;
				if (wg_dev[md] != w + 1) {
					stray = true;
					VIOLATION(v, G_WORKGROUPS, "VM '%s' is on device '%s', which is not one of workgroup w%u's",
					          vm->name, m->devices[md].name, w + 1);
				}
			}
			if (!stray && distinct != wg->n_devices)
				for (uint32_t j = 0; j < wg->n_devices; j++) {
					uint32_t md = v->dev_m[wg->devices[j]];
					if (vm_dev[md] != seq) {
						VIOLATION(v, G_WORKGROUPS, "VM '%s' of workgroup w%u is not on the workgroup's device '%s'",
						          vm->name, w + 1, m->devices[md].name);
						break;
					}
				}
		}
	}
	for (uint32_t mv = 0; mv < m->n_vms; mv++)
		if (v->vm_wg[mv] == NONE && vm_in_plan(v, &m->vms[mv]))
			VIOLATION(v, G_WORKGROUPS, "VM '%s' of the plan is in no workgroup", m->vms[mv].name);
	free(vm_dev);
	free(wg_dev);
}

/* The DAG carries exactly the model's storage-migration records of the plan's VMs, in VM order: a
 * record lost would register the source copy of a VM whose move had completed. */
static void check_migrations(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct model *m = v->m;
	uint32_t expected = 0;
	for (uint32_t mv = 0; mv < m->n_vms && m->vm_migration; mv++)
		expected += v->vm_wg[mv] != NONE && m->vm_migration[mv] != MODEL_NONE;
	if (d->n_migrations != expected)
		VIOLATION(v, G_WORKGROUPS, "the DAG carries %u storage-migration records, the plan's VMs have %u",
		          d->n_migrations, expected);
	for (uint32_t i = 0; i < d->n_migrations; i++) {
		const struct dag_migration *dm = &d->migrations[i];
		if (dm->vm >= d->n_vms || dm->from >= d->n_devices || dm->to >= d->n_devices ||
		    (i > 0 && d->migrations[i - 1].vm >= dm->vm)) {
			VIOLATION(v, G_STRUCTURE, "storage-migration record #%u is out of range or out of order", i);
			continue;
		}
		uint32_t mv = v->vm_m[dm->vm];
		uint32_t r = m->vm_migration ? m->vm_migration[mv] : MODEL_NONE;
		if (r == MODEL_NONE || v->dev_m[dm->from] != m->migrations[r].from || v->dev_m[dm->to] != m->migrations[r].to ||
		    (dm->state == DAG_MIGRATION_COMPLETED) != m->migrations[r].completed)
			VIOLATION(v, G_WORKGROUPS, "the DAG's storage-migration record of VM '%s' is not the inventory's",
			          d->vms[dm->vm].name);
	}
}

/* The plan's VMs that carry each `after` clause, and no VM beside one of its targets. */
static void check_after_workgroups(struct verifier *v)
{
	const struct model *m = v->m;
	v->after_first = xcalloc((size_t)m->n_afters + 1, sizeof *v->after_first);
	for (uint32_t mv = 0; mv < m->n_vms; mv++)
		if (v->vm_wg[mv] != NONE)
			for (const struct model_vm_after *n = m->vms[mv].afters; n; n = n->next)
				v->after_first[n->after + 1]++;
	for (uint32_t a = 0; a < m->n_afters; a++)
		v->after_first[a + 1] += v->after_first[a];
	v->after_vms = xmalloc(((size_t)v->after_first[m->n_afters] + 1) * sizeof *v->after_vms);
	uint32_t *fill = xmalloc(((size_t)m->n_afters + 1) * sizeof *fill);
	memcpy(fill, v->after_first, ((size_t)m->n_afters + 1) * sizeof *fill);
	for (uint32_t mv = 0; mv < m->n_vms; mv++)
		if (v->vm_wg[mv] != NONE)
			for (const struct model_vm_after *n = m->vms[mv].afters; n; n = n->next)
				v->after_vms[fill[n->after]++] = mv;
	free(fill);
	/* holds[w] == a + 1: workgroup w holds a target of clause a, the VM target[w]. */
	uint32_t n_wg = v->d->n_workgroups;
	uint32_t *holds = xcalloc((size_t)n_wg + 1, sizeof *holds);
	uint32_t *target = xmalloc(((size_t)n_wg + 1) * sizeof *target);
	for (uint32_t a = 0; a < m->n_afters; a++) {
		if (v->after_first[a] == v->after_first[a + 1])
			continue;
		const struct model_after *after = &m->afters[a];
		for (uint32_t k = 0; k < after->n_targets; k++) {
			uint32_t w = v->vm_wg[after->targets[k]];
			if (w != NONE && holds[w] != a + 1) {
				holds[w] = a + 1;
				target[w] = after->targets[k];
			}
		}
		for (uint32_t k = v->after_first[a]; k < v->after_first[a + 1]; k++) {
			uint32_t mv = v->after_vms[k], w = v->vm_wg[mv];
			if (holds[w] != a + 1)
				continue;
			struct diag *e = VIOLATION(v, G_AFTER, "VM '%s' powers on after '%s', but both are in workgroup w%u",
			                           m->vms[mv].name, m->vms[target[w]].name, w + 1);
			if (e)
				diag_note(e, after->clause->at, "the dependency");
		}
	}
	free(target);
	free(holds);
}

/* ---- One operation per workgroup or device and step ---- */

static void record_device(struct verifier *v, uint32_t op, uint32_t md, bool via_group)
{
	const struct dag *d = v->d;
	const struct model *m = v->m;
	const struct model_device *dev = &m->devices[md];
	const struct dag_step *st = &d->steps[d->ops[op].step];
	if (!v->plan->covered[md]) {
		VIOLATION(v, G_STEPS, "%s acts on device '%s', which the plan does not protect", op_id(v, op), dev->name);
		return;
	}
	if (!dstep_applies(st, dev->kind)) {
		VIOLATION(v, G_STEPS, "%s acts on device '%s', which is %s", op_id(v, op), dev->name,
		          dev->kind == AST_DEVICE_STRETCHED ? "stretched" : "replicated");
		return;
	}
	bool failover = st->kind == AST_STEP_FAILOVER;
	if (failover && !via_group && dev->consistency != MODEL_NONE)
		VIOLATION(v, G_CGROUP, "%s %s device '%s' alone, but it belongs to consistency group '%s', which must %s "
		                       "as one operation",
		          op_id(v, op), v->plan->mode == AST_MODE_TEST ? "snapshots" : "fails over", dev->name,
		          m->groups[dev->consistency].name, v->plan->mode == AST_MODE_TEST ? "be snapshot" : "fail over");
	uint32_t *cell = &v->dev_op[(size_t)md * v->n_dslots + v->slot[d->ops[op].step]];
	if (*cell != NONE)
		VIOLATION(v, failover ? G_CGROUP : G_STEPS, "device '%s' has two operations in step %u, %s and %s",
		          dev->name, d->ops[op].step + 1, op_id(v, *cell), op_id(v, op));
	else
		*cell = op;
}

static void account_ops(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct model *m = v->m;
	v->wg_op = nones((size_t)d->n_workgroups * v->n_wslots);
	v->dev_op = nones((size_t)m->n_devices * v->n_dslots);
	v->plan_op = nones(d->n_steps);
	for (uint32_t i = 0; i < d->n_ops; i++) {
		const struct dag_op *op = &d->ops[i];
		if (op->kind == DAG_GATE)
			continue;
		const struct dag_step *st = &d->steps[op->step];
		switch ((enum dag_target)op->target_kind) {
		case DAG_TARGET_WORKGROUP: {
			const struct dag_workgroup *wg = &d->workgroups[op->target];
			if (!wstep_applies(st, wg->live)) {
				VIOLATION(v, G_STEPS, "%s acts on workgroup w%u, which moves by %s: step %u (%s) is not for it",
				          op_id(v, i), op->target + 1, wg->live ? "live migration" : "storage failover", op->step + 1,
				          step_word(st));
				break;
			}
			uint32_t *cell = &v->wg_op[(size_t)op->target * v->n_wslots + v->slot[op->step]];
			if (*cell != NONE)
				VIOLATION(v, G_STEPS, "workgroup w%u has two operations in step %u, %s and %s", op->target + 1,
				          op->step + 1, op_id(v, *cell), op_id(v, i));
			else
				*cell = i;
			break;
		}
		case DAG_TARGET_DEVICE:
			record_device(v, i, v->dev_m[op->target], false);
			break;
		case DAG_TARGET_GROUP: {
			const struct model_cgroup *g = &m->groups[v->group_m[op->target]];
			for (uint32_t k = 0; k < g->n_devices; k++)
				record_device(v, i, g->devices[k], true);
			break;
		}
		case DAG_TARGET_PLAN:
			v->plan_op[op->step] = v->plan_op[op->step] == NONE ? i : NONE - 1;
			break;
		}
	}
	/* What is missing. */
	for (uint32_t w = 0; w < d->n_workgroups; w++)
		for (uint32_t k = 0; k < v->n_wslots; k++) {
			const struct dag_step *st = &d->steps[v->wslot_step[k]];
			if (wstep_applies(st, d->workgroups[w].live) && v->wg_op[(size_t)w * v->n_wslots + k] == NONE)
				VIOLATION(v, G_STEPS, "workgroup w%u has no operation in step %u (%s)", w + 1, v->wslot_step[k] + 1,
				          step_word(st));
		}
	for (uint32_t md = 0; md < m->n_devices; md++) {
		if (!v->plan->covered[md])
			continue;
		for (uint32_t k = 0; k < v->n_dslots; k++) {
			const struct dag_step *st = &d->steps[v->dslot_step[k]];
			if (!dstep_applies(st, m->devices[md].kind) || v->dev_op[(size_t)md * v->n_dslots + k] != NONE)
				continue;
			if (st->kind == AST_STEP_FAILOVER)
				VIOLATION(v, G_CGROUP, "device '%s' is not %s: no operation of step %u covers it", m->devices[md].name,
				          v->plan->mode == AST_MODE_TEST ? "snapshot" : "failed over", v->dslot_step[k] + 1);
			else
				VIOLATION(v, G_STEPS, "device '%s' has no operation in step %u (%s)", m->devices[md].name,
				          v->dslot_step[k] + 1, step_word(st));
		}
	}
	for (uint32_t s = 0; s < d->n_steps; s++)
		if (step_class(&d->steps[s]) == CLASS_PLAN && v->plan_op[s] >= NONE - 1)
			VIOLATION(v, G_STEPS, "step %u (%s) acts on the whole plan and needs one operation, not %s", s + 1,
			          step_word(&d->steps[s]), v->plan_op[s] == NONE ? "none" : "several");
}

/* ---- 1: no cycle ---- */

static void need_succ(struct verifier *v)
{
	if (!v->have_succ) {
		dag_succ_build(v->d, &v->succ);
		v->have_succ = true;
	}
}

/* Orders the operations; on a cycle, reports one as its whole path and returns false. */
static bool order_ops(struct verifier *v)
{
	const struct dag *d = v->d;
	/* Kahn's algorithm with a plain queue (order[] itself): any topological order serves for
	 * pruning, and this one costs no heap, unlike dag_topo_order's deterministic one. */
	need_succ(v);
	v->order = xmalloc(((size_t)d->n_ops + 1) * sizeof *v->order);
	uint32_t *waiting = xmalloc(((size_t)d->n_ops + 1) * sizeof *waiting);
	uint32_t n = 0;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		waiting[i] = d->ops[i].n_preds;
		if (waiting[i] == 0)
			v->order[n++] = i;
	}
	for (uint32_t head = 0; head < n; head++) {
		uint32_t x = v->order[head];
		for (uint32_t k = v->succ.first[x]; k < v->succ.first[x + 1]; k++)
			if (--waiting[v->succ.succ[k]] == 0)
				v->order[n++] = v->succ.succ[k];
	}
	free(waiting);
	v->pos = nones(d->n_ops);
	for (uint32_t k = 0; k < n; k++)
		v->pos[v->order[k]] = k;
	if (n == d->n_ops)
		return true;
	/* Every operation left out waits for another one left out: walk back along those until one
	 * repeats. path[i + 1] is a predecessor of path[i]. */
	uint32_t start = 0;
	while (v->pos[start] != NONE)
		start++;
	uint32_t *path = xmalloc(((size_t)d->n_ops + 1) * sizeof *path);
	uint32_t *at = nones(d->n_ops);
	uint32_t len = 0, x = start;
	while (at[x] == NONE) {
		at[x] = len;
		path[len++] = x;
		const struct dag_op *op = &d->ops[x];
		uint32_t next = NONE;
		for (uint32_t e = op->first_pred; e < op->first_pred + op->n_preds && next == NONE; e++)
			if (v->pos[d->edges[e].from] == NONE)
				next = d->edges[e].from;
		x = next;
	}
	/* The cycle is path[at[x] .. len), backwards: x -> path[len - 1] -> ... -> path[at[x] + 1] -> x. */
	struct buf b = BUF_INIT;
	buf_puts(&b, op_id(v, x));
	for (uint32_t k = len; k-- > at[x];) {
		buf_puts(&b, " -> ");
		buf_puts(&b, op_id(v, path[k]));
	}
	VIOLATION(v, G_ACYCLIC, "the operations form a cycle: %s", b.data);
	buf_free(&b);
	free(at);
	free(path);
	return false;
}

/* ---- Reachability ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static bool has_pred(const struct dag *d, uint32_t to, uint32_t from)
{
	const struct dag_op *op = &d->ops[to];
	uint32_t lo = op->first_pred, hi = op->first_pred + op->n_preds, end = hi;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (d->edges[mid].from < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < end && d->edges[lo].from == from;
}

/* Does `from` reach `to`? A direct edge, or a backward search from `to` that never goes below
 * from's topological position (nothing there can lie on a path from `from`). */
static bool reach(struct verifier *v, uint32_t from, uint32_t to)
{
	const struct dag *d = v->d;
	if (from == to)
		return true;
	uint32_t floor = v->pos[from];
	if (floor >= v->pos[to])
		return false;
	if (has_pred(d, to, from))
		return true;
	stamps_next(&v->seen);
	uint32_t sp = 0;
	v->stack[sp++] = to;
	v->seen.mark[to] = v->seen.epoch;
	while (sp) {
		const struct dag_op *op = &d->ops[v->stack[--sp]];
		for (uint32_t e = op->first_pred; e < op->first_pred + op->n_preds; e++) {
			uint32_t p = d->edges[e].from;
			if (p == from)
				return true;
			if (v->pos[p] > floor && v->seen.mark[p] != v->seen.epoch) {
				v->seen.mark[p] = v->seen.epoch;
				v->stack[sp++] = p;
			}
		}
	}
	return false;
}

/* Marks the sources still to be found (v->want) and returns how many distinct ones there are. */
static uint32_t want_pending(struct verifier *v, const uint32_t *ops, const bool *ok, uint32_t n)
{
	stamps_next(&v->want);
	uint32_t pending = 0;
	for (uint32_t i = 0; i < n; i++)
		if (!ok[i] && v->want.mark[ops[i]] != v->want.epoch) {
			v->want.mark[ops[i]] = v->want.epoch;
			pending++;
		}
	return pending;
}

/* Which of src[0..n) reach `to` (the answers in v->ok): the direct predecessors by binary search,
 * the others by one backward search that stops once it has met them all. */
static const bool *reach_many_to(struct verifier *v, uint32_t to, const uint32_t *src, uint32_t n)
{
	const struct dag *d = v->d;
	bool *ok = ok_array(v, n);
	uint32_t floor = NONE;
	for (uint32_t i = 0; i < n; i++) {
		ok[i] = src[i] == to || has_pred(d, to, src[i]);
		if (!ok[i] && v->pos[src[i]] < v->pos[to] && v->pos[src[i]] < floor)
			floor = v->pos[src[i]];
	}
	if (floor == NONE)
		return ok;
	uint32_t pending = want_pending(v, src, ok, n);
	stamps_next(&v->seen);
	uint32_t sp = 0;
	v->stack[sp++] = to;
	v->seen.mark[to] = v->seen.epoch;
	while (sp && pending) {
		const struct dag_op *op = &d->ops[v->stack[--sp]];
		for (uint32_t e = op->first_pred; e < op->first_pred + op->n_preds; e++) {
			uint32_t p = d->edges[e].from;
			if (v->pos[p] >= floor && v->seen.mark[p] != v->seen.epoch) {
				v->seen.mark[p] = v->seen.epoch;
				v->stack[sp++] = p;
				pending -= v->want.mark[p] == v->want.epoch;
			}
		}
	}
	for (uint32_t i = 0; i < n; i++)
		ok[i] = ok[i] || v->seen.mark[src[i]] == v->seen.epoch;
	return ok;
}

/* Which of dst[0..n) `from` reaches: one forward search, never above the highest position asked,
 * that stops once it has met them all. */
static const bool *reach_many_from(struct verifier *v, uint32_t from, const uint32_t *dst, uint32_t n)
{
	const struct dag *d = v->d;
	bool *ok = ok_array(v, n);
	uint32_t ceiling = 0;
	bool pending = false;
	for (uint32_t i = 0; i < n; i++) {
		ok[i] = dst[i] == from || has_pred(d, dst[i], from);
		if (!ok[i] && v->pos[dst[i]] > v->pos[from]) {
			pending = true;
			if (v->pos[dst[i]] > ceiling)
				ceiling = v->pos[dst[i]];
		}
	}
	if (!pending)
		return ok;
	uint32_t left = want_pending(v, dst, ok, n);
	need_succ(v);
	stamps_next(&v->seen);
	uint32_t sp = 0;
	v->stack[sp++] = from;
	v->seen.mark[from] = v->seen.epoch;
	while (sp && left) {
		uint32_t x = v->stack[--sp];
		for (uint32_t k = v->succ.first[x]; k < v->succ.first[x + 1]; k++) {
			uint32_t y = v->succ.succ[k];
			if (v->pos[y] <= ceiling && v->seen.mark[y] != v->seen.epoch) {
				v->seen.mark[y] = v->seen.epoch;
				v->stack[sp++] = y;
				left -= v->want.mark[y] == v->want.epoch;
			}
		}
	}
	for (uint32_t i = 0; i < n; i++)
		ok[i] = ok[i] || v->seen.mark[dst[i]] == v->seen.epoch;
	return ok;
}

/* What an all_pairs check is about, to word its violations. */
struct pairs {
	enum guarantee g;
	const uint32_t *s, *t;            /* operations, each list without repeats */
	uint32_t n_s, n_t;
	int32_t p, q;                     /* G_PRIORITY: the two priorities */
	const uint32_t *s_vm, *t_vm;      /* G_AFTER: a model VM of each operation's workgroup */
	const struct model_after *after;  /* G_AFTER: the clause */
};

static void pair_missing(struct verifier *v, const struct pairs *c, uint32_t si, uint32_t ti)
{
	if (!report_more(v))
		return;
	if (c->g == G_PRIORITY) {
		violation(v, G_PRIORITY, "%s (priority %d) is not ordered after %s (priority %d)", op_id(v, c->t[ti]), c->q,
		          op_id(v, c->s[si]), c->p);
		return;
	}
	struct diag *e = violation(v, G_AFTER, "%s (VM '%s') is not ordered after %s (VM '%s', its 'after' target)",
	                           op_id(v, c->t[ti]), v->m->vms[c->t_vm[ti]].name, op_id(v, c->s[si]),
	                           v->m->vms[c->s_vm[si]].name);
	diag_note(e, c->after->clause->at, "the dependency");
}

/* The operations that some operation of S reaches and that reach one of t[0..n_t), in topological
 * order, into sub (n_ops entries); returns how many. Afterwards in_sub() tells membership and
 * v->sub_index the place. S must be marked in v->in_s. */
static uint32_t subgraph(struct verifier *v, const struct pairs *c, const uint32_t *t, uint32_t n_t, uint32_t *sub)
{
	const struct dag *d = v->d;
	uint32_t min_s = NONE, max_t = 0;
	for (uint32_t i = 0; i < c->n_s; i++)
		min_s = v->pos[c->s[i]] < min_s ? v->pos[c->s[i]] : min_s;
	for (uint32_t i = 0; i < n_t; i++)
		max_t = v->pos[t[i]] > max_t ? v->pos[t[i]] : max_t;
	/* Forward from S (seen), no higher than T's highest; the visited are listed in `sub`. */
	need_succ(v);
	uint32_t n_sub = 0, sp = 0;
	stamps_next(&v->seen);
	for (uint32_t i = 0; i < c->n_s; i++) {
		uint32_t x = c->s[i];
		if (v->seen.mark[x] != v->seen.epoch) {
			v->seen.mark[x] = v->seen.epoch;
			v->stack[sp++] = x;
			sub[n_sub++] = x;
		}
	}
	while (sp) {
		uint32_t x = v->stack[--sp];
		for (uint32_t k = v->succ.first[x]; k < v->succ.first[x + 1]; k++) {
			uint32_t y = v->succ.succ[k];
			if (v->pos[y] <= max_t && v->seen.mark[y] != v->seen.epoch) {
				v->seen.mark[y] = v->seen.epoch;
				v->stack[sp++] = y;
				sub[n_sub++] = y;
			}
		}
	}
	/* Backward from T (seen2), no lower than S's lowest. */
	stamps_next(&v->seen2);
	for (uint32_t i = 0; i < n_t; i++)
		if (v->seen2.mark[t[i]] != v->seen2.epoch) {
			v->seen2.mark[t[i]] = v->seen2.epoch;
			v->stack[sp++] = t[i];
		}
	while (sp) {
		const struct dag_op *op = &d->ops[v->stack[--sp]];
		for (uint32_t e = op->first_pred; e < op->first_pred + op->n_preds; e++) {
			uint32_t p = d->edges[e].from;
			if (v->pos[p] >= min_s && v->seen2.mark[p] != v->seen2.epoch) {
				v->seen2.mark[p] = v->seen2.epoch;
				v->stack[sp++] = p;
			}
		}
	}
	/* Both, by topological position (sorted as positions, then turned back into operations). */
	uint32_t n = 0;
	for (uint32_t k = 0; k < n_sub; k++)
		if (v->seen2.mark[sub[k]] == v->seen2.epoch)
			sub[n++] = v->pos[sub[k]];
	qsort(sub, n, sizeof *sub, cmp_u32);
	for (uint32_t k = 0; k < n; k++) {
		sub[k] = v->order[sub[k]];
		v->sub_index[sub[k]] = k;
	}
	return n;
}

static bool in_sub(const struct verifier *v, uint32_t op)
{
	return v->seen.mark[op] == v->seen.epoch && v->seen2.mark[op] == v->seen2.epoch;
}

static bool in_s(const struct verifier *v, uint32_t op)
{
	return v->in_s.mark[op] == v->in_s.epoch;
}

/* The exact check of S against t[0..n_t) (indices into c->t in t_index): the subgraph walked in
 * topological order, each operation taking the OR of its predecessors' bit masks, MASK_WORDS * 64
 * operations of S at a time; an operation of T must end up with every bit but its own. Linear in
 * the subgraph per pass, so |S| / 64 times the subgraph in all. */
static void masks(struct verifier *v, const struct pairs *c, const uint32_t *t, const uint32_t *t_index, uint32_t n_t)
{
	const struct dag *d = v->d;
	uint32_t *sub = xmalloc(((size_t)d->n_ops + 1) * sizeof *sub);
	uint32_t n_sub = subgraph(v, c, t, n_t, sub);
	uint64_t *mask = xmalloc(((size_t)n_sub + 1) * MASK_WORDS * sizeof *mask);
	for (uint32_t base = 0; base < c->n_s; base += 64 * MASK_WORDS) {
		uint32_t nb = c->n_s - base < 64 * MASK_WORDS ? c->n_s - base : 64 * MASK_WORDS;
		uint32_t words = (nb + 63) / 64;
		for (uint32_t k = 0; k < n_sub; k++) {
			uint32_t x = sub[k];
			uint64_t *mx = mask + (size_t)k * MASK_WORDS;
			memset(mx, 0, words * sizeof *mx);
			const struct dag_op *op = &d->ops[x];
			for (uint32_t e = op->first_pred; e < op->first_pred + op->n_preds; e++) {
				uint32_t p = d->edges[e].from;
				if (!in_sub(v, p))
					continue;
				const uint64_t *mp = mask + (size_t)v->sub_index[p] * MASK_WORDS;
				for (uint32_t w = 0; w < words; w++)
					mx[w] |= mp[w];
			}
			if (in_s(v, x) && v->s_index[x] >= base && v->s_index[x] - base < nb) {
				uint32_t b = v->s_index[x] - base;
				mx[b / 64] |= (uint64_t)1 << (b % 64);
			}
		}
		for (uint32_t j = 0; j < n_t; j++) {
			uint32_t op = t[j];
			const uint64_t *mt = in_sub(v, op) ? mask + (size_t)v->sub_index[op] * MASK_WORDS : NULL;
			for (uint32_t w = 0; w < words; w++) {
				uint32_t bits = nb - 64 * w < 64 ? nb - 64 * w : 64;
				uint64_t missing = (bits == 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1)) & ~(mt ? mt[w] : 0);
				if (in_s(v, op) && v->s_index[op] >= base + 64 * w && v->s_index[op] - base - 64 * w < 64)
					missing &= ~((uint64_t)1 << (v->s_index[op] - base - 64 * w));
				while (missing) {
					if (v->n_violations >= VERIFY_MAX_REPORTS) {
						v->n_violations += (uint64_t)__builtin_popcountll(missing);
						break;
					}
					uint32_t b = (uint32_t)__builtin_ctzll(missing);
					missing &= missing - 1;
					pair_missing(v, c, base + 64 * w + b, t_index[j]);
				}
			}
		}
	}
	free(mask);
	free(sub);
}

/* Does every operation of S reach every operation of T (except itself)? Few pairs: one query each.
 * Many (every power-on of one priority before every power-on of the next; the VMs of a glob `after`
 * another): those of T that wait directly for all of S are done; for the others, a linear pass over
 * the subgraph between S and them marks the operations that all of S surely reaches: those that wait
 * directly for every operation of S (a gate), or for a marked one (and S's one operation, if it has
 * one). Operations of T left unmarked, if any, get the exact check (masks). */
static void all_pairs(struct verifier *v, const struct pairs *c)
{
	const struct dag *d = v->d;
	if (c->n_s == 0 || c->n_t == 0)
		return;
	if ((uint64_t)c->n_s * c->n_t <= PAIRWISE_MAX) {
		for (uint32_t ti = 0; ti < c->n_t && !v->gave_up; ti++)
			for (uint32_t si = 0; si < c->n_s && !v->gave_up; si++)
				if (!reach(v, c->s[si], c->t[ti]))
					pair_missing(v, c, si, ti);
		return;
	}
	stamps_next(&v->in_s);
	for (uint32_t i = 0; i < c->n_s; i++) {
		v->in_s.mark[c->s[i]] = v->in_s.epoch;
		v->s_index[c->s[i]] = i;
	}
	/* Those that wait directly for all of S need nothing more. */
	struct u32s t = {0}, t_index = {0}, rest = {0}, rest_index = {0};
	for (uint32_t ti = 0; ti < c->n_t; ti++) {
		const struct dag_op *op = &d->ops[c->t[ti]];
		uint32_t from_s = c->n_s == 1 && in_s(v, c->t[ti]);
		for (uint32_t e = op->first_pred; e < op->first_pred + op->n_preds; e++)
			from_s += in_s(v, d->edges[e].from);
		if (from_s < c->n_s) {
			u32s_push(&t, c->t[ti]);
			u32s_push(&t_index, ti);
		}
	}
	if (t.n == 0)
		return;
	uint32_t *sub = xmalloc(((size_t)d->n_ops + 1) * sizeof *sub);
	uint32_t n_sub = subgraph(v, c, t.a, t.n, sub);
	bool *full = xmalloc(((size_t)n_sub + 1) * sizeof *full);
	for (uint32_t k = 0; k < n_sub; k++) {
		const struct dag_op *op = &d->ops[sub[k]];
		uint32_t from_s = 0;
		bool f = c->n_s == 1 && in_s(v, sub[k]);
		for (uint32_t e = op->first_pred; e < op->first_pred + op->n_preds && !f; e++) {
			uint32_t p = d->edges[e].from;
			f = in_sub(v, p) && full[v->sub_index[p]];
			from_s += in_s(v, p);
		}
		full[k] = f || from_s == c->n_s;
	}
	for (uint32_t j = 0; j < t.n; j++) {
		uint32_t op = t.a[j];
		if (!in_sub(v, op) || !full[v->sub_index[op]]) {
			u32s_push(&rest, op);
			u32s_push(&rest_index, t_index.a[j]);
		}
	}
	free(full);
	free(sub);
	free(t.a);
	free(t_index.a);
	if (rest.n)
		masks(v, c, rest.a, rest_index.a, rest.n);
	free(rest.a);
	free(rest_index.a);
}

/* ---- 1b: each workgroup's and each device's operations in step order ---- */

static void check_step_order(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct model *m = v->m;
	for (uint32_t w = 0; w < d->n_workgroups && !v->gave_up; w++) {
		uint32_t prev = NONE;
		for (uint32_t k = 0; k < v->n_wslots; k++) {
			uint32_t op = v->wg_op[(size_t)w * v->n_wslots + k];
			if (op == NONE)
				continue;
			if (prev != NONE && !reach(v, prev, op))
				VIOLATION(v, G_STEPS, "%s is not ordered after %s, workgroup w%u's previous step", op_id(v, op),
				          op_id(v, prev), w + 1);
			prev = op;
		}
	}
	for (uint32_t md = 0; md < m->n_devices && !v->gave_up; md++) {
		if (!v->plan->covered[md])
			continue;
		uint32_t prev = NONE;
		for (uint32_t k = 0; k < v->n_dslots; k++) {
			uint32_t op = v->dev_op[(size_t)md * v->n_dslots + k];
			if (op == NONE)
				continue;
			if (prev != NONE && prev != op && !reach(v, prev, op)) {
				if (d->ops[prev].kind == DAG_SYNC && (d->ops[op].kind == DAG_FAILOVER || d->ops[op].kind == DAG_SNAPSHOT))
					VIOLATION(v, G_SYNC, "%s is not ordered after %s, the sync of its device '%s'", op_id(v, op),
					          op_id(v, prev), m->devices[md].name);
				else
					VIOLATION(v, G_STEPS, "%s is not ordered after %s, device '%s''s previous step", op_id(v, op),
					          op_id(v, prev), m->devices[md].name);
			}
			prev = op;
		}
	}
}

/* ---- 2: a live migration after the preference switch of each of its stretched devices ---- */

static void check_prefer(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct model *m = v->m;
	for (uint32_t k = 0; k < v->n_wslots; k++) {
		if (d->steps[v->wslot_step[k]].kind != AST_STEP_MIGRATE)
			continue;
		for (uint32_t w = 0; w < d->n_workgroups && !v->gave_up; w++) {
			uint32_t x = v->wg_op[(size_t)w * v->n_wslots + k];
			if (x == NONE)
				continue;
			const struct dag_workgroup *wg = &d->workgroups[w];
			v->list.n = v->list2.n = 0;
			for (uint32_t j = 0; j < wg->n_devices; j++) {
				uint32_t md = v->dev_m[wg->devices[j]];
				if (m->devices[md].kind != AST_DEVICE_STRETCHED)
					continue;
				uint32_t p = v->prefer_slot == NONE ? NONE : v->dev_op[(size_t)md * v->n_dslots + v->prefer_slot];
				if (p == NONE)
					VIOLATION(v, G_PREFER, "live migration %s has no preference switch of its stretched device '%s' "
					                       "before it",
					          op_id(v, x), m->devices[md].name);
				else if (!same_site(v, d->ops[p].site, v->plan->to))
					VIOLATION(v, G_PREFER, "%s switches the preference of device '%s' to '%s', not to the recovery "
					                       "site '%s', before live migration %s",
					          op_id(v, p), m->devices[md].name, dag_site_name(v, d->ops[p].site),
					          model_site_name(v, v->plan->to), op_id(v, x));
				else {
					u32s_push(&v->list, p);
					u32s_push(&v->list2, md);
				}
			}
			const bool *ok = reach_many_to(v, x, v->list.a, v->list.n);
			for (uint32_t i = 0; i < v->list.n; i++)
				if (!ok[i])
					VIOLATION(v, G_PREFER, "live migration %s is not ordered after %s, the preference switch of its "
					                       "stretched device '%s'",
					          op_id(v, x), op_id(v, v->list.a[i]), m->devices[v->list2.a[i]].name);
		}
	}
}

/* ---- 3: register and power-on after the failover (test: snapshot) of each replicated device ---- */

/* A workgroup's failovers are found once, for its first such operation (register); its next one
 * (power-on) needs only those that the first did not show, if the first reaches it (its previous
 * step: a direct edge as a rule). Lowering may leave out edges that transitivity implies, and a
 * power-on's backward cone, through the priority gates, can hold most of the graph. */
static void check_storage(struct verifier *v)
{
	const struct dag *d = v->d;
	const struct model *m = v->m;
	if (v->failover_slot == NONE)
		return;
	const char *what = v->plan->mode == AST_MODE_TEST ? "test snapshot" : "failover";
	bool *shown = NULL; /* per failover of the workgroup: known to reach its last operation */
	uint32_t shown_cap = 0;
	struct u32s ask = {0}, at = {0};
	for (uint32_t w = 0; w < d->n_workgroups && !v->gave_up; w++) {
		const struct dag_workgroup *wg = &d->workgroups[w];
		v->list.n = v->list2.n = 0;
		stamps_next(&v->dedup);
		for (uint32_t j = 0; j < wg->n_devices; j++) {
			uint32_t md = v->dev_m[wg->devices[j]];
			if (m->devices[md].kind != AST_DEVICE_REPLICATED)
				continue;
			uint32_t f = v->dev_op[(size_t)md * v->n_dslots + v->failover_slot];
			if (f == NONE || v->dedup.mark[f] == v->dedup.epoch)
				continue; /* missing: reported already */
			v->dedup.mark[f] = v->dedup.epoch;
			u32s_push(&v->list, f);
			u32s_push(&v->list2, md);
		}
		if (v->list.n > shown_cap) {
			shown_cap = v->list.n;
			shown = xrealloc(shown, shown_cap * sizeof *shown);
		}
		if (v->list.n) /* shown is NULL until the first workgroup with devices */
			memset(shown, 0, v->list.n * sizeof *shown);
		uint32_t prev = NONE;
		for (uint32_t k = 0; k < v->n_wslots && !v->gave_up; k++) {
			enum ast_step_kind kind = d->steps[v->wslot_step[k]].kind;
			uint32_t x = v->wg_op[(size_t)w * v->n_wslots + k];
			if ((kind != AST_STEP_REGISTER && kind != AST_STEP_POWER_ON) || x == NONE)
				continue;
			bool chained = prev != NONE && reach(v, prev, x);
			ask.n = at.n = 0;
			for (uint32_t i = 0; i < v->list.n; i++)
				if (!chained || !shown[i]) {
					u32s_push(&ask, v->list.a[i]);
					u32s_push(&at, i);
				}
			const bool *ok = reach_many_to(v, x, ask.a, ask.n);
			for (uint32_t j = 0; j < ask.n; j++) {
				uint32_t i = at.a[j];
				shown[i] = ok[j];
				if (!ok[j])
					VIOLATION(v, G_STORAGE, "%s is not ordered after %s, the %s of device '%s' under its VMs",
					          op_id(v, x), op_id(v, v->list.a[i]), what, m->devices[v->list2.a[i]].name);
			}
			prev = x;
		}
	}
	free(shown);
	free(ask.a);
	free(at.a);
}

/* ---- 4: planned mode: a failover after the shutdown of every workgroup on its devices ---- */

/* Every operation of device slot `unit_slot` (a failover, a discard) after the operation of
 * workgroup slot `wslot` (a shutdown, an unregister) of every workgroup on its devices; a violation
 * is of guarantee g and names that operation by `word`. */
static void check_workgroups_before(struct verifier *v, uint32_t unit_slot, uint32_t wslot, enum guarantee g,
                                    const char *word)
{
	const struct dag *d = v->d;
	const struct model *m = v->m;
	/* The workgroups on each device that have an operation in wslot: on[on_first[md] ..]. */
	uint32_t *on_first = xcalloc((size_t)m->n_devices + 1, sizeof *on_first);
	for (uint32_t w = 0; w < d->n_workgroups; w++)
		if (v->wg_op[(size_t)w * v->n_wslots + wslot] != NONE)
			for (uint32_t j = 0; j < d->workgroups[w].n_devices; j++)
				on_first[v->dev_m[d->workgroups[w].devices[j]] + 1]++;
	for (uint32_t md = 0; md < m->n_devices; md++)
		on_first[md + 1] += on_first[md];
	uint32_t *on = xmalloc(((size_t)on_first[m->n_devices] + 1) * sizeof *on);
	uint32_t *fill = xmalloc(((size_t)m->n_devices + 1) * sizeof *fill);
	memcpy(fill, on_first, ((size_t)m->n_devices + 1) * sizeof *fill);
	for (uint32_t w = 0; w < d->n_workgroups; w++)
		if (v->wg_op[(size_t)w * v->n_wslots + wslot] != NONE)
			for (uint32_t j = 0; j < d->workgroups[w].n_devices; j++)
				on[fill[v->dev_m[d->workgroups[w].devices[j]]]++] = w;
	free(fill);
	stamps_next(&v->dedup2); /* unit operations done */
	for (uint32_t md0 = 0; md0 < m->n_devices && !v->gave_up; md0++) {
		if (!v->plan->covered[md0] || m->devices[md0].kind != AST_DEVICE_REPLICATED)
			continue;
		uint32_t f = v->dev_op[(size_t)md0 * v->n_dslots + unit_slot];
		if (f == NONE || v->dedup2.mark[f] == v->dedup2.epoch)
			continue;
		v->dedup2.mark[f] = v->dedup2.epoch;
		const uint32_t *devs = &md0;
		uint32_t n_devs = 1;
		if (d->ops[f].target_kind == DAG_TARGET_GROUP) {
			const struct model_cgroup *cg = &m->groups[v->group_m[d->ops[f].target]];
			devs = cg->devices;
			n_devs = cg->n_devices;
		}
		v->list.n = v->list2.n = v->list3.n = 0;
		stamps_next(&v->dedup);
		for (uint32_t j = 0; j < n_devs; j++)
			for (uint32_t k = on_first[devs[j]]; k < on_first[devs[j] + 1]; k++) {
				uint32_t s = v->wg_op[(size_t)on[k] * v->n_wslots + wslot];
				if (v->dedup.mark[s] == v->dedup.epoch)
					continue;
				v->dedup.mark[s] = v->dedup.epoch;
				u32s_push(&v->list, s);
				u32s_push(&v->list2, on[k]);
				u32s_push(&v->list3, devs[j]);
			}
		const bool *ok = reach_many_to(v, f, v->list.a, v->list.n);
		for (uint32_t i = 0; i < v->list.n; i++)
			if (!ok[i])
				VIOLATION(v, g, "%s is not ordered after %s, the %s of workgroup w%u on device '%s'", op_id(v, f),
				          op_id(v, v->list.a[i]), word, v->list2.a[i] + 1, m->devices[v->list3.a[i]].name);
	}
	free(on);
	free(on_first);
}

static void check_shutdowns(struct verifier *v)
{
	if (v->plan->mode == AST_MODE_PLANNED && v->failover_slot != NONE && v->shutdown_slot != NONE)
		check_workgroups_before(v, v->failover_slot, v->shutdown_slot, G_SHUTDOWN, "shutdown");
}

/* ---- 9: cleanup: a snapshot discarded only once every test VM on it is unregistered ---- */

static void check_discards(struct verifier *v)
{
	const struct dag *d = v->d;
	if (v->discard_slot == NONE)
		return;
	if (v->unregister_slot != NONE) {
		check_workgroups_before(v, v->discard_slot, v->unregister_slot, G_CLEANUP, "unregister");
		return;
	}
	/* No unregister at all: any workgroup on a discarded device keeps its test VMs registered. */
	for (uint32_t w = 0; w < d->n_workgroups && !v->gave_up; w++) {
		const struct dag_workgroup *wg = &d->workgroups[w];
		for (uint32_t j = 0; j < wg->n_devices && !wg->live; j++) {
			uint32_t md = v->dev_m[wg->devices[j]];
			uint32_t f = v->dev_op[(size_t)md * v->n_dslots + v->discard_slot];
			if (f != NONE) {
				VIOLATION(v, G_CLEANUP, "%s discards the snapshot under workgroup w%u, whose test VMs are never "
				                        "unregistered",
				          op_id(v, f), w + 1);
				break;
			}
		}
	}
}

/* ---- 5: power-on by priority, and `after` ---- */

struct ranked {
	int32_t priority;
	uint32_t op;
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return (x->op > y->op) - (x->op < y->op);
}

/* Every power-on of one priority before every power-on of the next: consecutive priorities suffice,
 * reachability being transitive. */
static void check_priorities(struct verifier *v)
{
	const struct dag *d = v->d;
	if (v->power_slot == NONE || !d->steps[v->wslot_step[v->power_slot]].by_priority)
		return;
	struct ranked *r = xmalloc(((size_t)d->n_workgroups + 1) * sizeof *r);
	uint32_t n = 0;
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		uint32_t op = v->wg_op[(size_t)w * v->n_wslots + v->power_slot];
		if (op != NONE)
			r[n++] = (struct ranked){d->workgroups[w].priority, op};
	}
	qsort(r, n, sizeof *r, ranked_cmp);
	uint32_t *ops = xmalloc(((size_t)n + 1) * sizeof *ops);
	for (uint32_t i = 0; i < n; i++)
		ops[i] = r[i].op;
	for (uint32_t lo = 0; lo < n && !v->gave_up;) {
		uint32_t mid = lo;
		while (mid < n && r[mid].priority == r[lo].priority)
			mid++;
		uint32_t hi = mid;
		while (hi < n && r[hi].priority == r[mid].priority)
			hi++;
		if (mid < n) {
			struct pairs c = {
				.g = G_PRIORITY, .s = ops + lo, .n_s = mid - lo, .t = ops + mid, .n_t = hi - mid,
				.p = r[lo].priority, .q = r[mid].priority,
			};
			all_pairs(v, &c);
		}
		lo = mid;
	}
	free(ops);
	free(r);
}

/* The operation that brings a workgroup up for `after`: its power-on, or none. A VM that migrates
 * live never stops, so `after` does not order it (docs/language.md, power-on vms). */
static uint32_t up_op(const struct verifier *v, uint32_t w)
{
	return v->power_slot == NONE ? NONE : v->wg_op[(size_t)w * v->n_wslots + v->power_slot];
}

/* Per clause, every up operation of its targets' workgroups before every up operation of the
 * workgroups of the VMs that carry it. */
static void check_after_order(struct verifier *v)
{
	const struct model *m = v->m;
	struct u32s s = {0}, t = {0}, s_vm = {0}, t_vm = {0};
	for (uint32_t a = 0; a < m->n_afters && !v->gave_up; a++) {
		if (v->after_first[a] == v->after_first[a + 1])
			continue;
		const struct model_after *after = &m->afters[a];
		s.n = t.n = s_vm.n = t_vm.n = 0;
		stamps_next(&v->dedup);
		for (uint32_t k = 0; k < after->n_targets; k++) {
			uint32_t w = v->vm_wg[after->targets[k]];
			uint32_t op = w == NONE ? NONE : up_op(v, w);
			if (op == NONE || v->dedup.mark[op] == v->dedup.epoch)
				continue;
			v->dedup.mark[op] = v->dedup.epoch;
			u32s_push(&s, op);
			u32s_push(&s_vm, after->targets[k]);
		}
		stamps_next(&v->dedup2);
		for (uint32_t k = v->after_first[a]; k < v->after_first[a + 1]; k++) {
			uint32_t op = up_op(v, v->vm_wg[v->after_vms[k]]);
			if (op == NONE || v->dedup2.mark[op] == v->dedup2.epoch)
				continue;
			v->dedup2.mark[op] = v->dedup2.epoch;
			u32s_push(&t, op);
			u32s_push(&t_vm, v->after_vms[k]);
		}
		struct pairs c = {
			.g = G_AFTER, .s = s.a, .n_s = s.n, .t = t.a, .n_t = t.n, .s_vm = s_vm.a, .t_vm = t_vm.a, .after = after,
		};
		all_pairs(v, &c);
	}
	free(s.a);
	free(t.a);
	free(s_vm.a);
	free(t_vm.a);
}

/* ---- 8: a plan-wide step after everything before it, before everything after it ---- */

/* Each barrier is checked against the operations up to the previous barrier and from there to the
 * next one (both included): transitivity covers the rest, so each part of the graph is searched
 * about twice in all. */
static void check_barriers(struct verifier *v)
{
	const struct dag *d = v->d;
	struct u32s bars = {0};
	for (uint32_t s = 0; s < d->n_steps; s++)
		if (step_class(&d->steps[s]) == CLASS_PLAN && v->plan_op[s] < NONE - 1)
			u32s_push(&bars, s);
	for (uint32_t k = 0; k < bars.n && !v->gave_up; k++) {
		uint32_t s = bars.a[k], b = v->plan_op[s];
		uint32_t lo = k ? bars.a[k - 1] : 0, hi = k + 1 < bars.n ? bars.a[k + 1] : d->n_steps - 1;
		v->list.n = 0;
		for (uint32_t i = v->step_first[lo]; i < v->step_first[s]; i++)
			if (d->ops[v->step_ops[i]].kind != DAG_GATE)
				u32s_push(&v->list, v->step_ops[i]);
		const bool *ok = reach_many_to(v, b, v->list.a, v->list.n);
		for (uint32_t i = 0; i < v->list.n; i++)
			if (!ok[i])
				VIOLATION(v, G_BARRIER, "plan-wide step %s does not wait for %s", op_id(v, b), op_id(v, v->list.a[i]));
		v->list.n = 0;
		for (uint32_t i = v->step_first[s + 1]; i < v->step_first[hi + 1]; i++)
			if (d->ops[v->step_ops[i]].kind != DAG_GATE)
				u32s_push(&v->list, v->step_ops[i]);
		ok = reach_many_from(v, b, v->list.a, v->list.n);
		for (uint32_t i = 0; i < v->list.n; i++)
			if (!ok[i])
				VIOLATION(v, G_BARRIER, "%s does not wait for plan-wide step %s", op_id(v, v->list.a[i]), op_id(v, b));
	}
	free(bars.a);
}

/* ---- The whole check ---- */

static void verifier_free(struct verifier *v)
{
	for (unsigned i = 0; i < ID_BUFS; i++)
		buf_free(&v->ids[i]);
	free(v->dev_m);
	free(v->group_m);
	free(v->vm_m);
	free(v->vm_wg);
	free(v->step_first);
	free(v->step_ops);
	free(v->slot);
	free(v->wslot_step);
	free(v->dslot_step);
	free(v->wg_op);
	free(v->dev_op);
	free(v->plan_op);
	free(v->after_first);
	free(v->after_vms);
	free(v->order);
	free(v->pos);
	if (v->have_succ)
		dag_succ_free(&v->succ);
	free(v->seen.mark);
	free(v->seen2.mark);
	free(v->in_s.mark);
	free(v->want.mark);
	free(v->dedup.mark);
	free(v->dedup2.mark);
	free(v->stack);
	free(v->sub_index);
	free(v->s_index);
	free(v->ok);
	free(v->list.a);
	free(v->list2.a);
	free(v->list3.a);
}

bool verify_dag(const struct dag *d, const struct model *m, uint32_t plan, struct diag_list *diags)
{
	if (plan >= m->n_plans) {
		diag_add(diags, DIAG_ERROR, DRP050, src_range_make(SRC_NONE, 0, 0),
		         "internal error: the DAG's plan #%u is not in the model", plan);
		return false;
	}
	struct verifier v;
	memset(&v, 0, sizeof v);
	v.d = d;
	v.m = m;
	v.plan = &m->plans[plan];
	v.diags = diags;
	v.at = v.plan->decl->name.at;
	/* 0: structure. What follows indexes by the DAG's references, so it runs only if they hold. */
	check_plan_facts(&v);
	check_edges(&v);
	check_steps(&v);
	check_devices(&v);
	check_groups(&v);
	map_vms(&v);
	check_workgroup_tables(&v);
	check_ops(&v);
	if (v.n_violations == 0) {
		index_steps(&v);
		check_workgroups(&v);
		check_migrations(&v);
		check_after_workgroups(&v);
		account_ops(&v);
		if (order_ops(&v)) {
			stamps_init(&v.seen, d->n_ops);
			stamps_init(&v.seen2, d->n_ops);
			stamps_init(&v.in_s, d->n_ops);
			stamps_init(&v.want, d->n_ops);
			stamps_init(&v.dedup, d->n_ops);
			stamps_init(&v.dedup2, d->n_ops);
			v.stack = xmalloc(((size_t)d->n_ops + 1) * sizeof *v.stack);
			v.sub_index = xmalloc(((size_t)d->n_ops + 1) * sizeof *v.sub_index);
			v.s_index = xmalloc(((size_t)d->n_ops + 1) * sizeof *v.s_index);
			v.searching = true;
			check_step_order(&v);
			check_prefer(&v);
			check_storage(&v);
			check_shutdowns(&v);
			check_discards(&v);
			check_priorities(&v);
			check_after_order(&v);
			check_barriers(&v);
		}
	}
	if (v.n_violations > VERIFY_MAX_REPORTS)
		diag_add(diags, DIAG_ERROR, DRP050, v.at, "compiled DAG breaks its guarantees %s%llu more times (only the first %d are shown%s)",
		         v.gave_up ? "at least " : "", (unsigned long long)(v.n_violations - VERIFY_MAX_REPORTS),
		         VERIFY_MAX_REPORTS, v.gave_up ? ": the verifier stopped counting" : "");
	bool ok = v.n_violations == 0;
	verifier_free(&v);
	return ok;
}
