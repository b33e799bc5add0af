#!/usr/bin/env bash
# test-client's memory is bounded (issue 14 point 5): the mock keeps only
# what its audit needs of each request, not the request.  The reference
# client (`emoncrypt send --bulk`, one CSV row per post) posts 1,000 and
# then 9,000 more requests to one test-client; its VmRSS after 10 k may
# exceed the one after 1 k by at most LIMIT_KIB (default 4 MiB; the old
# mock that kept every request grew ~230 MiB here).  The capture is
# written as the requests arrive (>= 1,000 lines while it still runs),
# and the run's report is still all PASS/INFO over the 10,000 requests.
#
#   client_memory.sh EMONCRYPT [LIMIT_KIB]
set -u
exe=$1
limit_kib=${2:-4096}
key=0123456789abcdef0123456789abcdef
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

fail() { echo "client_memory: $*" >&2; for f in "$work"/*.txt; do echo "== $f" >&2; tail -n 40 "$f" >&2; done; exit 1; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }

# rows FIRST COUNT: a CSV of COUNT rows from row FIRST on (10 s apart).
rows() {
    echo "time,power1,power2"
    awk -v first="$1" -v n="$2" 'BEGIN { for (i = first; i < first + n; i++)
        printf "%d,%d.5,%d\n", 1764000000 + i * 10, 100 + i % 1000, 200 + i % 777 }'
}

send() {
    "$exe" send "http://127.0.0.1:$port" --userid 1 --apikey "$key" --bulk "$1" --rows-per-post 1 \
        --interval-ms 0 --retry-ms 20 --timeout-ms 5000 --retries 3 -q 2>>"$work/send.txt" \
        || fail "send $1 exited $?"
}

rows 0 1000 >"$work/a.csv"
rows 1000 9000 >"$work/b.csv"
"$exe" test-client --listen 127.0.0.1:0 --port-file "$work/port" --userid 1 --apikey "$key" \
    --scenario happy --linger-ms 120000 --duration 120 --capture "$work/capture.jsonl" -q \
    >"$work/report.txt" 2>"$work/server.txt" &
server=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || fail "test-client did not start"
port=$(cat "$work/port")

send "$work/a.csv"
rss_1k=$(rss_kib)
lines=$(grep -c '"exchange"' "$work/capture.jsonl")
[ "$lines" -ge 1000 ] || fail "the capture holds $lines exchanges after 1000 requests: not streamed"
send "$work/b.csv"
rss_10k=$(rss_kib)
kill -INT "$server"
wait "$server"
rc=$?
server=
growth=$((rss_10k - rss_1k))
echo "test-client VmRSS: ${rss_1k} kB after 1000 requests, ${rss_10k} kB after 10000: +${growth} kB (limit ${limit_kib} kB)"
[ "$rc" -eq 0 ] || fail "test-client exited $rc"
grep -q "10000 requests (10000 posts)" "$work/report.txt" || fail "the report does not count 10000 posts"
[ "$(grep -c '"exchange"' "$work/capture.jsonl")" -eq 10000 ] || fail "the capture does not hold 10000 exchanges"
[ "$growth" -lt "$limit_kib" ] || fail "VmRSS grew ${growth} kB from 1 k to 10 k requests (limit ${limit_kib} kB)"
echo "client_memory: OK"
