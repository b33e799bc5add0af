#!/usr/bin/env bash
# Every command of the table answers --help and `help CMD` with exit 0 and
# its usage on stdout, and the top-level --help lists it.
# usage: help_all.sh EMONCRYPT
set -u
ec=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

top=$("$ec" --help) || fail "emoncrypt --help: exit $?"
"$ec" --version | grep -qE '^emoncrypt [0-9]' || fail "emoncrypt --version"
mapfile -t commands < <("$ec" --list-commands)
[[ ${#commands[@]} -gt 0 ]] || fail "--list-commands listed nothing"
for cmd in "${commands[@]}"; do
    grep -qE "^  $cmd " <<<"$top" || fail "emoncrypt --help does not list $cmd"
    for form in "$cmd --help" "$cmd -h" "help $cmd"; do
        # shellcheck disable=SC2086
        out=$("$ec" $form 2>&1)
        rc=$?
        [[ $rc -eq 0 ]] || fail "emoncrypt $form: exit $rc"
        [[ "$out" == "usage: emoncrypt $cmd"* ]] || fail "emoncrypt $form: no usage line"
    done
    echo "ok: $cmd"
done
[[ $failures -eq 0 ]] || exit 1
