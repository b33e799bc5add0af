#!/usr/bin/env bash
# ctest client/cli/no-device (issue 13 point 6, issue 11 point 5): test-client
# with no device at all ends at --duration, says "no device has connected yet
# to ADDR" after 10 s (also without a terminal), prints status lines every
# 5 s only on a terminal (script(1) gives it one), and reports INCOMPLETE,
# never FAIL, with exit 2.
# usage: no_device.sh EMONCRYPT WORKDIR
set -u
ec=$1 work=$2
key=0123456789abcdef0123456789abcdef
rm -rf "$work"
mkdir -p "$work"
fail() { echo "no_device: $*" >&2; exit 1; }
args=(test-client --listen 127.0.0.1:0 --userid 1 --apikey "$key" --duration 12)

"$ec" "${args[@]}" >"$work/plain.out" 2>"$work/plain.err" &
plain=$!
tty_ok=0
if command -v script >/dev/null; then
    tty_ok=1
    script -qec "$(printf '%q ' "$ec" "${args[@]}") >$(printf '%q' "$work/tty.out")" \
        "$work/tty.typescript" </dev/null >/dev/null 2>&1
    tty_rc=$?
fi
wait $plain
rc=$?
[[ $rc -eq 2 ]] || { cat "$work/plain.err"; fail "no device: exit $rc, want 2 (INCOMPLETE)"; }
grep -q "^emoncrypt test-client: no device has connected yet to http://127.0.0.1:[0-9]* (after 1[0-9] s)" \
    "$work/plain.err" || { cat "$work/plain.err"; fail "no 'no device has connected yet' line"; }
[[ $(grep -c "no device has connected" "$work/plain.err") -eq 1 ]] || fail "the no-device line is not said once"
grep -q "requests seen" "$work/plain.err" && fail "a status line without a terminal"
grep -q "^result: INCOMPLETE" "$work/plain.out" || fail "no 'result: INCOMPLETE'"
grep -q "^FAIL" "$work/plain.out" && { grep "^FAIL" "$work/plain.out"; fail "a FAIL with no device"; }
grep -q "no device connected in this run" "$work/plain.out" || fail "the INCOMPLETE message does not say no device connected"
grep -q "state saved" "$work/plain.out" && fail "a state was saved without --state"
echo "no device: exit 2, INCOMPLETE, $(grep -c '^INCOMPLETE' "$work/plain.out") scenarios, the no-device line once"
if [[ $tty_ok -eq 1 ]]; then
    [[ $tty_rc -eq 2 ]] || fail "on a terminal: exit $tty_rc, want 2"
    n=$(grep -c "requests seen, [0-9]*/12 scenarios done, [0-9]* s left" "$work/tty.typescript")
    [[ $n -ge 2 ]] || { cat "$work/tty.typescript"; fail "on a terminal: $n status lines in 12 s, want at least 2"; }
    grep -q "requests seen" "$work/tty.out" && fail "a status line in the report (stdout)"
    echo "on a terminal: $n status lines, none in the report"
else
    echo "SKIP the terminal part: no script(1)"
fi
