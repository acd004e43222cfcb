/* adapters.c: what the commands need of a plan's adapters: the directory paths in it are relative to, and a
 * site's exec adapter options from its settings (drplan run and drplan discover). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "cli.h"

static const char *setting(const struct dag_site *site, const char *key)
{
	for (uint32_t i = 0; i < site->n_settings; i++)
		if (strcmp(site->settings[i].key, key) == 0)
			return site->settings[i].value;
	return NULL;
}

char *cli_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
}

static char *relative(const char *dir, const char *path)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s%s%s", path[0] == '/' ? "" : dir, path[0] == '/' ? "" : "/", path);
	return buf_detach(&b);
}

bool cli_exec_options(const struct dag_site *site, const char *dir, const char *log, struct cli_exec *x, char *err,
                      size_t errlen)
{
	memset(x, 0, sizeof *x);
	if (!site->adapter || strcmp(site->adapter, "exec") != 0) {
		snprintf(err, errlen, "site '%s' does not use adapter exec", site->name);
		return false;
	}
	const char *prog = setting(site, "program"), *sec = setting(site, "secrets"), *t = setting(site, "timeout");
	const char *env = setting(site, "env"); /* names of variables passed through, space-separated */
	const char *poll = setting(site, "poll"); /* a duration, as "5000ms" */
	if (!prog) {
		snprintf(err, errlen, "site '%s': adapter exec needs a 'program' setting", site->name);
		return false;
	}
	x->program = relative(dir, prog);
	x->secrets = sec ? relative(dir, sec) : NULL;
	x->names = xstrdup(env ? env : "");
	uint32_t n = 0;
	for (char *w = strtok(x->names, " ,"); w && n < sizeof x->pass / sizeof x->pass[0]; w = strtok(NULL, " ,"))
		x->pass[n++] = w;
	x->options = (struct exec_options){
		.program = x->program, .timeout_ms = t ? strtoll(t, NULL, 10) : 0, .secrets_file = x->secrets,
		.pass_env = x->pass, .n_pass_env = n, .log_path = log, .poll_ms = poll ? strtoll(poll, NULL, 10) : 0,
	};
	return true;
}

void cli_exec_free(struct cli_exec *x)
{
	free(x->program);
	free(x->secrets);
	free(x->names);
	memset(x, 0, sizeof *x);
}
