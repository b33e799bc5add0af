#!/usr/bin/env bash
# `emoncrypt explain` and `emoncrypt replay` end to end, through the CLI.
# Used by cmake/explain.cmake; every mode is bounded in time and uses only
# free loopback ports.
#
#   explain_check.sh EMONCRYPT mutant NAME   test-client --capture with
#       `send --mutant NAME` as the device, then `explain --capture`: the
#       verdict of at least one captured request is NAME's sentence, and no
#       request is blamed on another mistake (zero-iv, fixed-iv, counter-iv:
#       the iv layer's note)
#   explain_check.sh EMONCRYPT mistake NAME  `encode --mistake NAME`, then
#       `explain` of its body and Authorization: exit 1, NAME's sentence,
#       --format json lists NAME
#   explain_check.sh EMONCRYPT valid         SPEC §8 from the argument, stdin
#       and @FILE: exit 0, the ack, never the key
#   explain_check.sh EMONCRYPT usage         exit 2 and one line on stderr
#   explain_check.sh EMONCRYPT replay        a reference device's capture
#       replayed to `serve` (same answers, exit 0), a scripted capture
#       (differences flagged as scripted, exit 0), a strict server twice
#       (the second replay differs, exit 1), an unreachable URL (exit 2)
set -u
exe=$1
mode=$2
name=${3:-}
key=0123456789abcdef0123456789abcdef
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
PY=/usr/bin/python3

fail() {
    echo "explain_check $mode $name: $*" >&2
    for f in "$work"/*.txt; do [ -f "$f" ] && { echo "== $f" >&2; head -c 20000 "$f" >&2; }; done
    exit 1
}

# The sentence explain says for each mistake (message.h's ec_mistake_text).
sentence() {
    case "$1" in
    std-alphabet)   echo "your body uses the standard base64 alphabet ('+' '/') instead of the URL one ('-' '_')" ;;
    hmac-upper)     echo "your HMAC hex is uppercase; Emoncms compares it byte for byte with lowercase" ;;
    hmac-over-ct)   echo "your HMAC is over the encrypted body (IV || ciphertext), not over the plaintext" ;;
    hmac-plus-nul)  echo "your HMAC is over the plaintext plus a trailing NUL byte" ;;
    hmac-hex-key)   echo "your HMAC key is the 32 ASCII characters of the API key, not its 16 bytes" ;;
    zero-padding)   echo "you pad with zero bytes instead of PKCS#7" ;;
    no-full-pad)    echo "you add no PKCS#7 pad block when the plaintext is a multiple of 16 bytes" ;;
    iv-appended)    echo "you send the IV after the ciphertext instead of before it" ;;
    cbc-chain-bug)  echo "your last (full pad) block is chained from the IV, not from the previous ciphertext block" ;;
    hex-key-as-key) echo "your AES key is the first 16 ASCII characters of the API key, not hex2bin of it" ;;
    gzip-header)    echo "you compress with a gzip (RFC 1952) header; aes128cbcgz wants zlib (RFC 1950)" ;;
    # No ec_mistake, but one IV shows them (the iv layer's note).
    zero-iv)        echo "all zero: an IV must be drawn at random for every message" ;;
    fixed-iv)       echo "a fixed IV, not a random one" ;;
    counter-iv)     echo "6 or more zero bytes in a row: a counter or a fixed value, not a random IV" ;;
    # The key in clear (the capture shows it redacted).
    apikey-in-query)     echo "you send the write API key in clear, in the URL" ;;
    bearer-side-request) echo "you send the write API key in clear, in the Authorization header" ;;
    # Across requests of one capture.
    same-iv-resend) echo "also: the same IV as request" ;;
    *) return 1 ;;
    esac
}

never_key() {
    if grep -qi "$key" "$work"/*.txt; then fail "the API key appears in an output"; fi
}

# start_test_client ARGS…: in the background, sets $port.
start_test_client() {
    "$exe" test-client --listen 127.0.0.1:0 --port-file "$work/port" --userid 1 --apikey "$key" \
        --linger-ms 300 --duration 40 --capture "$work/capture.jsonl" -q "$@" \
        >"$work/report.txt" 2>"$work/server.txt" &
    tc=$!
    pids+=("$tc")
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
    [ -s "$work/port" ] || fail "test-client did not start"
    port=$(cat "$work/port")
}

# start_serve FILE ARGS…: `serve` in the background, its base URL in $url.
start_serve() {
    local ready=$1
    shift
    "$exe" serve --listen 127.0.0.1:0 --userid 1 --apikey "$key" --ready-file "$ready" -q "$@" \
        >"$work/serve-out.txt" 2>"$work/serve-err.txt" &
    pids+=("$!")
    for _ in $(seq 100); do [ -s "$ready" ] && break; sleep 0.05; done
    [ -s "$ready" ] || fail "serve did not start"
    url=$(head -n 1 "$ready")
}

rows_csv() {
    local t=1764000000 i
    echo "time,power1,power2"
    for i in $(seq 0 $(($1 - 1))); do echo "$((t + i * 10)),$((100 + i)).5,$((200 + i))"; done
}

# capture_device MUTANT|"" SCENARIO: one device run into $work/capture.jsonl.
capture_device() {
    local mutant=$1 scenario=$2
    rm -f "$work/port" "$work/capture.jsonl"
    rows_csv 15 >"$work/rows.csv"
    start_test_client --scenario "$scenario"
    local args=()
    [ -n "$mutant" ] && args=(--mutant "$mutant")
    "$exe" send "http://127.0.0.1:$port" --userid 1 --apikey "$key" --bulk "$work/rows.csv" \
        "${args[@]}" --rows-per-post 3 --interval-ms 2 --retry-ms 20 --max-backoff-ms 100 \
        --timeout-ms 800 --retries 2 -q 2>"$work/send.txt"
    kill -INT "$tc" 2>/dev/null
    wait "$tc"
    [ -s "$work/capture.jsonl" ] || fail "nothing captured"
}

case "$mode" in
mutant)
    want=$(sentence "$name") || fail "no sentence for $name"
    scenario=$("$exe" send --list-mutants | awk -v n="$name" '$1 == n' | sed 's/.*\[\(.*\)\].*/\1/')
    [ -n "$scenario" ] || fail "send has no mutant $name"
    capture_device "$name" "$scenario"
    "$exe" explain --apikey "$key" --capture "$work/capture.jsonl" >"$work/explain.txt" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] || fail "explain exited $rc, expected 1 (invalid requests)"
    if [ "$name" = same-iv-resend ]; then
        # Each request alone is valid; the resend repeats the failed post's IV.
        grep -q "^$want" "$work/explain.txt" || fail "no repeated IV found"
        # Also when only that request is explained (--index).
        k=$(awk -v w="$want" '/^request [0-9]+ /{r=$2} index($0, w) == 1 {print r; exit}' \
            "$work/explain.txt")
        "$exe" explain --apikey "$key" --capture "$work/capture.jsonl" --index "$k" \
            >"$work/explain-k.txt" 2>&1
        grep -q "^$want" "$work/explain-k.txt" || fail "--index $k: the repeated IV not seen"
        never_key
        echo "mutant $name: $(grep -c "^$want" "$work/explain.txt") request(s) repeat an earlier IV"
        exit 0
    fi
    grep -F "verdict: " "$work/explain.txt" >"$work/verdicts.txt"
    named=$(grep -cF -- "$want" "$work/verdicts.txt")
    [ "$named" -ge 1 ] || fail "no verdict says: $want"
    # Every other verdict is 'valid' (the mistake changed nothing there, as
    # std-alphabet on a body without '+' or '/') or names the same mistake.
    other=$(grep -vF -- "$want" "$work/verdicts.txt" | grep -vc "^verdict: valid")
    [ "$other" -eq 0 ] || fail "$other request(s) explained otherwise"
    # The JSON form names it by its stable name.
    "$exe" explain --apikey "$key" --capture "$work/capture.jsonl" --format json \
        >"$work/explain-json.txt" 2>&1
    $PY - "$work/explain-json.txt" "$name" <<'EOF' || fail "JSON lacks the mistake"
import json, sys
items = json.load(open(sys.argv[1]))
if sys.argv[2] in ("apikey-in-query", "bearer-side-request"):
    assert any(not l["ok"] for it in items for l in it["layers"] if l["name"] == "apikey")
    sys.exit(0)
if sys.argv[2].endswith("-iv"):
    # no mistake bit: the iv layer fails in every request
    assert all(not l["ok"] for it in items for l in it["layers"] if l["name"] == "iv")
    sys.exit(0)
assert isinstance(items, list) and items, "not a non-empty array"
names = set()
for it in items:
    names.update(it["mistakes"])
    names.update(it["alternatives"])
    assert set(it) >= {"valid", "verdict", "layers", "index", "seq"}
assert sys.argv[2] in names, names
EOF
    never_key
    total=$(grep -c "^verdict: " "$work/explain.txt")
    echo "mutant $name: $named of $total captured requests explained as: $want"
    ;;
mistake)
    want=$(sentence "$name") || fail "no sentence for $name"
    args=(--userid 1 --iv 0f0e0d0c0b0a09080706050403020100 --mistake "$name")
    pt='time=1764000000&data=[[0,"emontx",231.4,null,12.05],[5,"emontx",231.6,0.12,12.1]]'
    case "$name" in
    gzip-header) args+=(--profile aes128cbcgz) ;;
    no-full-pad|cbc-chain-bug) pt='node=emontx&fulljson={"power1":100,"power2":200}' ;; # 48 bytes
    esac
    "$exe" encode --apikey "$key" "${args[@]}" --format json "$pt" >"$work/encoded.txt" \
        || fail "encode failed"
    readarray -t req < <($PY - "$work/encoded.txt" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
r = o["request"]
print(r["contentType"]); print(r["authorization"]); print(r["path"]); print(r["body"])
EOF
)
    "$exe" explain --apikey "$key" --content-type "${req[0]}" --authorization "${req[1]}" \
        --path "${req[2]}" "${req[3]}" >"$work/explain.txt" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] || fail "explain exited $rc, expected 1"
    grep "^verdict: " "$work/explain.txt" | grep -qF -- "$want" || fail "verdict does not say: $want"
    # The body read from stdin gives the same verdict.
    printf '%s\n' "${req[3]}" | "$exe" explain --apikey "$key" --content-type "${req[0]}" \
        --authorization "${req[1]}" --path "${req[2]}" - >"$work/explain-stdin.txt" 2>&1
    grep "^verdict: " "$work/explain-stdin.txt" | grep -qF -- "$want" || fail "stdin: verdict does not say: $want"
    "$exe" explain --apikey "$key" --content-type "${req[0]}" --authorization "${req[1]}" \
        --path "${req[2]}" --format json "${req[3]}" >"$work/explain-json.txt" 2>&1
    $PY - "$work/explain-json.txt" "$name" <<'EOF' || fail "JSON lacks the mistake"
import json, sys
o = json.load(open(sys.argv[1]))
assert sys.argv[2] in o["mistakes"] + o["alternatives"], o["mistakes"]
assert o["valid"] is False
EOF
    never_key
    echo "mistake $name: $want"
    ;;
valid)
    body=AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17LlDVdhecrZmUY8UBAam3_oj5jmaczqBieWsajqhNGc
    auth=1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662
    ack=6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=
    "$exe" explain --apikey "$key" --authorization "$auth" "$body" >"$work/arg.txt" 2>&1 \
        || fail "explain exited $? for SPEC 8"
    grep -qF "verdict: valid: a correct server answers HTTP 200 with the ack $ack" "$work/arg.txt" \
        || fail "no valid verdict with the ack"
    [ "$(grep -c '^  ok ' "$work/arg.txt")" -eq 12 ] || fail "not 12 layers ok"
    printf '%s\n' "$body" >"$work/body"
    "$exe" explain --apikey "$key" --authorization "$auth" - <"$work/body" >"$work/stdin.txt" 2>&1 \
        || fail "stdin: exit $?"
    cmp -s "$work/arg.txt" "$work/stdin.txt" || fail "stdin explains differently"
    "$exe" explain --apikey "$key" --authorization "$auth" "@$work/body" >"$work/file.txt" 2>&1 \
        || fail "@FILE: exit $?"
    cmp -s "$work/arg.txt" "$work/file.txt" || fail "@FILE explains differently"
    "$exe" explain --apikey "$key" --authorization "$auth" --format json "$body" \
        >"$work/json.txt" 2>&1 || fail "json: exit $?"
    $PY - "$work/json.txt" "$ack" <<'EOF' || fail "JSON is not the valid explanation"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["valid"] is True and o["ack"] == sys.argv[2] and o["mistakes"] == []
assert all(l["ok"] for l in o["layers"]), o["layers"]
EOF
    # A body that starts with '-' (the IV's first byte is f8..fb) after '--'.
    "$exe" encode --apikey "$key" --userid 1 --iv f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8 --format json \
        'node=a&json={"x":1}' >"$work/dash.json" || fail "encode failed"
    readarray -t dash < <($PY -c 'import json,sys; r=json.load(open(sys.argv[1]))["request"]; print(r["authorization"]); print(r["body"])' "$work/dash.json")
    [ "${dash[1]:0:1}" = "-" ] || fail "the body does not start with '-'"
    "$exe" explain --apikey "$key" --authorization "${dash[0]}" -- "${dash[1]}" >"$work/dash.txt" 2>&1 \
        || fail "a body starting with '-': exit $?"
    grep -q "^verdict: valid" "$work/dash.txt" || fail "a body starting with '-' not explained valid"
    # The wrong key: exit 1 and the sentence.
    "$exe" explain --apikey fedcba9876543210fedcba9876543210 --authorization "$auth" "$body" \
        >"$work/wrong.txt" 2>&1
    [ $? -eq 1 ] || fail "wrong key: exit not 1"
    grep -qF "verdict: the key is wrong (no mistake I know makes it valid)" "$work/wrong.txt" \
        || fail "wrong key not said"
    never_key
    echo "valid: SPEC 8 explained valid from argument, stdin, @FILE and as JSON"
    ;;
usage)
    body=AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17LlDVdhecrZmUY8UBAam3_oj5jmaczqBieWsajqhNGc
    check_usage() { # WHAT ARGS…
        local what=$1
        shift
        "$exe" "$@" >"$work/out.txt" 2>"$work/err.txt"
        local rc=$?
        [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2"
        [ "$(wc -l <"$work/err.txt")" -eq 1 ] || fail "$what: not one line on stderr"
    }
    check_usage "no key" explain "$body"
    check_usage "short key" explain --apikey 0123 "$body"
    check_usage "no body" explain --apikey "$key"
    check_usage "two bodies" explain --apikey "$key" "$body" "$body"
    check_usage "index without capture" explain --apikey "$key" --index 1 "$body"
    check_usage "missing capture" explain --apikey "$key" --capture "$work/none.jsonl"
    check_usage "bad format" explain --apikey "$key" --format xml "$body"
    check_usage "replay without capture" replay http://127.0.0.1:9
    check_usage "replay without URL" replay --capture "$work/none.jsonl"
    check_usage "replay bad URL" replay --capture "$work/none.jsonl" ftp://x
    : >"$work/empty.jsonl"
    check_usage "empty capture" explain --apikey "$key" --capture "$work/empty.jsonl"
    check_usage "index past the end" replay --capture "$work/empty.jsonl" --index 3 http://127.0.0.1:9
    # A hand-written capture: a bad line is skipped with one line on
    # stderr; the request without a captured answer is replayed as "new".
    printf '%s\n' 'not json at all' \
        '{"seq":1,"kind":"exchange","method":"POST","path":"/input/post","query":"","headers":[["Content-Type","aes128cbc"],["Authorization","1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662"]],"body":"'"$body"'"}' \
        >"$work/hand.jsonl"
    "$exe" explain --apikey "$key" --capture "$work/hand.jsonl" >"$work/hand.txt" 2>"$work/hand-err.txt" \
        || fail "hand-written capture: exit $?"
    grep -q "^verdict: valid" "$work/hand.txt" || fail "hand-written capture not valid"
    [ "$(wc -l <"$work/hand-err.txt")" -eq 1 ] || fail "bad line: not one line on stderr"
    "$exe" serve --listen 127.0.0.1:0 --userid 1 --apikey "$key" --ready-file "$work/ready" -q \
        >/dev/null 2>&1 &
    pids+=("$!")
    for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.05; done
    "$exe" replay --capture "$work/hand.jsonl" "$(head -n 1 "$work/ready")" >"$work/hand-replay.txt" \
        2>/dev/null || fail "replay of a capture without answers: exit $?"
    grep -q "1 without a captured answer" "$work/hand-replay.txt" || fail "not counted as without answer"
    grep -q "#0   new " "$work/hand-replay.txt" || fail "not marked new"
    "$exe" explain --help >"$work/help.txt" || fail "--help exit $?"
    grep -q "^usage: emoncrypt explain" "$work/help.txt" || fail "no usage line"
    "$exe" replay --help >"$work/help.txt" || fail "replay --help exit $?"
    never_key
    echo "usage: every bad invocation exits 2 with one line"
    ;;
replay)
    # 1. A correct device against test-client's plain acks, replayed to
    #    serve: every answer is the same.
    capture_device "" happy
    start_serve "$work/ready1"
    "$exe" replay --capture "$work/capture.jsonl" "$url" >"$work/replay1.txt" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || fail "replay of a reference capture exited $rc"
    grep -Eq "^[0-9]+ replayed: ([0-9]+) same, 0 different" "$work/replay1.txt" \
        || fail "not every answer the same"
    n=$(grep -c '^  #' "$work/replay1.txt")
    [ "$n" -ge 5 ] || fail "only $n requests replayed"
    # 2. A mutant's requests: serve refuses them just as test-client did.
    capture_device hmac-plus-nul happy
    "$exe" replay --capture "$work/capture.jsonl" --format json "$url" >"$work/replay2.txt" 2>&1 \
        || fail "replay of a mutant capture exited $?"
    $PY - "$work/replay2.txt" <<'EOF' || fail "mutant replay JSON"
import json, sys
o = json.load(open(sys.argv[1]))
t = o["totals"]
assert t["replayed"] >= 3 and t["different"] == 0, t
assert all(r["replayed"]["body"] == "invalid data" for r in o["requests"]), o["requests"]
EOF
    # 3. test-client's scripted answers (HTTP 500) differ from a server's
    #    own, and are flagged as scripted, not counted.
    capture_device "" http-500
    "$exe" replay --capture "$work/capture.jsonl" "$url" >"$work/replay3.txt" 2>&1 \
        || fail "replay of a scripted capture exited $?"
    grep -q "diff\*" "$work/replay3.txt" || fail "no scripted difference flagged"
    grep -q "scripted by test-client" "$work/replay3.txt" || fail "no scripted note"
    # 4. A strict server refuses the second replay of the same requests.
    capture_device "" happy
    start_serve "$work/ready2" --strict
    "$exe" replay --capture "$work/capture.jsonl" --index 0 "$url" >"$work/replay4a.txt" 2>&1 \
        || fail "first strict replay exited $?"
    "$exe" replay --capture "$work/capture.jsonl" --index 0 "$url" >"$work/replay4b.txt" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] || fail "second strict replay exited $rc, expected 1"
    grep -q "DIFF" "$work/replay4b.txt" || fail "no difference shown"
    # 5. Nothing listening: exit 2, one line.
    "$exe" replay --capture "$work/capture.jsonl" http://127.0.0.1:9 >"$work/replay5.txt" \
        2>"$work/replay5-err.txt"
    rc=$?
    [ "$rc" -eq 2 ] || fail "unreachable: exit $rc, expected 2"
    never_key
    echo "replay: same answers from serve, scripted answers flagged, strict replay protection seen"
    ;;
*)
    fail "unknown mode"
    ;;
esac
