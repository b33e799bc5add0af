#!/usr/bin/env bash
# serve, send, test-server and test-client against each other, each under
# valgrind (ctest valgrind/serve-send-test-server): zero errors, zero
# definite leaks in all of them, serve included once stopped with SIGTERM.
#
# usage: valgrind_pair.sh EMONCRYPT WORKDIR VALGRIND [VALGRIND-OPTIONS…]
set -u
ec=$1 work=$2
shift 2
vg=("$@")
key=0123456789abcdef0123456789abcdef
rm -rf "$work"
mkdir -p "$work"
fail() { echo "valgrind_pair: $*" >&2; for f in "$work"/*.txt; do echo "== $f" >&2; tail -20 "$f" >&2; done; exit 1; }

"${vg[@]}" "$ec" serve --listen 127.0.0.1:0 --userid 1 --apikey "$key" \
    --store "$work/store.jsonl" --ready-file "$work/ready" >"$work/serve.txt" 2>&1 &
serve=$!
trap 'kill -9 $serve 2>/dev/null' EXIT
for _ in $(seq 300); do [[ -s "$work/ready" ]] && break; sleep 0.1; done
[[ -s "$work/ready" ]] || fail "serve did not start under valgrind in 30 s"
url=$(cat "$work/ready")

"${vg[@]}" "$ec" send "$url" --userid 1 --apikey "$key" --interval-ms 0 \
    'node=vg&fulljson={"power1":1}' >"$work/send.txt" 2>&1 || fail "send: exit $?"
"${vg[@]}" "$ec" test-server "$url" --userid 1 --apikey "$key" --section 3 --no-vectors -q \
    >"$work/test-server.txt" 2>&1 || fail "test-server: exit $?"

# The client role: test-client as the server, send as the device.
"${vg[@]}" "$ec" test-client --listen 127.0.0.1:0 --port-file "$work/port" --userid 1 \
    --apikey "$key" --scenario happy --requests 2 --linger-ms 500 --duration 120 -q \
    >"$work/test-client.txt" 2>&1 &
mock=$!
for _ in $(seq 300); do [[ -s "$work/port" ]] && break; sleep 0.1; done
[[ -s "$work/port" ]] || fail "test-client did not start under valgrind in 30 s"
# happy: an ack, then one more post to see the device did not resend.
for n in 2 3; do
    "${vg[@]}" "$ec" send "http://127.0.0.1:$(cat "$work/port")" --userid 1 --apikey "$key" \
        --timeout-ms 30000 --retries 0 "node=vg&fulljson={\"power1\":$n}" \
        >>"$work/send-mock.txt" 2>&1 || fail "send to test-client: exit $?"
done
wait $mock || fail "test-client: exit $?"

kill -TERM $serve
wait $serve
rc=$?
trap - EXIT
[[ $rc -eq 0 ]] || fail "serve (stopped with SIGTERM): exit $rc"
grep -q '"node":"vg"' "$work/store.jsonl" || fail "the row sent is not in the store"
echo "valgrind_pair: serve, send, test-server and test-client clean under valgrind"
