#!/usr/bin/env bash
# issue 13 points 5 and 7.  One summary: test-server (with and without -q)
# and test-client print exactly one summary line and one result line, and
# its counts are the whole run's (the FAIL rows shown, the JSON report's
# total).  Report paths are checked before any traffic: --junit/--json/
# --html/--port-file in a missing directory is exit 2 at once, one line
# naming the path, and the target saw no request.
# usage: summary_paths.sh EMONCRYPT
set -u
ec=$1
key=0123456789abcdef0123456789abcdef
work=$(mktemp -d)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
serve_pid=
cleanup() { [[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# a server that FAILs some of section 4 (the ack in hex), logging every request
"$ec" serve --listen 127.0.0.1:0 --userid 1 --apikey "$key" --mutant ack-hex \
    --ready-file "$work/url" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do [[ -s "$work/url" ]] && break; sleep 0.1; done
[[ -s "$work/url" ]] || { echo "FAIL: emoncrypt serve did not start"; exit 1; }
url=$(cat "$work/url")
json_total() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$1"; }
json_fails() { python3 -c 'import json,sys; print(sum(r["verdict"] == "FAIL" for r in json.load(open(sys.argv[1]))["results"]))' "$1"; }

# one_summary NAME OUT JSON CMD: exactly one summary and one result line, the
# summary's case and FAIL counts = the JSON report's
one_summary() {
    local name=$1 out=$2 json=$3 cmd=$4
    local n
    n=$(grep -c "^emoncrypt $cmd: " "$out")
    [[ $n -eq 1 ]] || fail "$name: $n summary lines"
    n=$(grep -c '^result: ' "$out")
    [[ $n -eq 1 ]] || fail "$name: $n result lines"
    grep -q ' role) against ' "$out" && fail "$name: the report writer's own summary is printed too"
    local line fails total
    line=$(grep "^emoncrypt $cmd: " "$out")
    fails=$(sed -n 's/.*[:,] \([0-9]*\) FAIL,.*/\1/p' <<<"$line")
    total=$(json_total "$json")
    [[ "$fails" == "$(json_fails "$json")" ]] || fail "$name: summary says '$fails' FAIL, the report has $(json_fails "$json"): $line"
    if [[ $cmd == test-server ]]; then
        [[ "$line" == "emoncrypt test-server: $total cases against "* ]] || fail "$name: summary is not of $total cases: $line"
    fi
    echo "ok: $name: $line"
}

"$ec" test-server "$url" -u 1 -k "$key" --section 4 -q --json "$work/q.json" >"$work/q.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || fail "-q: exit $rc, expected 1 (FAILs)"
one_summary "test-server -q" "$work/q.out" "$work/q.json" test-server
shown=$(grep -c '^FAIL ' "$work/q.out")
[[ $shown -eq $(json_fails "$work/q.json") && $shown -gt 0 ]] || fail "-q: $shown FAIL rows shown, the report has $(json_fails "$work/q.json")"
grep -q '^PASS ' "$work/q.out" && fail "-q: PASS rows shown"

"$ec" test-server "$url" -u 1 -k "$key" --section 4 --json "$work/v.json" >"$work/v.out" 2>/dev/null
one_summary "test-server" "$work/v.out" "$work/v.json" test-server
rows=$(grep -cE '^(PASS|FAIL|NON-STRICT|INFO|SKIP|INCOMPLETE) ' "$work/v.out")
[[ $rows -eq $(json_total "$work/v.json") ]] || fail "test-server: $rows rows, the report has $(json_total "$work/v.json")"

"$ec" test-client --listen 127.0.0.1:0 -u 1 -k "$key" --self-test-mutant fixed-iv -q \
    --json "$work/c.json" >"$work/c.out" 2>"$work/c.err"
rc=$?
[[ $rc -eq 1 ]] || fail "test-client fixed-iv: exit $rc, expected 1"
one_summary "test-client" "$work/c.out" "$work/c.json" test-client

# report paths in a directory that does not exist: exit 2 at once, no request
before=$(wc -l <"$work/serve.log")
for opt in --junit --json --html; do
    start=$(date +%s%N)
    "$ec" test-server "$url" -u 1 -k "$key" "$opt" "$work/nonexistent/x.out" >"$work/p.out" 2>"$work/p.err"
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    [[ $rc -eq 2 ]] || fail "test-server $opt nonexistent/x.out: exit $rc, expected 2"
    [[ $(wc -l <"$work/p.err") -eq 1 ]] && grep -qF -- "$opt: cannot write $work/nonexistent/x.out" "$work/p.err" ||
        fail "test-server $opt: stderr: $(cat "$work/p.err")"
    [[ ! -s "$work/p.out" ]] || fail "test-server $opt: printed a report"
    echo "ok: test-server $opt in a missing directory: exit $rc in $ms ms"
done
"$ec" load "$url" -u 1 -k "$key" --duration 1 --json "$work/nonexistent/x.json" >"$work/p.out" 2>"$work/p.err"
rc=$?
[[ $rc -eq 2 ]] && grep -qF -- "--json: cannot write $work/nonexistent/x.json" "$work/p.err" ||
    fail "load --json nonexistent: exit $rc, $(cat "$work/p.err")"
[[ $(wc -l <"$work/serve.log") -eq $before ]] || fail "the server saw requests from a run whose report path is bad"
# a path that exists as a directory
"$ec" test-server "$url" -u 1 -k "$key" --junit "$work" >/dev/null 2>"$work/p.err"
rc=$?
[[ $rc -eq 2 ]] && grep -qF "cannot write $work" "$work/p.err" || fail "--junit DIR: exit $rc, $(cat "$work/p.err")"
[[ $(wc -l <"$work/serve.log") -eq $before ]] || fail "the server saw requests from a run whose report path is a directory"
echo "ok: no request from a run with a bad report path"
# a good path that did not exist is not left behind empty by the check
"$ec" test-server http://127.0.0.1:9 -u 1 -k "$key" --junit "$work/later.xml" >/dev/null 2>&1
[[ -e "$work/later.xml" ]] && fail "an unreachable run left an empty $work/later.xml"

# test-client: exit 2 before it listens (no port file written)
for opt in --junit --port-file; do
    extra=()
    [[ $opt == --junit ]] && extra=(--port-file "$work/port.junit")
    "$ec" test-client --listen 127.0.0.1:0 -u 1 -k "$key" --self-test "$opt" "$work/nonexistent/x" \
        "${extra[@]}" >"$work/p.out" 2>"$work/p.err"
    rc=$?
    [[ $rc -eq 2 ]] && grep -qF -- "cannot write $work/nonexistent/x" "$work/p.err" ||
        fail "test-client $opt nonexistent: exit $rc, $(cat "$work/p.err")"
done
[[ -e "$work/port.junit" ]] && fail "test-client listened although --junit cannot be written"
echo "ok: test-client checks its paths before listening"

[[ $failures -eq 0 ]] || exit 1
echo "summary_paths: all checks passed"
