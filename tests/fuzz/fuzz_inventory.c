/* fuzz_inventory.c: libFuzzer harness for the inventory reader (compiler/inventory.c) and, through
 * it, libyaml's event parser on hostile bytes.
 *
 * Every input is read as an inventory. There is no oracle beyond what the sanitizers and libFuzzer
 * see (crash, leak, hang, undefined behaviour, memory blow-up), plus two cheap invariants whose
 * violation aborts: every diagnostic's range (and every note's) lies inside the input, start before
 * end; and every record that was read has ranges inside the input too. The diagnostics are then
 * rendered in all four formats, so that the renderer meets every range the reader can produce.
 * Everything is freed on every run, so LeakSanitizer checks the error paths. Build with `make
 * fuzz`; the seed corpus is tests/fuzz/inventory/. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "compiler/diag.h"
#include "compiler/inventory.h"
#include "compiler/source.h"
#include "lib/arena.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum diag_format formats[] = {
	DIAG_FORMAT_TEXT, DIAG_FORMAT_JSON, DIAG_FORMAT_SARIF, DIAG_FORMAT_GITHUB,
};

static void check_range(struct src_range r, const struct src_file *src, const char *what)
{
	if (r.file == SRC_NONE)
		return;
	if (r.file != src->id || r.start > r.end || r.end > src->len) {
		fprintf(stderr, "fuzz_inventory: %s has range {%u, %u, %u} in a file of %zu bytes\n", what, r.file,
		        r.start, r.end, src->len);
		abort();
	}
}

static void check_str(const struct inv_str *s, const struct src_file *src, const char *what)
{
	if (s->text)
		check_range(s->at, src, what);
}

static void check_records(const struct inventory *inv, const struct src_file *src)
{
	for (uint32_t i = 0; i < inv->n_sites; i++) {
		check_range(inv->sites[i].at, src, "a site");
		check_str(&inv->sites[i].name, src, "a site name");
		for (uint32_t k = 0; k < inv->sites[i].n_hosts; k++)
			check_str(&inv->sites[i].hosts[k], src, "a host");
	}
	for (uint32_t i = 0; i < inv->n_devices; i++) {
		const struct inv_device *d = &inv->devices[i];
		check_range(d->at, src, "a device");
		check_range(d->kind_at, src, "a device kind");
		check_str(&d->id, src, "a device id");
		check_str(&d->site, src, "a device site");
		check_str(&d->peer_id, src, "a peer id");
		check_str(&d->peer_site, src, "a peer site");
		check_str(&d->consistency_group, src, "a consistency group");
		check_str(&d->preference, src, "a preference");
	}
	for (uint32_t i = 0; i < inv->n_vms; i++) {
		const struct inv_vm *vm = &inv->vms[i];
		check_range(vm->at, src, "a VM");
		check_str(&vm->name, src, "a VM name");
		check_str(&vm->host, src, "a VM host");
		for (uint32_t k = 0; k < vm->n_devices; k++)
			check_str(&vm->devices[k], src, "a VM device");
		for (uint32_t k = 0; k < vm->n_tags; k++)
			check_str(&vm->tags[k], src, "a VM tag");
	}
	for (uint32_t i = 0; i < inv->n_migrations; i++) {
		const struct inv_migration *m = &inv->migrations[i];
		check_range(m->at, src, "a migration");
		check_str(&m->vm, src, "a migration VM");
		check_str(&m->from, src, "a migration source");
		check_str(&m->to, src, "a migration target");
		check_str(&m->time, src, "a migration time");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src_set sources;
	src_set_init(&sources);
	struct diag_list diags;
	diag_list_init(&diags);
	struct arena arena;
	arena_init(&arena);

	struct src_file *src = src_add(&sources, "fuzz.yaml", (const char *)data, size);
	struct inventory inv;
	inventory_parse(&inv, &arena, src, &diags);

	for (size_t i = 0; i < diags.len; i++) {
		check_range(diags.items[i]->at, src, "a diagnostic");
		for (size_t k = 0; k < diags.items[i]->n_notes; k++)
			check_range(diags.items[i]->notes[k].at, src, "a note");
	}
	check_records(&inv, src);

	diag_sort(&diags);
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		buf_clear(&out);
		diag_render(&out, &diags, &sources, formats[i], i == 0);
	}
	buf_free(&out);

	arena_free(&arena);
	diag_list_free(&diags);
	src_set_free(&sources);
	return 0;
}
