/* build.h: the constructors that grammar actions call, one per construct, so that parser.y stays a
 * grammar. They allocate in the parse's arena, check what only the syntax can tell (a closed
 * vocabulary, a clause given twice), and report with the exact range. Also the wording of syntax
 * errors, which turns bison's expected-token sets into sentences a user understands. */
#ifndef DRP_BUILD_H
#define DRP_BUILD_H

#include "ast.h"
#include "parse.h"

/* Lists under construction: head and tail of a chain of nodes linked by `next`. */
struct ast_stmt_list { struct ast_stmt *head, *tail; };
struct ast_vm_clause_list { struct ast_vm_clause *head, *tail; };
struct ast_adapter_list { struct ast_adapter *head, *tail; };
struct ast_setting_list { struct ast_setting *head, *tail; };
struct ast_devices_list { struct ast_devices_stmt *head, *tail; };

void ast_file_add(struct parse_state *ps, struct ast_item *item);
struct ast_item *ast_path_item(struct parse_state *ps, enum ast_item_kind kind, struct ast_string path,
                               struct src_range at);

struct ast_name ast_quoted_name(struct parse_state *ps, struct ast_string s);
/* A keyword used as a word (a setting key, an operation kind): its text from the source. */
struct ast_name ast_word(struct parse_state *ps, struct src_range at);
struct ast_names ast_names_one(struct parse_state *ps, struct ast_name name);
struct ast_names ast_names_add(struct parse_state *ps, struct ast_names list, struct ast_name name);

struct ast_item *ast_site(struct parse_state *ps, struct ast_name name, struct ast_adapter_list body,
                          struct src_range open, struct src_range close, struct src_range at);
struct ast_adapter_list ast_adapters_add(struct ast_adapter_list list, struct ast_adapter *adapter);
struct ast_adapter *ast_adapter(struct parse_state *ps, struct ast_name kind, bool has_block,
                                struct ast_setting_list settings, struct src_range open,
                                struct src_range at);
struct ast_setting_list ast_settings_add(struct ast_setting_list list, struct ast_setting *setting);
struct ast_setting *ast_setting(struct parse_state *ps, struct ast_name key, struct ast_value value,
                                struct src_range at);
struct ast_value ast_value_string(struct ast_string s, struct src_range at);
struct ast_value ast_value_name(struct ast_name n, struct src_range at);
struct ast_value ast_value_number(struct ast_number n, struct src_range at);
struct ast_value ast_value_duration(struct ast_duration d, struct src_range at);
/* Reports a malformed duration (the scanner only notes why) where a duration is used. */
struct ast_duration ast_duration_checked(struct parse_state *ps, struct ast_duration d);

struct ast_item *ast_replicated_device(struct parse_state *ps, struct ast_name name, struct ast_name site,
                                       struct ast_name peer, struct ast_name peer_site,
                                       struct ast_name consistency, struct ast_adapter *adapter,
                                       struct src_range at);
struct ast_item *ast_stretched_device(struct parse_state *ps, struct ast_name name, struct ast_name site,
                                      struct ast_name other_site, struct ast_name prefer,
                                      struct ast_adapter *adapter, struct src_range at);

struct ast_item *ast_protection(struct parse_state *ps, struct ast_name name, struct ast_devices_list body,
                                struct src_range open, struct src_range close, struct src_range at);
struct ast_devices_list ast_devices_add(struct parse_state *ps, struct ast_devices_list list,
                                        struct ast_names devices, struct src_range keyword,
                                        struct src_range names);

struct ast_item *ast_vm(struct parse_state *ps, struct ast_name pattern, struct ast_vm_clause_list clauses,
                        struct src_range at);
struct ast_vm_clause_list ast_vm_clauses_add(struct parse_state *ps, struct ast_vm_clause_list list,
                                             struct ast_vm_clause *clause);
struct ast_vm_clause *ast_vm_priority(struct parse_state *ps, struct ast_number priority, struct src_range at);
struct ast_vm_clause *ast_vm_names(struct parse_state *ps, enum ast_vm_clause_kind kind, struct ast_names names,
                                   struct src_range at);
struct ast_vm_clause *ast_vm_host(struct parse_state *ps, struct ast_name host, struct src_range at);

struct ast_item *ast_plan(struct parse_state *ps, struct ast_name name, struct ast_stmt_list body,
                          struct src_range open, struct src_range close, struct src_range at);
struct ast_stmt_list ast_stmts_add(struct ast_stmt_list list, struct ast_stmt *stmt);
struct ast_stmt *ast_route(struct parse_state *ps, struct ast_name from, struct ast_name to, struct src_range at);
struct ast_stmt *ast_mode(struct parse_state *ps, struct ast_name word, struct src_range at);
struct ast_stmt *ast_protect(struct parse_state *ps, struct ast_names groups, struct src_range at);
struct ast_stmt *ast_workgroup(struct parse_state *ps, struct ast_number size, struct src_range at);
struct ast_stmt *ast_limit(struct parse_state *ps, struct ast_name operation, struct ast_number count,
                           struct ast_name scope, struct src_range at);
struct ast_stmt *ast_rto(struct parse_state *ps, struct ast_duration rto, struct src_range at);
struct ast_stmt *ast_step_stmt(struct parse_state *ps, struct ast_step step, struct src_range at);
struct ast_step ast_step(enum ast_step_kind kind);
struct ast_step ast_step_timeout(struct parse_state *ps, struct ast_step step, struct ast_duration d,
                                 struct src_range keyword);
struct ast_step ast_step_retry(struct parse_state *ps, struct ast_step step, struct ast_number n,
                               struct src_range keyword);
struct ast_step ast_step_backoff(struct parse_state *ps, struct ast_step step, struct ast_duration d,
                                 struct src_range keyword);

/* Reports a syntax error at `at`: `found` is bison's name of the unexpected token ("" at the end of
 * the file), `expected` its names of the tokens that would have been accepted. */
void syntax_error_report(struct parse_state *ps, struct src_range at, bool at_eof, const char *found,
                         const char *const *expected, size_t n_expected);

#endif
