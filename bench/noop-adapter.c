/* noop-adapter.c: an exec adapter (docs/adapters.md) that does nothing and says so at once: it
 * reads the request, finds its `op:` line and replies `done`. The floor of an adapter call, for
 * bench/run-ninja.sh: drplan driving it against ninja running `true` over the same DAG.
 *
 *   build/bench/noop-adapter OPERATION < request.yaml
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char line[4096], op[4096] = "";
	while (fgets(line, sizeof line, stdin))
		if (strncmp(line, "op: ", 4) == 0 && !op[0]) {
			snprintf(op, sizeof op, "%s", line + 4);
			op[strcspn(op, "\r\n")] = '\0';
		}
	if (argc > 1 && strcmp(argv[1], "query") == 0)
		printf("drplan-adapter-reply: 1\nop: %s\noutcome: not-happened\n", op);
	else
		printf("drplan-adapter-reply: 1\nop: %s\nstatus: done\n", op);
	return 0;
}
