/* gen-plan.c: writes a large, realistic plan and inventory for the benchmarks.
 *
 *   build/bench/gen-plan --vms N --out DIR [--seed S] [--inline-vms]
 *   (or bench/gen-plan, a wrapper that builds this program first)
 *
 * DIR/plan.drp and DIR/inventory.yaml (shaped like plans/inventory/payments.yaml) describe two sites,
 * east and west, and N VMs of several services (pay-db-0001, crm-app-0042, ...). Each service is
 * one protection group, made of "blocks": a consistency group of 2-8 replicated devices, 1-3
 * replicated devices without a group, or 1-4 stretched devices (their own peer). The VMs of a
 * block sit on 1-3 of its devices, so a VM never mixes stretched and replicated devices; a device
 * carries about 10-40 VMs and a host about 40. Priorities run 1 (db) to 5 (batch); `after` targets
 * always have a smaller priority number, so the dependencies are acyclic. The plan protects every
 * group and lists every kind of step. DIR/scripts/smoke-test.sh is the script of its `run` step.
 *
 * With --shared-devices the VMs of one role in one block sit on one device of the block, as VMs
 * deployed from one template to one datastore do: workgroups come out full (the default spreads
 * VMs over 1-3 devices at random, the worst case for workgroup formation).
 *
 * With --inline-vms the VMs are declared in the plan itself (`vm NAME priority P [after VM] on
 * DEV... host H`, one line each) and no inventory is written: that is the parser benchmark's input.
 *
 * The output is already in canonical `drplan fmt` layout and depends only on the arguments (no
 * clock, no environment): the same arguments give byte-identical files. Everything is streamed
 * and nothing grows with N but the handful of storage-migration records, so 1M VMs take a few
 * seconds and a few MB of memory. The layout is replayed, not stored: each pass over the blocks
 * re-seeds the same per-service random streams. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define N_SERVICES 8
#define N_ROLES 6
#define VMS_PER_HOST 40
#define DEVICES_PER_LINE 16 /* in a protection group's `devices` lines */
#define HOSTS_PER_LINE 10   /* in the inventory's `hosts: [...]` lists */
#define MAX_VMS 100000000UL

static const struct service {
	const char *name;
	unsigned weight; /* share of the VMs, in percent */
} services[N_SERVICES] = {
	{"pay", 20}, {"crm", 15}, {"erp", 15}, {"shop", 12}, {"mail", 10}, {"bi", 10}, {"hr", 10}, {"log", 8},
};

static const struct role {
	const char *name;
	unsigned priority;
	unsigned weight; /* share of a service's VMs, in percent */
	const char *tags;
	int after[2];    /* roles a VM of this role may wait for (smaller priority numbers); -1: none */
} roles[N_ROLES] = {
	{"db", 1, 10, "tier-1", {-1, -1}},
	{"mq", 2, 5, "tier-1", {0, -1}},
	{"auth", 2, 5, "tier-2", {0, -1}},
	{"app", 3, 35, "tier-2", {2, 1}},
	{"web", 4, 30, "tier-3, dmz", {3, -1}},
	{"batch", 5, 15, "tier-3", {0, 3}},
};

/* ---- Random numbers: splitmix64, one stream per purpose and service. */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ULL;
	return mix64(*state);
}

/* Uniform in [lo, hi]. The modulo bias is irrelevant here. */
static unsigned long uniform(uint64_t *state, unsigned long lo, unsigned long hi)
{
	return lo + (unsigned long)(rnd(state) % (hi - lo + 1));
}

static uint64_t stream_seed(uint64_t seed, unsigned svc, unsigned purpose)
{
	return mix64(seed * 0x100000001b3ULL + svc * 16 + purpose + 1);
}

/* ---- Output: a small buffered writer (fprintf is the bottleneck at 1M VMs otherwise). */

struct out {
	FILE *f;
	const char *path;
	size_t len;
	char buf[1 << 16];
};

static void die(const char *fmt, const char *arg) __attribute__((noreturn));
static void die(const char *fmt, const char *arg)
{
	fputs("gen-plan: ", stderr);
	fprintf(stderr, "%s", fmt);
	if (arg)
		fprintf(stderr, "%s", arg);
	if (errno)
		fprintf(stderr, ": %s", strerror(errno));
	fputc('\n', stderr);
	exit(1);
}

static void o_flush(struct out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		die("cannot write ", o->path);
	o->len = 0;
}

static void o_mem(struct out *o, const char *s, size_t n)
{
	if (o->len + n > sizeof o->buf)
		o_flush(o);
	if (n > sizeof o->buf) {
		if (fwrite(s, 1, n, o->f) != n)
			die("cannot write ", o->path);
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void o_s(struct out *o, const char *s)
{
	o_mem(o, s, strlen(s));
}

static void o_c(struct out *o, char c)
{
	if (o->len == sizeof o->buf)
		o_flush(o);
	o->buf[o->len++] = c;
}

/* Decimal, zero-padded to at least `width` digits. */
static void o_u(struct out *o, unsigned long long v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		tmp[n++] = '0';
	char rev[24];
	for (int i = 0; i < n; i++)
		rev[i] = tmp[n - 1 - i];
	o_mem(o, rev, (size_t)n);
}

static void o_open(struct out *o, const char *path)
{
	o->path = path;
	o->len = 0;
	errno = 0;
	o->f = fopen(path, "w");
	if (!o->f)
		die("cannot create ", path);
}

static void o_close(struct out *o)
{
	o_flush(o);
	errno = 0;
	if (ferror(o->f) | fclose(o->f))
		die("cannot write ", o->path);
}

/* ---- Names. Devices are numbered globally, VMs per service and role, hosts per site. */

static void put_rep_device(struct out *o, unsigned long n, bool peer)
{
	o_s(o, peer ? "lun-w" : "lun-e");
	o_u(o, n, 6);
}

static void put_str_device(struct out *o, unsigned long n)
{
	o_s(o, "mtr-");
	o_u(o, n, 6);
}

static void put_cg(struct out *o, unsigned svc, unsigned long n)
{
	o_s(o, "cg-");
	o_s(o, services[svc].name);
	o_c(o, '-');
	o_u(o, n, 4);
}

static void put_vm(struct out *o, unsigned svc, unsigned role, unsigned long n)
{
	o_s(o, services[svc].name);
	o_c(o, '-');
	o_s(o, roles[role].name);
	o_c(o, '-');
	o_u(o, n, 4);
}

static void put_host(struct out *o, char site, unsigned long n)
{
	o_s(o, site == 'e' ? "esx-e" : "esx-w");
	o_u(o, n, 4);
}

/* ---- The layout: services, blocks of devices, VMs. */

struct gen {
	uint64_t seed;
	unsigned long n_vms;
	bool inline_vms;
	bool shared_devices;
	unsigned long n_hosts; /* per site */
	unsigned long svc_vms[N_SERVICES];
	/* Totals, from a first pass. */
	unsigned long svc_devices[N_SERVICES];
	unsigned long role_count[N_SERVICES][N_ROLES];
	unsigned long n_rep, n_str, n_cg, n_blocks;
	unsigned n_active_services;
};

struct block {
	unsigned svc;
	bool stretched;
	bool has_cg;
	unsigned long cg;        /* consistency group number within the service (has_cg) */
	unsigned n_dev;
	unsigned long first_dev; /* number of the first device (replicated and stretched count apart) */
	unsigned long n_vms;
	unsigned long first_vm;  /* global index of the first VM, from 0 */
};

/* Walks the blocks of every service in order, the same way on every pass. */
struct walker {
	const struct gen *g;
	unsigned svc;
	uint64_t rng;           /* the layout stream of the current service */
	unsigned long left;     /* VMs of the service not yet in a block */
	unsigned long next_rep, next_str, next_vm, next_cg;
	bool started;
};

static void walker_init(struct walker *w, const struct gen *g)
{
	memset(w, 0, sizeof *w);
	w->g = g;
	w->next_rep = w->next_str = 1;
}

static bool walker_next(struct walker *w, struct block *b)
{
	const struct gen *g = w->g;
	if (!w->started) {
		w->started = true;
		w->svc = 0;
		w->left = g->svc_vms[0];
		w->rng = stream_seed(g->seed, 0, 0);
		w->next_cg = 1;
	}
	while (w->left == 0) {
		if (++w->svc >= N_SERVICES)
			return false;
		w->left = g->svc_vms[w->svc];
		w->rng = stream_seed(g->seed, w->svc, 0);
		w->next_cg = 1;
	}
	memset(b, 0, sizeof *b);
	b->svc = w->svc;
	unsigned kind = (unsigned)uniform(&w->rng, 0, 99);
	unsigned long n_dev;
	if (kind < 25) {
		b->stretched = true;
		n_dev = uniform(&w->rng, 1, 4);
	} else if (kind < 75) {
		b->has_cg = true;
		n_dev = uniform(&w->rng, 2, 8);
	} else {
		n_dev = uniform(&w->rng, 1, 3);
	}
	/* VMs per device ~ U(10, 40); a VM is on min(n_dev, U(1, 3)) devices. */
	unsigned long per_dev = uniform(&w->rng, 10, 40);
	unsigned long disks_x3 = n_dev == 1 ? 3 : n_dev == 2 ? 5 : 6; /* 3 * mean devices per VM */
	unsigned long n = (n_dev * per_dev * 3 + disks_x3 / 2) / disks_x3;
	if (n > w->left) {
		/* The service's last block: fewer VMs, so fewer devices, each still well used. */
		n = w->left;
		unsigned long fit = (n * disks_x3 / 3 + 9) / 10;
		if (n_dev > fit)
			n_dev = fit ? fit : 1;
	}
	if (n_dev > n)
		n_dev = n;
	if (b->has_cg && n_dev < 2)
		b->has_cg = false;
	b->n_dev = (unsigned)n_dev;
	b->n_vms = n;
	b->first_vm = w->next_vm;
	if (b->stretched) {
		b->first_dev = w->next_str;
		w->next_str += n_dev;
	} else {
		b->first_dev = w->next_rep;
		w->next_rep += n_dev;
	}
	if (b->has_cg)
		b->cg = w->next_cg++;
	w->next_vm += n;
	w->left -= n;
	return true;
}

static void put_device(struct out *o, const struct block *b, unsigned i, bool peer)
{
	if (b->stretched)
		put_str_device(o, b->first_dev + i);
	else
		put_rep_device(o, b->first_dev + i, peer);
}

struct vm {
	unsigned role;
	unsigned long number;      /* within service and role, from 1 */
	unsigned long global;      /* from 0 */
	unsigned first, n_dev;     /* devices first .. first + n_dev - 1 (mod block's n_dev) */
	bool off;
	int after_role;            /* -1: no `after` */
	unsigned long after_number;
	int migration;             /* 0 none, 1 completed (from another device), 2 in progress (to one) */
	unsigned migration_dev;    /* the other device of the migration, within the block */
};

/* Generates the VMs of the blocks in walk order; each pass re-creates it and gets the same VMs. */
struct vm_gen {
	const struct gen *g;
	unsigned svc;
	uint64_t rng;
	unsigned long count[N_ROLES]; /* VMs of each role so far in the service */
	bool started;
};

static void vm_gen_init(struct vm_gen *v, const struct gen *g)
{
	memset(v, 0, sizeof *v);
	v->g = g;
}

static void vm_next(struct vm_gen *v, const struct block *b, unsigned long j, struct vm *vm)
{
	if (!v->started || v->svc != b->svc) {
		v->started = true;
		v->svc = b->svc;
		v->rng = stream_seed(v->g->seed, b->svc, 1);
		memset(v->count, 0, sizeof v->count);
	}
	memset(vm, 0, sizeof *vm);
	unsigned long pick = uniform(&v->rng, 0, 99), acc = 0;
	unsigned role = 0;
	for (role = 0; role < N_ROLES - 1; role++) {
		acc += roles[role].weight;
		if (pick < acc)
			break;
	}
	vm->role = role;
	vm->number = ++v->count[role];
	vm->global = b->first_vm + j;
	vm->first = (unsigned)(j % b->n_dev); /* round robin: every device gets VMs */
	unsigned long n_dev = uniform(&v->rng, 1, 3);
	vm->n_dev = (unsigned)(n_dev < b->n_dev ? n_dev : b->n_dev);
	if (v->g->shared_devices) {
		/* The VMs of one role share one datastore of their block (drawn as above all the same,
		 * so that the other streams do not change). */
		vm->first = role % b->n_dev;
		vm->n_dev = 1;
	}
	vm->off = uniform(&v->rng, 0, 99) < 2;
	vm->after_role = -1;
	uint64_t r = rnd(&v->rng);
	if (r % 10 == 0 && roles[role].after[0] >= 0) {
		/* Wait for an earlier VM of a role with a smaller priority number. */
		int target = roles[role].after[(r >> 8) % 2];
		if (target < 0)
			target = roles[role].after[0];
		if (v->count[target] > 0) {
			vm->after_role = target;
			vm->after_number = 1 + (unsigned long)((r >> 16) % v->count[target]);
		}
	}
	r = rnd(&v->rng);
	if (r % 2000 == 0 && !b->stretched && vm->n_dev < b->n_dev) {
		vm->migration = (r >> 16) % 4 == 0 ? 2 : 1;
		vm->migration_dev = (vm->first + vm->n_dev) % b->n_dev; /* a block device the VM is not on */
	}
}

/* ---- First pass: totals. */

static void count_all(struct gen *g)
{
	struct walker w;
	struct vm_gen v;
	struct block b;
	struct vm vm;
	walker_init(&w, g);
	vm_gen_init(&v, g);
	while (walker_next(&w, &b)) {
		g->n_blocks++;
		g->svc_devices[b.svc] += b.n_dev;
		if (b.stretched)
			g->n_str += b.n_dev;
		else
			g->n_rep += b.n_dev;
		if (b.has_cg)
			g->n_cg++;
		for (unsigned long j = 0; j < b.n_vms; j++) {
			vm_next(&v, &b, j, &vm);
			g->role_count[b.svc][vm.role]++;
		}
	}
	for (unsigned s = 0; s < N_SERVICES; s++)
		if (g->svc_vms[s])
			g->n_active_services++;
}

/* ---- The plan. */

static void write_header(struct out *o, const struct gen *g, const char *what)
{
	o_s(o, "# ");
	o_s(o, what);
	o_s(o, ": generated by bench/gen-plan --vms ");
	o_u(o, g->n_vms, 0);
	o_s(o, " --seed ");
	o_u(o, g->seed, 0);
	if (g->inline_vms)
		o_s(o, " --inline-vms");
	o_s(o, ". Do not edit.\n# ");
	o_u(o, g->n_vms, 0);
	o_s(o, " VMs of ");
	o_u(o, g->n_active_services, 0);
	o_s(o, " services on ");
	o_u(o, g->n_rep + g->n_str, 0);
	o_s(o, " devices (");
	o_u(o, g->n_rep, 0);
	o_s(o, " replicated, in ");
	o_u(o, g->n_cg, 0);
	o_s(o, " consistency groups or none; ");
	o_u(o, g->n_str, 0);
	o_s(o, " stretched); hosts per site: ");
	o_u(o, g->n_hosts, 0);
	o_s(o, ".\n");
}


static void write_vm_line(struct out *o, const struct gen *g, const struct block *b, const struct vm *vm)
{
	o_s(o, "vm ");
	put_vm(o, b->svc, vm->role, vm->number);
	o_s(o, " priority ");
	o_u(o, roles[vm->role].priority, 0);
	if (vm->after_role >= 0) {
		o_s(o, " after ");
		put_vm(o, b->svc, (unsigned)vm->after_role, vm->after_number);
	}
	o_s(o, " on");
	for (unsigned k = 0; k < vm->n_dev; k++) {
		o_c(o, ' ');
		put_device(o, b, (vm->first + k) % b->n_dev, false);
	}
	o_s(o, " host ");
	put_host(o, 'e', vm->global % g->n_hosts + 1);
	o_c(o, '\n');
}

static void write_devices(struct out *o, const struct gen *g)
{
	struct walker w;
	struct block b;
	o_s(o, "# Replicated devices fail over east -> west, by consistency group where they have one.\n"
	       "# Stretched devices are one device at both sites: their VMs migrate live.\n");
	walker_init(&w, g);
	while (walker_next(&w, &b)) {
		for (unsigned i = 0; i < b.n_dev; i++) {
			o_s(o, "device ");
			put_device(o, &b, i, false);
			if (b.stretched) {
				o_s(o, " stretched between east and west prefer east\n");
				continue;
			}
			o_s(o, " at east replicated to ");
			put_device(o, &b, i, true);
			o_s(o, " at west");
			if (b.has_cg) {
				o_s(o, " consistency ");
				put_cg(o, b.svc, b.cg);
			}
			o_c(o, '\n');
		}
	}
}

/* One group per service. `drplan fmt` keeps a group with a single `devices` line on one line. */
static void write_protection(struct out *o, const struct gen *g)
{
	struct walker w;
	struct block b;
	unsigned long in_line = 0;
	bool open = false, one_line = false;
	unsigned svc = 0;
	walker_init(&w, g);
	while (walker_next(&w, &b)) {
		if (!open || b.svc != svc) {
			if (open)
				o_s(o, one_line ? " }\n" : "\n}\n");
			svc = b.svc;
			open = true;
			one_line = g->svc_devices[svc] <= DEVICES_PER_LINE;
			in_line = 0;
			o_s(o, "\nprotection ");
			o_s(o, services[svc].name);
			o_s(o, one_line ? " { devices" : " {");
		}
		for (unsigned i = 0; i < b.n_dev; i++) {
			if (!one_line && in_line % DEVICES_PER_LINE == 0)
				o_s(o, "\n  devices");
			o_c(o, ' ');
			put_device(o, &b, i, false);
			in_line++;
		}
	}
	if (open)
		o_s(o, one_line ? " }\n" : "\n}\n");
}

static void write_vm_rules(struct out *o, const struct gen *g)
{
	o_s(o, "\n# Power-on order: databases first, batch last. `after` targets have smaller priority\n"
	       "# numbers, so the dependencies are acyclic.\n");
	for (unsigned s = 0; s < N_SERVICES; s++) {
		for (unsigned r = 0; r < N_ROLES; r++) {
			if (!g->role_count[s][r])
				continue;
			o_s(o, "vm ");
			o_s(o, services[s].name);
			o_c(o, '-');
			o_s(o, roles[r].name);
			o_s(o, "-* priority ");
			o_u(o, roles[r].priority, 0);
			bool after = false;
			for (unsigned k = 0; k < 2; k++) {
				int t = roles[r].after[k];
				if (t < 0 || !g->role_count[s][t])
					continue;
				o_s(o, after ? " " : " after ");
				after = true;
				put_vm(o, s, (unsigned)t, 1);
			}
			o_c(o, '\n');
		}
	}
}

static void write_vm_lines(struct out *o, const struct gen *g)
{
	struct walker w;
	struct vm_gen v;
	struct block b;
	struct vm vm;
	o_s(o, "\n# The VMs, declared here rather than in an inventory: priority, dependencies, disks, host.\n");
	walker_init(&w, g);
	vm_gen_init(&v, g);
	while (walker_next(&w, &b))
		for (unsigned long j = 0; j < b.n_vms; j++) {
			vm_next(&v, &b, j, &vm);
			write_vm_line(o, g, &b, &vm);
		}
}

static void write_plan_block(struct out *o, const struct gen *g)
{
	o_s(o, "\nplan bench-failover {\n"
	       "  from east to west\n"
	       "  mode planned\n"
	       "  protect");
	for (unsigned s = 0; s < N_SERVICES; s++)
		if (g->svc_vms[s]) {
			o_c(o, ' ');
			o_s(o, services[s].name);
		}
	o_s(o, "\n"
	       "  workgroup 32\n"
	       "  limit all 256\n"
	       "  limit sync 16\n"
	       "  limit shutdown 64 per site\n"
	       "  limit failover 8 # the arrays promote at most eight groups at a time\n"
	       "  limit prefer 4\n"
	       "  limit migrate 2 per host  # vMotion\n"
	       "  limit power-on 4 per host # no boot storms\n"
	       "  limit register 32 per site\n"
	       "  limit run 16\n"
	       "  rto 4h\n"
	       "\n"
	       "  step sync storage timeout 30m\n"
	       "  step shutdown vms at east timeout 10m\n"
	       "  step failover storage retry 2 backoff 1m\n"
	       "  # Stretched devices: switch their preference, then move their VMs without downtime.\n"
	       "  step prefer west timeout 2m retry 2 backoff 15s\n"
	       "  step migrate live timeout 30m\n"
	       "  step register vms at west retry 3 backoff 10s\n"
	       "  step power-on vms by priority timeout 15m\n"
	       "  step run \"scripts/smoke-test.sh\" per workgroup timeout 5m\n"
	       "  step prompt \"Every service runs in west. Point the VIPs at west, then confirm.\"\n"
	       "}\n");
}

static void write_plan(const struct gen *g, const char *path)
{
	static struct out o;
	o_open(&o, path);
	write_header(&o, g, "plan.drp");
	o_s(&o, "\nsite east { adapter sim }\n\nsite west { adapter sim }\n\n");
	if (!g->inline_vms)
		o_s(&o, "inventory \"inventory.yaml\"\n\n");
	write_devices(&o, g);
	write_protection(&o, g);
	if (g->inline_vms)
		write_vm_lines(&o, g);
	else
		write_vm_rules(&o, g);
	write_plan_block(&o, g);
	o_close(&o);
}

/* ---- The inventory. */

static void write_hosts(struct out *o, const struct gen *g, char site)
{
	o_s(o, site == 'e' ? "  - name: east\n    hosts: [" : "  - name: west\n    hosts: [");
	for (unsigned long h = 1; h <= g->n_hosts; h++) {
		if (h > 1)
			o_s(o, (h - 1) % HOSTS_PER_LINE == 0 ? ",\n      " : ", ");
		put_host(o, site, h);
	}
	o_s(o, "]\n");
}

struct migration {
	unsigned svc, role;
	unsigned long number, from, to, global;
	bool in_progress;
};

static void write_inventory(const struct gen *g, const char *path)
{
	static struct out o;
	struct walker w;
	struct vm_gen v;
	struct block b;
	struct vm vm;
	struct migration *migs = NULL;
	size_t n_migs = 0, cap_migs = 0;

	o_open(&o, path);
	write_header(&o, g, "inventory.yaml");
	o_s(&o, "version: 1\nsites:\n");
	write_hosts(&o, g, 'e');
	write_hosts(&o, g, 'w');

	o_s(&o, "devices:\n");
	walker_init(&w, g);
	while (walker_next(&w, &b)) {
		for (unsigned i = 0; i < b.n_dev; i++) {
			o_s(&o, "  - id: ");
			put_device(&o, &b, i, false);
			o_s(&o, b.stretched ? "\n    site: east\n    kind: stretched\n    peer: {id: "
			                    : "\n    site: east\n    kind: replicated\n    peer: {id: ");
			put_device(&o, &b, i, true);
			o_s(&o, ", site: west}\n");
			if (b.stretched)
				o_s(&o, "    preference: east\n");
			if (b.has_cg) {
				o_s(&o, "    consistency_group: ");
				put_cg(&o, b.svc, b.cg);
				o_c(&o, '\n');
			}
		}
	}

	o_s(&o, "vms:\n");
	walker_init(&w, g);
	vm_gen_init(&v, g);
	while (walker_next(&w, &b)) {
		for (unsigned long j = 0; j < b.n_vms; j++) {
			vm_next(&v, &b, j, &vm);
			o_s(&o, "  - name: ");
			put_vm(&o, b.svc, vm.role, vm.number);
			o_s(&o, "\n    host: ");
			put_host(&o, 'e', vm.global % g->n_hosts + 1);
			o_s(&o, vm.off ? "\n    power: off\n    devices: [" : "\n    power: on\n    devices: [");
			for (unsigned k = 0; k < vm.n_dev; k++) {
				if (k)
					o_s(&o, ", ");
				put_device(&o, &b, (vm.first + k) % b.n_dev, false);
			}
			o_s(&o, "]\n    tags: [");
			o_s(&o, roles[vm.role].tags);
			o_s(&o, "]\n");
			if (vm.migration) {
				if (n_migs == cap_migs) {
					cap_migs = cap_migs ? cap_migs * 2 : 16;
					migs = realloc(migs, cap_migs * sizeof *migs);
					if (!migs)
						die("out of memory", NULL);
				}
				struct migration *m = &migs[n_migs++];
				m->svc = b.svc;
				m->role = vm.role;
				m->number = vm.number;
				m->global = vm.global;
				m->in_progress = vm.migration == 2;
				/* Completed: the VM is on `to` already. In progress: still on `from`. */
				unsigned long on = b.first_dev + vm.first, other = b.first_dev + vm.migration_dev;
				m->from = m->in_progress ? on : other;
				m->to = m->in_progress ? other : on;
			}
		}
	}

	if (!n_migs)
		o_s(&o, "storage_migrations: []\n");
	else
		o_s(&o, "storage_migrations:\n");
	for (size_t i = 0; i < n_migs; i++) {
		const struct migration *m = &migs[i];
		uint64_t t = mix64(g->seed ^ (m->global * 0x9e3779b97f4a7c15ULL));
		o_s(&o, "  - vm: ");
		put_vm(&o, m->svc, m->role, m->number);
		o_s(&o, "\n    from: ");
		put_rep_device(&o, m->from, false);
		o_s(&o, "\n    to: ");
		put_rep_device(&o, m->to, false);
		o_s(&o, m->in_progress ? "\n    state: in-progress\n    time: \"2024-"
		                       : "\n    state: completed\n    time: \"2024-");
		o_u(&o, 1 + t % 12, 2);
		o_c(&o, '-');
		o_u(&o, 1 + (t >> 8) % 28, 2);
		o_c(&o, 'T');
		o_u(&o, (t >> 16) % 24, 2);
		o_c(&o, ':');
		o_u(&o, (t >> 24) % 60, 2);
		o_c(&o, ':');
		o_u(&o, (t >> 32) % 60, 2);
		o_s(&o, "Z\"\n");
	}
	free(migs);
	o_close(&o);
}

static void write_script(const char *dir)
{
	static struct out o;
	size_t n = strlen(dir) + 32;
	char *path = malloc(n);
	if (!path)
		die("out of memory", NULL);
	snprintf(path, n, "%s/scripts", dir);
	errno = 0;
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		die("cannot create ", path);
	snprintf(path, n, "%s/scripts/smoke-test.sh", dir);
	o_open(&o, path);
	o_s(&o, "#!/bin/sh\n"
	        "# smoke-test.sh: the `run` step of the generated plan; a stand-in that checks nothing.\n"
	        "exit 0\n");
	o_close(&o);
	errno = 0;
	if (chmod(path, 0755) != 0)
		die("cannot chmod ", path);
	free(path);
}

/* mkdir -p */
static void make_dirs(const char *dir)
{
	char *p = strdup(dir);
	if (!p)
		die("out of memory", NULL);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		errno = 0;
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			die("cannot create ", p);
		*s = c;
		if (!c)
			break;
	}
	struct stat st;
	errno = 0;
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
		die("not a directory: ", p);
	free(p);
}

static void usage(FILE *f)
{
	fputs("usage: gen-plan --vms N --out DIR [--seed S] [--shared-devices] [--inline-vms]\n"
	      "\n"
	      "Writes DIR/plan.drp and DIR/inventory.yaml (and DIR/scripts/smoke-test.sh): a planned\n"
	      "failover of N VMs between two sites, for benchmarks. The same arguments give the same bytes.\n"
	      "\n"
	      "  --vms N        number of VMs (1 to 100000000)\n"
	      "  --out DIR      output directory, created if missing\n"
	      "  --seed S       random seed (default 1)\n"
	      "  --shared-devices  the VMs of one role in one block sit on one device (full workgroups)\n"
	      "  --inline-vms   declare the VMs in the plan (`vm NAME priority P on DEV... host H`)\n"
	      "                 instead of in an inventory; no inventory.yaml is written\n",
	      f);
}

static bool parse_ulong(const char *s, unsigned long long *out)
{
	if (!*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"vms", required_argument, NULL, 'n'},
		{"out", required_argument, NULL, 'o'},
		{"seed", required_argument, NULL, 's'},
		{"inline-vms", no_argument, NULL, 'i'},
		{"shared-devices", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct gen g;
	const char *dir = NULL;
	unsigned long long v;
	bool have_vms = false;
	g.seed = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (!parse_ulong(optarg, &v) || v < 1 || v > MAX_VMS) {
				fprintf(stderr, "gen-plan: --vms wants a number from 1 to %lu, not '%s'\n", MAX_VMS,
				        optarg);
				return 2;
			}
			g.n_vms = (unsigned long)v;
			have_vms = true;
			break;
		case 'o': dir = optarg; break;
		case 's':
			if (!parse_ulong(optarg, &v)) {
				fprintf(stderr, "gen-plan: --seed wants a non-negative integer, not '%s'\n", optarg);
				return 2;
			}
			g.seed = v;
			break;
		case 'i': g.inline_vms = true; break;
		case 'S': g.shared_devices = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!have_vms || !dir || !*dir || optind != argc) {
		usage(stderr);
		return 2;
	}

	/* Services share the VMs by weight; the remainder goes to the first ones. */
	unsigned long given = 0;
	for (unsigned s = 0; s < N_SERVICES; s++) {
		g.svc_vms[s] = g.n_vms * services[s].weight / 100;
		given += g.svc_vms[s];
	}
	for (unsigned s = 0; given < g.n_vms; s = (s + 1) % N_SERVICES, given++)
		g.svc_vms[s]++;
	g.n_hosts = (g.n_vms + VMS_PER_HOST - 1) / VMS_PER_HOST;
	count_all(&g);

	make_dirs(dir);
	size_t n = strlen(dir) + 32;
	char *path = malloc(n);
	if (!path)
		die("out of memory", NULL);
	snprintf(path, n, "%s/plan.drp", dir);
	write_plan(&g, path);
	if (!g.inline_vms) {
		snprintf(path, n, "%s/inventory.yaml", dir);
		write_inventory(&g, path);
	}
	write_script(dir);
	free(path);
	return 0;
}
