/* build.c: constructors called by the grammar's actions, and the wording of syntax errors. */
#include "build.h"

#include <string.h>

#include "../lib/buf.h"

#define APPEND(list, node)                          \
	do {                                        \
		if ((list).tail)                    \
			(list).tail->next = (node); \
		else                                \
			(list).head = (node);       \
		(list).tail = (node);               \
	} while (0)

static struct ast_item *item_new(struct parse_state *ps, enum ast_item_kind kind, struct src_range at)
{
	struct ast_item *item = ARENA_NEW(ps->arena, struct ast_item);
	item->kind = kind;
	item->at = at;
	return item;
}

void ast_file_add(struct parse_state *ps, struct ast_item *item)
{
	if (ps->items_tail)
		ps->items_tail->next = item;
	else
		ps->file->items = item;
	ps->items_tail = item;
}

struct ast_item *ast_path_item(struct parse_state *ps, enum ast_item_kind kind, struct ast_string path,
                               struct src_range at)
{
	struct ast_item *item = item_new(ps, kind, at);
	item->u.path = path;
	if (path.len == 0)
		parse_error(ps, DRP014, path.at.start, path.at.end, "the path of '%s' is empty",
		            kind == AST_INCLUDE ? "include" : "inventory");
	return item;
}

struct ast_name ast_quoted_name(struct parse_state *ps, struct ast_string s)
{
	struct ast_name name = {s.text, s.len, true, s.at};
	if (s.len == 0) {
		parse_error(ps, DRP014, s.at.start, s.at.end, "a name cannot be empty");
		return name;
	}
	for (uint32_t i = 0; i < s.len; i++) {
		if ((unsigned char)s.text[i] < 0x20 || s.text[i] == 0x7f) {
			parse_error(ps, DRP014, s.at.start, s.at.end,
			            "a name cannot contain control characters");
			break;
		}
	}
	return name;
}

struct ast_name ast_word(struct parse_state *ps, struct src_range at)
{
	struct ast_name name;
	name.len = at.end - at.start;
	name.text = arena_strndup(ps->arena, ps->src->text + at.start, name.len);
	name.quoted = false;
	name.at = at;
	return name;
}

struct ast_names ast_names_one(struct parse_state *ps, struct ast_name name)
{
	struct ast_names list = {0};
	return ast_names_add(ps, list, name);
}

struct ast_names ast_names_add(struct parse_state *ps, struct ast_names list, struct ast_name name)
{
	struct ast_name_node *node = ARENA_NEW(ps->arena, struct ast_name_node);
	node->name = name;
	APPEND(list, node);
	list.count++;
	return list;
}

struct ast_item *ast_site(struct parse_state *ps, struct ast_name name, struct ast_adapter_list body,
                          struct src_range open, struct src_range close, struct src_range at)
{
	struct ast_item *item = item_new(ps, AST_SITE, at);
	item->name = name;
	item->open_brace = open;
	item->close_brace = close;
	item->u.site_adapters = body.head;
	return item;
}

struct ast_adapter_list ast_adapters_add(struct ast_adapter_list list, struct ast_adapter *adapter)
{
	APPEND(list, adapter);
	return list;
}

struct ast_adapter *ast_adapter(struct parse_state *ps, struct ast_name kind, bool has_block,
                                struct ast_setting_list settings, struct src_range open,
                                struct src_range at)
{
	struct ast_adapter *a = ARENA_NEW(ps->arena, struct ast_adapter);
	a->kind = kind;
	a->has_block = has_block;
	a->open_brace = open;
	a->settings = settings.head;
	a->at = at;
	return a;
}

struct ast_setting_list ast_settings_add(struct ast_setting_list list, struct ast_setting *setting)
{
	APPEND(list, setting);
	return list;
}

struct ast_setting *ast_setting(struct parse_state *ps, struct ast_name key, struct ast_value value,
                                struct src_range at)
{
	struct ast_setting *s = ARENA_NEW(ps->arena, struct ast_setting);
	s->key = key;
	s->value = value;
	s->at = at;
	return s;
}

struct ast_value ast_value_string(struct ast_string s, struct src_range at)
{
	struct ast_value v = {.kind = AST_VALUE_STRING, .string = s, .at = at};
	return v;
}

struct ast_value ast_value_name(struct ast_name n, struct src_range at)
{
	struct ast_value v = {.kind = AST_VALUE_NAME, .name = n, .at = at};
	return v;
}

struct ast_value ast_value_number(struct ast_number n, struct src_range at)
{
	struct ast_value v = {.kind = AST_VALUE_NUMBER, .number = n, .at = at};
	return v;
}

struct ast_value ast_value_duration(struct ast_duration d, struct src_range at)
{
	struct ast_value v = {.kind = AST_VALUE_DURATION, .duration = d, .at = at};
	return v;
}

struct ast_duration ast_duration_checked(struct parse_state *ps, struct ast_duration d)
{
	if (!d.invalid)
		return d;
	struct buf q = BUF_INIT;
	token_quote(&q, ps->src->text + d.at.start, d.at.end - d.at.start);
	struct diag *diag = parse_error(ps, DRP007, d.at.start, d.at.end, "invalid duration %s: %s", q.data, d.invalid);
	buf_free(&q);
	if (diag)
		diag_hint(diag, "write durations like 90s, 5m, 1h30m or 250ms");
	return d;
}

struct ast_item *ast_replicated_device(struct parse_state *ps, struct ast_name name, struct ast_name site,
                                       struct ast_name peer, struct ast_name peer_site,
                                       struct ast_name consistency, struct ast_adapter *adapter,
                                       struct src_range at)
{
	struct ast_item *item = item_new(ps, AST_DEVICE, at);
	item->name = name;
	struct ast_device *d = &item->u.device;
	d->kind = AST_DEVICE_REPLICATED;
	d->site = site;
	d->peer = peer;
	d->peer_site = peer_site;
	d->consistency = consistency;
	d->adapter = adapter;
	return item;
}

struct ast_item *ast_stretched_device(struct parse_state *ps, struct ast_name name, struct ast_name site,
                                      struct ast_name other_site, struct ast_name prefer,
                                      struct ast_adapter *adapter, struct src_range at)
{
	struct ast_item *item = item_new(ps, AST_DEVICE, at);
	item->name = name;
	struct ast_device *d = &item->u.device;
	d->kind = AST_DEVICE_STRETCHED;
	d->site = site;
	d->peer_site = other_site;
	d->prefer = prefer;
	d->adapter = adapter;
	return item;
}

struct ast_item *ast_protection(struct parse_state *ps, struct ast_name name, struct ast_devices_list body,
                                struct src_range open, struct src_range close, struct src_range at)
{
	struct ast_item *item = item_new(ps, AST_PROTECTION, at);
	item->name = name;
	item->open_brace = open;
	item->close_brace = close;
	item->u.protection = body.head;
	return item;
}

struct ast_devices_list ast_devices_add(struct parse_state *ps, struct ast_devices_list list,
                                        struct ast_names devices, struct src_range keyword,
                                        struct src_range names)
{
	struct ast_devices_stmt *s = ARENA_NEW(ps->arena, struct ast_devices_stmt);
	s->devices = devices;
	s->at = src_range_make(keyword.file, keyword.start, names.end);
	APPEND(list, s);
	return list;
}

struct ast_item *ast_vm(struct parse_state *ps, struct ast_name pattern, struct ast_vm_clause_list clauses,
                        struct src_range at)
{
	struct ast_item *item = item_new(ps, AST_VM, at);
	item->name = pattern;
	item->u.vm = clauses.head;
	return item;
}

static void report_duplicate(struct parse_state *ps, const char *what, struct src_range again,
                             struct src_range first)
{
	struct diag *d = parse_error(ps, DRP015, again.start, again.end, "'%s' is given twice", what);
	if (d)
		diag_note(d, first, "first given here");
}

struct ast_vm_clause_list ast_vm_clauses_add(struct parse_state *ps, struct ast_vm_clause_list list,
                                             struct ast_vm_clause *clause)
{
	static const char *const single[] = {[AST_VM_PRIORITY] = "priority", [AST_VM_HOST] = "host"};
	if (clause->kind == AST_VM_PRIORITY || clause->kind == AST_VM_HOST) {
		for (struct ast_vm_clause *c = list.head; c; c = c->next) {
			if (c->kind == clause->kind) {
				report_duplicate(ps, single[clause->kind], clause->at, c->at);
				return list;
			}
		}
	}
	APPEND(list, clause);
	return list;
}

static struct ast_vm_clause *vm_clause_new(struct parse_state *ps, enum ast_vm_clause_kind kind,
                                           struct src_range at)
{
	struct ast_vm_clause *c = ARENA_NEW(ps->arena, struct ast_vm_clause);
	c->kind = kind;
	c->at = at;
	return c;
}

struct ast_vm_clause *ast_vm_priority(struct parse_state *ps, struct ast_number priority, struct src_range at)
{
	struct ast_vm_clause *c = vm_clause_new(ps, AST_VM_PRIORITY, at);
	c->priority = priority;
	return c;
}

struct ast_vm_clause *ast_vm_names(struct parse_state *ps, enum ast_vm_clause_kind kind, struct ast_names names,
                                   struct src_range at)
{
	struct ast_vm_clause *c = vm_clause_new(ps, kind, at);
	c->names = names;
	return c;
}

struct ast_vm_clause *ast_vm_host(struct parse_state *ps, struct ast_name host, struct src_range at)
{
	struct ast_vm_clause *c = vm_clause_new(ps, AST_VM_HOST, at);
	c->host = host;
	return c;
}

struct ast_item *ast_plan(struct parse_state *ps, struct ast_name name, struct ast_stmt_list body,
                          struct src_range open, struct src_range close, struct src_range at)
{
	struct ast_item *item = item_new(ps, AST_PLAN, at);
	item->name = name;
	item->open_brace = open;
	item->close_brace = close;
	item->u.plan = body.head;
	return item;
}

struct ast_stmt_list ast_stmts_add(struct ast_stmt_list list, struct ast_stmt *stmt)
{
	APPEND(list, stmt);
	return list;
}

static struct ast_stmt *stmt_new(struct parse_state *ps, enum ast_stmt_kind kind, struct src_range at)
{
	struct ast_stmt *s = ARENA_NEW(ps->arena, struct ast_stmt);
	s->kind = kind;
	s->at = at;
	return s;
}

struct ast_stmt *ast_route(struct parse_state *ps, struct ast_name from, struct ast_name to, struct src_range at)
{
	struct ast_stmt *s = stmt_new(ps, AST_STMT_ROUTE, at);
	s->u.route.from = from;
	s->u.route.to = to;
	return s;
}

/* Checks a word against a closed vocabulary; reports DRP009 with a suggestion if it is not in it.
 * Returns the word's index, or -1. */
static int vocabulary_index(struct parse_state *ps, struct ast_name word, const char *article, const char *what,
                            const char *const *vocabulary)
{
	for (int i = 0; vocabulary[i]; i++)
		if (strlen(vocabulary[i]) == word.len && memcmp(vocabulary[i], word.text, word.len) == 0)
			return i;
	struct diag *d = parse_error(ps, DRP009, word.at.start, word.at.end, "unknown %s '%s'", what,
	                             word.text);
	if (!d)
		return -1;
	const char *suggestion = diag_suggest(word.text, word.len, vocabulary);
	if (suggestion) {
		diag_hint(d, "did you mean '%s'?", suggestion);
		diag_fixit(d, suggestion);
	} else {
		struct buf list = BUF_INIT;
		for (int i = 0; vocabulary[i]; i++)
			buf_printf(&list, "%s%s", i ? (vocabulary[i + 1] ? ", " : " or ") : "", vocabulary[i]);
		diag_hint(d, "%s %s is one of %s", article, what, list.data);
		buf_free(&list);
	}
	return -1;
}

struct ast_stmt *ast_mode(struct parse_state *ps, struct ast_name word, struct src_range at)
{
	struct ast_stmt *s = stmt_new(ps, AST_STMT_MODE, at);
	s->u.mode.word = word;
	int mode = vocabulary_index(ps, word, "a", "mode", ast_mode_names);
	s->u.mode.mode = mode < 0 ? AST_MODE_PLANNED : (enum ast_mode)mode;
	return s;
}

struct ast_stmt *ast_protect(struct parse_state *ps, struct ast_names groups, struct src_range at)
{
	struct ast_stmt *s = stmt_new(ps, AST_STMT_PROTECT, at);
	s->u.protect = groups;
	return s;
}

struct ast_stmt *ast_workgroup(struct parse_state *ps, struct ast_number size, struct src_range at)
{
	struct ast_stmt *s = stmt_new(ps, AST_STMT_WORKGROUP, at);
	s->u.workgroup = size;
	return s;
}

struct ast_stmt *ast_limit(struct parse_state *ps, struct ast_name operation, struct ast_number count,
                           struct ast_name scope, struct src_range at)
{
	struct ast_stmt *s = stmt_new(ps, AST_STMT_LIMIT, at);
	s->u.limit.operation = operation;
	s->u.limit.count = count;
	s->u.limit.scope = scope;
	/* A cleanup's operations are not a limit's words (dag.h): say so rather than suggest a near one. */
	if (operation.text && (strcmp(operation.text, "unregister") == 0 || strcmp(operation.text, "discard") == 0)) {
		struct diag *d = parse_error(ps, DRP009, operation.at.start, operation.at.end,
		                             "a limit cannot name '%s', an operation of a cleanup", operation.text);
		if (d)
			diag_hint(d, "'limit all N' bounds it, with every other operation");
	} else {
		vocabulary_index(ps, operation, "an", "operation", ast_operation_names);
	}
	if (scope.text)
		vocabulary_index(ps, scope, "a", "limit scope", ast_scope_names);
	return s;
}

struct ast_stmt *ast_rto(struct parse_state *ps, struct ast_duration rto, struct src_range at)
{
	struct ast_stmt *s = stmt_new(ps, AST_STMT_RTO, at);
	s->u.rto = rto;
	return s;
}

struct ast_stmt *ast_step_stmt(struct parse_state *ps, struct ast_step step, struct src_range at)
{
	struct ast_stmt *s = stmt_new(ps, AST_STMT_STEP, at);
	s->u.step = step;
	return s;
}

struct ast_step ast_step(enum ast_step_kind kind)
{
	struct ast_step step;
	memset(&step, 0, sizeof step);
	step.kind = kind;
	return step;
}

struct ast_step ast_step_timeout(struct parse_state *ps, struct ast_step step, struct ast_duration d,
                                 struct src_range keyword)
{
	if (step.timeout.present) {
		report_duplicate(ps, "timeout", keyword, step.timeout_at);
	} else {
		step.timeout = d;
		step.timeout_at = keyword;
	}
	return step;
}

struct ast_step ast_step_retry(struct parse_state *ps, struct ast_step step, struct ast_number n,
                               struct src_range keyword)
{
	if (step.retries.present) {
		report_duplicate(ps, "retry", keyword, step.retry_at);
	} else {
		step.retries = n;
		step.retry_at = keyword;
	}
	return step;
}

struct ast_step ast_step_backoff(struct parse_state *ps, struct ast_step step, struct ast_duration d,
                                 struct src_range keyword)
{
	if (step.backoff.present) {
		report_duplicate(ps, "backoff", keyword, step.backoff_at);
	} else {
		step.backoff = d;
		step.backoff_at = keyword;
	}
	return step;
}

/* Syntax errors. Bison gives the names of the expected tokens (the aliases in parser.y); groups that
 * always come together are said in one phrase, so "expected a plan statement" rather than a list of
 * eight keywords. */

struct token_group {
	const char *phrase;
	const char *const *members; /* as bison names them */
};

static const char *const declaration_tokens[] = {
	"'include'", "'inventory'", "'site'", "'device'", "'protection'", "'vm'", "'plan'", NULL,
};
static const char *const plan_statement_tokens[] = {
	"'from'", "'mode'", "'protect'", "'workgroup'", "'limit'", "'rto'", "'step'", NULL,
};
static const char *const step_tokens[] = {
	"'sync'", "'shutdown'", "'failover'", "'reverse'", "'prefer'", "'migrate'",
	"'register'", "'power-on'", "'run'", "'prompt'", "'wait'", "'unregister'", "'discard'", NULL,
};
static const char *const step_option_tokens[] = {"'timeout'", "'retry'", "'backoff'", NULL};
static const char *const setting_tokens[] = {
	"a name", "'timeout'", "'retry'", "'backoff'", "'host'", "'site'", "'device'", NULL,
};

static const struct token_group token_groups[] = {
	{"a setting (a name such as program, timeout or secrets, then its value)", setting_tokens},
	{"a declaration (include, inventory, site, device, protection, vm or plan)", declaration_tokens},
	{"a plan statement (from, mode, protect, workgroup, limit, rto or step)", plan_statement_tokens},
	{"a step (sync, shutdown, failover, reverse, prefer, migrate, register, power-on, run, prompt, "
	 "wait, unregister or discard)", step_tokens},
	{"a step option (timeout, retry or backoff)", step_option_tokens},
};

/* Tokens the grammar takes outside their group only so that a later check can say more than a
 * syntax error would (a limit naming a cleanup's operation, DRP009): never offered there. */
static const char *const unlisted_tokens[] = {"'unregister'", "'discard'", NULL};

static bool contains(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static bool is_member(const char *const *members, const char *name)
{
	for (size_t i = 0; members[i]; i++)
		if (strcmp(members[i], name) == 0)
			return true;
	return false;
}

/* Appends "A", "A or B", "A, B or C" to out. */
static void describe_expected(struct buf *out, const char *const *expected, size_t n)
{
	const char *phrases[64];
	size_t n_phrases = 0;
	bool grouped[64] = {false};
	const size_t n_groups = sizeof token_groups / sizeof token_groups[0];
	for (size_t g = 0; g < n_groups; g++) {
		const char *const *members = token_groups[g].members;
		bool all = true;
		for (size_t i = 0; members[i] && all; i++) {
			all = contains(expected, n, members[i]);
			/* A token already said by an earlier group: this group does not apply. */
			for (size_t k = 0; k < n && all; k++)
				if (grouped[k] && strcmp(expected[k], members[i]) == 0)
					all = false;
		}
		if (!all)
			continue;
		phrases[n_phrases++] = token_groups[g].phrase;
		for (size_t i = 0; i < n; i++)
			if (is_member(members, expected[i]))
				grouped[i] = true;
	}
	bool has_name = contains(expected, n, "a name");
	for (size_t i = 0; i < n && n_phrases < 64; i++) {
		if (grouped[i])
			continue;
		/* A string is also accepted wherever a name is (a quoted name): one phrase says both. */
		if (has_name && strcmp(expected[i], "a string") == 0)
			continue;
		if (strcmp(expected[i], "end of file") == 0 || strcmp(expected[i], "error") == 0 ||
		    is_member(unlisted_tokens, expected[i]))
			continue;
		phrases[n_phrases++] = expected[i];
	}
	for (size_t i = 0; i < n_phrases; i++) {
		if (i > 0)
			buf_puts(out, i + 1 == n_phrases ? " or " : ", ");
		buf_puts(out, phrases[i]);
	}
	if (n_phrases == 0)
		buf_puts(out, "the end of the file");
}

void syntax_error_report(struct parse_state *ps, struct src_range at, bool at_eof, const char *found,
                         const char *const *expected, size_t n_expected)
{
	/* The scanner already reported a problem in or right before this token (a NUL inside a name, a
	 * run of invalid characters): the syntax error would only repeat it. */
	if (!at_eof && ps->lex_error.file == at.file && at.start <= ps->lex_error.end &&
	    at.end >= ps->lex_error.start && ps->lex_error.end > 0)
		return;
	struct buf msg = BUF_INIT;
	buf_puts(&msg, "expected ");
	describe_expected(&msg, expected, n_expected);
	if (at_eof) {
		buf_puts(&msg, ", found the end of the file");
	} else {
		buf_puts(&msg, ", found ");
		if (strcmp(found, "a string") == 0)
			buf_puts(&msg, "a string ");
		token_quote(&msg, ps->src->text + at.start, at.end - at.start);
	}
	struct diag *d = parse_error(ps, DRP001, at.start, at.end, "%s", msg.data);
	buf_free(&msg);
	if (!d)
		return;

	/* A misspelt keyword: suggest the expected keyword it is closest to. */
	if (!at_eof && strcmp(found, "a name") == 0) {
		const char *words[64];
		char storage[64][24];
		size_t n_words = 0;
		for (size_t i = 0; i < n_expected && n_words < 63; i++) {
			size_t len = strlen(expected[i]);
			if (expected[i][0] != '\'' || len < 3 || len - 2 >= sizeof storage[0])
				continue;
			memcpy(storage[n_words], expected[i] + 1, len - 2);
			storage[n_words][len - 2] = '\0';
			words[n_words] = storage[n_words];
			n_words++;
		}
		words[n_words] = NULL;
		const char *suggestion = diag_suggest(ps->src->text + at.start, at.end - at.start, words);
		if (suggestion) {
			diag_hint(d, "did you mean '%s'?", suggestion);
			diag_fixit(d, suggestion);
		}
	}
	if (!at_eof && strcmp(found, "a number") == 0 && contains(expected, n_expected, "a duration like 90s or 5m"))
		diag_hint(d, "a duration needs a unit: ms, s, m, h or d (for example %.*ss)",
		          (int)(at.end - at.start), ps->src->text + at.start);
	/* A keyword where a name was expected, on the same line: it was meant as a name, and must be
	 * quoted. (On the next line, the name is more likely missing at the end of this one.) */
	bool same_line = !memchr(ps->src->text + ps->previous_token_end, '\n', at.start - ps->previous_token_end);
	if (!at_eof && same_line && contains(expected, n_expected, "a name") && !contains(expected, n_expected, found) &&
	    ast_is_keyword(ps->src->text + at.start, at.end - at.start) && !contains(expected, n_expected, "'timeout'"))
		diag_hint(d, "%s is a keyword; write it in quotes to use it as a name", found);
	if (!at_eof && strcmp(found, "a duration like 90s or 5m") == 0 && contains(expected, n_expected, "a name"))
		diag_hint(d, "a name cannot start with a digit; write it in quotes");

	/* An unclosed block: point at its '{'. */
	if (ps->n_open_braces > 0 && contains(expected, n_expected, "'}'")) {
		struct src_range open = src_range_make(ps->src->id, ps->open_braces[ps->n_open_braces - 1],
		                                       ps->open_braces[ps->n_open_braces - 1] + 1);
		if (at_eof)
			diag_note(d, open, "this '{' is never closed");
		else if (is_member(declaration_tokens, found))
			diag_note(d, open, "is a '}' missing? the block opened here is still open");
	}
}
