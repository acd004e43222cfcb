#!/bin/sh
# smoke-test.sh: the example plans' post-recovery check. It only says what a real
# smoke test would check, and always succeeds.
#
# `step run "scripts/smoke-test.sh"` runs it once for the whole plan; with
# `per workgroup`, once for each workgroup as soon as that workgroup is up. Whatever
# drplan passes (arguments, DRPLAN_* variables) is echoed so that you can see it.
# A real script exits non-zero to fail the step.
set -eu

echo "smoke-test: started at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
if [ "$#" -gt 0 ]; then
    echo "smoke-test: arguments: $*"
fi
env | grep '^DRPLAN_' | sort | sed 's/^/smoke-test: /' || true

echo "smoke-test: would check that every VM answers ping and its guest agent reports running"
echo "smoke-test: would check that the databases accept connections and are writable"
echo "smoke-test: would check the application health endpoints (HTTP 200 on /healthz)"
echo "smoke-test: would check that the service answers on its recovery-site address"
echo "smoke-test: ok"
exit 0
