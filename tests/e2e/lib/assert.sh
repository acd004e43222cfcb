# tests/e2e/lib/assert.sh: what the end-to-end scripts share: a scratch directory, pass/fail
# counting, and the summary line tests/run adds up. Source it as `set -- NAME; . tests/e2e/lib/assert.sh`
# from the repository root; $DRPLAN is the binary under test (tests/run sets it).

e2e_name=$1
DRPLAN=${DRPLAN:-$PWD/drplan}
passed=0
failed=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/drplan-e2e.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM

# fake_array: for the scripts that drive the exec adapter: its reference program
# (tests/adapters/fake-array.sh) copied into $scratch, and the program's state directory,
# $scratch/array, exported as FAKE_ARRAY_DIR. Call it from the repository root.
fake_array() {
	cp tests/adapters/fake-array.sh "$scratch/fake-array.sh" && mkdir -p "$scratch/array" || exit 2
	FAKE_ARRAY_DIR=$scratch/array
	export FAKE_ARRAY_DIR
}

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# check DESCRIPTION COMMAND...: passes if the command succeeds.
check() {
	what=$1
	shift
	if "$@"; then pass; else fail "$what"; fi
}

# expect_status N DESCRIPTION COMMAND...: passes if the command exits with status N.
expect_status() {
	want=$1 what=$2
	shift 2
	"$@" >"$scratch/out" 2>"$scratch/err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		pass
	else
		fail "$what: exit status $got, expected $want"
		sed 's/^/  | /' "$scratch/err" | head -n 20
	fi
}

# contains FILE TEXT DESCRIPTION: passes if FILE contains the fixed string TEXT.
contains() {
	if grep -qF -- "$2" "$1"; then pass; else fail "$3: '$2' not found in $1"; sed 's/^/  | /' "$1" | head -n 20; fi
}

summary() {
	echo "$e2e_name: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
