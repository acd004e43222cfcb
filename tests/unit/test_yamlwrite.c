/* test_yamlwrite.c: compiler/yamlwrite.c against libyaml's emitter, configured as drplan used to
 * configure it for the compiled plan: the same documents (every shape the compiled plan has, with
 * awkward scalars in every position and every requested style) must come out byte for byte the
 * same. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../../compiler/yamlwrite.h"
#include "../../lib/buf.h"
#include "suites.h"

/* A document as a script: collection starts (block or flow), ends, scalars. */
enum { EV_MAP, EV_FLOW_MAP, EV_SEQ, EV_FLOW_SEQ, EV_END, EV_SCALAR };
struct event {
	int kind;
	const char *text;
	enum yw_style style;
};
#define MAX_EVENTS 64

struct script {
	struct event ev[MAX_EVENTS];
	size_t n;
};

static void add(struct script *s, int kind, const char *text, enum yw_style style)
{
	ck_assert_uint_lt(s->n, MAX_EVENTS);
	s->ev[s->n++] = (struct event){kind, text, style};
}

static int to_buf(void *data, unsigned char *bytes, size_t size)
{
	buf_append(data, bytes, size);
	return 1;
}

static void emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	ck_assert_msg(yaml_emitter_emit(em, ev), "libyaml: %s", em->problem ? em->problem : "?");
}

static char *by_libyaml(const struct script *s)
{
	static const yaml_scalar_style_t styles[] = {YAML_ANY_SCALAR_STYLE, YAML_PLAIN_SCALAR_STYLE,
	                                             YAML_SINGLE_QUOTED_SCALAR_STYLE, YAML_DOUBLE_QUOTED_SCALAR_STYLE};
	struct buf out = BUF_INIT;
	yaml_emitter_t em;
	yaml_event_t ev;
	ck_assert(yaml_emitter_initialize(&em));
	yaml_emitter_set_output(&em, to_buf, &out);
	yaml_emitter_set_encoding(&em, YAML_UTF8_ENCODING);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	yaml_emitter_set_break(&em, YAML_LN_BREAK);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(&em, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(&em, &ev);
	int open[MAX_EVENTS], depth = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct event *e = &s->ev[i];
		switch (e->kind) {
		case EV_MAP:
		case EV_FLOW_MAP:
			yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
			                                    e->kind == EV_FLOW_MAP ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
			open[depth++] = EV_MAP;
			break;
		case EV_SEQ:
		case EV_FLOW_SEQ:
			yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
			                                     e->kind == EV_FLOW_SEQ ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
			open[depth++] = EV_SEQ;
			break;
		case EV_END:
			if (open[--depth] == EV_MAP)
				yaml_mapping_end_event_initialize(&ev);
			else
				yaml_sequence_end_event_initialize(&ev);
			break;
		default:
			ck_assert(yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)e->text, (int)strlen(e->text),
			                                       1, 1, styles[e->style]));
		}
		emit(&em, &ev);
	}
	yaml_document_end_event_initialize(&ev, 1);
	emit(&em, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(&em, &ev);
	yaml_emitter_delete(&em);
	return buf_detach(&out);
}

static void yw_to_buf(void *ctx, const void *data, size_t size)
{
	buf_append(ctx, data, size);
}

static char *by_yamlwrite(const struct script *s)
{
	struct buf out = BUF_INIT;
	struct yw *w = malloc(sizeof *w);
	yw_init(w, yw_to_buf, &out);
	for (size_t i = 0; i < s->n; i++) {
		const struct event *e = &s->ev[i];
		switch (e->kind) {
		case EV_MAP: yw_map(w, false); break;
		case EV_FLOW_MAP: yw_map(w, true); break;
		case EV_SEQ: yw_seq(w, false); break;
		case EV_FLOW_SEQ: yw_seq(w, true); break;
		case EV_END: yw_end(w); break;
		default: yw_scalar(w, e->text, strlen(e->text), e->style);
		}
	}
	yw_finish(w);
	free(w);
	return buf_detach(&out);
}

static void check_same(const struct script *s)
{
	char *lib = by_libyaml(s), *mine = by_yamlwrite(s);
	ck_assert_msg(strcmp(lib, mine) == 0, "libyaml:\n%s\nyamlwrite:\n%s", lib, mine);
	free(lib);
	free(mine);
}

/* Every shape of the compiled plan, with x (in style sx) in each scalar position that is not a
 * block mapping's key (those are the format's own words), beside other texts in style st. */
static void shapes2(struct script *s, const char *x, enum yw_style sx, enum yw_style st)
{
	s->n = 0;
	add(s, EV_MAP, NULL, 0);
	add(s, EV_SCALAR, "format", YW_PLAIN), add(s, EV_SCALAR, "1", YW_PLAIN);
	add(s, EV_SCALAR, "plan", YW_PLAIN), add(s, EV_SCALAR, x, sx);
	add(s, EV_SCALAR, "sites", YW_PLAIN), add(s, EV_FLOW_SEQ, NULL, 0);
	add(s, EV_SCALAR, x, sx), add(s, EV_SCALAR, "west", st), add(s, EV_SCALAR, x, sx), add(s, EV_END, NULL, 0);
	add(s, EV_SCALAR, "empty", YW_PLAIN), add(s, EV_SEQ, NULL, 0), add(s, EV_END, NULL, 0);
	add(s, EV_SCALAR, "hosts", YW_PLAIN), add(s, EV_SEQ, NULL, 0);
	add(s, EV_FLOW_MAP, NULL, 0);
	add(s, EV_SCALAR, "name", YW_PLAIN), add(s, EV_SCALAR, x, sx);
	add(s, EV_SCALAR, x, sx), add(s, EV_FLOW_SEQ, NULL, 0), add(s, EV_END, NULL, 0);
	add(s, EV_SCALAR, "settings", YW_PLAIN), add(s, EV_FLOW_MAP, NULL, 0);
	add(s, EV_SCALAR, x, sx), add(s, EV_SCALAR, x, sx), add(s, EV_SCALAR, "k", st), add(s, EV_SCALAR, "~", YW_PLAIN);
	add(s, EV_END, NULL, 0), add(s, EV_END, NULL, 0);
	add(s, EV_FLOW_MAP, NULL, 0), add(s, EV_END, NULL, 0);
	add(s, EV_END, NULL, 0);
	add(s, EV_SCALAR, "latency", YW_PLAIN), add(s, EV_MAP, NULL, 0);
	add(s, EV_SCALAR, "sync", YW_PLAIN), add(s, EV_FLOW_MAP, NULL, 0);
	add(s, EV_SCALAR, "base-ms", YW_PLAIN), add(s, EV_SCALAR, x, sx), add(s, EV_END, NULL, 0);
	add(s, EV_END, NULL, 0);
	add(s, EV_SCALAR, "none", YW_PLAIN), add(s, EV_MAP, NULL, 0), add(s, EV_END, NULL, 0);
	add(s, EV_SCALAR, "workgroups", YW_PLAIN), add(s, EV_SEQ, NULL, 0);
	add(s, EV_MAP, NULL, 0);
	add(s, EV_SCALAR, "id", YW_PLAIN), add(s, EV_SCALAR, x, sx);
	add(s, EV_SCALAR, "vms", YW_PLAIN), add(s, EV_FLOW_MAP, NULL, 0);
	add(s, EV_SCALAR, x, sx), add(s, EV_SCALAR, x, sx), add(s, EV_END, NULL, 0);
	add(s, EV_END, NULL, 0);
	add(s, EV_END, NULL, 0);
	add(s, EV_SCALAR, "last", YW_PLAIN), add(s, EV_SCALAR, x, sx);
	add(s, EV_END, NULL, 0);
}

static void shapes(struct script *s, const char *x, enum yw_style st)
{
	shapes2(s, x, st, st);
}

static const char *const awkward[] = {
	"", "a", "vm-000123", "esx-w01", "-", "-a", "- a", "--", "---", "---x", "...", "..x", "?", "?a", "? a", ":",
	":a", ": a", "a:", "a:b", "a: b", "a :b", "#", "#a", "a#b", "a #b", "a,b", "a[b", "a]b", "a{b", "a}b", "a?b",
	"[a", "]", "{a", "}", ",a", "&a", "*a", "!a", "|a", ">a", "'a", "a'b", "'", "''", "\"a", "a\"b", "%a", "@a",
	"`a", " a", "a ", " ", "a  b", "a b", "~", "null", "yes", "on", "12", "1.5", "0x1F", "2026-11-24",
	"sha256:0000", "scripts/smoke-test.sh", "Confirm DNS: \"west\" \xE2\x80\x94 ok?", "caf\xC3\xA9",
	"\xC2\xA0nbsp", "a\xC2\xA0", "\xEF\xBB\xBF" "bom", "\xEF\xBF\xBE", "\xEF\xBF\xBF", "\xF0\x9F\x98\x80 grin",
	"\xE2\x80\xA8ls", "\xC2\x85nel", "tab\there", "nul-less \x01\x1B\x7F", "back\\slash", "\xED\x9F\xBF",
	"\xEE\x80\x80", "a-b_c.d/e+f=g", "#!", "a!", "a&", "a*", "a|b", "a>b", "a%", "a@b", "a`b",
	"a very long name that goes on and on past one hundred and twenty-eight bytes so that it cannot be a "
	"simple key of a flow mapping any more",
};

/* A text with a line break (LS, NEL): libyaml writes it single-quoted over several lines, and
 * misindents them in flow collections; yamlwrite escapes it on one line, as if asked for double
 * quotes. */
static bool has_break(const char *x)
{
	return strstr(x, "\xE2\x80\xA8") || strstr(x, "\xE2\x80\xA9") || strstr(x, "\xC2\x85") || strchr(x, '\n') ||
	       strchr(x, '\r');
}

START_TEST(test_awkward_scalars)
{
	struct script s;
	for (size_t i = 0; i < sizeof awkward / sizeof awkward[0]; i++) {
		for (enum yw_style st = YW_ANY; st <= YW_DOUBLE; st++) {
			shapes(&s, awkward[i], st);
			if (st == YW_DOUBLE || !has_break(awkward[i])) {
				check_same(&s);
				continue;
			}
			char *mine = by_yamlwrite(&s);
			shapes2(&s, awkward[i], YW_DOUBLE, st);
			char *quoted = by_yamlwrite(&s);
			ck_assert_str_eq(mine, quoted);
			free(mine);
			free(quoted);
		}
	}
}
END_TEST

/* Random short texts from an alphabet of indicators, spaces and multi-byte characters. */
START_TEST(test_random_scalars)
{
	static const char *const pieces[] = {
		"a", "Z", "0", "-", "?", ":", "#", ",", "[", "]", "{", "}", "&", "*", "!", "|", ">", "'", "\"", "%",
		"@", "`", " ", ".", "~", "\\", "/", "\t", "\xC3\xA9", "\xC2\xA0", "\xE2\x80\x94", "\xEF\xBB\xBF",
		"\xF0\x9F\x98\x80", "\x01",
	};
	uint64_t seed = 0x9E3779B97F4A7C15u;
	struct script s;
	char text[64];
	for (int round = 0; round < 4000; round++) {
		size_t len = 0;
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		int n = (int)(seed >> 60) % 8 + 1;
		for (int k = 0; k < n; k++) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			const char *p = pieces[(seed >> 33) % (sizeof pieces / sizeof pieces[0])];
			size_t pl = strlen(p);
			memcpy(text + len, p, pl);
			len += pl;
		}
		text[len] = '\0';
		shapes(&s, text, (enum yw_style)(round % 4));
		check_same(&s);
	}
}
END_TEST

Suite *yamlwrite_suite(void)
{
	Suite *s = suite_create("yamlwrite");
	TCase *tc = tcase_create("yamlwrite");
	tcase_add_test(tc, test_awkward_scalars);
	tcase_add_test(tc, test_random_scalars);
	suite_add_tcase(s, tc);
	return s;
}
