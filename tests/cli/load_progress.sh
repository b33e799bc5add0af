#!/bin/sh
# emoncrypt load prints a line a second on stderr while it runs (issue 13
# point 6): at least 2 in a 3 s run, none on stdout or in --json, none with
# -q, no key anywhere.  Bounded: two runs of 3 s against serve on port 0.
ec=$1
key=0123456789abcdef0123456789abcdef
work=$(mktemp -d)
trap 'kill "$serve" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.txt; do echo "== $f"; cat "$f"; done; exit 1; }
"$ec" serve -l 127.0.0.1:0 -u 1 -k "$key" -q --ready-file "$work/ready" 2>"$work/serve.txt" &
serve=$!
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.05; done
[ -s "$work/ready" ] || fail "serve did not start"
url=$(cat "$work/ready")
"$ec" load "$url" -u 1 -k "$key" -d 3 -r 50 --json "$work/load.json" >"$work/out.txt" 2>"$work/err.txt" ||
    fail "load exit $?"
n=$(grep -c '^emoncrypt load: [0-9]* s of 3: [0-9]* posts ([0-9]*/s), [0-9]* acked' "$work/err.txt")
[ "$n" -ge 2 ] || fail "$n progress lines on stderr in a 3 s run, expected >= 2"
grep -q 'emoncrypt load: [0-9]* s of' "$work/out.txt" "$work/load.json" && fail "a progress line on stdout or in the JSON"
"$ec" load "$url" -u 1 -k "$key" -d 3 -r 50 -q >"$work/outq.txt" 2>"$work/errq.txt" || fail "load -q exit $?"
grep -q 'emoncrypt load: [0-9]* s of' "$work/errq.txt" "$work/outq.txt" && fail "a progress line with -q"
grep -qi "$key" "$work"/*.txt "$work/load.json" && fail "the key in an output"
echo "load: $n progress lines in 3 s, none on stdout, in the JSON or with -q"
