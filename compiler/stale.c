/* stale.c: the comparison of a compiled plan's world with fresh discoveries (stale.h), which
 * `drplan run` makes before the first operation so that a plan compiled against yesterday's
 * inventory does not fail over today's VMs half-way. */
#include "stale.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "../lib/strmap.h"

static const char *const kind_words[] = {"vanished", "appeared", "changed", "moved"};
static const char *const object_words[] = {"device", "vm"};

/* The discovered side: the sources merged, first one wins. */
struct found {
	const struct inv_device **devices;
	uint32_t n_devices;
	const struct inv_vm **vms;
	uint32_t n_vms;
	const char **host_sites;       /* per entry of `hosts`: its site's name */
	struct strmap device_ids, vm_names, hosts;
	bool *answered;                /* per DAG site */
};

/* The plan's side: names to indices. */
struct known {
	struct strmap devices, peers, vms, hosts, groups;
	bool per_host_limits;          /* a `limit ... per host`: hosts matter to the run */
};

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static const char *or_none(const char *s)
{
	return s ? s : "none";
}

static const char *site_name(const struct dag *d, uint32_t s)
{
	return s == DAG_NONE ? NULL : d->sites[s].name;
}

static void add(struct stale_report *r, enum stale_kind kind, enum stale_object object, const char *name,
                bool harmless, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add(struct stale_report *r, enum stale_kind kind, enum stale_object object, const char *name,
                bool harmless, const char *fmt, ...)
{
	if (r->n_diffs == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->diffs = xrealloc(r->diffs, r->cap * sizeof *r->diffs);
	}
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s: %s %s", kind_words[kind], object_words[object], name);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	r->diffs[r->n_diffs++] = (struct stale_diff){
		.kind = kind, .object = object, .name = name, .text = arena_strndup(&r->arena, b.data, b.len),
		.harmless = harmless,
	};
	r->n_harmful += !harmless;
	buf_free(&b);
}

static void put_name(struct strmap *m, const char *name, uint32_t value)
{
	if (name)
		strmap_put(m, name, strlen(name), value);
}

static uint32_t get_name(const struct strmap *m, const char *name)
{
	return name ? strmap_get(m, name, strlen(name)) : STRMAP_NONE;
}

static void found_build(struct found *f, const struct dag *d, const struct stale_source *sources, uint32_t n)
{
	memset(f, 0, sizeof *f);
	strmap_init(&f->device_ids);
	strmap_init(&f->vm_names);
	strmap_init(&f->hosts);
	f->answered = xcalloc((size_t)d->n_sites + 1, sizeof *f->answered);
	size_t nd = 0, nv = 0, nh = 0;
	for (uint32_t k = 0; k < n; k++) {
		nd += sources[k].inv->n_devices;
		nv += sources[k].inv->n_vms;
		for (uint32_t s = 0; s < sources[k].inv->n_sites; s++)
			nh += sources[k].inv->sites[s].n_hosts;
	}
	f->devices = xmalloc((nd + 1) * sizeof *f->devices);
	f->vms = xmalloc((nv + 1) * sizeof *f->vms);
	f->host_sites = xmalloc((nh + 1) * sizeof *f->host_sites);
	/* The protected site's report first: after a test failover the recovery site may report
	 * copies of the plan's VMs under their names, and the originals are what the plan moves. */
	for (uint32_t pass = 0; pass < 2 * n; pass++) {
		uint32_t k = pass % n;
		if ((sources[k].site == d->from) != (pass < n))
			continue;
		const struct inventory *inv = sources[k].inv;
		if (sources[k].site < d->n_sites)
			f->answered[sources[k].site] = true;
		for (uint32_t i = 0; i < inv->n_devices; i++) {
			const struct inv_str *id = &inv->devices[i].id;
			if (id->text && strmap_put(&f->device_ids, id->text, id->len, f->n_devices) == f->n_devices)
				f->devices[f->n_devices++] = &inv->devices[i];
		}
		for (uint32_t i = 0; i < inv->n_vms; i++) {
			const struct inv_str *name = &inv->vms[i].name;
			if (name->text && strmap_put(&f->vm_names, name->text, name->len, f->n_vms) == f->n_vms)
				f->vms[f->n_vms++] = &inv->vms[i];
		}
		for (uint32_t s = 0; s < inv->n_sites; s++) {
			const struct inv_site *site = &inv->sites[s];
			for (uint32_t h = 0; h < site->n_hosts && site->name.text; h++) {
				uint32_t next = (uint32_t)f->hosts.count;
				const struct inv_str *host = &site->hosts[h];
				if (host->text && strmap_put(&f->hosts, host->text, host->len, next) == next)
					f->host_sites[next] = site->name.text;
			}
		}
	}
}

static void found_free(struct found *f)
{
	free(f->devices);
	free(f->vms);
	free(f->host_sites);
	free(f->answered);
	strmap_free(&f->device_ids);
	strmap_free(&f->vm_names);
	strmap_free(&f->hosts);
}

static void known_build(struct known *k, const struct dag *d)
{
	strmap_init(&k->devices);
	strmap_init(&k->peers);
	strmap_init(&k->vms);
	strmap_init(&k->hosts);
	strmap_init(&k->groups);
	for (uint32_t i = 0; i < d->n_devices; i++) {
		put_name(&k->devices, d->devices[i].name, i);
		if (d->devices[i].kind == DAG_REPLICATED)
			put_name(&k->peers, d->devices[i].peer, i);
	}
	for (uint32_t i = 0; i < d->n_vms; i++)
		put_name(&k->vms, d->vms[i].name, i);
	for (uint32_t i = 0; i < d->n_hosts; i++)
		put_name(&k->hosts, d->hosts[i].name, i);
	for (uint32_t i = 0; i < d->n_groups; i++)
		put_name(&k->groups, d->groups[i].name, i);
	k->per_host_limits = false;
	for (uint32_t i = 0; i < d->n_limits; i++)
		k->per_host_limits |= d->limits[i].scope == DAG_SCOPE_HOST;
}

static void known_free(struct known *k)
{
	strmap_free(&k->devices);
	strmap_free(&k->peers);
	strmap_free(&k->vms);
	strmap_free(&k->hosts);
	strmap_free(&k->groups);
}

/* The discovered device that is DAG device i: reported under its own name, or (reversed = true)
 * by the peer's array, under the peer's identifier with i as its peer. NULL if none. */
static const struct inv_device *find_device(const struct dag *d, const struct found *f, uint32_t i, bool *reversed)
{
	const struct dag_device *dv = &d->devices[i];
	uint32_t at = get_name(&f->device_ids, dv->name);
	*reversed = false;
	if (at != STRMAP_NONE)
		return f->devices[at];
	at = dv->kind == DAG_REPLICATED ? get_name(&f->device_ids, dv->peer) : STRMAP_NONE;
	if (at != STRMAP_NONE && same(f->devices[at]->peer_id.text, dv->name)) {
		*reversed = true;
		return f->devices[at];
	}
	return NULL;
}

static void compare_field(struct stale_report *r, const char *device, const char *what, const char *was,
                          const char *now)
{
	if (!same(was, now))
		add(r, STALE_CHANGED, STALE_DEVICE, device, false, ": %s %s -> %s", what, or_none(was), or_none(now));
}

static void compare_devices(const struct dag *d, const struct found *f, const struct known *k, struct stale_report *r)
{
	static const char *const kinds[] = {[DAG_REPLICATED] = "replicated", [DAG_STRETCHED] = "stretched"};
	for (uint32_t i = 0; i < d->n_devices; i++) {
		const struct dag_device *dv = &d->devices[i];
		bool seen = (dv->site != DAG_NONE && f->answered[dv->site]) ||
		            (dv->peer_site != DAG_NONE && f->answered[dv->peer_site]);
		if (!seen)
			continue;
		bool reversed;
		const struct inv_device *iv = find_device(d, f, i, &reversed);
		if (!iv) {
			add(r, STALE_VANISHED, STALE_DEVICE, dv->name, false, "%s", "");
			continue;
		}
		enum dag_device_kind kind = iv->kind == INV_STRETCHED ? DAG_STRETCHED : DAG_REPLICATED;
		if (kind != dv->kind)
			add(r, STALE_CHANGED, STALE_DEVICE, dv->name, false, ": kind %s -> %s", kinds[dv->kind], kinds[kind]);
		if (reversed) {
			/* The peer's array speaks of its own side; a group's name there may differ. */
			compare_field(r, dv->name, "site", site_name(d, dv->site), iv->peer_site.text);
			compare_field(r, dv->name, "peer site", site_name(d, dv->peer_site), iv->site.text);
			continue;
		}
		compare_field(r, dv->name, "site", site_name(d, dv->site), iv->site.text);
		compare_field(r, dv->name, "peer", dv->peer, iv->peer_id.text);
		compare_field(r, dv->name, "peer site", site_name(d, dv->peer_site), iv->peer_site.text);
		compare_field(r, dv->name, "consistency group", dv->group == DAG_NONE ? NULL : d->groups[dv->group].name,
		              iv->consistency_group.text);
	}
	/* A new device in a group the plan fails over: the array promotes it with the group, but the
	 * plan knows neither it nor the VMs on it. */
	for (uint32_t i = 0; i < f->n_devices; i++) {
		const struct inv_device *iv = f->devices[i];
		if (get_name(&k->devices, iv->id.text) != STRMAP_NONE)
			continue;
		uint32_t p = get_name(&k->peers, iv->id.text);
		if (p != STRMAP_NONE && same(iv->peer_id.text, d->devices[p].name))
			continue; /* the peer's array reporting a device of the plan */
		if (get_name(&k->groups, iv->consistency_group.text) == STRMAP_NONE)
			continue;
		add(r, STALE_APPEARED, STALE_DEVICE, iv->id.text, false,
		    " in consistency group %s, which the plan fails over without knowing the device or its VMs",
		    iv->consistency_group.text);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void put_list(struct buf *b, const char *const *names, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		buf_printf(b, "%s%s", i ? ", " : "", names[i]);
	if (n == 0)
		buf_puts(b, "none");
}

/* A VM's devices then and now, both sorted: harmful if it now lives on a device the plan does not
 * protect (left behind) or on a protected one its workgroup does not wait for (registered before
 * that device fails over); leaving one of its devices is harmless (the plan waits for it anyway). */
static void compare_vm_devices(const struct dag *d, const struct known *k, const struct dag_vm *vm,
                               const struct inv_vm *iv, struct stale_report *r)
{
	const struct dag_workgroup *wg = &d->workgroups[vm->workgroup];
	const char **was = xmalloc(((size_t)wg->n_devices + 1) * sizeof *was);
	const char **now = xmalloc(((size_t)iv->n_devices + 1) * sizeof *now);
	uint32_t n_was = wg->n_devices, n_now = 0;
	for (uint32_t j = 0; j < n_was; j++)
		was[j] = d->devices[wg->devices[j]].name;
	qsort(was, n_was, sizeof *was, cmp_str);
	for (uint32_t j = 0; j < iv->n_devices; j++)
		if (iv->devices[j].text)
			now[n_now++] = iv->devices[j].text;
	qsort(now, n_now, sizeof *now, cmp_str);
	uint32_t kept = 0;
	for (uint32_t j = 0; j < n_now; j++)
		if (kept == 0 || strcmp(now[kept - 1], now[j]) != 0)
			now[kept++] = now[j];
	n_now = kept;
	/* New devices: unprotected ones, and protected ones the workgroup does not wait for. */
	struct buf unprotected = BUF_INIT, unwaited = BUF_INIT;
	uint32_t a = 0, b = 0;
	bool left = false;
	while (a < n_was || b < n_now) {
		int c = a == n_was ? 1 : b == n_now ? -1 : strcmp(was[a], now[b]);
		if (c < 0) {
			left = true;
			a++;
			continue;
		}
		if (c > 0) {
			struct buf *into = get_name(&k->devices, now[b]) == STRMAP_NONE ? &unprotected : &unwaited;
			buf_printf(into, "%s%s", into->len ? ", " : "", now[b]);
		} else {
			a++;
		}
		b++;
	}
	if (left || unprotected.len || unwaited.len) {
		struct buf line = BUF_INIT;
		buf_puts(&line, ": devices ");
		put_list(&line, was, n_was);
		buf_puts(&line, " -> ");
		put_list(&line, now, n_now);
		if (unprotected.len)
			buf_printf(&line, " (not protected by the plan: %s)", unprotected.data);
		else if (unwaited.len)
			buf_printf(&line, " (the plan does not wait for %s to fail over before registering it)", unwaited.data);
		else
			buf_puts(&line, " (it left a device the plan waits for anyway: harmless)");
		add(r, STALE_MOVED, STALE_VM, vm->name, !unprotected.len && !unwaited.len, "%s", line.data);
		buf_free(&line);
	}
	buf_free(&unprotected);
	buf_free(&unwaited);
	free(was);
	free(now);
}

/* The site of a host by name: as discovered, else as the plan knows it. */
static const char *host_site(const struct dag *d, const struct found *f, const struct known *k, const char *host)
{
	uint32_t at = get_name(&f->hosts, host);
	if (at != STRMAP_NONE)
		return f->host_sites[at];
	at = get_name(&k->hosts, host);
	return at == STRMAP_NONE ? NULL : site_name(d, d->hosts[at].site);
}

/* A move to another host at the same site changes nothing the run does (adapters find VMs by name;
 * a request's host is where the VM ran), unless the plan limits operations per host: then the
 * limits would count against the wrong host. A move to another site is always harmful. */
static void compare_vm_host(const struct dag *d, const struct found *f, const struct known *k, const struct dag_vm *vm,
                            const struct inv_vm *iv, struct stale_report *r)
{
	if (vm->host == DAG_NONE || !iv->host.text || strcmp(d->hosts[vm->host].name, iv->host.text) == 0)
		return;
	const char *was = d->hosts[vm->host].name, *now = iv->host.text;
	const char *was_site = site_name(d, d->hosts[vm->host].site), *now_site = host_site(d, f, k, now);
	if (!now_site)
		add(r, STALE_MOVED, STALE_VM, vm->name, false, ": host %s -> %s (a host at no site the discovery lists)",
		    was, now);
	else if (!same(was_site, now_site))
		add(r, STALE_MOVED, STALE_VM, vm->name, false, ": host %s -> %s (at %s, not %s)", was, now, now_site,
		    or_none(was_site));
	else if (k->per_host_limits)
		add(r, STALE_MOVED, STALE_VM, vm->name, false, ": host %s -> %s (same site, but the plan limits operations per host)",
		    was, now);
	else
		add(r, STALE_MOVED, STALE_VM, vm->name, true, ": host %s -> %s (same site: harmless)", was, now);
}

static void compare_vms(const struct dag *d, const struct found *f, const struct known *k, struct stale_report *r)
{
	for (uint32_t i = 0; i < d->n_vms; i++) {
		const struct dag_vm *vm = &d->vms[i];
		uint32_t where = vm->host != DAG_NONE ? d->hosts[vm->host].site : d->from;
		if (where == DAG_NONE || !f->answered[where])
			continue;
		uint32_t at = get_name(&f->vm_names, vm->name);
		if (at == STRMAP_NONE) {
			add(r, STALE_VANISHED, STALE_VM, vm->name, false, "%s", "");
			continue;
		}
		compare_vm_host(d, f, k, vm, f->vms[at], r);
		compare_vm_devices(d, k, vm, f->vms[at], r);
	}
	/* A new VM on a protected device: its disks fail over, but the plan would not register it. */
	for (uint32_t i = 0; i < f->n_vms; i++) {
		const struct inv_vm *iv = f->vms[i];
		if (get_name(&k->vms, iv->name.text) != STRMAP_NONE)
			continue;
		for (uint32_t j = 0; j < iv->n_devices; j++) {
			if (get_name(&k->devices, iv->devices[j].text) == STRMAP_NONE)
				continue;
			add(r, STALE_APPEARED, STALE_VM, iv->name.text, false,
			    " on %s, which the plan protects: the plan would leave the VM behind", iv->devices[j].text);
			break;
		}
	}
}

static int cmp_diff(const void *a, const void *b)
{
	const struct stale_diff *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c == 0)
		c = (int)x->object - (int)y->object;
	return c ? c : strcmp(x->text, y->text);
}

void stale_compare(const struct dag *d, const struct stale_source *sources, uint32_t n_sources,
                   struct stale_report *r)
{
	memset(r, 0, sizeof *r);
	arena_init(&r->arena);
	struct found f;
	struct known k;
	found_build(&f, d, sources, n_sources);
	known_build(&k, d);
	compare_devices(d, &f, &k, r);
	compare_vms(d, &f, &k, r);
	if (r->n_diffs > 1)
		qsort(r->diffs, r->n_diffs, sizeof *r->diffs, cmp_diff);
	known_free(&k);
	found_free(&f);
}

void stale_report_free(struct stale_report *r)
{
	free(r->diffs);
	arena_free(&r->arena);
	memset(r, 0, sizeof *r);
}

/* Notes for the differences that are (or are not) harmless, at most STALE_MAX_LINES. */
static void note_some(struct diag *dg, const struct stale_report *r, bool harmless)
{
	struct src_range none = src_range_make(SRC_NONE, 0, 0);
	uint32_t shown = 0, total = 0;
	for (uint32_t i = 0; i < r->n_diffs; i++) {
		if (r->diffs[i].harmless != harmless)
			continue;
		total++;
		if (shown < STALE_MAX_LINES) {
			diag_note(dg, none, "%s", r->diffs[i].text);
			shown++;
		}
	}
	if (total > shown)
		diag_note(dg, none, "... and %u more%s", total - shown, harmless ? " harmless differences" : "");
}

struct diag *stale_diagnose(const struct stale_report *r, const struct dag *d, const char *sites, const char *hint,
                            struct src_range at, struct diag_list *diags)
{
	if (r->n_diffs == 0)
		return NULL;
	struct diag *dg;
	uint32_t harmless = r->n_diffs - r->n_harmful;
	if (r->n_harmful) {
		dg = diag_add(diags, DIAG_ERROR, DRP060, at,
		              "the plan '%s' is stale: %u difference%s between the world it was compiled against and a "
		              "fresh discovery of %s",
		              d->name, r->n_harmful, r->n_harmful == 1 ? "" : "s", sites);
		if (hint)
			diag_hint(dg, "%s", hint);
	} else {
		dg = diag_add(diags, DIAG_NOTE, DRP060, at,
		              "the world changed since the plan '%s' was compiled, harmlessly for it: %u difference%s with a "
		              "fresh discovery of %s",
		              d->name, harmless, harmless == 1 ? "" : "s", sites);
	}
	note_some(dg, r, false);
	note_some(dg, r, true);
	return dg;
}
