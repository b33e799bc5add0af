# Sourced by tests/install/relocate.sh and tools/package.sh: an installed
# emoncrypt serve on a free loopback port, and the case count of a
# test-server run.  The caller defines fail() and $work (a scratch dir,
# removed with the server by the EXIT trap set here).
serve_pid=""
key=0123456789abcdef0123456789abcdef
serve_cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    rm -rf "$work"
}
trap serve_cleanup EXIT

# start_serve EMONCRYPT: serve user 1 with $key (4 MiB bodies, so the large
# vectors are answered as Emoncms does, not with 413); sets $url.
start_serve() {
    env -u EMONCRYPT_VECTORS "$1" serve --listen 127.0.0.1:0 --userid 1 --apikey $key --quiet \
        --max-body 4194304 --store "$work/rows.jsonl" --ready-file "$work/url" &
    serve_pid=$!
    for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
    [ -s "$work/url" ] || fail "$1 serve did not start"
    url=$(cat "$work/url")
}

# total FILE: the case count of test-server's summary line in FILE.
total() { sed -n 's/^emoncrypt test-server: \([0-9]*\) cases against.*/\1/p' "$1"; }
