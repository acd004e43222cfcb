/* inventory.c: reading the inventory YAML (docs/inventory.md) with libyaml's event API into the
 * records of inventory.h. A hand-written state machine over events, one frame per open mapping or
 * sequence: no document tree is ever built, so a million-VM file costs its records and a fixed stack.
 *
 * Shape only: keys, types, required fields, closed vocabularies, limits. Names are not resolved.
 * Every problem is a diagnostic at the exact bytes of the YAML file; after one that leaves the rest
 * readable (an unknown key, a wrong type) reading goes on, and the offending value is skipped whole
 * so that one mistake is one diagnostic. Syntax errors, anchors and aliases, deep nesting, a second
 * document and an unsupported version stop the reading at once. */
#include "inventory.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "yamlread.h"

/* After this many errors in one inventory the reading stops with DRP013, as the plan parser does. */
#define INVENTORY_MAX_ERRORS 50
/* The most keys one kind of mapping defines (a device has six). */
#define MAX_FIELDS 8

/* What an open collection is. The mapping contexts come first and index `shapes`. */
enum ctx {
	CTX_ROOT,
	CTX_SITE,
	CTX_DEVICE,
	CTX_PEER,
	CTX_VM,
	CTX_MIGRATION,
	CTX_N_SHAPES,
	CTX_SKIP = CTX_N_SHAPES, /* a value being skipped, mapping or sequence */
	CTX_ENTRIES,             /* a list of entries (sites, devices, vms, storage_migrations) */
	CTX_STRLIST,             /* a list of strings (hosts, devices, tags) */
};

/* What a key's value must be. */
enum vtype { V_STR, V_VERSION, V_KIND, V_POWER, V_STATE, V_TIME, V_STRLIST, V_ENTRIES, V_PEER };

/* What arrived where a value belongs. NODE_BAD: a scalar already reported (too long). */
enum node { NODE_SCALAR, NODE_SEQ, NODE_MAP, NODE_BAD };

struct field {
	const char *name;
	uint8_t len;         /* strlen(name) */
	uint8_t type;        /* enum vtype */
	uint8_t sub;         /* V_ENTRIES: the context of one entry */
	bool required;
	bool nonempty;       /* V_STRLIST: at least one item */
	uint16_t offset;     /* V_STR, V_TIME: the struct inv_str; V_STRLIST: the array pointer */
	uint16_t count;      /* V_STRLIST: the uint32_t count */
	const char *noun;    /* what the value (or one list item) is, for messages */
	const char *example; /* for "add ..." hints */
};

/* One kind of mapping: its keys, how messages name it, which key names an entry. */
struct shape {
	const char *a;     /* "a device" */
	const char *noun;  /* "device" */
	const char *where; /* "in a device" */
	const struct field *fields;
	uint8_t n_fields;
	int8_t label;      /* index of the field that names an entry, or -1 */
};

#define F_STR(n, req, rec, member, noun, ex) \
	{n, sizeof n - 1, V_STR, 0, req, false, offsetof(rec, member), 0, noun, ex}
#define F_LIST(n, req, rec, member, cnt, noun, ex) \
	{n, sizeof n - 1, V_STRLIST, 0, req, req, offsetof(rec, member), offsetof(rec, cnt), noun, ex}

static const struct field root_fields[] = {
	{"version", 7, V_VERSION, 0, true, false, 0, 0, "version", "version: 1"},
	{"sites", 5, V_ENTRIES, CTX_SITE, false, false, 0, 0, "site", "sites: []"},
	{"devices", 7, V_ENTRIES, CTX_DEVICE, false, false, 0, 0, "device", "devices: []"},
	{"vms", 3, V_ENTRIES, CTX_VM, false, false, 0, 0, "VM", "vms: []"},
	{"storage_migrations", 18, V_ENTRIES, CTX_MIGRATION, false, false, 0, 0, "storage migration",
	 "storage_migrations: []"},
};
static const struct field site_fields[] = {
	F_STR("name", true, struct inv_site, name, "site name", "name: east"),
	F_LIST("hosts", false, struct inv_site, hosts, n_hosts, "host name", "hosts: [esx-01]"),
};
/* The index of preference in device_fields, for the check that ties it to the kind. */
enum { DEVICE_PREFERENCE = 5 };
static const struct field device_fields[] = {
	F_STR("id", true, struct inv_device, id, "device id", "id: lun-101"),
	F_STR("site", true, struct inv_device, site, "site name", "site: east"),
	{"kind", 4, V_KIND, 0, true, false, 0, 0, "device kind", "kind: replicated"},
	{"peer", 4, V_PEER, 0, true, false, 0, 0, "peer", "peer: {id: lun-201, site: west}"},
	F_STR("consistency_group", false, struct inv_device, consistency_group, "consistency group name",
	      "consistency_group: cg-1"),
	F_STR("preference", false, struct inv_device, preference, "site name", "preference: east"),
};
static const struct field peer_fields[] = {
	F_STR("id", true, struct inv_device, peer_id, "device id", "id: lun-201"),
	F_STR("site", true, struct inv_device, peer_site, "site name", "site: west"),
};
static const struct field vm_fields[] = {
	F_STR("name", true, struct inv_vm, name, "VM name", "name: db-01"),
	F_STR("host", false, struct inv_vm, host, "host name", "host: esx-01"),
	{"power", 5, V_POWER, 0, false, false, 0, 0, "power state", "power: on"},
	F_LIST("devices", true, struct inv_vm, devices, n_devices, "device id", "devices: [lun-101]"),
	F_LIST("tags", false, struct inv_vm, tags, n_tags, "tag", "tags: [tier-1]"),
};
static const struct field migration_fields[] = {
	F_STR("vm", true, struct inv_migration, vm, "VM name", "vm: db-01"),
	F_STR("from", true, struct inv_migration, from, "device id", "from: lun-101"),
	F_STR("to", true, struct inv_migration, to, "device id", "to: lun-102"),
	{"state", 5, V_STATE, 0, true, false, 0, 0, "migration state", "state: completed"},
	{"time", 4, V_TIME, 0, true, false, offsetof(struct inv_migration, time), 0, "time",
	 "time: \"2024-05-14T22:41:07Z\""},
};

#define FIELDS(a) a, (uint8_t)(sizeof a / sizeof a[0])
static const struct shape shapes[CTX_N_SHAPES] = {
	[CTX_ROOT] = {"the inventory", "inventory", "at the top level", FIELDS(root_fields), -1},
	[CTX_SITE] = {"a site", "site", "in a site", FIELDS(site_fields), 0},
	[CTX_DEVICE] = {"a device", "device", "in a device", FIELDS(device_fields), 0},
	[CTX_PEER] = {"a peer", "peer", "in a device's peer", FIELDS(peer_fields), -1},
	[CTX_VM] = {"a VM", "VM", "in a VM", FIELDS(vm_fields), 0},
	[CTX_MIGRATION] = {"a storage migration", "storage migration", "in a storage migration",
	                   FIELDS(migration_fields), 0},
};

static const char *const kind_words[] = {"replicated", "stretched", NULL};
static const char *const power_words[] = {"on", "off", NULL};
static const char *const state_words[] = {"completed", "in-progress", NULL};

/* A growable array. On the heap, its contents are copied into the arena, exactly sized, at the end;
 * with `arena` set, it is a block of that arena (arena_resize), trimmed at the end, never copied:
 * the lists of entries, where a copy would double the memory of a million-VM inventory. */
struct vec {
	char *items;
	size_t len, cap, size;
	struct arena *arena;
};

struct frame {
	uint8_t ctx;       /* enum ctx */
	uint8_t entry;     /* CTX_ENTRIES: the context of each item */
	bool map;          /* a mapping (else a sequence) */
	bool flow;         /* written [..] or {..}: its end event carries its real end */
	bool want_value;   /* mapping: a key was read, its value comes next */
	bool skip_value;   /* mapping: and that value is to be skipped */
	int8_t field;      /* mapping: the field of that key */
	uint16_t seen;     /* mapping: fields whose key was given (bit per field) */
	uint16_t done;     /* mapping: fields given a value, or already reported */
	uint16_t excused;  /* mapping: fields an unknown key was probably meant to be */
	uint32_t start, end; /* the node's bytes so far */
	uint32_t count;    /* sequence: items */
	const struct field *list; /* CTX_STRLIST: the field being filled */
	void *record;      /* the record the keys fill */
	struct diag *wrong; /* CTX_SKIP: the diagnostic about this value, whose range ends with it */
	struct src_range keys[MAX_FIELDS]; /* where each seen key was written */
};

/* Small allocations (strings, string lists) carved from arena blocks: one arena call per block
 * rather than per string, and strings packed without the arena's 16-byte rounding. */
#define POOL_BLOCK 8192

struct pool {
	char *next, *end;
};

struct inv_parser {
	struct inventory *inv;
	struct arena *arena;
	struct pool pool;
	struct src_file *src;
	struct diag_list *diags;
	yaml_parser_t yaml;
	struct yaml_pos pos;   /* libyaml's marks count characters: byte offsets */
	/* Reading state. */
	bool stop;          /* read no further */
	bool fatal;         /* the inventory is not usable at all */
	bool version_ok;
	bool root_seen;
	unsigned documents;
	unsigned errors;
	unsigned depth;
	struct frame frames[INVENTORY_MAX_DEPTH];
	/* The entries being read (one of each kind at a time) and those finished. */
	struct inv_site site;
	struct inv_device device;
	struct inv_vm vm;
	struct inv_migration migration;
	struct vec entries[CTX_N_SHAPES];
	struct vec strs; /* the string list being read */
};

static const struct src_range no_range = {SRC_NONE, 0, 0};

/* ---- Byte offsets */



static struct src_range range(const struct inv_parser *p, uint32_t start, uint32_t end)
{
	return src_range_make(p->src->id, start, end);
}



/* ---- Diagnostics */

__attribute__((format(printf, 4, 5))) static struct diag *inv_error(struct inv_parser *p, enum diag_rule rule,
                                                                    struct src_range at, const char *fmt, ...)
{
	bool stopped = p->stop;
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = yaml_vdiag_capped(p->diags, &p->errors, &p->stop, INVENTORY_MAX_ERRORS, "this inventory",
	                                   DIAG_ERROR, rule, at, fmt, ap);
	va_end(ap);
	if (!stopped && p->stop)
		p->fatal = true; /* the cap: what is left is not read */
	return d;
}

/* What arrived, for "found ..." in messages. */
static void describe(struct buf *b, enum node kind, const yaml_event_t *ev)
{
	if (kind == NODE_SEQ) {
		buf_puts(b, "a list");
	} else if (kind == NODE_MAP) {
		buf_puts(b, "a mapping");
	} else if (yaml_is_null(ev)) {
		buf_puts(b, "an empty value");
	} else {
		buf_puts(b, "text ");
		yaml_quote(b, (const char *)ev->data.scalar.value, ev->data.scalar.length);
	}
}

/* ---- Values */

static void *field_ptr(void *record, uint16_t offset)
{
	return (char *)record + offset;
}

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
		v->items = v->arena ? arena_resize(v->arena, v->items, v->cap * v->size)
		                    : xrealloc(v->items, v->cap * v->size);
	}
	return v->items + v->size * v->len++;
}

/* size bytes aligned to `align` (a power of two, at most 16), zero-filled, in the arena. */
static void *pool_alloc(struct inv_parser *p, size_t size, size_t align)
{
	if (size > POOL_BLOCK / 4)
		return arena_alloc(p->arena, size);
	uintptr_t at = ((uintptr_t)p->pool.next + align - 1) & ~(uintptr_t)(align - 1);
	if (!p->pool.next || at + size > (uintptr_t)p->pool.end) {
		p->pool.next = arena_alloc(p->arena, POOL_BLOCK);
		p->pool.end = p->pool.next + POOL_BLOCK;
		at = (uintptr_t)p->pool.next;
	}
	p->pool.next = (char *)(at + size);
	return (void *)at;
}

/* The vector's items copied into the arena (NULL when empty); the vector is emptied. */
static void *vec_to_arena(struct inv_parser *p, struct vec *v, uint32_t *count)
{
	void *out = NULL;
	if (v->arena) {
		out = v->len ? arena_resize(v->arena, v->items, v->len * v->size) : NULL;
		v->items = NULL; /* the arena owns it */
		v->cap = 0;
	} else if (v->len) {
		out = pool_alloc(p, v->len * v->size, 8); /* every record is 8-byte aligned at most */
		memcpy(out, v->items, v->len * v->size);
	}
	*count = (uint32_t)v->len;
	v->len = 0;
	return out;
}

/* A scalar's text, copied into the arena. */
static struct inv_str copy_str(struct inv_parser *p, const yaml_event_t *ev, struct src_range at)
{
	struct inv_str s;
	s.len = (uint32_t)ev->data.scalar.length;
	char *text = pool_alloc(p, s.len + 1, 1);
	memcpy(text, ev->data.scalar.value, s.len); /* the pool's memory is zeroed: text is terminated */
	s.text = text;
	s.at = at;
	return s;
}

/* Nonzero if some byte of w is a C0 control, DEL or 0xC2 (the lead byte of C1 controls): the usual
 * has-zero-byte tricks (a borrow can flag a byte after a real one, never a byte alone). */
static uint64_t control_bytes(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t del = w ^ (0x7F * ones), c2 = w ^ (0xC2 * ones);
	return (((w - 0x20 * ones) & ~w) | ((del - ones) & ~del) | ((c2 - ones) & ~c2)) & highs;
}

/* True if s[0..len) holds a byte that may start a control character, eight bytes at a time (the
 * last word overlapping the one before): only such text needs take_str's byte-by-byte check. */
static bool maybe_control(const unsigned char *s, uint32_t len)
{
	uint64_t acc = 0, w;
	if (len >= 8) {
		for (uint32_t i = 0; i + 8 < len; i += 8) {
			memcpy(&w, s + i, 8);
			acc |= control_bytes(w);
		}
		memcpy(&w, s + len - 8, 8);
		return (acc | control_bytes(w)) != 0;
	}
	if (len >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		return control_bytes((uint64_t)a << 32 | b) != 0;
	}
	for (uint32_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7F || s[i] == 0xC2)
			return true;
	return false;
}

/* A text value: names, ids, tags. Empty text and control characters are refused (DRP014, as for
 * the plan's quoted names): they can only be mistakes, and would reach terminals and file names. */
static struct inv_str take_str(struct inv_parser *p, const yaml_event_t *ev, struct src_range at,
                               const char *noun)
{
	struct inv_str s = copy_str(p, ev, at);
	const unsigned char *v = (const unsigned char *)s.text;
	if (s.len == 0) {
		inv_error(p, DRP014, at, "empty %s", noun);
		return s;
	}
	if (!maybe_control(v, s.len))
		return s;
	for (uint32_t i = 0; i < s.len; i++) {
		/* C0 and DEL are single bytes; C1 (U+0080-U+009F) is C2 80-C2 9F. A byte >= 0x80 is
		 * otherwise part of a longer character, which libyaml has validated. */
		bool c0 = v[i] < 0x20 || v[i] == 0x7F;
		bool c1 = v[i] == 0xC2 && i + 1 < s.len && v[i + 1] <= 0x9F;
		if (c0 || c1) {
			unsigned cp = c0 ? v[i] : v[i + 1];
			inv_error(p, DRP014, at, "the %s contains a control character (U+%04X)", noun, cp);
			break;
		}
	}
	return s;
}

/* A closed vocabulary: the word's index, or -1 after DRP027 with a suggestion. */
static int vocabulary(struct inv_parser *p, const yaml_event_t *ev, struct src_range at, const char *what,
                      const char *const *words)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	for (int i = 0; words[i]; i++)
		if (strlen(words[i]) == n && memcmp(words[i], v, n) == 0)
			return i;
	struct buf list = BUF_INIT;
	yaml_word_list(&list, words, " or ");
	struct diag *d = inv_error(p, DRP027, at, "unknown %s '%.*s'; expected %s", what,
	                           (int)(n > YAML_QUOTE_MAX ? YAML_QUOTE_MAX : n), v, list.data);
	buf_free(&list);
	if (!d)
		return -1;
	const char *suggestion = diag_suggest(v, n, words);
	/* YAML 1.1 readers turn on/off into booleans; the reverse slip is writing a boolean here. */
	if (!suggestion && words == power_words) {
		static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "ON", "On", NULL};
		static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "n", "N", "OFF", "Off", NULL};
		for (int i = 0; yes[i]; i++)
			if (strlen(yes[i]) == n && memcmp(yes[i], v, n) == 0)
				suggestion = "on";
		for (int i = 0; no[i]; i++)
			if (strlen(no[i]) == n && memcmp(no[i], v, n) == 0)
				suggestion = "off";
	}
	if (suggestion) {
		diag_hint(d, "did you mean '%s'?", suggestion);
		diag_fixit(d, suggestion);
	}
	return -1;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static unsigned num(const char *s, size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

/* RFC 3339 date-time: 2024-05-14T22:41:07Z, 2024-05-14T22:41:07.250+02:00 ('t' or a space for 'T'
 * and 'z' for 'Z' are allowed, as the RFC's note says). The calendar is checked, leap years too. */
static bool rfc3339_valid(const char *s, size_t n)
{
	if (n < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return false;
	unsigned year = num(s, 4), month = num(s + 5, 2), day = num(s + 8, 2);
	unsigned hour = num(s + 11, 2), minute = num(s + 14, 2), second = num(s + 17, 2);
	static const unsigned char days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (month < 1 || month > 12 || day < 1 || day > days[month - 1])
		return false;
	if (month == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
		return false;
	if (hour > 23 || minute > 59 || second > 60)
		return false;
	size_t i = 19;
	if (i < n && s[i] == '.') {
		size_t k = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == k)
			return false;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z'))
		return i + 1 == n;
	if (i + 6 != n || (s[i] != '+' && s[i] != '-') || !digits(s + i + 1, 2) || s[i + 3] != ':' ||
	    !digits(s + i + 4, 2))
		return false;
	return num(s + i + 1, 2) <= 23 && num(s + i + 4, 2) <= 59;
}

/* ---- Frames */

static struct frame *top(struct inv_parser *p)
{
	return &p->frames[p->depth - 1];
}

static void *record_of(struct inv_parser *p, enum ctx ctx)
{
	switch (ctx) {
	case CTX_SITE:
		return &p->site;
	case CTX_DEVICE:
	case CTX_PEER:
		return &p->device;
	case CTX_VM:
		return &p->vm;
	case CTX_MIGRATION:
		return &p->migration;
	default:
		return NULL;
	}
}

/* Opens a collection; the depth was checked by the caller. */
static struct frame *push(struct inv_parser *p, enum ctx ctx, enum node kind, struct src_range at, bool flow)
{
	struct frame *f = &p->frames[p->depth++];
	/* Not memset: keys[i] is read only once bit i of seen is set. */
	f->entry = 0;
	f->want_value = f->skip_value = false;
	f->seen = f->done = f->excused = 0;
	f->count = 0;
	f->list = NULL;
	f->wrong = NULL;
	f->ctx = (uint8_t)ctx;
	f->map = kind == NODE_MAP;
	f->flow = flow;
	f->field = -1;
	f->start = f->end = at.start;
	f->record = record_of(p, ctx);
	return f;
}

/* Skips a value. `wrong`, if not NULL, is the diagnostic about it: a collection's end is known only
 * when it closes, and then becomes the end of the diagnostic's range. */
static void skip(struct inv_parser *p, enum node kind, struct src_range at, bool flow, struct diag *wrong)
{
	if (kind == NODE_SEQ || kind == NODE_MAP)
		push(p, CTX_SKIP, kind, at, flow)->wrong = wrong;
}

/* A fresh record for an entry: everything absent. */
static void entry_begin(struct inv_parser *p, enum ctx ctx)
{
	const struct shape *s = &shapes[ctx];
	void *rec = record_of(p, ctx);
	switch (ctx) {
	case CTX_SITE:
		memset(&p->site, 0, sizeof p->site);
		break;
	case CTX_DEVICE:
		memset(&p->device, 0, sizeof p->device);
		p->device.kind_at = no_range;
		p->device.peer_id.at = p->device.peer_site.at = no_range;
		break;
	case CTX_VM:
		memset(&p->vm, 0, sizeof p->vm);
		break;
	case CTX_MIGRATION:
		memset(&p->migration, 0, sizeof p->migration);
		break;
	default:
		break;
	}
	for (unsigned i = 0; i < s->n_fields; i++)
		if (s->fields[i].type == V_STR || s->fields[i].type == V_TIME)
			((struct inv_str *)field_ptr(rec, s->fields[i].offset))->at = no_range;
}

/* "device 'lun-101'" or "a device", for messages about a whole entry. */
static void entry_name(struct buf *b, const struct shape *s, void *rec)
{
	const struct inv_str *label = s->label >= 0 ? field_ptr(rec, s->fields[s->label].offset) : NULL;
	if (label && label->text)
		buf_printf(b, "%s '%.*s'", s->noun, (int)(label->len > YAML_QUOTE_MAX ? YAML_QUOTE_MAX : label->len), label->text);
	else
		buf_puts(b, s->a);
}

/* The end of a mapping: required fields, then the entry joins its list. */
static void mapping_end(struct inv_parser *p, struct frame *f, struct src_range at)
{
	const struct shape *s = &shapes[f->ctx];
	void *rec = f->record;
	for (unsigned i = 0; i < s->n_fields; i++) {
		const struct field *fld = &s->fields[i];
		if (!fld->required || (f->done & (1u << i)) || (f->excused & (1u << i)))
			continue;
		if (fld->type == V_VERSION) {
			struct src_range point = range(p, f->start, f->start);
			struct diag *d = inv_error(p, DRP026, point, "the inventory has no 'version'");
			if (d) {
				diag_hint(d, "start the file with 'version: %d', the format this drplan reads",
				          INVENTORY_VERSION);
				if (!f->flow)
					diag_fixit(d, "version: 1\n");
			}
			continue;
		}
		struct buf who = BUF_INIT;
		if (f->ctx == CTX_PEER)
			buf_puts(&who, "'peer'");
		else
			entry_name(&who, s, rec);
		struct diag *d = inv_error(p, DRP023, at, "missing required field '%s' in %s", fld->name, who.data);
		buf_free(&who);
		if (d)
			diag_hint(d, "add '%s'", fld->example);
	}
	if (f->ctx == CTX_DEVICE) {
		struct inv_device *dev = rec;
		if ((f->seen & (1u << DEVICE_PREFERENCE)) && dev->preference.text &&
		    dev->kind_at.file != SRC_NONE && dev->kind == INV_REPLICATED) {
			struct buf who = BUF_INIT;
			entry_name(&who, s, rec);
			struct diag *d = inv_error(p, DRP021, f->keys[DEVICE_PREFERENCE],
			                           "'preference' applies only to stretched devices, and %s is replicated",
			                           who.data);
			buf_free(&who);
			if (d)
				diag_hint(d, "a site preference decides which site keeps a stretched device on a split; "
				             "a replicated device has none");
		}
	}
	switch (f->ctx) {
	case CTX_SITE:
		p->site.at = at;
		*(struct inv_site *)vec_push(&p->entries[CTX_SITE]) = p->site;
		break;
	case CTX_DEVICE:
		p->device.at = at;
		*(struct inv_device *)vec_push(&p->entries[CTX_DEVICE]) = p->device;
		break;
	case CTX_VM:
		p->vm.at = at;
		*(struct inv_vm *)vec_push(&p->entries[CTX_VM]) = p->vm;
		break;
	case CTX_MIGRATION:
		p->migration.at = at;
		*(struct inv_migration *)vec_push(&p->entries[CTX_MIGRATION]) = p->migration;
		break;
	default:
		break;
	}
}

/* Closes the innermost collection; `end` is its end event's end (exact for flow collections; a
 * block collection's end event sits at the next token, after comments, so its last child's end is
 * used instead). */
static void pop(struct inv_parser *p, uint32_t end)
{
	if (p->depth == 0)
		return;
	struct frame *f = top(p);
	if (!f->flow)
		end = f->end;
	if (end < f->start)
		end = f->start;
	struct src_range at = range(p, f->start, end);
	if (f->ctx == CTX_SKIP && f->wrong && f->wrong->at.start == f->start) {
		f->wrong->at.end = end;
	} else if (f->ctx < CTX_N_SHAPES) {
		mapping_end(p, f, at);
	} else if (f->ctx == CTX_STRLIST) {
		const struct field *fld = f->list;
		uint32_t n;
		struct inv_str *items = vec_to_arena(p, &p->strs, &n);
		*(struct inv_str **)field_ptr(f->record, fld->offset) = items;
		*(uint32_t *)field_ptr(f->record, fld->count) = n;
		if (fld->nonempty && n == 0)
			inv_error(p, DRP023, at, "'%s' is empty: at least one %s is required", fld->name, fld->noun);
	}
	p->depth--;
	if (p->depth)
		top(p)->end = end;
}

/* ---- Nodes */

static struct diag *wrong_type(struct inv_parser *p, const struct field *fld, enum node kind,
                               const yaml_event_t *ev, struct src_range at, const char *expected)
{
	struct buf found = BUF_INIT;
	describe(&found, kind, ev);
	struct diag *d = inv_error(p, DRP022, at, "'%s' must be %s, found %s", fld->name, expected, found.data);
	buf_free(&found);
	if (d && kind == NODE_SCALAR && fld->type == V_STRLIST) {
		/* A single item where a list belongs: the commonest slip. */
		struct buf fix = BUF_INIT;
		buf_putc(&fix, '[');
		buf_append(&fix, p->src->text + at.start, at.end - at.start);
		buf_putc(&fix, ']');
		diag_hint(d, "write a list, even of one %s: %s", fld->noun, fix.data);
		diag_fixit(d, fix.data);
		buf_free(&fix);
	}
	return d;
}

static void read_version(struct inv_parser *p, const yaml_event_t *ev, struct src_range at)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (!plain || !digits(v, n)) {
		/* A quoted "1" is text in YAML, however it looks. */
		struct buf found = BUF_INIT;
		describe(&found, NODE_SCALAR, ev);
		struct diag *d = inv_error(p, DRP022, at, "'version' must be an integer, found %s", found.data);
		buf_free(&found);
		if (d && !plain && n > 0 && n <= 9 && digits(v, n)) {
			diag_hint(d, "write the number without quotes");
			diag_fixit(d, v);
		}
		return;
	}
	/* Leading zeros are allowed; more than nine digits is out of any range a version will reach. */
	size_t k = 0;
	while (k + 1 < n && v[k] == '0')
		k++;
	if (n - k > 9) {
		inv_error(p, DRP025, at, "version %.*s is out of range", (int)(n > YAML_QUOTE_MAX ? YAML_QUOTE_MAX : n), v);
		p->stop = p->fatal = true;
		return;
	}
	unsigned version = num(v + k, n - k);
	if (version != INVENTORY_VERSION) {
		struct diag *d = inv_error(p, DRP026, at, "unsupported inventory version %u", version);
		if (d)
			diag_hint(d, "this drplan reads inventory format version %d", INVENTORY_VERSION);
		p->stop = p->fatal = true;
		return;
	}
	p->inv->version = version;
	p->version_ok = true;
}

/* A value under a known key of mapping f. */
static void value(struct inv_parser *p, struct frame *f, const yaml_event_t *ev, enum node kind,
                  struct src_range at, bool flow)
{
	const struct field *fld = &shapes[f->ctx].fields[f->field];
	struct src_range key_at = f->keys[f->field];
	void *rec = f->record;
	f->done |= (uint16_t)(1u << f->field);
	if (kind == NODE_BAD)
		return;
	bool null = kind == NODE_SCALAR && yaml_is_null(ev);
	switch ((enum vtype)fld->type) {
	case V_STR:
	case V_VERSION:
	case V_KIND:
	case V_POWER:
	case V_STATE:
	case V_TIME:
		if (kind != NODE_SCALAR) {
			skip(p, kind, at, flow,
			     wrong_type(p, fld, kind, ev, at, fld->type == V_VERSION ? "an integer" : "text"));
			return;
		}
		if (null) {
			if (fld->type == V_VERSION) {
				struct diag *d = inv_error(p, DRP026, key_at, "'version' has no value");
				if (d)
					diag_hint(d, "write 'version: %d'", INVENTORY_VERSION);
			} else if (fld->required) {
				struct diag *d = inv_error(p, DRP023, key_at, "'%s' has no value", fld->name);
				if (d)
					diag_hint(d, "write it like '%s'", fld->example);
			}
			return;
		}
		break;
	case V_STRLIST:
		if (kind == NODE_SEQ) {
			struct frame *list = push(p, CTX_STRLIST, kind, at, flow);
			list->list = fld;
			list->record = rec;
			p->strs.len = 0;
		} else if (null) {
			if (fld->nonempty)
				inv_error(p, DRP023, key_at, "'%s' has no value: at least one %s is required", fld->name,
				          fld->noun);
		} else {
			skip(p, kind, at, flow, wrong_type(p, fld, kind, ev, at, "a list"));
		}
		return;
	case V_ENTRIES:
		if (kind == NODE_SEQ) {
			push(p, CTX_ENTRIES, kind, at, flow)->entry = fld->sub;
		} else if (!null) {
			skip(p, kind, at, flow, wrong_type(p, fld, kind, ev, at, "a list"));
		}
		return;
	case V_PEER:
		if (kind == NODE_MAP) {
			push(p, CTX_PEER, kind, at, flow);
		} else if (null) {
			struct diag *d = inv_error(p, DRP023, key_at, "'peer' has no value");
			if (d)
				diag_hint(d, "write it like '%s'", fld->example);
		} else {
			skip(p, kind, at, flow, wrong_type(p, fld, kind, ev, at, "a mapping"));
		}
		return;
	}

	/* A non-empty scalar where a scalar belongs. */
	switch ((enum vtype)fld->type) {
	case V_STR:
		*(struct inv_str *)field_ptr(rec, fld->offset) = take_str(p, ev, at, fld->noun);
		break;
	case V_TIME: {
		struct inv_str s = copy_str(p, ev, at);
		*(struct inv_str *)field_ptr(rec, fld->offset) = s;
		if (!rfc3339_valid(s.text, s.len)) {
			struct diag *d = inv_error(p, DRP027, at, "'%.*s' is not an RFC 3339 time",
			                           (int)(s.len > YAML_QUOTE_MAX ? YAML_QUOTE_MAX : s.len), s.text);
			if (d)
				diag_hint(d, "write a date, a time and a time zone, like 2024-05-14T22:41:07Z or "
				             "2024-05-14T22:41:07+02:00");
		}
		break;
	}
	case V_VERSION:
		read_version(p, ev, at);
		break;
	case V_KIND: {
		int i = vocabulary(p, ev, at, "device kind", kind_words);
		if (i >= 0) {
			p->device.kind = i == 0 ? INV_REPLICATED : INV_STRETCHED;
			p->device.kind_at = at;
		}
		break;
	}
	case V_POWER: {
		int i = vocabulary(p, ev, at, "power state", power_words);
		if (i >= 0)
			p->vm.power = i == 0 ? INV_POWER_ON : INV_POWER_OFF;
		break;
	}
	case V_STATE: {
		int i = vocabulary(p, ev, at, "migration state", state_words);
		if (i >= 0)
			p->migration.state = i == 0 ? INV_MIGRATION_COMPLETED : INV_MIGRATION_IN_PROGRESS;
		break;
	}
	default:
		break;
	}
}

/* key[0..n) == name[0..n), n >= 1: keys are a few bytes long, too short for a call to memcmp. */
static bool same_key(const char *name, const char *key, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (name[i] != key[i])
			return false;
	return true;
}

/* A key of mapping f. Its value is skipped unless it is a known key given for the first time. */
static void key(struct inv_parser *p, struct frame *f, const yaml_event_t *ev, enum node kind,
                struct src_range at, bool flow)
{
	f->want_value = true;
	f->skip_value = true;
	f->field = -1;
	if (kind == NODE_SEQ || kind == NODE_MAP) {
		struct diag *d = NULL;
		if (f->ctx != CTX_SKIP)
			d = inv_error(p, DRP022, at, "a key must be text, found %s", kind == NODE_SEQ ? "a list" : "a mapping");
		skip(p, kind, at, flow, d);
		return;
	}
	if (f->ctx == CTX_SKIP || kind == NODE_BAD)
		return;
	const struct shape *s = &shapes[f->ctx];
	const char *k = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	for (unsigned i = 0; i < s->n_fields; i++) {
		const struct field *fld = &s->fields[i];
		if (fld->len != n || !same_key(fld->name, k, n))
			continue;
		if (f->seen & (1u << i)) {
			struct diag *d = inv_error(p, DRP024, at, "duplicate key '%s' %s", fld->name, s->where);
			if (d) {
				diag_note(d, f->keys[i], "'%s' was first given here", fld->name);
				diag_hint(d, "a key may appear once in a mapping; remove one of them");
			}
			return;
		}
		f->seen |= (uint16_t)(1u << i);
		f->keys[i] = at;
		f->field = (int8_t)i;
		f->skip_value = false;
		return;
	}
	struct diag *d = inv_error(p, DRP021, at, "unknown key '%.*s' %s", (int)(n > YAML_QUOTE_MAX ? YAML_QUOTE_MAX : n), k,
	                           s->where);
	if (!d)
		return;
	const char *names[MAX_FIELDS + 1];
	for (unsigned i = 0; i < s->n_fields; i++)
		names[i] = s->fields[i].name;
	names[s->n_fields] = NULL;
	const char *suggestion = diag_suggest(k, n, names);
	for (unsigned i = 0; suggestion && i < s->n_fields; i++)
		if (names[i] == suggestion)
			f->excused |= (uint16_t)(1u << i); /* no "missing 'name'" after "did you mean 'name'?" */
	if (suggestion) {
		diag_hint(d, "did you mean '%s'?", suggestion);
		diag_fixit(d, suggestion);
	} else {
		struct buf list = BUF_INIT;
		yaml_word_list(&list, names, " and ");
		diag_hint(d, "the keys %s are %s", s->where, list.data);
		buf_free(&list);
	}
}

/* An item of sequence f. */
static void item(struct inv_parser *p, struct frame *f, const yaml_event_t *ev, enum node kind,
                 struct src_range at, bool flow)
{
	f->count++;
	if (f->ctx == CTX_SKIP || kind == NODE_BAD) {
		skip(p, kind, at, flow, NULL);
		return;
	}
	if (f->ctx == CTX_STRLIST) {
		const struct field *fld = f->list;
		if (kind != NODE_SCALAR || yaml_is_null(ev)) {
			struct buf found = BUF_INIT;
			describe(&found, kind, ev);
			struct diag *d = inv_error(p, DRP022, at, "each item of '%s' must be a %s, found %s", fld->name,
			                           fld->noun, found.data);
			buf_free(&found);
			skip(p, kind, at, flow, d);
			return;
		}
		*(struct inv_str *)vec_push(&p->strs) = take_str(p, ev, at, fld->noun);
		return;
	}
	/* CTX_ENTRIES */
	const struct shape *s = &shapes[f->entry];
	if (kind != NODE_MAP) {
		struct buf found = BUF_INIT, keys = BUF_INIT;
		describe(&found, kind, ev);
		struct diag *d = inv_error(p, DRP022, at, "%s must be a mapping, found %s", s->a, found.data);
		if (d) {
			const char *names[MAX_FIELDS + 1];
			for (unsigned i = 0; i < s->n_fields; i++)
				names[i] = s->fields[i].name;
			names[s->n_fields] = NULL;
			yaml_word_list(&keys, names, " and ");
			diag_hint(d, "write %s as keys and values: %s", s->a, keys.data);
		}
		buf_free(&found);
		buf_free(&keys);
		skip(p, kind, at, flow, d);
		return;
	}
	entry_begin(p, (enum ctx)f->entry);
	push(p, (enum ctx)f->entry, kind, at, flow);
}

/* The document's root. */
static void root(struct inv_parser *p, const yaml_event_t *ev, enum node kind, struct src_range at, bool flow)
{
	p->root_seen = true;
	if (kind == NODE_MAP) {
		push(p, CTX_ROOT, kind, at, flow);
		return;
	}
	if (kind == NODE_SCALAR && yaml_is_null(ev)) {
		p->root_seen = false; /* a document of comments only: reported as empty */
		return;
	}
	if (kind != NODE_BAD) {
		struct buf found = BUF_INIT;
		describe(&found, kind, ev);
		struct diag *d = inv_error(p, DRP022, at, "an inventory must be a mapping, found %s", found.data);
		buf_free(&found);
		if (d)
			diag_hint(d, "an inventory is a mapping of version, sites, devices, vms and storage_migrations");
	}
	p->stop = p->fatal = true;
}

/* Where a node lands depends only on the innermost open collection. */
static void node(struct inv_parser *p, const yaml_event_t *ev, enum node kind, struct src_range at, bool flow)
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
		if (f->skip_value || f->ctx == CTX_SKIP)
			skip(p, kind, at, flow, NULL);
		else
			value(p, f, ev, kind, at, flow);
	}
}

/* ---- Events */

/* The bytes of an anchor (&name) or tag (!tag) written at the start of a node's event. */
static struct src_range property_range(struct inv_parser *p, const yaml_event_t *ev, char sigil,
                                       const char *name)
{
	uint32_t start = yaml_pos_offset(&p->pos, ev->start_mark);
	const char *text = p->src->text;
	size_t len = p->src->len, limit = start + 4096 < len ? start + 4096 : len;
	const char *at = memchr(text + start, sigil, limit - start);
	if (!at)
		return yaml_pos_char(&p->pos, start);
	uint32_t s = (uint32_t)(at - text);
	size_t n = 1 + (name && sigil == '&' ? strlen(name) : 0);
	if (sigil == '!')
		while (s + n < len && text[s + n] != ' ' && text[s + n] != '\t' && text[s + n] != '\n' &&
		       text[s + n] != '\r')
			n++;
	return range(p, s, (uint32_t)(s + n > len ? len : s + n));
}

static void refuse_anchor(struct inv_parser *p, const yaml_event_t *ev, const char *anchor)
{
	struct diag *d = inv_error(p, DRP025, property_range(p, ev, '&', anchor),
	                           "YAML anchors are not allowed in an inventory (found '&%.*s')",
	                           (int)(strlen(anchor) > YAML_QUOTE_MAX ? YAML_QUOTE_MAX : strlen(anchor)), anchor);
	if (d)
		diag_hint(d, "write every value out; anchors and aliases are refused so that a small file "
		             "cannot expand into a huge one");
	p->stop = p->fatal = true;
}

static void refuse_tag(struct inv_parser *p, const yaml_event_t *ev, const char *tag)
{
	struct diag *d = inv_error(p, DRP025, property_range(p, ev, '!', tag),
	                           "YAML tags are not allowed in an inventory");
	if (d)
		diag_hint(d, "remove the tag: every value of an inventory is plain text, a list or a mapping");
}

/* libyaml's error, as DRP020 at its position, with its context as a note. */
static void syntax_error(struct inv_parser *p)
{
	yaml_parser_t *y = &p->yaml;
	struct src_range at;
	struct buf msg = BUF_INIT;
	const char *problem = y->problem ? y->problem : "out of memory";
	if (y->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark; a value is the bad byte or code point. */
		size_t raw = p->pos.base + y->problem_offset;
		uint32_t off = (uint32_t)(raw < p->src->len ? raw : p->src->len);
		uint32_t end = off < p->src->len ? off + 1 : off;
		bool octet = strstr(problem, "octet") != NULL;
		if (octet && y->problem_value >= 0) {
			buf_printf(&msg, "invalid YAML: %s 0x%02X", problem, (unsigned)y->problem_value);
		} else if (y->problem_value >= 0) {
			buf_printf(&msg, "invalid YAML: %s (U+%04X)", problem, (unsigned)y->problem_value);
			if (yaml_pos_char(&p->pos, off).end > off)
				end = yaml_pos_char(&p->pos, off).end;
		} else {
			buf_printf(&msg, "invalid YAML: %s", problem);
		}
		at = range(p, off, end);
	} else {
		uint32_t off = yaml_pos_offset(&p->pos, y->problem_mark);
		at = yaml_pos_char(&p->pos, off);
		buf_printf(&msg, "invalid YAML: %s", problem);
	}
	struct diag *d = inv_error(p, DRP020, at, "%s", msg.data);
	buf_free(&msg);
	if (d && y->error != YAML_READER_ERROR && y->context) {
		uint32_t c = yaml_pos_offset(&p->pos, y->context_mark);
		if (c != at.start)
			diag_note(d, yaml_pos_char(&p->pos, c), "%s", y->context);
		else
			diag_hint(d, "%s", y->context);
	}
	if (d && at.start < p->src->len) {
		const unsigned char *t = (const unsigned char *)p->src->text;
		if (t[at.start] == '\t')
			diag_hint(d, "YAML does not allow tabs for indentation; use spaces");
		else if (y->error == YAML_READER_ERROR && p->src->len >= 2 &&
		         ((t[0] == 0xFF && t[1] == 0xFE) || (t[0] == 0xFE && t[1] == 0xFF)))
			diag_hint(d, "this looks like UTF-16; an inventory is UTF-8");
		else if (y->error == YAML_READER_ERROR)
			diag_hint(d, "an inventory is UTF-8 text");
	}
	p->stop = p->fatal = true;
}

static void handle(struct inv_parser *p, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (p->documents++) {
			struct diag *d = inv_error(p, DRP025, yaml_pos_event(&p->pos, ev),
			                           "a second YAML document; an inventory is one document");
			if (d)
				diag_hint(d, "remove the '---' and everything after it, or merge the documents");
			p->stop = p->fatal = true;
		}
		break;
	case YAML_STREAM_END_EVENT:
		if (!p->root_seen) {
			struct diag *d = inv_error(p, DRP026, range(p, 0, 0), "the inventory is empty: it has no 'version'");
			if (d) {
				diag_hint(d, "start the file with 'version: %d', the format this drplan reads",
				          INVENTORY_VERSION);
				diag_fixit(d, "version: 1\n");
			}
		}
		break;
	case YAML_ALIAS_EVENT: {
		const char *a = (const char *)ev->data.alias.anchor;
		struct diag *d = inv_error(p, DRP025, yaml_pos_event(&p->pos, ev),
		                           "YAML aliases are not allowed in an inventory (found '*%.*s')",
		                           (int)(strlen(a) > YAML_QUOTE_MAX ? YAML_QUOTE_MAX : strlen(a)), a);
		if (d)
			diag_hint(d, "write every value out; anchors and aliases are refused so that a small file "
			             "cannot expand into a huge one");
		p->stop = p->fatal = true;
		break;
	}
	case YAML_SCALAR_EVENT: {
		if (ev->data.scalar.anchor) {
			refuse_anchor(p, ev, (const char *)ev->data.scalar.anchor);
			break;
		}
		if (ev->data.scalar.tag)
			refuse_tag(p, ev, (const char *)ev->data.scalar.tag);
		struct src_range at = yaml_pos_event(&p->pos, ev);
		enum node kind = NODE_SCALAR;
		if (ev->data.scalar.length > INVENTORY_MAX_SCALAR) {
			inv_error(p, DRP025, at, "a value of %zu bytes; the limit is %d bytes", ev->data.scalar.length,
			          INVENTORY_MAX_SCALAR);
			kind = NODE_BAD;
		}
		node(p, ev, kind, at, false);
		break;
	}
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool map = ev->type == YAML_MAPPING_START_EVENT;
		const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
		const yaml_char_t *tag = map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
		if (anchor) {
			refuse_anchor(p, ev, (const char *)anchor);
			break;
		}
		if (tag)
			refuse_tag(p, ev, (const char *)tag);
		struct src_range at = yaml_pos_event(&p->pos, ev);
		if (p->depth == INVENTORY_MAX_DEPTH) {
			inv_error(p, DRP025, yaml_pos_char(&p->pos, at.start),
			          "nesting deeper than %d levels", INVENTORY_MAX_DEPTH);
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

bool inventory_parse(struct inventory *inv, struct arena *arena, struct src_file *src, struct diag_list *diags)
{
	memset(inv, 0, sizeof *inv);
	inv->src = src;
	struct inv_parser *p = xcalloc(1, sizeof *p);
	p->inv = inv;
	p->arena = arena;
	p->src = src;
	p->diags = diags;
	yaml_pos_init(&p->pos, src);
	vec_init(&p->entries[CTX_SITE], sizeof(struct inv_site), arena);
	vec_init(&p->entries[CTX_DEVICE], sizeof(struct inv_device), arena);
	vec_init(&p->entries[CTX_VM], sizeof(struct inv_vm), arena);
	vec_init(&p->entries[CTX_MIGRATION], sizeof(struct inv_migration), arena);
	vec_init(&p->strs, sizeof(struct inv_str), NULL);

	if (!yaml_parser_initialize(&p->yaml)) {
		diag_add(diags, DIAG_ERROR, DRP020, range(p, 0, 0), "cannot start the YAML reader: out of memory");
		p->fatal = true;
		goto out;
	}
	yaml_parser_set_input_string(&p->yaml, (const unsigned char *)src->text + p->pos.base, src->len - p->pos.base);
	/* Never guess UTF-16 from a BOM: the text and every offset are UTF-8. A UTF-8 BOM is skipped
	 * above rather than by libyaml, which, told the encoding, would read it as a character of the
	 * first line and so misjudge that line's indentation. */
	yaml_parser_set_encoding(&p->yaml, YAML_UTF8_ENCODING);
	yaml_event_loop(&p->yaml, p, handle_event, report_syntax_error, &p->stop);
	yaml_parser_delete(&p->yaml);

out:
	/* What was read stays readable, even after a fatal error. */
	inv->sites = vec_to_arena(p, &p->entries[CTX_SITE], &inv->n_sites);
	inv->devices = vec_to_arena(p, &p->entries[CTX_DEVICE], &inv->n_devices);
	inv->vms = vec_to_arena(p, &p->entries[CTX_VM], &inv->n_vms);
	inv->migrations = vec_to_arena(p, &p->entries[CTX_MIGRATION], &inv->n_migrations);
	free(p->strs.items); /* the entries' blocks belong to the arena */
	bool ok = !p->fatal && p->version_ok;
	free(p);
	return ok;
}

bool inventory_load(struct inventory *inv, struct arena *arena, struct src_set *sources,
                    struct diag_list *diags, const char *path, struct src_range referenced_at)
{
	memset(inv, 0, sizeof *inv);
	char err[256];
	struct src_file *src = src_load(sources, path, err, sizeof err);
	if (!src) {
		struct diag *d = diag_add(diags, DIAG_ERROR, DRP028, referenced_at, "cannot read inventory '%s': %s",
		                          path, err);
		if (strstr(err, "larger than"))
			diag_hint(d, "split the inventory, or keep only the sites the plan uses");
		return false;
	}
	return inventory_parse(inv, arena, src, diags);
}
