#!/usr/bin/env bash
# report/strict-verdict (issue 13 point 2): one --strict rule for every
# report.  Against `emoncrypt serve` (answers as Emoncms does), two cases
# whose only fault is NON-STRICT:
#   without --strict  exit 0, no <failure> in the JUnit
#   with --strict     exit 1, each NON-STRICT is a <failure type="NON-STRICT">
#                     in JUnit (valid against tests/data/junit.xsd), "failure":
#                     true in JSON, and the console says result: FAIL.
# usage: strict_verdict.sh EMONCRYPT SOURCE_DIR [catches]
#   catches: the "strict" run leaves --strict out, so the checks must fail
#   (report/strict-verdict-catches).
set -u
ec=$1 src=$2 mode=${3:-}
strict_flag=--strict
[[ $mode == catches ]] && strict_flag=--no-vectors
key=00112233445566778899aabbccddeeff
work=$(mktemp -d)
serve_pid=""
trap '[[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$ec" serve -l 127.0.0.1:0 -u 1 -k "$key" -q --ready-file "$work/ready" 2>"$work/serve.err" &
serve_pid=$!
for _ in $(seq 100); do [[ -s $work/ready ]] && break; sleep 0.1; done
[[ -s $work/ready ]] || { echo "serve did not start"; cat "$work/serve.err"; exit 1; }
url=$(cat "$work/ready")
cases=(--case server/4.quirk/get-method --case server/4.body/space)

run() { # NAME ARGS…: runs test-server, leaves $work/NAME.{out,xml,json,rc}
    local name=$1; shift
    "$ec" test-server "$url" --userid 1 --apikey "$key" --no-vectors "${cases[@]}" \
        --junit "$work/$name.xml" --json "$work/$name.json" "$@" >"$work/$name.out" 2>&1
    echo $? >"$work/$name.rc"
}
run compat
run strict "$strict_flag"

[[ $(cat "$work/compat.rc") == 0 ]] || fail "compat run: exit $(cat "$work/compat.rc"), expected 0"
grep -q '<failure' "$work/compat.xml" && fail "compat run: a <failure> in the JUnit"
[[ $(cat "$work/strict.rc") == 1 ]] || fail "strict run: exit $(cat "$work/strict.rc"), expected 1"
n=$(grep -c '<failure message="NON-STRICT (--strict): [^"]*" type="NON-STRICT">' "$work/strict.xml")
[[ $n == 2 ]] || fail "strict run: $n NON-STRICT <failure> elements in the JUnit, expected 2"
grep -q '<testsuites name="server" tests="2" failures="2"' "$work/strict.xml" ||
    fail "strict run: the JUnit totals do not count the 2 NON-STRICT as failures"
grep -q 'NON-STRICT (--strict)' "$work/compat.xml" && fail "compat run: JUnit says --strict"
grep -q '"failure": true' "$work/strict.json" || fail "strict run: no \"failure\": true in the JSON"
grep -q '"strict": true' "$work/strict.json" || fail "strict run: no \"strict\": true in the JSON"
grep -q '"failure": true' "$work/compat.json" && fail "compat run: \"failure\": true in the JSON"
grep -qx 'result: FAIL' "$work/strict.out" || fail "strict run: the console does not say result: FAIL"
if command -v xmllint >/dev/null; then
    for f in compat strict; do
        xmllint --noout --schema "$src/tests/data/junit.xsd" "$work/$f.xml" 2>&1 ||
            fail "$f run: the JUnit is not valid against tests/data/junit.xsd"
    done
fi
if [[ $failures -ne 0 ]]; then
    for f in compat strict; do echo "--- $f:"; cat "$work/$f.out"; done
    exit 1
fi
echo "strict-verdict: compat exit 0, strict exit 1 with 2 NON-STRICT failures in JUnit and JSON"
