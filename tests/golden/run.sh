#!/bin/sh
# tests/golden/run.sh: data-driven golden tests of what drplan prints.
#
#   sh tests/golden/run.sh [--update] [-v] [PATTERN...]
#
# Runs from the repository root (it changes there itself) with DRPLAN=/abs/path/to/drplan
# (default: ./drplan). PATTERNs select cases whose id (e.g. check/drp004-bad-escapes) contains one
# of them. --update rewrites the expected files from what drplan prints now: review the diff
# (git diff tests/golden) before committing, and never bless output that is wrong. -v also shows
# the diffs of known bugs.
#
# Layout (see tests/golden/README.md):
#   check/NAME.drp      NAME.expected: stderr of `drplan check --color never check/NAME.drp`, then
#                       `exit: N` (stdout, if any, after a `--- stdout:` line).
#   semantic/NAME.drp   the same, for the semantic rules (DRP030 and up): plans with inventories
#                       (NAME.yaml beside them or under semantic/inventory/) and includes (in
#                       subdirectories, which hold no cases).
#   fmt/NAME.drp        NAME.fmt: exact stdout of `drplan fmt`; fmt of NAME.fmt must reproduce it
#                       and `fmt --check` must accept it. Or NAME.expected: a file fmt refuses
#                       (stderr and exit code, stdout must be empty).
#   formats/NAME.drp    NAME.json, NAME.sarif, NAME.github: stdout of `check --format X`, then
#                       `exit: N`; stderr must be empty.
#   include/NAME/main.drp  NAME.expected: `check --root include/NAME include/NAME/main.drp`.
#   generated/NAME.*    inputs that cannot live in git (NUL bytes, CRLF, 10 MB lines, symlinks...)
#                       are written by gen_NAME below into a temporary directory; NAME.expected
#                       (check), NAME.fmt (fmt) or NAME.keys (exit code and key lines only).
#   known-bugs          cases whose expected file holds the output drplan *should* print; they are
#                       reported but not counted as failures until the bug is fixed.
#
# Absolute paths in output are replaced by <repo> and <tmp>. Every drplan run has a time limit
# (GOLDEN_TIMEOUT seconds, default 10), so a hang fails the case instead of stalling the suite.
# The last line is always `golden: N passed, N failed`; the exit status is non-zero on failure.

LC_ALL=C
export LC_ALL
unset NO_COLOR CLICOLOR_FORCE

update=false
verbose=false
patterns=
for arg in "$@"; do
	case $arg in
	--update) update=true ;;
	-v | --verbose) verbose=true ;;
	-h | --help)
		sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "run.sh: unknown option '$arg'" >&2
		echo "golden: 0 passed, 1 failed"
		exit 2
		;;
	*) patterns="$patterns $arg" ;;
	esac
done

DRPLAN=${DRPLAN:-./drplan}
case $DRPLAN in
/*) ;;
*) DRPLAN=$PWD/$DRPLAN ;;
esac

cd "$(dirname "$0")/../.." || exit 2
repo=$PWD
repo_phys=$(pwd -P)
G=tests/golden

if [ ! -x "$DRPLAN" ]; then
	echo "run.sh: $DRPLAN is not an executable (build with make, or set DRPLAN)" >&2
	echo "golden: 0 passed, 1 failed"
	exit 2
fi

TIME_LIMIT=${GOLDEN_TIMEOUT:-10}
TIMEOUT_CMD=
if command -v timeout >/dev/null 2>&1; then
	TIMEOUT_CMD=timeout
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/drplan-golden.XXXXXX") || {
	echo "golden: 0 passed, 1 failed"
	exit 2
}
tmp_phys=$(cd "$tmp" && pwd -P)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
known=0
fixed=0
updated=0

# ---------------------------------------------------------------------------------------------
# Helpers

# selected ID: true if ID matches the patterns given on the command line (or there are none).
selected() {
	[ -z "$patterns" ] && return 0
	for p in $patterns; do
		case $1 in
		*"$p"*) return 0 ;;
		esac
	done
	return 1
}

# is_known_bug ID
is_known_bug() {
	[ -f "$G/known-bugs" ] && awk -v id="$1" '$1 == id { found = 1 } END { exit !found }' "$G/known-bugs"
}

# invoke OUT ERR ARGS...: runs drplan ARGS under the time limit; sets rc.
invoke() {
	_out=$1
	_err=$2
	shift 2
	if [ -n "$TIMEOUT_CMD" ]; then
		"$TIMEOUT_CMD" "$TIME_LIMIT" "$DRPLAN" "$@" >"$_out" 2>"$_err" </dev/null
	else
		"$DRPLAN" "$@" >"$_out" 2>"$_err" </dev/null
	fi
	rc=$?
}

# no_final_newline FILE: true if FILE is non-empty and does not end with a newline.
no_final_newline() {
	[ -s "$1" ] && [ "$(tail -c 1 "$1" | wc -l)" -eq 0 ]
}

# put FILE LABEL: copies FILE, marking a missing final newline.
put() {
	cat "$1"
	if no_final_newline "$1"; then
		printf '\n<no newline at end of %s>\n' "$2"
	fi
}

# normalise FILE: absolute paths of the temporary directory and the repository become <tmp> and
# <repo>, so that expected files do not depend on where the tests run.
normalise() {
	T1=$tmp_phys T2=$tmp R1=$repo_phys R2=$repo awk '
	function rep(s, from, to,    i, out) {
		if (from == "")
			return s
		out = ""
		while ((i = index(s, from)) > 0) {
			out = out substr(s, 1, i - 1) to
			s = substr(s, i + length(from))
		}
		return out s
	}
	{
		l = rep($0, ENVIRON["T1"], "<tmp>")
		l = rep(l, ENVIRON["T2"], "<tmp>")
		l = rep(l, ENVIRON["R1"], "<repo>")
		print rep(l, ENVIRON["R2"], "<repo>")
	}' "$1"
}

# text_actual ERR OUT: the actual output of a text-format run: stderr, stdout if any, exit code.
text_actual() {
	{
		put "$1" stderr
		if [ -s "$2" ]; then
			echo '--- stdout:'
			put "$2" stdout
		fi
		echo "exit: $rc"
	} >"$tmp/raw"
	normalise "$tmp/raw"
}

# machine_actual OUT ERR: the same for machine formats, where stdout is the product and stderr must
# stay empty.
machine_actual() {
	{
		put "$1" stdout
		if [ -s "$2" ]; then
			echo '--- stderr (must be empty):'
			put "$2" stderr
		fi
		echo "exit: $rc"
	} >"$tmp/raw"
	normalise "$tmp/raw"
}

# clean_text FILE: diagnostics for a terminal must hold no raw control bytes (other than tab and
# newline) and be valid UTF-8, whatever bytes the plan holds. Prints a complaint if not.
clean_text() {
	n=$(tr -d '\t\n\040-\176\200-\377' <"$1" | wc -c)
	if [ "$n" -ne 0 ]; then
		echo "$n raw control byte(s) in the output"
		return 1
	fi
	if command -v iconv >/dev/null 2>&1 && ! iconv -f UTF-8 -t UTF-8 <"$1" >/dev/null 2>&1; then
		echo "the output is not valid UTF-8"
		return 1
	fi
	return 0
}

case_failed=false
case_why=

# fail_case WHY: records a failure of the current case (a case may fail several ways).
fail_case() {
	case_failed=true
	case_why="$case_why
    $1"
}

# expect_file ID EXPECTED ACTUAL: compares, or with --update rewrites EXPECTED.
expect_file() {
	if [ -f "$2" ] && cmp -s "$2" "$3"; then
		return 0
	fi
	if $update && ! is_known_bug "$1"; then
		cp "$3" "$2"
		echo "updated $2"
		updated=$((updated + 1))
		return 0
	fi
	if [ ! -f "$2" ]; then
		fail_case "missing $2 (run with --update to create it, then review it)"
		return 1
	fi
	fail_case "output differs from $2:"
	diff -u "$2" "$3" | sed 's/^/    /' >"$tmp/diff"
	case_why="$case_why
$(cat "$tmp/diff")"
	return 1
}

# begin ID / end ID: bracket one case.
begin() {
	case_failed=false
	case_why=
}

end() {
	if ! $case_failed; then
		if is_known_bug "$1" && ! $update; then
			echo "FIXED $1: passes now; remove it from $G/known-bugs"
			fixed=$((fixed + 1))
		fi
		passed=$((passed + 1))
		return
	fi
	if is_known_bug "$1"; then
		echo "known bug $1 (see $G/known-bugs)"
		$verbose && echo "$case_why"
		known=$((known + 1))
		return
	fi
	echo "FAIL $1:$case_why"
	failed=$((failed + 1))
}

# ---------------------------------------------------------------------------------------------
# check/: one plan each, text diagnostics.

run_check_case() { # DIR NAME
	id=$1/$2
	selected "$id" || return 0
	begin "$id"
	invoke "$tmp/out" "$tmp/err" check --color never "$G/$1/$2.drp"
	text_actual "$tmp/err" "$tmp/out" >"$tmp/actual"
	why=$(clean_text "$tmp/err") || fail_case "$why"
	expect_file "$id" "$G/$1/$2.expected" "$tmp/actual"
	end "$id"
}

# semantic/ works like check/, for plans that are syntactically valid: each NAME.drp names its
# inventory (a .yaml beside it, or under semantic/inventory/) and may include files from
# subdirectories, which are not cases themselves. The repository root is the --root.
for dir in check semantic; do
	for f in "$G/$dir"/*.drp; do
		[ -f "$f" ] || continue
		name=${f##*/}
		run_check_case "$dir" "${name%.drp}"
	done
	for f in "$G/$dir"/*.expected; do
		[ -f "$f" ] || continue
		[ -f "${f%.expected}.drp" ] || {
			begin "$f"
			fail_case "$f has no ${f%.expected}.drp"
			end "$f"
		}
	done
done

# ---------------------------------------------------------------------------------------------
# fmt/: canonical form, idempotence, --check; or refusal of a file with syntax errors.

# fmt_checks ID DIR NAME: the checks of a formatted case; DIR/NAME.drp is the input, DIR/NAME.fmt
# the expected output.
fmt_checks() {
	id=$1
	in=$2/$3.drp
	want=$2/$3.fmt
	invoke "$tmp/out" "$tmp/err" fmt --color never "$in"
	if [ "$rc" -ne 0 ] || [ -s "$tmp/err" ]; then
		fail_case "fmt $in: exit $rc, stderr: $(head -c 2000 "$tmp/err")"
		return
	fi
	expect_file "$id" "$want" "$tmp/out" || return
	[ -f "$want" ] || return
	# Idempotence: the canonical form formats to itself, and --check accepts it.
	invoke "$tmp/out" "$tmp/err" fmt --color never "$want"
	if [ "$rc" -ne 0 ] || [ -s "$tmp/err" ] || ! cmp -s "$want" "$tmp/out"; then
		fail_case "fmt is not idempotent: fmt $want (exit $rc) differs from its input:"
		diff -u "$want" "$tmp/out" | sed 's/^/    /' >"$tmp/diff"
		case_why="$case_why
$(cat "$tmp/diff")"
	fi
	invoke "$tmp/out" "$tmp/err" fmt --check "$want"
	if [ "$rc" -ne 0 ] || [ -s "$tmp/out" ] || [ -s "$tmp/err" ]; then
		fail_case "fmt --check $want: exit $rc (want 0, no output): $(cat "$tmp/out" "$tmp/err")"
	fi
	# --check on the input names it exactly when it is not canonical.
	invoke "$tmp/out" "$tmp/err" fmt --check "$in"
	if cmp -s "$in" "$want"; then
		want_rc=0
		printf '' >"$tmp/want-out"
	else
		want_rc=1
		printf '%s\n' "$in" >"$tmp/want-out"
	fi
	if [ "$rc" -ne "$want_rc" ] || [ -s "$tmp/err" ] || ! cmp -s "$tmp/out" "$tmp/want-out"; then
		fail_case "fmt --check $in: exit $rc (want $want_rc), stdout '$(cat "$tmp/out")'"
	fi
}

# fmt_refusal ID DIR NAME: fmt of a file with syntax errors prints diagnostics, exits 1 and
# prints nothing on stdout (stdout shows up in the actual output if it is not empty).
fmt_refusal() {
	invoke "$tmp/out" "$tmp/err" fmt --color never "$2/$3.drp"
	text_actual "$tmp/err" "$tmp/out" >"$tmp/actual"
	why=$(clean_text "$tmp/err") || fail_case "$why"
	expect_file "$1" "$2/$3.expected" "$tmp/actual"
}

for f in "$G"/fmt/*.drp; do
	[ -f "$f" ] || continue
	name=${f##*/}
	name=${name%.drp}
	id=fmt/$name
	selected "$id" || continue
	begin "$id"
	if [ -f "$G/fmt/$name.expected" ]; then
		fmt_refusal "$id" "$G/fmt" "$name"
	elif [ -f "$G/fmt/$name.fmt" ] || ! $update; then
		fmt_checks "$id" "$G/fmt" "$name"
	else
		# --update of a new case: a .fmt if fmt accepts the file, a .expected if it refuses it.
		invoke "$tmp/out" "$tmp/err" fmt --color never "$f"
		if [ "$rc" -eq 0 ]; then
			fmt_checks "$id" "$G/fmt" "$name"
		else
			fmt_refusal "$id" "$G/fmt" "$name"
		fi
	fi
	end "$id"
done

# ---------------------------------------------------------------------------------------------
# formats/: machine-readable output of check.

for f in "$G"/formats/*.drp; do
	[ -f "$f" ] || continue
	name=${f##*/}
	name=${name%.drp}
	found=false
	for format in json sarif github; do
		want=$G/formats/$name.$format
		[ -f "$want" ] || continue
		found=true
		id=formats/$name.$format
		selected "$id" || continue
		begin "$id"
		invoke "$tmp/out" "$tmp/err" check --format "$format" "$f"
		machine_actual "$tmp/out" "$tmp/err" >"$tmp/actual"
		[ -s "$tmp/err" ] && fail_case "stderr is not empty"
		expect_file "$id" "$want" "$tmp/actual"
		end "$id"
	done
	if ! $found; then
		begin "formats/$name"
		fail_case "no expected output (add $name.json, $name.sarif or $name.github)"
		end "formats/$name"
	fi
done

# ---------------------------------------------------------------------------------------------
# include/: trees of files; the root is the case's directory.

for d in "$G"/include/*/; do
	d=${d%/}
	[ -f "$d/main.drp" ] || continue # a directory of files that cases include
	name=${d##*/}
	id=include/$name
	selected "$id" || continue
	begin "$id"
	invoke "$tmp/out" "$tmp/err" check --color never --root "$d" "$d/main.drp"
	text_actual "$tmp/err" "$tmp/out" >"$tmp/actual"
	why=$(clean_text "$tmp/err") || fail_case "$why"
	expect_file "$id" "$G/include/$name.expected" "$tmp/actual"
	end "$id"
done

# ---------------------------------------------------------------------------------------------
# generated/: each gen_NAME writes its input into the current directory (a fresh temporary one)
# and may set gen_file (the file given to drplan, default NAME.drp), gen_args (options before it)
# and gen_cwd (a subdirectory to run in). Inputs are deterministic: no clocks, no /dev/urandom.

# bytes N SEED: N pseudo-random bytes (Park-Miller generator, exact in awk's doubles), written
# through printf's octal escapes so that every byte value, NUL included, comes out the same
# everywhere.
bytes() {
	awk -v n="$1" -v x="$2" 'BEGIN {
		line = ""
		for (i = 0; i < n; i++) {
			x = (x * 16807) % 2147483647
			line = line sprintf("\\%03o", int(x / 8388608) % 256)
			if (length(line) >= 8000) {
				print line
				line = ""
			}
		}
		if (line != "")
			print line
	}' | while IFS= read -r chunk; do
		printf "$chunk"
	done
}

# repeat N TEXT: TEXT written N times, without a newline.
repeat() {
	awk -v n="$1" -v s="$2" 'BEGIN {
		out = s
		k = 1
		while (k * 2 <= n) {
			out = out out
			k *= 2
		}
		printf "%s", out
		for (; k < n; k++)
			printf "%s", s
	}'
}

gen_nul_byte() { # DRP006: in a string, in a comment, and between two names
	printf 'site east { adapter sim }\n# a NUL: [\000]\nvm "app\00001" priority 1\nvm app\00002 priority 2\n' >"$1.drp"
}

gen_invalid_utf8() { # DRP005: a stray byte, a truncated sequence, an overlong '/', a surrogate
	printf '# caf\351 (Latin-1, not UTF-8)\nvm "caf\303" priority 1\nvm "\300\257etc" priority 2\nplan p {\n  step prompt "\355\240\200"\n  mode planned \377\n}\n' >"$1.drp"
}

gen_crlf() { # CRLF line ends: columns and carets as with LF, no stray \r in the output
	printf 'site east { adapter sim }\r\nplan p {\r\n  from east to west\r\n  mode plannd\r\n  step prompt "unterminated\r\n  rto 5x\r\n}\r\n' >"$1.drp"
}

gen_crlf_fmt() { # fmt writes LF
	printf '# CRLF file\r\nsite east {\r\n  adapter sim\r\n}\r\nplan p { # trailing\r\n\tfrom east to west\r\n\r\n\r\n  step wait 5m\r\n}\r\n' >"$1.drp"
}

gen_no_final_newline() { # the end of the file is right after the last token
	printf 'plan p {\n  from east to west\n  mode planned' >"$1.drp"
}

gen_no_final_newline_comment() { # the end of the file is right after a comment
	printf 'plan p {\n  mode planned\n  # the end' >"$1.drp"
}

gen_no_final_newline_fmt() { # fmt ends the file with exactly one newline
	printf 'site east { adapter sim } # last' >"$1.drp"
}

gen_unterminated_at_eof() { # a string cut by the end of the file, ending in a backslash
	printf 'plan p {\n  step prompt "abc\\' >"$1.drp"
}

gen_long_line() { # a 10 MiB line: the snippet is a window around the caret, at both ends
	{
		printf 'site east { adapter sim }\nvm x priority 1 '
		repeat 1048576 'abcdefghij'
		printf ' @\nvm y priority 99999999999\n'
	} >"$1.drp"
}

gen_long_string() { # an unterminated 10 MiB string
	{
		printf 'plan p {\n  step prompt "'
		repeat 1048576 'xxxxxxxxxx'
		printf '\n}\n'
	} >"$1.drp"
}

gen_random_bytes() { # 1 MiB of noise: no hang, no crash, at most 50 errors, clean output
	bytes 1048576 20240601 >"$1.drp"
}

gen_terminal_escapes() { # bytes that would drive a terminal are shown as U+FFFD, never raw
	printf 'vm "\033[31mred\033[0m" priority 1 @\nvm "invoice-\342\200\256fdp.exe" priority 2 @ # U+202E, a bidi override\nvm b \033]0;title\007 priority 3\n' >"$1.drp"
}

gen_tabs_and_wide() { # tabs and emoji before the error; JSON columns count code points
	printf '\t\tvm "\360\237\230\200\342\202\254" priority 1 @\n' >"$1.drp"
	gen_args='--format json'
}

gen_include_symlink_escape() { # DRP011: a symlink inside the root that points outside it
	mkdir -p root/sub outside
	printf 'site west { adapter sim }\n' >outside/sites.drp
	printf 'site east { adapter sim }\n' >root/sub/sites.drp
	ln -s ../outside root/link
	ln -s sub root/alias
	printf 'include "alias/sites.drp" # a symlink that stays inside the root: fine\ninclude "link/sites.drp"  # one that leaves it\n' >root/main.drp
	gen_cwd=root
	gen_file=main.drp
}

gen_include_depth() { # DRP010: includes nested deeper than 64
	i=0
	while [ $i -lt 70 ]; do
		printf 'include "n%02d.drp"\n' $((i + 1)) >"n$(printf %02d $i).drp"
		i=$((i + 1))
	done
	printf 'site east { adapter sim }\n' >n70.drp
	gen_file=n00.drp
}

gen_include_unreadable() { # DRP010: a file that exists but cannot be read (skipped as root)
	printf 'site east { adapter sim }\n' >secret.drp
	chmod 000 secret.drp
	printf 'include "secret.drp"\n' >"$1.drp"
}

gen_odd_file_name() { # property escaping of GitHub annotations (",", ":" and "%" in the path)
	printf 'plan p {\n  mode plannd\n}\n' >'plan 1,a:b%.drp'
	gen_file='plan 1,a:b%.drp'
	gen_args='--format github'
}

gen_odd_file_name_sarif() { # a relative URI reference, percent-encoded
	gen_odd_file_name
	gen_args='--format sarif'
}

gen_missing_file() { # exit 2: the file named on the command line cannot be read
	:
}

gen_usage_error() { # exit 2: a usage error is one line and a pointer to --help
	printf 'site east { adapter sim }\n' >"$1.drp"
	gen_args='--color sometimes'
}

generated_cases='nul-byte invalid-utf8 crlf crlf-fmt no-final-newline no-final-newline-comment
no-final-newline-fmt unterminated-at-eof long-line long-string random-bytes terminal-escapes
tabs-and-wide include-symlink-escape include-depth include-unreadable odd-file-name
odd-file-name-sarif missing-file usage-error'

# keys_check ACTUAL KEYS: every line of KEYS must appear in ACTUAL (as a substring of a line).
keys_check() {
	while IFS= read -r key || [ -n "$key" ]; do
		[ -n "$key" ] || continue
		case $key in
		'#'*) continue ;;
		esac
		grep -F -q -e "$key" "$1" || fail_case "no line contains: $key"
	done <"$2"
}

skipped=0
for name in $generated_cases; do
	cid=generated/$name
	selected "$cid" || continue
	begin "$cid"
	base=$G/generated/$name
	if [ "$name" = include-unreadable ] && [ "$(id -u)" -eq 0 ]; then
		echo "skip $cid: root can read a file of mode 000"
		skipped=$((skipped + 1))
		continue
	fi
	dir=$tmp/gen/$name
	mkdir -p "$dir"
	gen_file=$name.drp
	gen_args=
	gen_cwd=.
	fn=gen_$(echo "$name" | tr '-' '_')
	here=$PWD
	cd "$dir" || exit 2
	"$fn" "$name" || fail_case "$fn failed"
	cd "$dir/$gen_cwd" || exit 2
	if [ -f "$here/$base.fmt" ]; then
		invoke "$tmp/out" "$tmp/err" fmt --color never "$gen_file"
		cd "$here" || exit 2
		if [ "$rc" -ne 0 ] || [ -s "$tmp/err" ]; then
			fail_case "fmt: exit $rc, stderr: $(head -c 2000 "$tmp/err")"
		fi
		expect_file "$cid" "$base.fmt" "$tmp/out"
		# Idempotence.
		cp "$base.fmt" "$dir/again.drp"
		invoke "$tmp/out" "$tmp/err" fmt --color never "$dir/again.drp"
		if [ "$rc" -ne 0 ] || ! cmp -s "$base.fmt" "$tmp/out"; then
			fail_case "fmt is not idempotent on $base.fmt (exit $rc)"
		fi
		end "$cid"
		continue
	fi
	# shellcheck disable=SC2086 # gen_args is a list of words
	invoke "$tmp/out" "$tmp/err" check --color never $gen_args "$gen_file"
	cd "$here" || exit 2
	case $gen_args in
	*--format*)
		machine_actual "$tmp/out" "$tmp/err" >"$tmp/actual"
		[ -s "$tmp/err" ] && fail_case "stderr is not empty"
		;;
	*)
		text_actual "$tmp/err" "$tmp/out" >"$tmp/actual"
		why=$(clean_text "$tmp/err") || fail_case "$why"
		;;
	esac
	[ "$rc" -eq 124 ] && fail_case "drplan did not finish within ${TIME_LIMIT}s"
	[ "$rc" -ge 125 ] && fail_case "drplan crashed (exit $rc)"
	size=$(wc -c <"$tmp/actual")
	[ "$size" -le 65536 ] || fail_case "$size bytes of output (a screenful is expected, not a flood)"
	if [ -f "$base.keys" ]; then
		keys_check "$tmp/actual" "$base.keys"
	else
		expect_file "$cid" "$base.expected" "$tmp/actual"
	fi
	end "$cid"
done

# Expected files of generated cases that no longer exist.
for f in "$G"/generated/*; do
	[ -f "$f" ] || continue
	name=${f##*/}
	name=${name%.*}
	case " $(echo $generated_cases) " in
	*" $name "*) ;;
	*)
		begin "generated/$name"
		fail_case "$f belongs to no case in generated_cases"
		end "generated/$name"
		;;
	esac
done

# Entries of known-bugs that name no case.
if [ -z "$patterns" ] && [ -f "$G/known-bugs" ]; then
	while read -r kid _; do
		case $kid in
		'' | '#'*) continue ;;
		check/* | semantic/* | fmt/*) [ -f "$G/$kid.drp" ] ;;
		include/*) [ -f "$G/$kid/main.drp" ] ;;
		formats/*) [ -f "$G/$kid" ] ;;
		generated/*) case " $(echo $generated_cases) " in *" ${kid#generated/} "*) true ;; *) false ;; esac ;;
		*) false ;;
		esac || {
			echo "FAIL $G/known-bugs names $kid, which is not a case"
			failed=$((failed + 1))
		}
	done <"$G/known-bugs"
fi

# ---------------------------------------------------------------------------------------------

if [ "$known" -gt 0 ]; then
	echo "golden: $known known bug(s) still failing, not counted (see $G/known-bugs)"
fi
if [ "$skipped" -gt 0 ]; then
	echo "golden: $skipped case(s) skipped"
fi
if [ "$fixed" -gt 0 ]; then
	echo "golden: $fixed known bug(s) fixed: remove them from $G/known-bugs"
fi
if $update; then
	echo "golden: $updated expected file(s) rewritten; review them with git diff before committing"
fi
echo "golden: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
