/* ast.c: the language's vocabularies and a canonical dump of the syntax tree. */
#include "ast.h"

#include <string.h>

const char *const ast_mode_names[] = {"planned", "disaster", "test", "cleanup", "reprotect", NULL};

const char *const ast_step_names[] = {
	"sync", "shutdown", "failover", "reverse", "prefer", "migrate",
	"register", "power-on", "run", "prompt", "wait", "unregister", "discard", NULL,
};

const char *const ast_operation_names[] = {
	"sync", "failover", "prefer", "shutdown", "migrate", "register",
	"power-on", "run", "snapshot", "reverse", "all", NULL,
};

const char *const ast_scope_names[] = {"site", "host", "device", NULL};

/* Must list exactly the keywords of grammar/lexer.l (a unit test compares them). */
static const char *const keywords[] = {
	"include", "inventory", "site", "adapter", "device", "at", "replicated", "to", "stretched",
	"between", "and", "prefer", "consistency", "protection", "devices", "vm", "priority", "after",
	"on", "host", "plan", "from", "mode", "protect", "workgroup", "limit", "per", "rto", "step",
	"sync", "storage", "shutdown", "vms", "failover", "reverse", "migrate", "live", "register",
	"power-on", "by", "run", "prompt", "wait", "timeout", "retry", "backoff",
	"unregister", "discard", "snapshots", NULL,
};

bool ast_is_keyword(const char *text, size_t len)
{
	for (size_t i = 0; keywords[i]; i++)
		if (strlen(keywords[i]) == len && memcmp(keywords[i], text, len) == 0)
			return true;
	return false;
}

static bool is_name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '*' || c == '?' ||
	       c == '[';
}

static bool is_name_char(unsigned char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == ']' || c == '-';
}

bool ast_name_is_bare(const char *text, size_t len)
{
	if (len == 0 || !is_name_start((unsigned char)text[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_name_char((unsigned char)text[i]))
			return false;
	return !ast_is_keyword(text, len);
}

/* The dump: one node per line, indented by depth, values JSON-quoted so that it is unambiguous. */

static void dump_indent(struct buf *out, int depth)
{
	buf_repeat(out, ' ', (size_t)depth * 2);
}

static void dump_name(struct buf *out, const char *label, struct ast_name name)
{
	if (!name.text)
		return;
	buf_printf(out, " %s=", label);
	buf_json_string(out, name.text, name.len);
}

static void dump_names(struct buf *out, const char *label, struct ast_names names)
{
	buf_printf(out, " %s=[", label);
	for (struct ast_name_node *n = names.head; n; n = n->next) {
		buf_json_string(out, n->name.text, n->name.len);
		if (n->next)
			buf_putc(out, ',');
	}
	buf_putc(out, ']');
}

static void dump_string(struct buf *out, const char *label, struct ast_string s)
{
	if (!s.text)
		return;
	buf_printf(out, " %s=", label);
	buf_json_string(out, s.text, s.len);
}

static void dump_duration(struct buf *out, const char *label, struct ast_duration d)
{
	if (d.present)
		buf_printf(out, " %s=%lldms", label, (long long)d.ms);
}

static void dump_number(struct buf *out, const char *label, struct ast_number n)
{
	if (n.present)
		buf_printf(out, " %s=%lld", label, (long long)n.value);
}

static void dump_adapter(struct buf *out, const struct ast_adapter *a, int depth)
{
	dump_indent(out, depth);
	buf_puts(out, "adapter");
	dump_name(out, "kind", a->kind);
	buf_putc(out, '\n');
	for (const struct ast_setting *s = a->settings; s; s = s->next) {
		dump_indent(out, depth + 1);
		buf_puts(out, "setting");
		dump_name(out, "key", s->key);
		switch (s->value.kind) {
		case AST_VALUE_STRING: dump_string(out, "string", s->value.string); break;
		case AST_VALUE_NAME: dump_name(out, "name", s->value.name); break;
		case AST_VALUE_NUMBER: dump_number(out, "number", s->value.number); break;
		case AST_VALUE_DURATION: dump_duration(out, "duration", s->value.duration); break;
		}
		buf_putc(out, '\n');
	}
}

static void dump_step(struct buf *out, const struct ast_step *s)
{
	buf_printf(out, " %s", ast_step_names[s->kind]);
	dump_name(out, "site", s->site);
	dump_string(out, "text", s->text);
	dump_duration(out, "wait", s->wait);
	if (s->by_priority)
		buf_puts(out, " by-priority");
	if (s->per_workgroup)
		buf_puts(out, " per-workgroup");
	dump_duration(out, "timeout", s->timeout);
	dump_number(out, "retry", s->retries);
	dump_duration(out, "backoff", s->backoff);
}

static void dump_stmt(struct buf *out, const struct ast_stmt *s)
{
	dump_indent(out, 1);
	switch (s->kind) {
	case AST_STMT_ROUTE:
		buf_puts(out, "route");
		dump_name(out, "from", s->u.route.from);
		dump_name(out, "to", s->u.route.to);
		break;
	case AST_STMT_MODE:
		buf_printf(out, "mode %s", ast_mode_names[s->u.mode.mode]);
		break;
	case AST_STMT_PROTECT:
		buf_puts(out, "protect");
		dump_names(out, "groups", s->u.protect);
		break;
	case AST_STMT_WORKGROUP:
		buf_puts(out, "workgroup");
		dump_number(out, "size", s->u.workgroup);
		break;
	case AST_STMT_LIMIT:
		buf_puts(out, "limit");
		dump_name(out, "operation", s->u.limit.operation);
		dump_number(out, "count", s->u.limit.count);
		dump_name(out, "per", s->u.limit.scope);
		break;
	case AST_STMT_RTO:
		buf_puts(out, "rto");
		dump_duration(out, "target", s->u.rto);
		break;
	case AST_STMT_STEP:
		buf_puts(out, "step");
		dump_step(out, &s->u.step);
		break;
	}
	buf_putc(out, '\n');
}

static const char *const vm_clause_names[] = {"priority", "after", "on", "host"};

static void dump_item(struct buf *out, const struct ast_item *item)
{
	switch (item->kind) {
	case AST_INCLUDE:
	case AST_INVENTORY:
		buf_puts(out, item->kind == AST_INCLUDE ? "include" : "inventory");
		dump_string(out, "path", item->u.path);
		buf_putc(out, '\n');
		break;
	case AST_SITE:
		buf_puts(out, "site");
		dump_name(out, "name", item->name);
		buf_putc(out, '\n');
		for (const struct ast_adapter *a = item->u.site_adapters; a; a = a->next)
			dump_adapter(out, a, 1);
		break;
	case AST_DEVICE: {
		const struct ast_device *d = &item->u.device;
		buf_printf(out, "device %s", d->kind == AST_DEVICE_REPLICATED ? "replicated" : "stretched");
		dump_name(out, "name", item->name);
		dump_name(out, "site", d->site);
		dump_name(out, "peer", d->peer);
		dump_name(out, "peer-site", d->peer_site);
		dump_name(out, "consistency", d->consistency);
		dump_name(out, "prefer", d->prefer);
		buf_putc(out, '\n');
		if (d->adapter)
			dump_adapter(out, d->adapter, 1);
		break;
	}
	case AST_PROTECTION:
		buf_puts(out, "protection");
		dump_name(out, "name", item->name);
		buf_putc(out, '\n');
		for (const struct ast_devices_stmt *s = item->u.protection; s; s = s->next) {
			dump_indent(out, 1);
			buf_puts(out, "devices");
			dump_names(out, "names", s->devices);
			buf_putc(out, '\n');
		}
		break;
	case AST_VM:
		buf_puts(out, "vm");
		dump_name(out, "pattern", item->name);
		buf_putc(out, '\n');
		for (const struct ast_vm_clause *c = item->u.vm; c; c = c->next) {
			dump_indent(out, 1);
			buf_puts(out, vm_clause_names[c->kind]);
			dump_number(out, "value", c->priority);
			if (c->kind == AST_VM_AFTER || c->kind == AST_VM_ON)
				dump_names(out, "names", c->names);
			dump_name(out, "name", c->host);
			buf_putc(out, '\n');
		}
		break;
	case AST_PLAN:
		buf_puts(out, "plan");
		dump_name(out, "name", item->name);
		buf_putc(out, '\n');
		for (const struct ast_stmt *s = item->u.plan; s; s = s->next)
			dump_stmt(out, s);
		break;
	}
}

void ast_dump(struct buf *out, const struct ast_file *file)
{
	for (const struct ast_item *item = file->items; item; item = item->next)
		dump_item(out, item);
}
