#!/bin/sh
# serve's request log is buffered (issue 17) and yet loses no line on a
# normal stop: right after 200 posts, SIGTERM (then, in a second run,
# SIGINT) stops serve, and its stderr holds one line per request, as many
# as its own "stopped after N requests" says.  Under strace (when it can
# trace here) the first run also counts serve's write(2)s to stderr: fewer
# than a quarter of the requests (a line was a write each).
ec=$1
key=0123456789abcdef0123456789abcdef
posts=200
work=$(mktemp -d)
trap 'kill "$serve" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.txt; do echo "== $f"; tail -5 "$f"; done; exit 1; }
tracer=
if strace -f -qq -e trace=write -o /dev/null true 2>/dev/null; then
    tracer="strace -f -qq -e trace=write -o $work/trace"
fi
for sig in TERM INT; do
    rm -f "$work/ready"
    $tracer "$ec" serve -l 127.0.0.1:0 -u 1 -k "$key" --ready-file "$work/ready" 2>"$work/serve.txt" &
    serve=$!
    for _ in $(seq 200); do [ -s "$work/ready" ] && break; sleep 0.05; done
    [ -s "$work/ready" ] || fail "serve did not start"
    "$ec" load "$(cat "$work/ready")" -u 1 -k "$key" -D 4 -n $posts -q >"$work/load.txt" 2>&1 ||
        fail "load exit $?"
    # the signal goes to serve itself, also when strace runs it
    pid=$serve
    [ -n "$tracer" ] && pid=$(pgrep -P "$serve")
    kill -"$sig" "$pid"
    wait "$serve" || fail "serve exit $? on SIG$sig"
    serve=
    n=$(sed -n 's/^emoncrypt serve: stopped after \([0-9]*\) requests.*/\1/p' "$work/serve.txt")
    lines=$(grep -c ' -> 200 ok user 1, 2 rows stored$' "$work/serve.txt")
    [ "$n" = "$posts" ] || fail "SIG$sig: serve counted '$n' requests, load sent $posts"
    [ "$lines" -eq "$n" ] || fail "SIG$sig: $lines request lines in the log for $n requests"
    if [ -n "$tracer" ]; then
        writes=$(grep -c '^[0-9]* *write(2,' "$work/trace")
        [ $((writes * 4)) -lt "$posts" ] || fail "$writes writes to stderr for $posts requests: not buffered"
        echo "SIG$sig: $lines lines, $writes write(2)s to stderr"
        tracer=
    else
        echo "SIG$sig: $lines lines"
    fi
done
grep -qi "$key" "$work"/*.txt && fail "the key in serve's log"
echo "every request's line is in the log after SIGTERM and SIGINT"
