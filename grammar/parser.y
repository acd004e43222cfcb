/* parser.y: the grammar of the plan language. A pure parser that builds the syntax tree (ast.h) and
 * nothing else: actions call the ast_* constructors in compiler/build.c, which hold whatever logic
 * an action needs; names are resolved and rules checked by later passes. Errors recover at the next
 * statement or declaration, so a file with five mistakes gets five diagnostics. Every value is
 * allocated in the compilation's arena, so no %destructor is needed when the parser discards one. */

%require "3.6"
%define api.pure full
%define api.location.type {struct src_range}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {struct parse_state *ps}

%code requires {
#include "compiler/build.h"
}

%code {
int drp_yylex(YYSTYPE *lval, YYLTYPE *lloc, void *scanner);

static int yylex(YYSTYPE *lval, YYLTYPE *lloc, struct parse_state *ps)
{
	int token = ps->stopped ? 0 : drp_yylex(lval, lloc, ps->scanner);
	if (token == 0) {
		/* The end of the file is placed right after the last token: where whatever is missing
		 * belongs. */
		lloc->file = ps->src->id;
		lloc->start = lloc->end = ps->last_token_end;
	} else {
		ps->previous_token_end = ps->last_token_end;
		ps->last_token_end = lloc->end;
	}
	return token;
}

/* Bison reports only "memory exhausted" here (syntax errors go to yyreport_syntax_error): the parse
 * stack outgrew YYMAXDEPTH, which only absurdly nested input can do. */
static void yyerror(YYLTYPE *loc, struct parse_state *ps, const char *msg)
{
	parse_error(ps, DRP001, loc->start, loc->end, "%s: the input is nested too deeply", msg);
}

/* A rule's range runs from its first symbol's start to its last symbol's end; an empty rule is a
 * point at the end of what precedes it. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                       \
	do {                                                              \
		if (N) {                                                  \
			(Cur).file = YYRHSLOC(Rhs, 1).file;               \
			(Cur).start = YYRHSLOC(Rhs, 1).start;             \
			(Cur).end = YYRHSLOC(Rhs, N).end;                 \
		} else {                                                  \
			(Cur).file = YYRHSLOC(Rhs, 0).file;               \
			(Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;   \
		}                                                         \
	} while (0)
}

%union {
	struct ast_name name;
	struct ast_names names;
	struct ast_string string;
	struct ast_number number;
	struct ast_duration duration;
	struct ast_value value;
	struct ast_item *item;
	struct ast_stmt *stmt;
	struct ast_stmt_list stmts;
	struct ast_step step;
	struct ast_vm_clause *vm_clause;
	struct ast_vm_clause_list vm_clauses;
	struct ast_adapter *adapter;
	struct ast_adapter_list adapters;
	struct ast_setting *setting;
	struct ast_setting_list settings;
	struct ast_devices_list devices;
	bool flag;
}

/* The aliases are what a user reads in "expected ..." messages. */
%token T_INCLUDE "'include'" T_INVENTORY "'inventory'" T_SITE "'site'" T_ADAPTER "'adapter'"
%token T_DEVICE "'device'" T_AT "'at'" T_REPLICATED "'replicated'" T_TO "'to'"
%token T_STRETCHED "'stretched'" T_BETWEEN "'between'" T_AND "'and'" T_PREFER "'prefer'"
%token T_CONSISTENCY "'consistency'" T_PROTECTION "'protection'" T_DEVICES "'devices'"
%token T_VM "'vm'" T_PRIORITY "'priority'" T_AFTER "'after'" T_ON "'on'" T_HOST "'host'"
%token T_PLAN "'plan'" T_FROM "'from'" T_MODE "'mode'" T_PROTECT "'protect'"
%token T_WORKGROUP "'workgroup'" T_LIMIT "'limit'" T_PER "'per'" T_RTO "'rto'" T_STEP "'step'"
%token T_SYNC "'sync'" T_STORAGE "'storage'" T_SHUTDOWN "'shutdown'" T_VMS "'vms'"
%token T_FAILOVER "'failover'" T_REVERSE "'reverse'" T_MIGRATE "'migrate'" T_LIVE "'live'"
%token T_REGISTER "'register'" T_POWER_ON "'power-on'" T_BY "'by'" T_RUN "'run'"
%token T_PROMPT "'prompt'" T_WAIT "'wait'" T_TIMEOUT "'timeout'" T_RETRY "'retry'"
%token T_BACKOFF "'backoff'" T_UNREGISTER "'unregister'" T_DISCARD "'discard'" T_SNAPSHOTS "'snapshots'"
%token <name> T_NAME "a name"
%token <string> T_STRING "a string"
%token <number> T_NUMBER "a number"
%token <duration> T_DURATION "a duration like 90s or 5m"

%type <item> item site device protection vm plan
%type <name> name op_word scope_word setting_key opt_at opt_per opt_consistency
%type <names> names
%type <stmt> plan_stmt
%type <stmts> plan_body
%type <step> step step_kind
%type <vm_clause> vm_clause
%type <vm_clauses> vm_clauses
%type <adapter> adapter opt_adapter
%type <adapters> site_body
%type <setting> setting
%type <settings> settings
%type <devices> protection_body
%type <value> value
%type <flag> opt_by_priority opt_per_workgroup
%type <duration> duration

%%

file:
	  %empty
	| file item             { ast_file_add(ps, $2); }
	| file error
	;

item:
	  kw_include T_STRING    { $$ = ast_path_item(ps, AST_INCLUDE, $2, @$); }
	| kw_inventory T_STRING  { $$ = ast_path_item(ps, AST_INVENTORY, $2, @$); }
	| site
	| device
	| protection
	| vm
	| plan
	;

name:
	  T_NAME
	| T_STRING              { $$ = ast_quoted_name(ps, $1); }
	;

names:
	  name                  { $$ = ast_names_one(ps, $1); }
	| names name            { $$ = ast_names_add(ps, $1, $2); }
	;

/* Sites and adapters. */

site:
	kw_site name '{' site_body '}' { $$ = ast_site(ps, $2, $4, @3, @5, @$); }
	;

site_body:
	  %empty                { $$ = (struct ast_adapter_list){0}; }
	| site_body adapter     { $$ = ast_adapters_add($1, $2); }
	| site_body error
	;

adapter:
	  T_ADAPTER name                  { $$ = ast_adapter(ps, $2, false, (struct ast_setting_list){0}, @$, @$); }
	| T_ADAPTER name '{' settings '}' { $$ = ast_adapter(ps, $2, true, $4, @3, @$); }
	;

settings:
	  %empty                { $$ = (struct ast_setting_list){0}; }
	| settings setting      { $$ = ast_settings_add($1, $2); }
	| settings error
	;

setting:
	setting_key value       { $$ = ast_setting(ps, $1, $2, @$); }
	;

/* Keys are words; the few that are keywords elsewhere are allowed here too. */
setting_key:
	  T_NAME
	| T_TIMEOUT             { $$ = ast_word(ps, @1); }
	| T_RETRY               { $$ = ast_word(ps, @1); }
	| T_BACKOFF             { $$ = ast_word(ps, @1); }
	| T_HOST                { $$ = ast_word(ps, @1); }
	| T_SITE                { $$ = ast_word(ps, @1); }
	| T_DEVICE              { $$ = ast_word(ps, @1); }
	;

value:
	  T_STRING              { $$ = ast_value_string($1, @$); }
	| T_NAME                { $$ = ast_value_name($1, @$); }
	| T_NUMBER              { $$ = ast_value_number($1, @$); }
	| duration              { $$ = ast_value_duration($1, @$); }
	;

/* Devices. */

device:
	  kw_device name T_AT name T_REPLICATED T_TO name T_AT name opt_consistency opt_adapter
	        { $$ = ast_replicated_device(ps, $2, $4, $7, $9, $10, $11, @$); }
	| kw_device name T_STRETCHED T_BETWEEN name T_AND name T_PREFER name opt_adapter
	        { $$ = ast_stretched_device(ps, $2, $5, $7, $9, $10, @$); }
	;

opt_consistency:
	  %empty                { $$ = (struct ast_name){0}; }
	| T_CONSISTENCY name    { $$ = $2; }
	;

opt_adapter:
	  %empty                { $$ = NULL; }
	| adapter
	;

/* Protection groups. */

protection:
	kw_protection name '{' protection_body '}' { $$ = ast_protection(ps, $2, $4, @3, @5, @$); }
	;

protection_body:
	  %empty                        { $$ = (struct ast_devices_list){0}; }
	| protection_body T_DEVICES names { $$ = ast_devices_add(ps, $1, $3, @2, @3); }
	| protection_body error
	;

/* VM rules. */

vm:
	kw_vm name vm_clauses    { $$ = ast_vm(ps, $2, $3, @$); }
	;

vm_clauses:
	  %empty                { $$ = (struct ast_vm_clause_list){0}; }
	| vm_clauses vm_clause  { $$ = ast_vm_clauses_add(ps, $1, $2); }
	;

vm_clause:
	  T_PRIORITY T_NUMBER   { $$ = ast_vm_priority(ps, $2, @$); }
	| T_AFTER names         { $$ = ast_vm_names(ps, AST_VM_AFTER, $2, @$); }
	| T_ON names            { $$ = ast_vm_names(ps, AST_VM_ON, $2, @$); }
	| T_HOST name           { $$ = ast_vm_host(ps, $2, @$); }
	;

/* Plans. */

plan:
	kw_plan name '{' plan_body '}' { $$ = ast_plan(ps, $2, $4, @3, @5, @$); }
	;

plan_body:
	  %empty                { $$ = (struct ast_stmt_list){0}; }
	| plan_body plan_stmt   { $$ = ast_stmts_add($1, $2); }
	| plan_body error
	;

plan_stmt:
	  kw_from name T_TO name                 { $$ = ast_route(ps, $2, $4, @$); }
	| kw_mode name                           { $$ = ast_mode(ps, $2, @$); }
	| kw_protect names                       { $$ = ast_protect(ps, $2, @$); }
	| kw_workgroup T_NUMBER                  { $$ = ast_workgroup(ps, $2, @$); }
	| kw_limit op_word T_NUMBER opt_per      { $$ = ast_limit(ps, $2, $3, $4, @$); }
	| kw_rto duration                        { $$ = ast_rto(ps, $2, @$); }
	| kw_step step                           { $$ = ast_step_stmt(ps, $2, @$); }
	;

op_word:
	  T_NAME
	| T_SYNC                { $$ = ast_word(ps, @1); }
	| T_SHUTDOWN            { $$ = ast_word(ps, @1); }
	| T_FAILOVER            { $$ = ast_word(ps, @1); }
	| T_REVERSE             { $$ = ast_word(ps, @1); }
	| T_PREFER              { $$ = ast_word(ps, @1); }
	| T_MIGRATE             { $$ = ast_word(ps, @1); }
	| T_REGISTER            { $$ = ast_word(ps, @1); }
	| T_POWER_ON            { $$ = ast_word(ps, @1); }
	| T_RUN                 { $$ = ast_word(ps, @1); }
	| T_UNREGISTER          { $$ = ast_word(ps, @1); } /* not a limit's word: DRP009 says so */
	| T_DISCARD             { $$ = ast_word(ps, @1); }
	;

opt_per:
	  %empty                { $$ = (struct ast_name){0}; }
	| T_PER scope_word      { $$ = $2; }
	;

scope_word:
	  T_NAME
	| T_SITE                { $$ = ast_word(ps, @1); }
	| T_HOST                { $$ = ast_word(ps, @1); }
	| T_DEVICE              { $$ = ast_word(ps, @1); }
	;

step:
	  step_kind
	| step T_TIMEOUT duration               { $$ = ast_step_timeout(ps, $1, $3, @2); }
	| step T_RETRY T_NUMBER                 { $$ = ast_step_retry(ps, $1, $3, @2); }
	| step T_BACKOFF duration               { $$ = ast_step_backoff(ps, $1, $3, @2); }
	;

step_kind:
	  T_SYNC T_STORAGE                      { $$ = ast_step(AST_STEP_SYNC); }
	| T_SHUTDOWN T_VMS opt_at               { $$ = ast_step(AST_STEP_SHUTDOWN); $$.site = $3; }
	| T_FAILOVER T_STORAGE                  { $$ = ast_step(AST_STEP_FAILOVER); }
	| T_REVERSE T_STORAGE                   { $$ = ast_step(AST_STEP_REVERSE); }
	| T_PREFER name                         { $$ = ast_step(AST_STEP_PREFER); $$.site = $2; }
	| T_MIGRATE T_LIVE                      { $$ = ast_step(AST_STEP_MIGRATE); }
	| T_REGISTER T_VMS opt_at               { $$ = ast_step(AST_STEP_REGISTER); $$.site = $3; }
	| T_POWER_ON T_VMS opt_by_priority      { $$ = ast_step(AST_STEP_POWER_ON); $$.by_priority = $3; }
	| T_RUN T_STRING opt_per_workgroup      { $$ = ast_step(AST_STEP_RUN); $$.text = $2; $$.per_workgroup = $3; }
	| T_PROMPT T_STRING                     { $$ = ast_step(AST_STEP_PROMPT); $$.text = $2; }
	| T_WAIT duration                       { $$ = ast_step(AST_STEP_WAIT); $$.wait = $2; }
	| T_UNREGISTER T_VMS opt_at             { $$ = ast_step(AST_STEP_UNREGISTER); $$.site = $3; }
	| T_DISCARD T_SNAPSHOTS                 { $$ = ast_step(AST_STEP_DISCARD); }
	;

/* A malformed duration is reported here, where a duration is expected: the same lexeme where a number
 * is expected (`workgroup 16x`) is a syntax error instead. */
duration:
	T_DURATION              { $$ = ast_duration_checked(ps, $1); }
	;

opt_at:
	  %empty                { $$ = (struct ast_name){0}; }
	| T_AT name             { $$ = $2; }
	;

opt_by_priority:
	  %empty                { $$ = false; }
	| T_BY T_PRIORITY       { $$ = true; }
	;

opt_per_workgroup:
	  %empty                { $$ = false; }
	| T_PER T_WORKGROUP     { $$ = true; }
	;

/* The first keyword of every declaration and plan statement ends error recovery (yyerrok), so that
 * a mistake on the line right after another is reported too, instead of being swallowed by bison's
 * three-token grace after an error. It runs only once a real token has been shifted, so recovery
 * always makes progress. (yyerrok in the error rules themselves would loop: bison reduces them
 * before it discards the offending token.) */
kw_include: T_INCLUDE { yyerrok; } ;
kw_inventory: T_INVENTORY { yyerrok; } ;
kw_site: T_SITE { yyerrok; } ;
kw_device: T_DEVICE { yyerrok; } ;
kw_protection: T_PROTECTION { yyerrok; } ;
kw_vm: T_VM { yyerrok; } ;
kw_plan: T_PLAN { yyerrok; } ;
kw_from: T_FROM { yyerrok; } ;
kw_mode: T_MODE { yyerrok; } ;
kw_protect: T_PROTECT { yyerrok; } ;
kw_workgroup: T_WORKGROUP { yyerrok; } ;
kw_limit: T_LIMIT { yyerrok; } ;
kw_rto: T_RTO { yyerrok; } ;
kw_step: T_STEP { yyerrok; } ;

%%

static int yyreport_syntax_error(const yypcontext_t *ctx, struct parse_state *ps)
{
	enum { MAX_EXPECTED = 64 };
	yysymbol_kind_t expected[MAX_EXPECTED];
	int n = yypcontext_expected_tokens(ctx, expected, MAX_EXPECTED);
	if (n < 0)
		n = 0;
	const char *names[MAX_EXPECTED];
	for (int i = 0; i < n; i++)
		names[i] = yysymbol_name(expected[i]);
	yysymbol_kind_t found = yypcontext_token(ctx);
	syntax_error_report(ps, *yypcontext_location(ctx), found == YYSYMBOL_YYEOF,
	                    found == YYSYMBOL_YYEOF ? "" : yysymbol_name(found), names, (size_t)n);
	return 0;
}
