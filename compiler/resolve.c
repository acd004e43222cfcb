/* resolve.c: from a loaded program (plan files and inventories) to the model: every name resolved,
 * every validation rule of docs/diagnostics.md (DRP030 and up) checked, in one pass over the program
 * that reports everything it finds. What cannot be resolved is left out after one diagnostic, so a
 * mistake is reported once, not again by every rule that would have used it. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "../lib/glob.h"

/* Diagnostics about one rule and many VMs name a few and count the rest. */
#define EXAMPLES 3

enum name_kind { KIND_SITE, KIND_HOST, KIND_DEVICE, KIND_PROTECTION, KIND_VM, KIND_COUNT };

static const char *const kind_words[KIND_COUNT] = {"site", "host", "device", "protection group", "VM"};

/* The kinds of ast_item, AST_INCLUDE to AST_PLAN. */
#define N_ITEM_KINDS (AST_PLAN + 1)

/* The glob patterns that `vm` rules use (rule names and `after` targets), each matched against
 * every VM once, in one pass over the VMs (see match_patterns). */
struct pattern {
	const char *text;
	uint32_t len;
	bool prefix_star;   /* a literal prefix and one '*' at the end: matching is a prefix test */
	uint32_t next;      /* the next pattern of the same trie node, or MODEL_NONE */
	uint32_t *vms;      /* the VMs it matches, in index order (heap) */
	uint32_t n_vms, cap_vms;
};

/* A trie of the patterns' literal prefixes (the bytes before the first wildcard). Node 0 is the
 * root (the empty prefix); a pattern hangs on the node of its whole literal prefix. */
struct trie_node {
	uint32_t child, sibling; /* 0: none (the root is nobody's child) */
	uint32_t patterns;       /* the first pattern hanging here, or MODEL_NONE */
	unsigned char byte;
};

struct builder {
	struct model *m;
	const struct program *program;
	struct diag_list *diags;
	const char **suggestions[KIND_COUNT]; /* names of each kind, for "did you mean", built on demand */
	/* The items of every plan file, bucketed by kind in one walk, in program order. */
	const struct ast_item **items[N_ITEM_KINDS];
	uint32_t n_items[N_ITEM_KINDS];
	/* Glob patterns and their matches. */
	struct strmap pattern_names;
	struct pattern *patterns;
	uint32_t n_patterns, cap_patterns;
	struct trie_node *trie;
	uint32_t n_trie, cap_trie;
	/* The VMs' device lists, carved from larger arena blocks: most lists hold one to three
	 * indices, which arena_alloc would round up to 16 bytes each. */
	uint32_t *indices;
	uint32_t n_indices;
	/* Per `vm` rule (as in items[AST_VM]): rejected by DRP047, so that it is reported once and
	 * then ignored entirely, its other clauses adding nothing to that mistake. */
	bool *rule_rejected;
};

/* Growing arrays in the model's arena: the capacity is counted beforehand, so appends never move. */
#define PUSH(m, array, count) (&(m)->array[(m)->count++])

static struct strmap *map_of(struct model *m, enum name_kind kind)
{
	switch (kind) {
	case KIND_SITE: return &m->site_names;
	case KIND_HOST: return &m->host_names;
	case KIND_DEVICE: return &m->device_names;
	case KIND_PROTECTION: return &m->protection_names;
	case KIND_VM: return &m->vm_names;
	default: return NULL;
	}
}

static const char *name_at(const struct model *m, enum name_kind kind, uint32_t i)
{
	switch (kind) {
	case KIND_SITE: return m->sites[i].name;
	case KIND_HOST: return m->hosts[i].name;
	case KIND_DEVICE: return m->devices[i].name;
	case KIND_PROTECTION: return m->protections[i].name;
	case KIND_VM: return m->vms[i].name;
	default: return NULL;
	}
}

static uint32_t count_of(const struct model *m, enum name_kind kind)
{
	switch (kind) {
	case KIND_SITE: return m->n_sites;
	case KIND_HOST: return m->n_hosts;
	case KIND_DEVICE: return m->n_devices;
	case KIND_PROTECTION: return m->n_protections;
	case KIND_VM: return m->n_vms;
	default: return 0;
	}
}

/* The closest known name of a kind; not searched among huge sets, where it would cost too much. */
static const char *suggest(struct builder *b, enum name_kind kind, const char *word)
{
	uint32_t n = count_of(b->m, kind);
	if (n == 0 || n > 20000)
		return NULL;
	if (!b->suggestions[kind]) {
		b->suggestions[kind] = xmalloc((n + 1) * sizeof(char *));
		for (uint32_t i = 0; i < n; i++)
			b->suggestions[kind][i] = name_at(b->m, kind, i);
		b->suggestions[kind][n] = NULL;
	}
	return diag_suggest(word, strlen(word), b->suggestions[kind]);
}

static struct diag *error(struct builder *b, enum diag_rule rule, struct src_range at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct diag *error(struct builder *b, enum diag_rule rule, struct src_range at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = diag_vadd(b->diags, DIAG_ERROR, rule, at, fmt, ap);
	va_end(ap);
	return d;
}

static struct diag *warning(struct builder *b, enum diag_rule rule, struct src_range at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct diag *warning(struct builder *b, enum diag_rule rule, struct src_range at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = diag_vadd(b->diags, DIAG_WARNING, rule, at, fmt, ap);
	va_end(ap);
	return d;
}

/* Looks a name up; reports DRP030 (with a suggestion) if it is unknown. */
static uint32_t resolve(struct builder *b, enum name_kind kind, const char *name, struct src_range at)
{
	uint32_t i = strmap_get(map_of(b->m, kind), name, strlen(name));
	if (i != STRMAP_NONE)
		return i;
	struct diag *d = error(b, DRP030, at, "unknown %s '%s'", kind_words[kind], name);
	const char *s = suggest(b, kind, name);
	if (s) {
		diag_hint(d, "did you mean '%s'?", s);
		diag_fixit(d, s);
	}
	return MODEL_NONE;
}

static void duplicate(struct builder *b, const char *what, const char *name, struct src_range again,
                      struct src_range first)
{
	struct diag *d = error(b, DRP031, again, "%s '%s' is declared twice", what, name);
	if (first.file != SRC_NONE)
		diag_note(d, first, "first declared here");
}

/* Sites and hosts. */

static uint32_t add_site(struct builder *b, const char *name, struct src_range at, const struct ast_item *decl)
{
	struct model *m = b->m;
	uint32_t i = strmap_put(&m->site_names, name, strlen(name), m->n_sites);
	if (i != m->n_sites) {
		if (decl && m->sites[i].decl)
			duplicate(b, "site", name, at, m->sites[i].at);
		else if (decl) { /* the inventory named it first: the declaration is the better place */
			m->sites[i].decl = decl;
			m->sites[i].at = at;
		}
		return i;
	}
	struct model_site *s = PUSH(m, sites, n_sites);
	s->name = name;
	s->at = at;
	s->decl = decl;
	return i;
}

static void build_sites(struct builder *b)
{
	struct model *m = b->m;
	for (uint32_t k = 0; k < b->n_items[AST_SITE]; k++) {
		const struct ast_item *it = b->items[AST_SITE][k];
		add_site(b, it->name.text, it->name.at, it);
	}
	for (size_t k = 0; k < b->program->n_inventories; k++) {
		const struct inventory *inv = b->program->inventories[k];
		for (uint32_t i = 0; i < inv->n_sites; i++) {
			const struct inv_site *is = &inv->sites[i];
			if (!is->name.text)
				continue;
			uint32_t site = add_site(b, is->name.text, is->name.at, NULL);
			for (uint32_t h = 0; h < is->n_hosts; h++) {
				const struct inv_str *hn = &is->hosts[h];
				uint32_t idx = strmap_put(&m->host_names, hn->text, hn->len, m->n_hosts);
				if (idx != m->n_hosts) {
					duplicate(b, "host", hn->text, hn->at, m->hosts[idx].at);
					continue;
				}
				struct model_host *host = PUSH(m, hosts, n_hosts);
				host->name = hn->text;
				host->site = site;
				host->at = hn->at;
			}
		}
	}
}

/* Devices and consistency groups. */

static uint32_t group_of(struct builder *b, const char *name, struct src_range at)
{
	struct model *m = b->m;
	uint32_t i = strmap_put(&m->group_names, name, strlen(name), m->n_groups);
	if (i == m->n_groups) {
		struct model_cgroup *g = PUSH(m, groups, n_groups);
		g->name = name;
		g->at = at;
	}
	return i;
}

static uint32_t site_or_none(struct builder *b, const struct ast_name *n)
{
	return n->text ? resolve(b, KIND_SITE, n->text, n->at) : MODEL_NONE;
}

static void add_declared_device(struct builder *b, const struct ast_item *it)
{
	struct model *m = b->m;
	const struct ast_device *d = &it->u.device;
	uint32_t i = strmap_put(&m->device_names, it->name.text, it->name.len, m->n_devices);
	if (i != m->n_devices) {
		duplicate(b, "device", it->name.text, it->name.at, m->devices[i].at);
		return;
	}
	struct model_device *dev = PUSH(m, devices, n_devices);
	dev->name = it->name.text;
	dev->kind = d->kind;
	dev->at = it->name.at;
	dev->decl = it;
	dev->site = site_or_none(b, &d->site);
	dev->peer_site = site_or_none(b, &d->peer_site);
	dev->consistency = MODEL_NONE;
	dev->prefer = MODEL_NONE;
	if (d->kind == AST_DEVICE_REPLICATED) {
		dev->peer = d->peer.text;
		if (d->consistency.text)
			dev->consistency = group_of(b, d->consistency.text, d->consistency.at);
	} else {
		dev->peer = it->name.text;
		dev->prefer = site_or_none(b, &d->prefer);
		if (dev->prefer != MODEL_NONE && dev->prefer != dev->site && dev->prefer != dev->peer_site)
			error(b, DRP044, d->prefer.at, "stretched device '%s' prefers site '%s', which is not one of its sites",
			      dev->name, d->prefer.text);
	}
	if (dev->site != MODEL_NONE && dev->site == dev->peer_site)
		error(b, DRP044, d->peer_site.at, "device '%s' has both its sides at site '%s'", dev->name,
		      m->sites[dev->site].name);
}

/* Compares the inventory's facts about a device with the plan's declaration. */
static void compare_device(struct builder *b, struct model_device *dev, const struct inv_device *inv)
{
	const struct model *m = b->m;
	const struct ast_device *d = &dev->decl->u.device;
	bool stretched = inv->kind == INV_STRETCHED;
	size_t errors_before = b->diags->errors;
	/* An inventory kind that was missing or invalid is reported already: the declaration decides. */
	if (inv->kind_at.file == SRC_NONE)
		stretched = dev->kind == AST_DEVICE_STRETCHED;
	else if (stretched != (dev->kind == AST_DEVICE_STRETCHED)) {
		dev->disputed = true;
		struct diag *e = error(b, DRP036, dev->at, "device '%s' is declared %s, but the inventory says it is %s",
		                       dev->name, stretched ? "replicated" : "stretched",
		                       stretched ? "stretched" : "replicated");
		diag_note(e, inv->kind_at, "the inventory's entry");
		return;
	}
	if (inv->site.text && dev->site != MODEL_NONE && strcmp(inv->site.text, m->sites[dev->site].name) != 0) {
		struct diag *e = error(b, DRP036, d->site.at, "device '%s' is declared at site '%s', but the inventory puts it at '%s'",
		                       dev->name, m->sites[dev->site].name, inv->site.text);
		diag_note(e, inv->site.at, "the inventory's site");
	}
	if (!stretched && inv->peer_id.text && dev->peer && strcmp(inv->peer_id.text, dev->peer) != 0) {
		struct diag *e = error(b, DRP036, d->peer.at, "device '%s' is declared with peer '%s', but the inventory's peer is '%s'",
		                       dev->name, dev->peer, inv->peer_id.text);
		diag_note(e, inv->peer_id.at, "peer discovered here");
		diag_fixit(e, inv->peer_id.text);
	}
	if (inv->peer_site.text && dev->peer_site != MODEL_NONE &&
	    strcmp(inv->peer_site.text, m->sites[dev->peer_site].name) != 0) {
		struct diag *e = error(b, DRP036, d->peer_site.at, "device '%s' is declared with its %s at site '%s', but the inventory says '%s'",
		                       dev->name, stretched ? "second side" : "peer", m->sites[dev->peer_site].name,
		                       inv->peer_site.text);
		diag_note(e, inv->peer_site.at, "the inventory's site");
	}
	const char *cg = dev->consistency == MODEL_NONE ? NULL : m->groups[dev->consistency].name;
	const char *icg = inv->consistency_group.text;
	if (!stretched && (cg || icg) && (!cg || !icg || strcmp(cg, icg) != 0)) {
		struct diag *e = error(b, DRP036, cg ? d->consistency.at : dev->at,
		                       "device '%s' is declared %s%s%s, but the inventory puts it %s%s%s", dev->name,
		                       cg ? "in consistency group '" : "in no consistency group", cg ? cg : "", cg ? "'" : "",
		                       icg ? "in consistency group '" : "in no consistency group", icg ? icg : "", icg ? "'" : "");
		diag_note(e, icg ? inv->consistency_group.at : inv->at, "the inventory's entry");
	}
	if (b->diags->errors != errors_before)
		dev->disputed = true;
}

static void build_devices(struct builder *b)
{
	struct model *m = b->m;
	for (uint32_t k = 0; k < b->n_items[AST_DEVICE]; k++)
		add_declared_device(b, b->items[AST_DEVICE][k]);
	for (size_t k = 0; k < b->program->n_inventories; k++) {
		const struct inventory *inv = b->program->inventories[k];
		for (uint32_t i = 0; i < inv->n_devices; i++) {
			const struct inv_device *id = &inv->devices[i];
			if (!id->id.text)
				continue;
			if (id->kind == INV_STRETCHED && id->peer_id.text && strcmp(id->peer_id.text, id->id.text) != 0) {
				struct diag *e = error(b, DRP037, id->peer_id.at,
				                       "stretched device '%s' reports peer '%s': a stretched device is its own peer",
				                       id->id.text, id->peer_id.text);
				diag_hint(e, "the adapter should report the device's own identifier as its peer; rediscover, or "
				             "check that the device is really stretched");
			}
			uint32_t idx = strmap_put(&m->device_names, id->id.text, id->id.len, m->n_devices);
			if (idx != m->n_devices) {
				struct model_device *dev = &m->devices[idx];
				if (dev->inv)
					duplicate(b, "device", id->id.text, id->id.at, dev->inv->id.at);
				else {
					dev->inv = id;
					compare_device(b, dev, id);
				}
				continue;
			}
			struct model_device *dev = PUSH(m, devices, n_devices);
			dev->name = id->id.text;
			dev->kind = id->kind == INV_STRETCHED ? AST_DEVICE_STRETCHED : AST_DEVICE_REPLICATED;
			dev->at = id->at;
			dev->inv = id;
			dev->site = id->site.text ? resolve(b, KIND_SITE, id->site.text, id->site.at) : MODEL_NONE;
			dev->peer_site = id->peer_site.text ? resolve(b, KIND_SITE, id->peer_site.text, id->peer_site.at)
			                                    : MODEL_NONE;
			dev->peer = id->kind == INV_STRETCHED ? id->id.text : id->peer_id.text;
			dev->consistency = id->consistency_group.text
			                           ? group_of(b, id->consistency_group.text, id->consistency_group.at)
			                           : MODEL_NONE;
			dev->prefer = id->preference.text ? resolve(b, KIND_SITE, id->preference.text, id->preference.at)
			                                  : MODEL_NONE;
		}
	}
	/* Members of each consistency group, and groups that would fail over between different sites. */
	uint32_t *counts = xcalloc(m->n_groups + 1, sizeof *counts);
	for (uint32_t i = 0; i < m->n_devices; i++)
		if (m->devices[i].consistency != MODEL_NONE)
			counts[m->devices[i].consistency]++;
	for (uint32_t g = 0; g < m->n_groups; g++) {
		m->groups[g].devices = arena_alloc(&m->arena, counts[g] * sizeof(uint32_t));
		m->groups[g].n_devices = 0;
	}
	for (uint32_t i = 0; i < m->n_devices; i++) {
		struct model_device *dev = &m->devices[i];
		if (dev->consistency == MODEL_NONE)
			continue;
		struct model_cgroup *g = &m->groups[dev->consistency];
		if (g->n_devices > 0) {
			const struct model_device *first = &m->devices[g->devices[0]];
			if (first->site != dev->site || first->peer_site != dev->peer_site) {
				struct diag *e = error(b, DRP046, dev->at,
				                       "device '%s' replicates between other sites than '%s', the first device of its consistency group '%s'",
				                       dev->name, first->name, g->name);
				diag_note(e, first->at, "'%s' is declared here", first->name);
			}
		}
		g->devices[g->n_devices++] = i;
	}
	free(counts);
	/* A failover names its consistency group, or its device when it has none: one name, one thing. */
	for (uint32_t g = 0; g < m->n_groups; g++) {
		const struct model_cgroup *cg = &m->groups[g];
		uint32_t i = strmap_get(&m->device_names, cg->name, strlen(cg->name));
		if (i == STRMAP_NONE)
			continue;
		struct diag *e = error(b, DRP031, cg->at, "consistency group '%s' has the name of a device", cg->name);
		diag_note(e, m->devices[i].at, "device '%s' is declared here", m->devices[i].name);
		diag_hint(e, "rename the consistency group: a failover is named after its group, or after its device "
		             "when it has none, and the two would be confused");
	}
}

/* Protection groups. */

static void build_protections(struct builder *b)
{
	struct model *m = b->m;
	for (uint32_t k = 0; k < b->n_items[AST_PROTECTION]; k++) {
		const struct ast_item *it = b->items[AST_PROTECTION][k];
		uint32_t i = strmap_put(&m->protection_names, it->name.text, it->name.len, m->n_protections);
		if (i != m->n_protections) {
			duplicate(b, "protection group", it->name.text, it->name.at, m->protections[i].at);
			continue;
		}
		struct model_protection *p = PUSH(m, protections, n_protections);
		p->name = it->name.text;
		p->at = it->name.at;
		p->decl = it;
		size_t n = 0;
		for (const struct ast_devices_stmt *s = it->u.protection; s; s = s->next)
			n += s->devices.count;
		p->devices = arena_alloc(&m->arena, n * sizeof(uint32_t));
		for (const struct ast_devices_stmt *s = it->u.protection; s; s = s->next) {
			for (const struct ast_name_node *d = s->devices.head; d; d = d->next) {
				uint32_t dev = resolve(b, KIND_DEVICE, d->name.text, d->name.at);
				if (dev != MODEL_NONE)
					p->devices[p->n_devices++] = dev;
				else
					p->incomplete = true;
			}
		}
		if (n == 0)
			warning(b, DRP043, it->name.at, "protection group '%s' has no devices", p->name);
	}
}

/* VMs: from the inventories, and from `vm` rules that declare disks with `on`. */

static struct model_vm *add_vm(struct builder *b, const char *name, uint32_t len, uint64_t hash, struct src_range at)
{
	struct model *m = b->m;
	uint32_t i = strmap_put_hashed(&m->vm_names, name, len, hash, m->n_vms);
	if (i != m->n_vms) {
		duplicate(b, "VM", name, at, m->vms[i].at);
		return NULL;
	}
	struct model_vm *vm = PUSH(m, vms, n_vms);
	vm->name = name;
	/* An inventory's name may hold a NUL (reported as a control character): patterns see the
	 * name up to it. */
	vm->name_len = memchr(name, '\0', len) ? (uint32_t)strlen(name) : len;
	vm->at = at;
	vm->host = MODEL_NONE;
	vm->priority = MODEL_NO_PRIORITY;
	return vm;
}

static uint32_t resolve_host(struct builder *b, const char *name, struct src_range at)
{
	/* Hosts are checked only where the inventory lists them. */
	if (b->m->n_hosts == 0)
		return MODEL_NONE;
	return resolve(b, KIND_HOST, name, at);
}

static void finish_vm(struct builder *b, struct model_vm *vm)
{
	const struct model *m = b->m;
	uint32_t stretched = 0, replicated = 0;
	for (uint32_t i = 0; i < vm->n_devices; i++) {
		if (m->devices[vm->devices[i]].kind == AST_DEVICE_STRETCHED)
			stretched++;
		else
			replicated++;
	}
	vm->live = stretched > 0 && replicated == 0;
	bool disputed = false;
	for (uint32_t i = 0; i < vm->n_devices; i++)
		disputed |= m->devices[vm->devices[i]].disputed;
	if (stretched && replicated && !disputed) {
		const char *s = NULL, *r = NULL;
		for (uint32_t i = 0; i < vm->n_devices; i++) {
			const struct model_device *d = &m->devices[vm->devices[i]];
			if (d->kind == AST_DEVICE_STRETCHED && !s)
				s = d->name;
			if (d->kind == AST_DEVICE_REPLICATED && !r)
				r = d->name;
		}
		struct diag *e = error(b, DRP033, vm->at,
		                       "VM '%s' has disks on stretched device '%s' and replicated device '%s'", vm->name, s, r);
		diag_hint(e, "a VM either moves live (all disks stretched) or by storage failover (all disks replicated); "
		             "move its disks with a storage migration first");
	}
}

/* Room for n indices (zeroed), in the model's arena. */
static uint32_t *index_array(struct builder *b, size_t n)
{
	enum { BLOCK = 4096 };
	if (n > BLOCK / 4)
		return arena_alloc(&b->m->arena, n * sizeof(uint32_t));
	if (n > b->n_indices) {
		b->indices = arena_alloc(&b->m->arena, BLOCK * sizeof(uint32_t));
		b->n_indices = BLOCK;
	}
	uint32_t *p = b->indices;
	b->indices += n;
	b->n_indices -= (uint32_t)n;
	return p;
}

/* Prefetches the map slots that building this VM will probe; returns the hash of its name. */
static uint64_t prefetch_vm(const struct model *m, const struct inv_vm *iv)
{
	if (!iv->name.text)
		return 0;
	uint64_t hash = strmap_hash(iv->name.text, iv->name.len);
	strmap_prefetch(&m->vm_names, hash);
	if (iv->host.text && m->n_hosts)
		strmap_prefetch(&m->host_names, strmap_hash(iv->host.text, iv->host.len));
	for (uint32_t d = 0; d < iv->n_devices; d++)
		strmap_prefetch(&m->device_names, strmap_hash(iv->devices[d].text, iv->devices[d].len));
	return hash;
}

static void build_vms(struct builder *b)
{
	struct model *m = b->m;
	for (size_t k = 0; k < b->program->n_inventories; k++) {
		const struct inventory *inv = b->program->inventories[k];
		strmap_reserve(&m->vm_names, m->n_vms + inv->n_vms);
		/* Nearly every insertion into a map of a million names is a cache miss, and the host and
		 * device lookups often are: hash the names LOOKAHEAD VMs ahead and prefetch their slots. */
		enum { LOOKAHEAD = 8 };
		uint64_t hashes[LOOKAHEAD];
		for (uint32_t i = 0; i < LOOKAHEAD && i < inv->n_vms; i++)
			hashes[i] = prefetch_vm(m, &inv->vms[i]);
		for (uint32_t i = 0; i < inv->n_vms; i++) {
			const struct inv_vm *iv = &inv->vms[i];
			uint64_t hash = hashes[i % LOOKAHEAD];
			if (i + LOOKAHEAD < inv->n_vms)
				hashes[i % LOOKAHEAD] = prefetch_vm(m, &inv->vms[i + LOOKAHEAD]);
			if (!iv->name.text)
				continue;
			struct model_vm *vm = add_vm(b, iv->name.text, iv->name.len, hash, iv->at);
			if (!vm)
				continue;
			if (iv->host.text)
				vm->host = resolve_host(b, iv->host.text, iv->host.at);
			vm->devices = index_array(b, iv->n_devices);
			for (uint32_t d = 0; d < iv->n_devices; d++) {
				uint32_t dev = resolve(b, KIND_DEVICE, iv->devices[d].text, iv->devices[d].at);
				if (dev != MODEL_NONE)
					vm->devices[vm->n_devices++] = dev;
			}
			finish_vm(b, vm);
		}
	}
	/* VMs declared in the plan: a rule with `on`, for a literal name. A rule that declares disks or
	 * a host for a pattern, or a host without disks, is rejected (DRP047). */
	b->rule_rejected = xcalloc(b->n_items[AST_VM] + 1, sizeof *b->rule_rejected);
	for (uint32_t k = 0; k < b->n_items[AST_VM]; k++) {
		const struct ast_item *it = b->items[AST_VM][k];
		const struct ast_vm_clause *on = NULL, *host = NULL;
		size_t n_on = 0;
		for (const struct ast_vm_clause *c = it->u.vm; c; c = c->next) {
			if (c->kind == AST_VM_ON) {
				on = on ? on : c;
				n_on += c->names.count;
			} else if (c->kind == AST_VM_HOST) {
				host = c;
			}
		}
		if (!on && !host)
			continue;
		if (glob_is_pattern(it->name.text, it->name.len)) {
			struct diag *e = error(b, DRP047, (on ? on : host)->at,
			                       "'%s' declares a VM's %s, but '%s' is a pattern", on ? "on" : "host",
			                       on ? "disks" : "host", it->name.text);
			diag_hint(e, "declare each VM by its own name, or list the VMs in the inventory");
			b->rule_rejected[k] = true;
			continue;
		}
		if (!on) {
			struct diag *e = error(b, DRP047, host->at, "VM '%s' is given a host but no disks", it->name.text);
			diag_hint(e, "declare its disks with 'on DEVICE...', or list it in the inventory");
			b->rule_rejected[k] = true;
			continue;
		}
		struct model_vm *vm =
		        add_vm(b, it->name.text, it->name.len, strmap_hash(it->name.text, it->name.len), it->name.at);
		if (!vm)
			continue;
		if (host)
			vm->host = resolve_host(b, host->host.text, host->host.at);
		vm->devices = index_array(b, n_on);
		for (const struct ast_vm_clause *c = it->u.vm; c; c = c->next) {
			if (c->kind != AST_VM_ON)
				continue;
			for (const struct ast_name_node *d = c->names.head; d; d = d->next) {
				uint32_t dev = resolve(b, KIND_DEVICE, d->name.text, d->name.at);
				if (dev != MODEL_NONE)
					vm->devices[vm->n_devices++] = dev;
			}
		}
		finish_vm(b, vm);
	}
}

/* Glob patterns. Matching each rule's pattern against every VM would cost rules x VMs, with a
 * cache miss for every VM's name; instead every pattern is collected first and all of them are
 * matched in one pass over the VMs. A VM's name walks a trie of the patterns' literal prefixes, so
 * it meets only the patterns whose prefix it has: those of the form `prefix*` match at once, the
 * others go through glob_match. */

/* The child of `node` for `byte`; 0 if there is none and `add` is false. */
static uint32_t trie_child(struct builder *b, uint32_t node, unsigned char byte, bool add)
{
	for (uint32_t c = b->trie[node].child; c; c = b->trie[c].sibling)
		if (b->trie[c].byte == byte)
			return c;
	if (!add)
		return 0;
	if (b->n_trie == b->cap_trie) {
		b->cap_trie *= 2;
		b->trie = xrealloc(b->trie, b->cap_trie * sizeof *b->trie);
	}
	uint32_t c = b->n_trie++;
	b->trie[c] = (struct trie_node){0, b->trie[node].child, MODEL_NONE, byte};
	b->trie[node].child = c;
	return c;
}

static void add_pattern(struct builder *b, const struct ast_name *name)
{
	if (!glob_is_pattern(name->text, name->len))
		return;
	uint32_t i = strmap_put(&b->pattern_names, name->text, name->len, b->n_patterns);
	if (i != b->n_patterns)
		return;
	if (b->n_patterns == b->cap_patterns) {
		b->cap_patterns = b->cap_patterns ? b->cap_patterns * 2 : 16;
		b->patterns = xrealloc(b->patterns, b->cap_patterns * sizeof *b->patterns);
	}
	if (!b->trie) {
		b->cap_trie = 64;
		b->trie = xmalloc(b->cap_trie * sizeof *b->trie);
		b->trie[0] = (struct trie_node){0, 0, MODEL_NONE, 0};
		b->n_trie = 1;
	}
	struct pattern *p = &b->patterns[b->n_patterns++];
	uint32_t lit = 0;
	while (lit < name->len && name->text[lit] != '*' && name->text[lit] != '?' && name->text[lit] != '[')
		lit++;
	*p = (struct pattern){name->text, name->len, lit + 1 == name->len && name->text[lit] == '*', MODEL_NONE,
	                      NULL, 0, 0};
	uint32_t node = 0;
	for (uint32_t k = 0; k < lit; k++)
		node = trie_child(b, node, (unsigned char)name->text[k], true);
	p->next = b->trie[node].patterns;
	b->trie[node].patterns = i;
}

/* Fills every pattern's list of VMs, in VM order. */
static void match_patterns(struct builder *b)
{
	const struct model *m = b->m;
	for (uint32_t i = 0; i < m->n_vms; i++) {
		const char *name = m->vms[i].name;
		uint32_t len = m->vms[i].name_len, depth = 0, node = 0;
		do {
			for (uint32_t k = b->trie[node].patterns; k != MODEL_NONE; k = b->patterns[k].next) {
				struct pattern *p = &b->patterns[k];
				if (!p->prefix_star && !glob_match(p->text, p->len, name, len))
					continue;
				if (p->n_vms == p->cap_vms) {
					p->cap_vms = p->cap_vms ? p->cap_vms * 2 : 16;
					p->vms = xrealloc(p->vms, p->cap_vms * sizeof *p->vms);
				}
				p->vms[p->n_vms++] = i;
			}
		} while (depth < len && (node = trie_child(b, node, (unsigned char)name[depth++], false)) != 0);
	}
}

/* The VMs a pattern names: one lookup for a plain name, the list match_patterns made for a glob.
 * Calls `each` for every match, in VM order; returns how many matched. */
static uint32_t match_vms(struct builder *b, const struct ast_name *pattern,
                          void (*each)(struct builder *, uint32_t vm, void *ctx), void *ctx)
{
	struct model *m = b->m;
	if (!glob_is_pattern(pattern->text, pattern->len)) {
		uint32_t vm = strmap_get(&m->vm_names, pattern->text, pattern->len);
		if (vm == STRMAP_NONE)
			return 0;
		each(b, vm, ctx);
		return 1;
	}
	uint32_t k = strmap_get(&b->pattern_names, pattern->text, pattern->len);
	if (k != STRMAP_NONE) {
		const struct pattern *p = &b->patterns[k];
		/* The matches are spread over the whole VM table: fetch a few ahead. */
		enum { AHEAD = 8 };
		for (uint32_t j = 0; j < p->n_vms; j++) {
			if (j + AHEAD < p->n_vms)
				__builtin_prefetch(&m->vms[p->vms[j + AHEAD]], 1);
			each(b, p->vms[j], ctx);
		}
		return p->n_vms;
	}
	uint32_t n = 0; /* not collected beforehand: a scan */
	for (uint32_t i = 0; i < m->n_vms; i++) {
		const struct model_vm *vm = &m->vms[i];
		if (glob_match(pattern->text, pattern->len, vm->name, vm->name_len)) {
			each(b, i, ctx);
			n++;
		}
	}
	return n;
}

static void report_no_match(struct builder *b, const struct ast_name *pattern, const char *what)
{
	if (glob_is_pattern(pattern->text, pattern->len)) {
		warning(b, DRP032, pattern->at, "%s '%s' matches no VM", what, pattern->text);
		return;
	}
	resolve(b, KIND_VM, pattern->text, pattern->at);
}

struct priority_ctx {
	const struct ast_item *rule;
	int32_t priority;
	const struct ast_item *conflict; /* the first other rule that disagrees */
	const char *conflict_vm;
	int32_t conflict_priority;
};

static void set_priority(struct builder *b, uint32_t i, void *ctx)
{
	struct priority_ctx *p = ctx;
	struct model_vm *vm = &b->m->vms[i];
	if (vm->priority_rule && vm->priority != p->priority) {
		if (!p->conflict) {
			p->conflict = vm->priority_rule;
			p->conflict_vm = vm->name;
			p->conflict_priority = vm->priority;
		}
		return;
	}
	vm->priority = p->priority;
	vm->priority_rule = p->rule;
}

struct after_ctx {
	struct model_after *after;
	uint32_t index;
	uint32_t capacity;
};

static void collect_target(struct builder *b, uint32_t vm, void *ctx)
{
	struct after_ctx *a = ctx;
	if (a->after->n_targets == a->capacity) {
		uint32_t cap = a->capacity ? a->capacity * 2 : 4;
		uint32_t *targets = arena_alloc(&b->m->arena, cap * sizeof *targets);
		if (a->after->n_targets)
			memcpy(targets, a->after->targets, a->after->n_targets * sizeof *targets);
		a->after->targets = targets;
		a->capacity = cap;
	}
	a->after->targets[a->after->n_targets++] = vm;
}

static void attach_after(struct builder *b, uint32_t vm, void *ctx)
{
	struct after_ctx *a = ctx;
	struct model_vm_after *node = ARENA_NEW(&b->m->arena, struct model_vm_after);
	node->after = a->index;
	node->next = b->m->vms[vm].afters;
	b->m->vms[vm].afters = node;
}

static void apply_rules(struct builder *b)
{
	struct model *m = b->m;
	for (uint32_t k = 0; k < b->n_items[AST_VM]; k++) {
		const struct ast_item *it = b->items[AST_VM][k];
		if (b->rule_rejected[k])
			continue;
		for (const struct ast_vm_clause *c = it->u.vm; c; c = c->next) {
			if (c->kind == AST_VM_PRIORITY) {
				add_pattern(b, &it->name);
			} else if (c->kind == AST_VM_AFTER) {
				for (const struct ast_name_node *t = c->names.head; t; t = t->next)
					add_pattern(b, &t->name);
				add_pattern(b, &it->name);
			}
		}
	}
	if (b->n_patterns)
		match_patterns(b);
	for (uint32_t k = 0; k < b->n_items[AST_VM]; k++) {
		const struct ast_item *it = b->items[AST_VM][k];
		if (b->rule_rejected[k])
			continue;
		for (const struct ast_vm_clause *c = it->u.vm; c; c = c->next) {
			if (c->kind == AST_VM_PRIORITY) {
				struct priority_ctx p = {it, (int32_t)c->priority.value, NULL, NULL, 0};
				if (!match_vms(b, &it->name, set_priority, &p))
					report_no_match(b, &it->name, "pattern");
				if (p.conflict) {
					struct diag *e = error(b, DRP045, c->at,
					                       "VM '%s' is given priority %d here and priority %d by another rule",
					                       p.conflict_vm, p.priority, p.conflict_priority);
					diag_note(e, p.conflict->at, "the other rule");
				}
			} else if (c->kind == AST_VM_AFTER) {
				struct model_after *after = PUSH(m, afters, n_afters);
				after->clause = c;
				struct after_ctx a = {after, m->n_afters - 1, 0};
				for (const struct ast_name_node *t = c->names.head; t; t = t->next)
					if (!match_vms(b, &t->name, collect_target, &a))
						report_no_match(b, &t->name, "'after' target");
				match_vms(b, &it->name, attach_after, &a);
			}
		}
	}
}

/* Dependencies: no VM depends on one that powers on later, and no cycles. */

static void check_dependency_priorities(struct builder *b)
{
	struct model *m = b->m;
	for (uint32_t i = 0; i < m->n_vms; i++) {
		const struct model_vm *vm = &m->vms[i];
		for (const struct model_vm_after *n = vm->afters; n; n = n->next) {
			const struct model_after *after = &m->afters[n->after];
			for (uint32_t t = 0; t < after->n_targets; t++) {
				const struct model_vm *target = &m->vms[after->targets[t]];
				if (target->priority <= vm->priority)
					continue;
				struct buf tp = BUF_INIT, vp = BUF_INIT;
				if (target->priority == MODEL_NO_PRIORITY)
					buf_puts(&tp, "no priority");
				else
					buf_printf(&tp, "priority %d", target->priority);
				buf_printf(&vp, "priority %d", vm->priority);
				struct diag *e = error(b, DRP039, after->clause->at,
				                       "VM '%s' (%s) is to power on after '%s' (%s), which powers on later",
				                       vm->name, vp.data, target->name, tp.data);
				diag_hint(e, "give '%s' a smaller priority number, or drop the dependency", target->name);
				buf_free(&tp);
				buf_free(&vp);
				break; /* one report per VM and clause */
			}
		}
	}
}

static void check_dependency_cycles(struct builder *b)
{
	struct model *m = b->m;
	/* Iterative depth-first search; colour 0 new, 1 on the stack, 2 done. */
	unsigned char *colour = xcalloc(m->n_vms ? m->n_vms : 1, 1);
	struct frame {
		uint32_t vm;
		const struct model_vm_after *after;
		uint32_t target;
		const struct ast_vm_clause *via; /* the clause that led here */
	} *stack = xmalloc((m->n_vms + 1) * sizeof *stack);
	uint32_t cycles = 0;
	for (uint32_t root = 0; root < m->n_vms && cycles < 10; root++) {
		if (colour[root] || !m->vms[root].afters)
			continue;
		size_t depth = 0;
		stack[depth++] = (struct frame){root, m->vms[root].afters, 0, NULL};
		colour[root] = 1;
		while (depth > 0) {
			struct frame *top = &stack[depth - 1];
			if (!top->after) {
				colour[top->vm] = 2;
				depth--;
				continue;
			}
			const struct model_after *after = &m->afters[top->after->after];
			if (top->target >= after->n_targets) {
				top->after = top->after->next;
				top->target = 0;
				continue;
			}
			uint32_t next = after->targets[top->target++];
			if (colour[next] == 2)
				continue;
			if (colour[next] == 1) {
				/* A cycle: from `next`'s frame to the top, then back to `next`. */
				size_t from = 0;
				while (stack[from].vm != next)
					from++;
				struct buf path = BUF_INIT;
				for (size_t k = from; k < depth; k++)
					buf_printf(&path, "%s -> ", m->vms[stack[k].vm].name);
				buf_puts(&path, m->vms[next].name);
				struct diag *e = error(b, DRP038, after->clause->at, "dependency cycle: %s", path.data);
				for (size_t k = from + 1; k < depth; k++)
					if (stack[k].via && stack[k].via != after->clause)
						diag_note(e, stack[k].via->at, "'%s' waits for '%s' here", m->vms[stack[k - 1].vm].name,
						          m->vms[stack[k].vm].name);
				buf_free(&path);
				cycles++;
				continue;
			}
			colour[next] = 1;
			stack[depth++] = (struct frame){next, m->vms[next].afters, 0, after->clause};
		}
	}
	free(stack);
	free(colour);
}

/* Whether device d is one of the VM's. */
static bool vm_on_device(const struct model_vm *vm, uint32_t d)
{
	for (uint32_t k = 0; k < vm->n_devices; k++)
		if (vm->devices[k] == d)
			return true;
	return false;
}

/* Storage-migration records must name known VMs and devices (DRP030), move a VM's disks between two
 * different replicated devices, one of them the VM's (DRP057), once per VM (DRP058). The records
 * that pass are kept in m->migrations; the plans check their devices' coverage (DRP059). */
static void check_migrations(struct builder *b)
{
	struct model *m = b->m;
	size_t total = 0;
	for (size_t k = 0; k < b->program->n_inventories; k++)
		total += b->program->inventories[k]->n_migrations;
	m->migrations = arena_alloc(&m->arena, (total + 1) * sizeof *m->migrations);
	m->vm_migration = arena_alloc(&m->arena, ((size_t)m->n_vms + 1) * sizeof *m->vm_migration);
	memset(m->vm_migration, 0xff, ((size_t)m->n_vms + 1) * sizeof *m->vm_migration);
	for (size_t k = 0; k < b->program->n_inventories; k++) {
		const struct inventory *inv = b->program->inventories[k];
		for (uint32_t i = 0; i < inv->n_migrations; i++) {
			const struct inv_migration *mg = &inv->migrations[i];
			uint32_t vm = MODEL_NONE, from = MODEL_NONE, to = MODEL_NONE;
			if (mg->vm.text)
				vm = resolve(b, KIND_VM, mg->vm.text, mg->vm.at);
			if (mg->from.text)
				from = resolve(b, KIND_DEVICE, mg->from.text, mg->from.at);
			if (mg->to.text)
				to = resolve(b, KIND_DEVICE, mg->to.text, mg->to.at);
			if (vm == MODEL_NONE || from == MODEL_NONE || to == MODEL_NONE)
				continue;
			const struct model_vm *v = &m->vms[vm];
			if (from == to) {
				struct diag *e = error(b, DRP057, mg->to.at,
				                       "the storage migration of VM '%s' moves it from device '%s' to the same device",
				                       v->name, m->devices[from].name);
				diag_hint(e, "a storage migration moves a VM's disks to another device: correct 'from' or 'to'");
				continue;
			}
			const struct inv_str *stretched = m->devices[from].kind == AST_DEVICE_STRETCHED ? &mg->from
			                                  : m->devices[to].kind == AST_DEVICE_STRETCHED ? &mg->to : NULL;
			if (stretched) {
				struct diag *e = error(b, DRP057, stretched->at,
				                       "the storage migration of VM '%s' involves stretched device '%s'", v->name,
				                       stretched->text);
				diag_hint(e, "a stretched device has one copy, at both sites, so there is no copy to choose: "
				             "migration records are for moves between replicated devices");
				continue;
			}
			if (!vm_on_device(v, from) && !vm_on_device(v, to)) {
				struct diag *e = error(b, DRP057, mg->vm.at,
				                       "VM '%s' has no disk on device '%s' or '%s', between which its storage "
				                       "migration moves it", v->name, m->devices[from].name, m->devices[to].name);
				diag_hint(e, "a VM being moved has its disks on the source device, or on the destination once "
				             "the move has completed: correct the record or the VM's devices");
				diag_note(e, v->at, "'%s' is declared here", v->name);
				continue;
			}
			if (m->vm_migration[vm] != MODEL_NONE) {
				struct diag *e = error(b, DRP058, mg->vm.at, "VM '%s' has a second storage-migration record",
				                       v->name);
				diag_hint(e, "a VM moves between two devices at a time: keep one record per VM, the latest");
				diag_note(e, m->migrations[m->vm_migration[vm]].inv->at, "the first record of '%s' is here",
				          v->name);
				continue;
			}
			m->vm_migration[vm] = m->n_migrations;
			m->migrations[m->n_migrations++] = (struct model_migration){
				vm, from, to, mg->state == INV_MIGRATION_COMPLETED, mg,
			};
		}
	}
}

/* Plans. */

/* Which steps each mode allows (docs/language.md, "mode"). */
static bool step_allowed(enum ast_mode mode, enum ast_step_kind step)
{
	switch (step) {
	case AST_STEP_RUN:
	case AST_STEP_PROMPT:
	case AST_STEP_WAIT:
		return true;
	case AST_STEP_SYNC:
		return mode == AST_MODE_PLANNED || mode == AST_MODE_DISASTER || mode == AST_MODE_REPROTECT;
	case AST_STEP_REVERSE:
		return mode == AST_MODE_REPROTECT;
	case AST_STEP_FAILOVER:
	case AST_STEP_REGISTER:
	case AST_STEP_POWER_ON:
		return mode == AST_MODE_PLANNED || mode == AST_MODE_DISASTER || mode == AST_MODE_TEST;
	case AST_STEP_SHUTDOWN:
		/* cleanup: the test VMs at the recovery site */
		return mode == AST_MODE_PLANNED || mode == AST_MODE_DISASTER || mode == AST_MODE_CLEANUP;
	case AST_STEP_PREFER:
	case AST_STEP_MIGRATE:
		return mode == AST_MODE_PLANNED || mode == AST_MODE_DISASTER;
	case AST_STEP_UNREGISTER:
	case AST_STEP_DISCARD:
		return mode == AST_MODE_CLEANUP;
	}
	return false;
}

static const char *step_why_not(enum ast_mode mode, enum ast_step_kind step)
{
	if (step == AST_STEP_UNREGISTER || step == AST_STEP_DISCARD)
		return "unregistering test VMs and discarding test snapshots undo a test: that is what a cleanup plan "
		       "(mode cleanup) does";
	if (mode == AST_MODE_TEST)
		return "a test recovers into snapshots at the recovery site and touches nothing at the protected site";
	if (step == AST_STEP_REVERSE)
		return "reversing replication is what a reprotect plan does";
	if (mode == AST_MODE_REPROTECT)
		return "a reprotect plan only reverses (and syncs) replication";
	if (mode == AST_MODE_CLEANUP)
		return "a cleanup plan undoes a test: it shuts down and unregisters the test VMs at the recovery site, "
		       "discards the test snapshots, and runs scripts, prompts and waits";
	return "the mode does not allow it";
}

struct plan_parts {
	const struct ast_stmt *route, *mode, *workgroup, *rto, *protect;
};

/* Reports a plan statement given twice; returns true if `s` is the first. */
static bool first_of(struct builder *b, const struct ast_stmt **slot, const struct ast_stmt *s, const char *word)
{
	if (*slot) {
		struct diag *e = error(b, DRP043, s->at, "'%s' is given twice in this plan", word);
		diag_note(e, (*slot)->at, "first given here");
		return false;
	}
	*slot = s;
	return true;
}

static void plan_statements(struct builder *b, struct model_plan *plan, struct plan_parts *parts)
{
	struct model *m = b->m;
	uint32_t n_steps = 0, n_limits = 0;
	for (const struct ast_stmt *s = plan->decl->u.plan; s; s = s->next) {
		n_steps += s->kind == AST_STMT_STEP;
		n_limits += s->kind == AST_STMT_LIMIT;
	}
	plan->steps = arena_alloc(&m->arena, n_steps * sizeof *plan->steps);
	plan->limits = arena_alloc(&m->arena, n_limits * sizeof *plan->limits);
	for (const struct ast_stmt *s = plan->decl->u.plan; s; s = s->next) {
		switch (s->kind) {
		case AST_STMT_ROUTE:
			if (first_of(b, &parts->route, s, "from ... to")) {
				plan->from = resolve(b, KIND_SITE, s->u.route.from.text, s->u.route.from.at);
				plan->to = resolve(b, KIND_SITE, s->u.route.to.text, s->u.route.to.at);
				if (plan->from != MODEL_NONE && plan->from == plan->to) {
					error(b, DRP044, s->at, "the plan moves from site '%s' to itself", m->sites[plan->from].name);
					plan->to = MODEL_NONE; /* no rule about the recovery site can say more */
				}
			}
			break;
		case AST_STMT_MODE:
			if (first_of(b, &parts->mode, s, "mode"))
				plan->mode = s->u.mode.mode;
			break;
		case AST_STMT_PROTECT:
			/* Several protect statements add up. */
			parts->protect = parts->protect ? parts->protect : s;
			break;
		case AST_STMT_WORKGROUP:
			if (first_of(b, &parts->workgroup, s, "workgroup")) {
				plan->workgroup = (uint32_t)s->u.workgroup.value;
				if (plan->workgroup == 0)
					error(b, DRP043, s->u.workgroup.at, "a workgroup holds at least one VM");
			}
			break;
		case AST_STMT_LIMIT: {
			struct model_limit *l = &plan->limits[plan->n_limits++];
			l->stmt = s;
			l->operation = s->u.limit.operation.text;
			l->scope = s->u.limit.scope.text;
			l->count = (uint32_t)s->u.limit.count.value;
			if (l->count == 0)
				error(b, DRP043, s->u.limit.count.at, "a limit of 0 would never let an operation start");
			break;
		}
		case AST_STMT_RTO:
			if (first_of(b, &parts->rto, s, "rto")) {
				plan->rto_ms = s->u.rto.ms;
				if (plan->rto_ms == 0)
					error(b, DRP043, s->u.rto.at, "an RTO of 0 cannot be met");
			}
			break;
		case AST_STMT_STEP: {
			struct model_step *st = &plan->steps[plan->n_steps++];
			st->stmt = s;
			st->kind = s->u.step.kind;
			st->site = MODEL_NONE;
			if (s->u.step.site.text)
				st->site = resolve(b, KIND_SITE, s->u.step.site.text, s->u.step.site.at);
			if (s->u.step.backoff.present && !s->u.step.retries.present)
				error(b, DRP043, s->u.step.backoff.at, "'backoff' without 'retry' has no effect");
			break;
		}
		}
	}
	static const char *const required[] = {"from ... to", "mode", "protect"};
	const struct ast_stmt *given[] = {parts->route, parts->mode, parts->protect};
	for (int i = 0; i < 3; i++) {
		if (given[i])
			continue;
		struct diag *e = error(b, DRP043, plan->decl->name.at, "plan '%s' has no '%s' statement", plan->name,
		                       required[i]);
		if (i == 1)
			diag_hint(e, "say which kind of run this is: mode planned, disaster, test, cleanup or reprotect");
	}
	if (plan->n_steps == 0)
		warning(b, DRP043, plan->decl->name.at, "plan '%s' has no steps", plan->name);
}

/* The devices and VMs the plan moves, and the checks on them. */
static void plan_coverage(struct builder *b, struct model_plan *plan)
{
	struct model *m = b->m;
	uint32_t n = 0;
	for (const struct ast_stmt *s = plan->decl->u.plan; s; s = s->next)
		if (s->kind == AST_STMT_PROTECT)
			n += (uint32_t)s->u.protect.count;
	plan->protections = arena_alloc(&m->arena, n * sizeof(uint32_t));
	plan->covered = arena_alloc(&m->arena, (m->n_devices ? m->n_devices : 1) * sizeof(bool));
	const struct ast_stmt *protect = NULL;
	/* A protection group or device name that did not resolve (already reported) leaves the coverage
	 * unknown: the rules about uncovered devices would only repeat that mistake. */
	bool coverage_known = true;
	for (const struct ast_stmt *s = plan->decl->u.plan; s; s = s->next) {
		if (s->kind != AST_STMT_PROTECT)
			continue;
		protect = protect ? protect : s;
		for (const struct ast_name_node *g = s->u.protect.head; g; g = g->next) {
			uint32_t p = resolve(b, KIND_PROTECTION, g->name.text, g->name.at);
			if (p == MODEL_NONE || m->protections[p].incomplete)
				coverage_known = false;
			if (p == MODEL_NONE)
				continue;
			plan->protections[plan->n_protections++] = p;
			for (uint32_t d = 0; d < m->protections[p].n_devices; d++)
				plan->covered[m->protections[p].devices[d]] = true;
		}
	}
	if (!protect)
		return;
	bool reverse = plan->mode == AST_MODE_REPROTECT;
	uint32_t want_source = reverse ? plan->to : plan->from;
	uint32_t want_peer = reverse ? plan->from : plan->to;
	struct wrong_way {
		uint32_t site, peer_site; /* the way the devices replicate */
		uint32_t first, count;    /* the first such device, and how many */
	} *wrong = NULL;
	size_t n_wrong = 0;
	for (uint32_t i = 0; i < m->n_devices; i++) {
		if (!plan->covered[i] || plan->from == MODEL_NONE || plan->to == MODEL_NONE)
			continue;
		const struct model_device *d = &m->devices[i];
		if (d->site == MODEL_NONE || d->peer_site == MODEL_NONE || d->disputed)
			continue;
		if (d->kind == AST_DEVICE_STRETCHED) {
			bool between = (d->site == plan->from && d->peer_site == plan->to) ||
			               (d->site == plan->to && d->peer_site == plan->from);
			if (!between) {
				struct diag *e = error(b, DRP044, protect->at,
				                       "stretched device '%s' spans sites '%s' and '%s', not the plan's '%s' and '%s'",
				                       d->name, m->sites[d->site].name, m->sites[d->peer_site].name,
				                       m->sites[plan->from].name, m->sites[plan->to].name);
				diag_note(e, d->at, "'%s' is declared here", d->name);
			}
			continue;
		}
		/* A reprotect plan reverses replication after a failover: the peer is then the source. */
		if (d->site == want_source && d->peer_site == want_peer)
			continue;
		/* Devices that go the wrong way are grouped by the way they go: a plan written in the wrong
		 * direction is one mistake, whatever the number of its devices. */
		size_t w = 0;
		while (w < n_wrong && (wrong[w].site != d->site || wrong[w].peer_site != d->peer_site))
			w++;
		if (w == n_wrong) {
			wrong = xrealloc(wrong, (n_wrong + 1) * sizeof *wrong);
			wrong[n_wrong++] = (struct wrong_way){d->site, d->peer_site, i, 0};
		}
		wrong[w].count++;
	}
	for (size_t w = 0; w < n_wrong; w++) {
		const struct model_device *d = &m->devices[wrong[w].first];
		struct buf more = BUF_INIT;
		if (wrong[w].count > 1)
			buf_printf(&more, " (and %u more device%s of the plan)", wrong[w].count - 1,
			           wrong[w].count == 2 ? "" : "s");
		struct diag *e;
		if (!reverse) {
			e = error(b, DRP035, protect->at,
			          "replicated device '%s'%s replicates from '%s' to '%s', but the plan moves from '%s' to '%s'",
			          d->name, more.len ? more.data : "", m->sites[d->site].name, m->sites[d->peer_site].name,
			          m->sites[plan->from].name, m->sites[plan->to].name);
		} else {
			e = error(b, DRP035, protect->at,
			          "replicated device '%s'%s replicates from '%s' to '%s', but a reprotect plan from '%s' to '%s' reverses replication from '%s' to '%s'",
			          d->name, more.len ? more.data : "", m->sites[d->site].name, m->sites[d->peer_site].name,
			          m->sites[plan->from].name, m->sites[plan->to].name, m->sites[plan->to].name,
			          m->sites[plan->from].name);
			if (d->site == plan->from && d->peer_site == plan->to)
				diag_hint(e, "a reprotect plan goes the opposite way from the failover it follows: write 'from %s to %s'",
				          m->sites[plan->to].name, m->sites[plan->from].name);
		}
		diag_note(e, d->at, "'%s' is declared here", d->name);
		buf_free(&more);
	}
	free(wrong);
	if (!coverage_known)
		return;
	/* A consistency group fails over as one: the plan protects all of it or none. Its uncovered
	 * devices, once reported here, are not reported again below for the VMs on them. */
	bool *explained = xcalloc(m->n_devices ? m->n_devices : 1, sizeof *explained);
	for (uint32_t g = 0; g < m->n_groups; g++) {
		const struct model_cgroup *cg = &m->groups[g];
		uint32_t in = 0, out = MODEL_NONE;
		for (uint32_t k = 0; k < cg->n_devices; k++) {
			if (plan->covered[cg->devices[k]])
				in++;
			else if (out == MODEL_NONE)
				out = cg->devices[k];
		}
		for (uint32_t k = 0; k < cg->n_devices && in > 0; k++)
			explained[cg->devices[k]] = !plan->covered[cg->devices[k]];
		if (in > 0 && out != MODEL_NONE) {
			struct diag *e = error(b, DRP046, protect->at,
			                       "the plan protects part of consistency group '%s' but not its device '%s'",
			                       cg->name, m->devices[out].name);
			diag_hint(e, "the devices of a consistency group fail over together: add '%s' to a protection group "
			             "of the plan", m->devices[out].name);
			diag_note(e, m->devices[out].at, "'%s' is declared here", m->devices[out].name);
		}
	}
	/* Every device under a VM of the plan must be covered too: one report per device. */
	uint32_t *holder = xmalloc((m->n_devices ? m->n_devices : 1) * sizeof *holder);
	uint32_t *count = xcalloc(m->n_devices ? m->n_devices : 1, sizeof *count);
	for (uint32_t i = 0; i < m->n_devices; i++)
		holder[i] = MODEL_NONE;
	for (uint32_t v = 0; v < m->n_vms; v++) {
		const struct model_vm *vm = &m->vms[v];
		bool in_plan = false;
		for (uint32_t k = 0; k < vm->n_devices && !in_plan; k++)
			in_plan = plan->covered[vm->devices[k]];
		if (!in_plan)
			continue;
		for (uint32_t k = 0; k < vm->n_devices; k++) {
			uint32_t d = vm->devices[k];
			if (plan->covered[d])
				continue;
			if (holder[d] == MODEL_NONE)
				holder[d] = v;
			count[d]++;
		}
	}
	for (uint32_t d = 0; d < m->n_devices; d++) {
		if (holder[d] == MODEL_NONE || explained[d])
			continue;
		const struct model_vm *vm = &m->vms[holder[d]];
		struct buf more = BUF_INIT;
		if (count[d] > 1)
			buf_printf(&more, " (and %u more VM%s of the plan)", count[d] - 1, count[d] == 2 ? "" : "s");
		struct diag *e = error(b, DRP034, protect->at,
		                       "VM '%s'%s has disks on device '%s', which no protection group of plan '%s' covers",
		                       vm->name, more.len ? more.data : "", m->devices[d].name, plan->name);
		diag_note(e, vm->at, "'%s' is declared here", vm->name);
		buf_free(&more);
	}
	free(holder);
	free(count);
	free(explained);
	/* A VM being moved needs both copies recovered, so that the records on them can decide: the
	 * device of the pair that is not the VM's own (DRP034 reports those) must be covered too. */
	for (uint32_t i = 0; i < m->n_migrations; i++) {
		const struct model_migration *mg = &m->migrations[i];
		const struct model_vm *vm = &m->vms[mg->vm];
		bool in_plan = false;
		for (uint32_t k = 0; k < vm->n_devices && !in_plan; k++)
			in_plan = plan->covered[vm->devices[k]];
		if (!in_plan)
			continue;
		uint32_t out = !plan->covered[mg->from] && !vm_on_device(vm, mg->from) ? mg->from
		               : !plan->covered[mg->to] && !vm_on_device(vm, mg->to) ? mg->to : MODEL_NONE;
		if (out == MODEL_NONE)
			continue;
		struct diag *e = error(b, DRP059, protect->at,
		                       "VM '%s' was being moved from device '%s' to '%s', but no protection group of plan "
		                       "'%s' covers '%s'", vm->name, m->devices[mg->from].name, m->devices[mg->to].name,
		                       plan->name, m->devices[out].name);
		diag_hint(e, "both copies of a VM being moved must be recovered for its migration records to choose "
		             "between them: add '%s' to a protection group of the plan", m->devices[out].name);
		diag_note(e, mg->inv->at, "the storage-migration record of '%s' is here", vm->name);
	}
}

static int first_step(const struct model_plan *plan, enum ast_step_kind kind)
{
	for (uint32_t i = 0; i < plan->n_steps; i++)
		if (plan->steps[i].kind == kind)
			return (int)i;
	return -1;
}

static const char *step_phrase(enum ast_step_kind kind)
{
	static const char *const phrases[] = {
		"sync storage", "shutdown vms", "failover storage", "reverse storage", "prefer", "migrate live",
		"register vms", "power-on vms", "run", "prompt", "wait", "unregister vms", "discard snapshots",
	};
	return phrases[kind];
}

/* A cleanup's step `at` needs a step of kind `missing` before it, because of test VM `vm`. */
static void cleanup_needs(struct builder *b, const struct model_plan *plan, int at, enum ast_step_kind missing,
                          const struct model_vm *vm, const char *why)
{
	const char *need = step_phrase(missing), *here = step_phrase(plan->steps[at].kind);
	struct diag *e = error(b, DRP041, plan->steps[at].stmt->at, "a cleanup needs 'step %s' before 'step %s': test VM "
	                       "'%s' %s", need, here, vm->name, why);
	diag_hint(e, "add 'step %s' before 'step %s'", need, here);
}

/* What a cleanup plan requires (docs/language.md, "mode"): it exists to discard the test's
 * snapshots; test VMs still registered on them must be unregistered first, and powered off before
 * that. `storage_vm` is a VM of the plan on replicated devices, or NULL. */
static void cleanup_required(struct builder *b, const struct model_plan *plan, const struct model_vm *storage_vm)
{
	bool has_replicated = false;
	for (uint32_t i = 0; i < b->m->n_devices && !has_replicated; i++)
		has_replicated = plan->covered && plan->covered[i] && b->m->devices[i].kind == AST_DEVICE_REPLICATED;
	int shutdown = first_step(plan, AST_STEP_SHUTDOWN), unreg = first_step(plan, AST_STEP_UNREGISTER);
	int discard = first_step(plan, AST_STEP_DISCARD);
	if (has_replicated && discard < 0) {
		struct diag *e = error(b, DRP041, plan->decl->name.at,
		                       "cleanup plan '%s' has no 'step discard snapshots': the test's snapshots would stay",
		                       plan->name);
		diag_hint(e, "a cleanup plan ends a test: add 'step discard snapshots' after 'step unregister vms'");
	}
	if (storage_vm && discard >= 0 && unreg < 0)
		cleanup_needs(b, plan, discard, AST_STEP_UNREGISTER, storage_vm, "runs on a snapshot");
	if (storage_vm && unreg >= 0 && shutdown < 0)
		cleanup_needs(b, plan, unreg, AST_STEP_SHUTDOWN, storage_vm, "may still be running");
}

static void plan_steps(struct builder *b, struct model_plan *plan)
{
	struct model *m = b->m;
	bool has_live = false, has_storage = false;
	const struct model_vm *live_vm = NULL, *storage_vm = NULL;
	for (uint32_t v = 0; v < m->n_vms; v++) {
		const struct model_vm *vm = &m->vms[v];
		bool in_plan = false;
		for (uint32_t k = 0; k < vm->n_devices && !in_plan; k++)
			in_plan = plan->covered && plan->covered[vm->devices[k]];
		if (!in_plan)
			continue;
		if (vm->live) {
			has_live = true;
			live_vm = live_vm ? live_vm : vm;
		} else {
			has_storage = true;
			storage_vm = storage_vm ? storage_vm : vm;
		}
	}
	/* Steps the mode forbids, steps given twice, steps at the wrong site. */
	for (uint32_t i = 0; i < plan->n_steps; i++) {
		struct model_step *st = &plan->steps[i];
		const struct ast_step *s = &st->stmt->u.step;
		if (!step_allowed(plan->mode, st->kind)) {
			struct diag *e = error(b, DRP040, st->stmt->at, "'step %s' cannot be part of a %s plan",
			                       step_phrase(st->kind), ast_mode_names[plan->mode]);
			diag_hint(e, "%s", step_why_not(plan->mode, st->kind));
		}
		if (st->kind != AST_STEP_RUN && st->kind != AST_STEP_PROMPT && st->kind != AST_STEP_WAIT) {
			int first = first_step(plan, st->kind);
			if (first >= 0 && (uint32_t)first != i) {
				struct diag *e = error(b, DRP042, st->stmt->at, "'step %s' is given twice", step_phrase(st->kind));
				diag_note(e, plan->steps[first].stmt->at, "first given here");
			}
		}
		uint32_t expected = MODEL_NONE;
		const char *role = NULL;
		bool cleanup = plan->mode == AST_MODE_CLEANUP;
		if (st->kind == AST_STEP_SHUTDOWN && !cleanup)
			expected = plan->from, role = "the protected site (from)";
		else if (st->kind == AST_STEP_SHUTDOWN || st->kind == AST_STEP_UNREGISTER)
			expected = plan->to, role = "the recovery site (to), where a cleanup finds the test VMs,";
		else if (st->kind == AST_STEP_REGISTER || st->kind == AST_STEP_PREFER)
			expected = plan->to, role = "the recovery site (to)";
		if (st->site == MODEL_NONE)
			st->site = expected;
		else if (expected != MODEL_NONE && st->site != expected) {
			struct diag *e = error(b, DRP044, s->site.at, "'step %s' at site '%s', but %s is '%s'",
			                       step_phrase(st->kind), m->sites[st->site].name, role, m->sites[expected].name);
			diag_fixit(e, m->sites[expected].name);
		}
	}
	int sync = first_step(plan, AST_STEP_SYNC), shutdown = first_step(plan, AST_STEP_SHUTDOWN);
	int failover = first_step(plan, AST_STEP_FAILOVER), prefer = first_step(plan, AST_STEP_PREFER);
	int migrate = first_step(plan, AST_STEP_MIGRATE), reg = first_step(plan, AST_STEP_REGISTER);
	int power = first_step(plan, AST_STEP_POWER_ON);
#define STEP_AT(i) (plan->steps[(i)].stmt->at)
	/* Order. */
	if (prefer >= 0 && migrate >= 0 && prefer > migrate) {
		struct diag *e = error(b, DRP042, STEP_AT(prefer), "'step prefer' comes after 'step migrate live'");
		diag_hint(e, "a live migration must never start before its devices' preference has switched: move "
		             "'step prefer' before 'step migrate live'");
		diag_note(e, STEP_AT(migrate), "the live migration");
	}
	static const struct { enum ast_step_kind before, after; const char *why; } orders[] = {
		{AST_STEP_SYNC, AST_STEP_FAILOVER, "the last sync has to happen while the source is still writable"},
		{AST_STEP_SHUTDOWN, AST_STEP_FAILOVER, "VMs must be shut down before their storage fails over"},
		{AST_STEP_FAILOVER, AST_STEP_REGISTER, "VMs are registered from the recovered devices"},
		{AST_STEP_REGISTER, AST_STEP_POWER_ON, "a VM is registered before it can power on"},
		{AST_STEP_SHUTDOWN, AST_STEP_UNREGISTER, "a test VM is powered off before it is removed from the inventory"},
		{AST_STEP_UNREGISTER, AST_STEP_DISCARD, "a snapshot is discarded only once no registered test VM uses it"},
	};
	for (size_t k = 0; k < sizeof orders / sizeof orders[0]; k++) {
		int a = first_step(plan, orders[k].before), z = first_step(plan, orders[k].after);
		if (a >= 0 && z >= 0 && a > z) {
			struct diag *e = error(b, DRP042, STEP_AT(a), "'step %s' comes after 'step %s'",
			                       step_phrase(orders[k].before), step_phrase(orders[k].after));
			diag_hint(e, "%s", orders[k].why);
			diag_note(e, STEP_AT(z), "'step %s' is here", step_phrase(orders[k].after));
		}
	}
	/* Steps that the mode or the VMs require. */
	bool moves_storage = plan->mode == AST_MODE_PLANNED || plan->mode == AST_MODE_DISASTER || plan->mode == AST_MODE_TEST;
	if (plan->mode == AST_MODE_PLANNED && failover >= 0 && sync < 0) {
		struct diag *e = error(b, DRP041, STEP_AT(failover), "a planned failover needs 'step sync storage' before it");
		diag_hint(e, "add 'step sync storage' before 'step failover storage'");
	}
	if (plan->mode == AST_MODE_PLANNED && failover >= 0 && has_storage && shutdown < 0) {
		struct diag *e = error(b, DRP041, STEP_AT(failover),
		                       "a planned failover needs 'step shutdown vms' before it: VM '%s' runs on a replicated device",
		                       storage_vm->name);
		diag_hint(e, "add 'step shutdown vms' before 'step failover storage'");
	}
	if (moves_storage && has_storage && failover < 0)
		error(b, DRP041, plan->decl->name.at,
		      "VM '%s' of plan '%s' is on replicated devices, but the plan has no 'step failover storage'",
		      storage_vm->name, plan->name);
	if (moves_storage && has_storage && failover >= 0 && reg < 0)
		error(b, DRP041, STEP_AT(failover), "the plan fails storage over but has no 'step register vms' to bring its VMs up");
	if (moves_storage && has_storage && reg >= 0 && power < 0)
		error(b, DRP041, STEP_AT(reg), "the plan registers VMs but has no 'step power-on vms'");
	if ((plan->mode == AST_MODE_PLANNED || plan->mode == AST_MODE_DISASTER) && has_live && migrate < 0)
		error(b, DRP041, plan->decl->name.at,
		      "VM '%s' of plan '%s' is on stretched devices, but the plan has no 'step migrate live'",
		      live_vm->name, plan->name);
	if (plan->mode == AST_MODE_REPROTECT && first_step(plan, AST_STEP_REVERSE) < 0)
		error(b, DRP041, plan->decl->name.at, "a reprotect plan needs 'step reverse storage'");
	if (plan->mode == AST_MODE_CLEANUP)
		cleanup_required(b, plan, storage_vm);
#undef STEP_AT
}

static void build_plans(struct builder *b)
{
	struct model *m = b->m;
	struct strmap plan_names;
	strmap_init(&plan_names);
	for (uint32_t k = 0; k < b->n_items[AST_PLAN]; k++) {
		const struct ast_item *it = b->items[AST_PLAN][k];
		uint32_t i = strmap_put(&plan_names, it->name.text, it->name.len, m->n_plans);
		if (i != m->n_plans) {
			duplicate(b, "plan", it->name.text, it->name.at, m->plans[i].decl->name.at);
			continue;
		}
		struct model_plan *plan = PUSH(m, plans, n_plans);
		plan->decl = it;
		plan->name = it->name.text;
		plan->from = plan->to = MODEL_NONE;
		struct plan_parts parts = {0};
		plan_statements(b, plan, &parts);
		plan_coverage(b, plan);
		plan_steps(b, plan);
	}
	strmap_free(&plan_names);
}

/* Counting, so that every array is allocated once at its final size; and the one walk over the
 * items, which buckets them by kind for every later pass. */
/* Buckets the items by kind in declaration order: an included file's items come where its include
 * stands, so that "first declared here" points at what a reader meets first. */
static void bucket_items(struct builder *b, const struct ast_file *file, uint32_t *cap)
{
	for (const struct ast_item *it = file->items; it; it = it->next) {
		if (it->kind == AST_INCLUDE && it->included) {
			bucket_items(b, it->included, cap);
			continue;
		}
		uint32_t *n = &b->n_items[it->kind];
		if (*n == cap[it->kind]) {
			cap[it->kind] = cap[it->kind] ? cap[it->kind] * 2 : 16;
			b->items[it->kind] = xrealloc(b->items[it->kind], cap[it->kind] * sizeof *b->items[it->kind]);
		}
		b->items[it->kind][(*n)++] = it;
	}
}

static void allocate(struct builder *b)
{
	struct model *m = b->m;
	const struct program *p = b->program;
	size_t sites = 0, hosts = 0, devices = 0, protections = 0, vms = 0, afters = 0, plans = 0, groups = 0;
	size_t most_inv_devices = 0;
	uint32_t cap[N_ITEM_KINDS] = {0};
	if (p->n_files > 0)
		bucket_items(b, p->files[0], cap);
	for (size_t f = 0; f < p->n_files; f++) {
		for (const struct ast_item *it = p->files[f]->items; it; it = it->next) {
			switch (it->kind) {
			case AST_SITE: sites++; break;
			case AST_DEVICE: devices++, groups++, sites += 3; break;
			case AST_PROTECTION: protections++; break;
			case AST_VM:
				vms++;
				for (const struct ast_vm_clause *c = it->u.vm; c; c = c->next)
					afters += c->kind == AST_VM_AFTER;
				break;
			case AST_PLAN: plans++; break;
			default: break;
			}
		}
	}
	for (size_t k = 0; k < p->n_inventories; k++) {
		const struct inventory *inv = p->inventories[k];
		sites += inv->n_sites;
		for (uint32_t i = 0; i < inv->n_sites; i++)
			hosts += inv->sites[i].n_hosts;
		devices += inv->n_devices;
		most_inv_devices = inv->n_devices > most_inv_devices ? inv->n_devices : most_inv_devices;
		groups += inv->n_devices;
		vms += inv->n_vms;
	}
	m->sites = arena_alloc(&m->arena, (sites + 1) * sizeof *m->sites);
	m->hosts = arena_alloc(&m->arena, (hosts + 1) * sizeof *m->hosts);
	m->devices = arena_alloc(&m->arena, (devices + 1) * sizeof *m->devices);
	m->groups = arena_alloc(&m->arena, (groups + 1) * sizeof *m->groups);
	m->protections = arena_alloc(&m->arena, (protections + 1) * sizeof *m->protections);
	m->vms = arena_alloc(&m->arena, (vms + 1) * sizeof *m->vms);
	m->afters = arena_alloc(&m->arena, (afters + 1) * sizeof *m->afters);
	m->plans = arena_alloc(&m->arena, (plans + 1) * sizeof *m->plans);
	strmap_reserve(&m->vm_names, vms);
	/* The plan normally declares the inventory's devices again: reserve for the larger of the two,
	 * not their sum, which would make a sparser table and more cache misses for every lookup. */
	size_t plan_devices = devices;
	for (size_t k = 0; k < p->n_inventories; k++)
		plan_devices -= p->inventories[k]->n_devices;
	strmap_reserve(&m->device_names, plan_devices > most_inv_devices ? plan_devices : most_inv_devices);
}

struct model *model_build(const struct program *program, struct diag_list *diags)
{
	struct model *m = xcalloc(1, sizeof *m);
	arena_init(&m->arena);
	struct builder b = {.m = m, .program = program, .diags = diags};
	allocate(&b);
	build_sites(&b);
	build_devices(&b);
	build_protections(&b);
	build_vms(&b);
	apply_rules(&b);
	check_dependency_priorities(&b);
	check_dependency_cycles(&b);
	check_migrations(&b);
	build_plans(&b);
	for (int k = 0; k < KIND_COUNT; k++)
		free(b.suggestions[k]);
	for (int k = 0; k < N_ITEM_KINDS; k++)
		free(b.items[k]);
	for (uint32_t i = 0; i < b.n_patterns; i++)
		free(b.patterns[i].vms);
	free(b.patterns);
	free(b.trie);
	free(b.rule_rejected);
	strmap_free(&b.pattern_names);
	return m;
}

void model_free(struct model *m)
{
	if (!m)
		return;
	strmap_free(&m->site_names);
	strmap_free(&m->host_names);
	strmap_free(&m->device_names);
	strmap_free(&m->group_names);
	strmap_free(&m->protection_names);
	strmap_free(&m->vm_names);
	arena_free(&m->arena);
	free(m);
}
