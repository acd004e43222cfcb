/* fuzz_exec_reply.c: libFuzzer harness for the exec adapter's reply parser (runtime/adapters/exec.c):
 * a reply is whatever an external program printed, so it is hostile input. Every input is parsed
 * twice, as an operation's reply and as discover's (whose inventory mapping is copied through
 * libyaml's emitter). Beyond the sanitizers: a refused reply always says why. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "runtime/adapters/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	why[0] = '\0';
	if (!exec_reply_check((const char *)data, size, false, NULL, why, sizeof why) && !why[0])
		abort();
	struct buf inventory = BUF_INIT;
	why[0] = '\0';
	bool ok = exec_reply_check((const char *)data, size, true, &inventory, why, sizeof why);
	if (!ok && !why[0])
		abort();
	(void)ok;
	buf_free(&inventory);
	return 0;
}
