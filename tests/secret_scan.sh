#!/usr/bin/env bash
# No secrets out: runs every emoncrypt command with a known write API key
# and searches everything they wrote — stdout, stderr, every report,
# capture, store and CSV file — for the key: as hex in either case, as
# base64 of its 16 bytes (standard and URL alphabets, with and without
# '='), and as the raw bytes.  None may contain it.  Then, as a control
# that the search works, the commands that take --show-secrets are run
# with it, and the key must show up there.
#
# usage: secret_scan.sh EMONCRYPT WORKDIR      (ctest reliability/secret-scan)
set -u

ec=$1
work=$2
rm -rf "$work"
mkdir -p "$work/out" "$work/shown"
cd "$work" || exit 2

# A key no vector and no test uses, so a hit cannot come from elsewhere;
# and a foreign one, that a peer sends but no command was given (another
# account's key: found by its place, ?apikey= or Bearer, not by its value).
key=5e3f0c9a7b2d4e6f8a1c3b5d7e9f0a2b
foreign=c0ffee00c0ffee00c0ffee00c0ffee00
py=/usr/bin/python3
failures=0
pt='node=secret&fulljson={"power1":100,"power2":200}'

# run NAME COMMAND… — run it, keep its stdout and stderr under out/.
run() {
    local name=$1
    shift
    "$@" >"out/$name.out" 2>"out/$name.err" </dev/null
    echo "$?" >"out/$name.rc"
}

# scan DIR — print every file under DIR that holds the key in any form.
scan() {
    "$py" - "$1" "$key" "$foreign" <<'PY'
import base64, pathlib, sys
root = pathlib.Path(sys.argv[1])
forms = set()
for key in sys.argv[2:]:
    raw = bytes.fromhex(key)
    forms |= {key.encode(), key.upper().encode(), raw}
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms.add(enc)
        forms.add(enc.rstrip(b"="))
for f in sorted(p for p in root.rglob("*") if p.is_file()):
    data = f.read_bytes()
    for form in forms:
        if form in data:
            print(f"{f}: contains the key ({form[:12]!r}…)")
            break
PY
}

# raw PORT OUT REQUEST — send REQUEST (printf format, \r\n line ends) to
# 127.0.0.1:PORT by bash's /dev/tcp, the answer into OUT (no curl needed).
raw() {
    local port=$1 out=$2 request=$3
    if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
        # shellcheck disable=SC2059
        printf "$request" >&3
        timeout 5 cat <&3 >"$out"
        exec 3<&-
    fi
}

# key_places PORT DIR — requests that put the key where a careless device
# does: in the query (?apikey=), as a path segment (/input/post/KEY), in a
# Bearer header, upper-case, base64, in a form field, and a foreign key in
# the query and a Bearer header.  The answers (the peer's own) go to
# raw-DIR-*.out beside out/, not searched: the logs are what count.
key_places() {
    local port=$1 dir=$2 b64 up
    b64=$("$py" -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$key")
    up=${key^^}
    local h='Host: 127.0.0.1\r\nConnection: close\r\n'
    raw "$port" "raw-$dir-query.out" "GET /input/post?apikey=$key&node=q&fulljson=%%7B%%22a%%22:1%%7D HTTP/1.1\r\n$h\r\n"
    raw "$port" "raw-$dir-path.out" "POST /input/post/$key HTTP/1.1\r\n${h}Content-Length: 0\r\n\r\n"
    raw "$port" "raw-$dir-upper.out" "POST /input/post/$up/$b64 HTTP/1.1\r\n${h}Content-Length: 0\r\n\r\n"
    raw "$port" "raw-$dir-bearer.out" "POST /input/post HTTP/1.1\r\n${h}Authorization: Bearer $key\r\nContent-Length: 0\r\n\r\n"
    raw "$port" "raw-$dir-form.out" "POST /input/post HTTP/1.1\r\n${h}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 46\r\n\r\napikey=$key&node=1"
    raw "$port" "raw-$dir-foreign.out" "GET /input/post?node=q&apikey=$foreign HTTP/1.1\r\n$h\r\n"
    raw "$port" "raw-$dir-foreign-bearer.out" "GET /input/get HTTP/1.1\r\n${h}Authorization: Bearer $foreign\r\n\r\n"
}

# key_in_clear DIR [--show-secrets] — test-client with, as the device, a
# mutant of send that puts the key in the URL (?apikey=…): the key reaches
# the mock in clear, so every writer must redact it.
key_in_clear() {
    local dir=$1
    shift
    rm -f "$dir/port"
    "$ec" test-client --listen 127.0.0.1:0 --port-file "$dir/port" --userid 1 --apikey "$key" \
        --scenario happy --requests 8 --linger-ms 300 --duration 10 -v "$@" \
        --capture "$dir/mutant-capture.jsonl" --json "$dir/mutant.json" \
        --junit "$dir/mutant.junit.xml" --html "$dir/mutant.html" \
        >"$dir/mutant-test-client.out" 2>"$dir/mutant-test-client.err" </dev/null &
    local mock=$!
    for _ in $(seq 100); do [[ -s "$dir/port" ]] && break; sleep 0.05; done
    key_places "$(cat "$dir/port")" "$dir"
    "$ec" send "http://127.0.0.1:$(cat "$dir/port")" --userid 1 --apikey "$key" \
        --mutant apikey-in-query --retries 0 --timeout-ms 2000 "$pt" \
        >"$dir/mutant-send.out" 2>"$dir/mutant-send.err" </dev/null
    wait "$mock"
    echo "$?" >"$dir/mutant-test-client.rc"
    rm -f "$dir/port"
}

# ---- start a reference server to talk to -----------------------------------
"$ec" serve --listen 127.0.0.1:0 --userid 1 --apikey "$key" --username emonuser \
    --store out/serve-store.jsonl --ready-file ready >out/serve.out 2>out/serve.err &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null' EXIT
for _ in $(seq 100); do [[ -s ready ]] && break; sleep 0.1; done
url=$(cat ready 2>/dev/null)
if [[ -z "$url" ]]; then
    echo "secret_scan: emoncrypt serve did not start" >&2
    exit 1
fi


# serve's request log (its stderr) must not print what the peers sent.
key_places "${url##*:}" out
printf '%s\n' "$pt" >plaintext.txt
printf 'time,power1,power2\n1700000000,1,2\n1700000010,3,\n' >rows.csv

# ---- every command, with the key ------------------------------------------
run encode-http "$ec" encode --apikey "$key" --userid 1 "$pt"
run encode-curl "$ec" encode --apikey "$key" --userid 1 --format curl --url "$url" "$pt"
run encode-json "$ec" encode --apikey "$key" --userid 1 --format json "$pt"
run encode-gz "$ec" encode --apikey "$key" --userid 1 --profile aes128cbcgz @plaintext.txt
run encode-legacy "$ec" encode --apikey "$key" --profile legacy --username emonuser "$pt"
run encode-mistake "$ec" encode --apikey "$key" --userid 1 --mistake hmac-upper "$pt"
run encode-no-userid "$ec" encode --apikey "$key" "$pt"
run encode-bad-option "$ec" encode --apikey "$key" --userid 1 --frobnicate "$pt"

run send "$ec" send "$url" --userid 1 --apikey "$key" --interval-ms 0 "$pt"
run send-bulk "$ec" send "$url" --userid 1 --apikey "$key" --bulk rows.csv \
    --interval-ms 0 --undelivered out/undelivered-bulk.csv
run send-unreachable "$ec" send http://127.0.0.1:9 --userid 1 --apikey "$key" --retries 0 \
    --timeout-ms 500 --undelivered out/undelivered.csv "$pt"

run test-server "$ec" test-server "$url" --userid 1 --apikey "$key" --username emonuser -v \
    --junit out/ts.junit.xml --json out/ts.json --html out/ts.html
run test-server-strict "$ec" test-server "$url" --userid 1 --apikey "$key" --strict --no-vectors \
    --json out/ts-strict.json
run test-server-readkey "$ec" test-server "$url" --userid 1 --apikey "$key" --readkey "$foreign" \
    --no-vectors --json out/ts-readkey.json
run load "$ec" load "$url" --userid 1 --apikey "$key" --devices 2 --duration 1 --json out/load.json
run load-wrong-key "$ec" load "$url" --userid 1 --apikey "$foreign" --max-requests 5 --json out/load-wrong.json
run fleet-export "$ec" fleet export out/fleet "$url" --userid 1 --apikey "$key" --devices 2 --requests 20
run test-server-unreachable "$ec" test-server http://127.0.0.1:9 --userid 1 --apikey "$key"

run test-client "$ec" test-client --self-test --listen 127.0.0.1:0 --userid 1 --apikey "$key" -v \
    --capture out/capture.jsonl --junit out/tc.junit.xml --json out/tc.json --html out/tc.html

body=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["request"]["body"])' out/encode-json.out 2>/dev/null)
auth=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["request"]["authorization"])' out/encode-json.out 2>/dev/null)
run explain "$ec" explain --apikey "$key" --authorization "$auth" -- "$body"
run explain-json "$ec" explain --apikey "$key" --authorization "$auth" --format json -- "$body"
run explain-garbage "$ec" explain --apikey "$key" --authorization 1:00 "not base64 at all"
run explain-capture "$ec" explain --apikey "$key" --capture out/capture.jsonl --format json
run replay "$ec" replay --capture out/capture.jsonl "$url"
run replay-json "$ec" replay --capture out/capture.jsonl --format json "$url"

key_in_clear out

kill $serve_pid 2>/dev/null
wait $serve_pid 2>/dev/null
trap - EXIT
cp ready out/ready 2>/dev/null

# Every command above must have run (not a usage error for this script's
# own mistake): the ones that should pass did.
for must_pass in encode-http encode-json send test-server test-client explain explain-capture replay \
    load fleet-export; do
    if [[ "$(cat out/$must_pass.rc)" != 0 ]]; then
        echo "secret_scan: '$must_pass' exited $(cat out/$must_pass.rc); stderr:" >&2
        head -5 "out/$must_pass.err" >&2
        failures=$((failures + 1))
    fi
done

leaks=$(scan out)
if [[ -n "$leaks" ]]; then
    echo "secret_scan: the key got out:" >&2
    echo "$leaks" >&2
    failures=$((failures + 1))
fi

# The mock must have caught the key in clear (a FAIL, exit 1).
if [[ "$(cat out/mutant-test-client.rc)" != 1 ]]; then
    echo "secret_scan: test-client did not FAIL a device sending the key in clear" >&2
    failures=$((failures + 1))
fi

# ---- the control: --show-secrets shows it ----------------------------------
key_in_clear shown --show-secrets
shown=$(scan shown)
if [[ -z "$shown" ]]; then
    echo "secret_scan: with --show-secrets the key appears nowhere: is the search broken?" >&2
    failures=$((failures + 1))
fi

files=$(find out -type f | wc -l)
if [[ $failures -ne 0 ]]; then
    echo "secret_scan: FAIL ($files files searched)"
    exit 1
fi
echo "secret_scan: the key is in none of $files files (stdout, stderr, reports, captures, store);" \
     "with --show-secrets it is shown"
