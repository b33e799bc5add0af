#!/usr/bin/env bash
# Runs one command and checks what it did; the CLI's ctest cases
# (cmake/cli.cmake) are each one call of this script.
#
# usage: expect.sh [checks…] -- COMMAND ARGS…
#   --exit N            the exit status must be N (default 0)
#   --stdin FILE        feed FILE on stdin (default: nothing)
#   --stdout-file FILE  stdout must equal FILE byte for byte
#   --stdout-has TEXT   stdout must contain the line TEXT (repeatable)
#   --stderr-line TEXT  stderr must be exactly the one line TEXT
#   --stderr-one-line   stderr must be exactly one line
#   --never TEXT        TEXT must appear in neither stdout nor stderr
set -u

want_exit=0
stdin_file=/dev/null
stdout_file=""
stderr_line=""
stderr_one_line=0
declare -a stdout_has=() never=()

while [[ $# -gt 0 && "$1" != "--" ]]; do
    case "$1" in
        --exit) want_exit=$2; shift 2 ;;
        --stdin) stdin_file=$2; shift 2 ;;
        --stdout-file) stdout_file=$2; shift 2 ;;
        --stdout-has) stdout_has+=("$2"); shift 2 ;;
        --stderr-line) stderr_line=$2; stderr_one_line=1; shift 2 ;;
        --stderr-one-line) stderr_one_line=1; shift ;;
        --never) never+=("$2"); shift 2 ;;
        *) echo "expect.sh: unknown check $1" >&2; exit 2 ;;
    esac
done
shift
[[ $# -gt 0 ]] || { echo "expect.sh: no command" >&2; exit 2; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
got_exit=0
"$@" <"$stdin_file" >"$scratch/out" 2>"$scratch/err" || got_exit=$?

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

printf 'command:'; printf ' %q' "$@"; printf '\n'
if [[ $got_exit -ne $want_exit ]]; then
    fail "exit status: expected $want_exit, got $got_exit"
fi
if [[ -n "$stdout_file" ]] && ! cmp -s "$stdout_file" "$scratch/out"; then
    fail "stdout differs from $stdout_file:"
    diff -u "$stdout_file" "$scratch/out" | head -40
fi
for line in ${stdout_has[@]+"${stdout_has[@]}"}; do
    grep -qxF -- "$line" "$scratch/out" || fail "stdout lacks the line: $line"
done
if [[ $stderr_one_line -eq 1 ]]; then
    lines=$(wc -l <"$scratch/err")
    if [[ $lines -ne 1 || -n "$(tail -c 1 "$scratch/err")" ]]; then
        fail "stderr: expected exactly one line, got $lines line(s)"
    fi
fi
if [[ -n "$stderr_line" && "$(cat "$scratch/err")" != "$stderr_line" ]]; then
    fail "stderr: expected '$stderr_line'"
fi
for text in ${never[@]+"${never[@]}"}; do
    if grep -qiF -- "$text" "$scratch/out" "$scratch/err"; then
        fail "the output contains '$text', which must never be printed"
    fi
done

if [[ $failures -ne 0 ]]; then
    echo "--- stdout"; head -c 4000 "$scratch/out"
    echo "--- stderr"; head -c 4000 "$scratch/err"
    exit 1
fi
echo "ok (exit $got_exit)"
