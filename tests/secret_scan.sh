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

# A key no vector and no test uses, so a hit cannot come from elsewhere.
key=5e3f0c9a7b2d4e6f8a1c3b5d7e9f0a2b
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
    "$py" - "$1" "$key" <<'PY'
import base64, pathlib, sys
root, key = pathlib.Path(sys.argv[1]), sys.argv[2]
raw = bytes.fromhex(key)
forms = {key.encode(), key.upper().encode(), raw}
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

# key_in_clear DIR [--show-secrets] — test-client with, as the device, a
# mutant of send that puts the key in the URL (?apikey=…): the key reaches
# the mock in clear, so every writer must redact it.
key_in_clear() {
    local dir=$1
    shift
    rm -f "$dir/port"
    "$ec" test-client --listen 127.0.0.1:0 --port-file "$dir/port" --userid 1 --apikey "$key" \
        --scenario happy --requests 1 --linger-ms 300 --duration 10 -v "$@" \
        --capture "$dir/mutant-capture.jsonl" --json "$dir/mutant.json" \
        --junit "$dir/mutant.junit.xml" --html "$dir/mutant.html" \
        >"$dir/mutant-test-client.out" 2>"$dir/mutant-test-client.err" </dev/null &
    local mock=$!
    for _ in $(seq 100); do [[ -s "$dir/port" ]] && break; sleep 0.05; done
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
for must_pass in encode-http encode-json send test-server test-client explain explain-capture replay; do
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
