#!/usr/bin/env bash
# The client role end to end, through the CLI: `emoncrypt test-client` on a
# free loopback port with `emoncrypt send` (or a mutant of it) as the
# device.  Used by cmake/client.cmake; every mode is bounded in time.
#
#   client_pair.sh EMONCRYPT reference      all scenarios, exit 0, < 15 s
#   client_pair.sh EMONCRYPT mutant NAME    exit 1 naming the mutant's check
#   client_pair.sh EMONCRYPT garbage        not HTTP, cut headers, 10 MB body:
#                                           one FAIL each, server keeps going
#   client_pair.sh EMONCRYPT probe          connections that send nothing: no FAIL;
#                                           one that sends a byte: a FAIL
#   client_pair.sh EMONCRYPT iotawatt       IoTaWatt-style bulk plaintext
#                                           ('=' kept, nulls) judged correct
#   client_pair.sh EMONCRYPT self-test      --self-test (send in-process), and a mutant
#   client_pair.sh EMONCRYPT limits         --requests and --duration end a run
#   client_pair.sh EMONCRYPT incomplete     a run too short for a correct device:
#                                           INCOMPLETE, exit 2, --duration named
#   client_pair.sh EMONCRYPT mutant-list LIST   LIST (a,b,…) = send's table
set -u
exe=$1
mode=$2
key=0123456789abcdef0123456789abcdef
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
server=

fail() { echo "client_pair $mode: $*" >&2; for f in "$work"/*.txt; do echo "== $f" >&2; cat "$f" >&2; done; exit 1; }

# start_server ARGS…: test-client in the background; sets $port.
start_server() {
    rm -f "$work/port"
    "$exe" test-client --listen 127.0.0.1:0 --port-file "$work/port" --userid 1 --apikey "$key" \
        --linger-ms 300 --duration 40 --capture "$work/capture.jsonl" "$@" \
        >"$work/report.txt" 2>"$work/server.txt" &
    server=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
    [ -s "$work/port" ] || fail "test-client did not start"
    port=$(cat "$work/port")
}

# wait_server: its exit status in $server_rc.
wait_server() {
    wait "$server"
    server_rc=$?
    server=
}

rows_csv() {
    local t=1764000000 i
    echo "time,power1,power2"
    for i in $(seq 0 $(($1 - 1))); do
        if [ $((i % 5)) -eq 4 ]; then echo "$((t + i * 10)),$((100 + i)).5,"
        else echo "$((t + i * 10)),$((100 + i)).5,$((200 + i))"; fi
    done
}

fast_send=(--rows-per-post 4 --interval-ms 2 --retry-ms 20 --max-backoff-ms 300 --timeout-ms 800)

# two_posts [WHEN]: the correct device's two posts (the happy scenario), each
# acked; a send that fails fails the test ("send WHEN: rc").
two_posts() {
    local when=${1:+ $1}
    "$exe" send "http://127.0.0.1:$port" --userid 1 --apikey "$key" --retries 0 --timeout-ms 2000 \
        'node=emontx&fulljson={"power1":100,"power2":200}' 2>"$work/send.txt" || fail "send$when: $?"
    "$exe" send "http://127.0.0.1:$port" --userid 1 --apikey "$key" --retries 0 --timeout-ms 2000 \
        'node=emontx&fulljson={"power1":101,"power2":201}' 2>>"$work/send.txt" || fail "send$when: $?"
}

never_key() {
    if grep -qi "$key" "$work"/*.txt "$work/capture.jsonl"; then fail "the API key appears in an output"; fi
}

case "$mode" in
reference)
    rows_csv 120 >"$work/rows.csv"
    start=$(date +%s%N)
    start_server --scenario all -q
    "$exe" send "http://127.0.0.1:$port" --userid 1 --apikey "$key" --bulk "$work/rows.csv" \
        "${fast_send[@]}" --retries 8 2>"$work/send.txt" || fail "send exited $?"
    wait_server
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$server_rc" -eq 0 ] || fail "test-client exited $server_rc"
    grep -q "12/12 scenarios complete" "$work/report.txt" || fail "not every scenario completed"
    [ "$ms" -lt 15000 ] || fail "took $ms ms"
    never_key
    echo "reference: every scenario PASSed in $ms ms"
    ;;
mutant)
    name=$3
    line=$("$exe" send --list-mutants | awk -v n="$name" '$1 == n')
    [ -n "$line" ] || fail "no mutant $name"
    check=$(echo "$line" | awk '{print $2}')
    scenario=$(echo "$line" | sed 's/.*\[\(.*\)\].*/\1/')
    rows_csv 15 >"$work/rows.csv"
    # --strict: what Emoncms tolerates (std-alphabet) is NON-STRICT, a
    # failure under --strict; every other mutant FAILs its check
    start_server --scenario "$scenario" -q --strict
    "$exe" send "http://127.0.0.1:$port" --userid 1 --apikey "$key" --bulk "$work/rows.csv" \
        --mutant "$name" --rows-per-post 3 --interval-ms 2 --retry-ms 20 --max-backoff-ms 100 \
        --timeout-ms 800 --retries 2 2>"$work/send.txt"
    # The device is done: Ctrl-C makes test-client report what it saw.
    kill -INT "$server"
    wait_server
    [ "$server_rc" -eq 1 ] || fail "test-client exited $server_rc, expected 1"
    grep -Eq "^(FAIL|NON-STRICT) +$check " "$work/report.txt" || fail "no FAIL of $check"
    never_key
    echo "mutant $name: FAILed by $check"
    ;;
garbage)
    start_server --scenario happy -q
    printf '\x16\x03\x01\x02\x00 not HTTP at all\r\n\r\n' >"/dev/tcp/127.0.0.1/$port"
    printf 'POST /input/post HTTP/1.1\r\nHost: x\r\nContent-Ty' >"/dev/tcp/127.0.0.1/$port"
    { printf 'POST /input/bulk HTTP/1.1\r\nHost: x\r\nContent-Type: aes128cbc\r\nAuthorization: 1:00\r\nContent-Length: 10485760\r\n\r\n'
      head -c 10485760 /dev/zero; } 2>/dev/null >"/dev/tcp/127.0.0.1/$port"
    sleep 0.3
    # Still serving: a good post after all that is acknowledged.
    two_posts "after garbage"
    wait_server
    [ "$server_rc" -eq 1 ] || fail "test-client exited $server_rc, expected 1"
    n=$(grep -Ec "^FAIL +client/3.http/well-formed " "$work/report.txt")
    [ "$n" -eq 3 ] || fail "$n well-formed FAILs, expected 3 (one per broken connection)"
    grep -q "no-request" "$work/report.txt" || fail "no no-request FAIL"
    grep -q "incomplete" "$work/report.txt" || fail "no incomplete FAIL"
    grep -q "too-large" "$work/report.txt" || fail "no too-large FAIL"
    grep -q "happy.*not sent again" "$work/report.txt" || fail "the happy scenario did not complete after the garbage"
    echo "garbage: 3 per-connection FAILs, and the server kept answering"
    ;;
probe)
    # Issue 11 point 9: connections that open and close without a byte (a
    # port probe, a health check, a device's pre-connect) are no request,
    # so not a malformed one; a byte of garbage still is.
    start_server --scenario happy -q
    for _ in 1 2 3; do exec 3<>"/dev/tcp/127.0.0.1/$port"; exec 3>&-; done
    # Only empty lines, then close (a health check): RFC 9112 2.2 says a
    # server ignores them before a request line, so no request either.
    for blank in '\r\n' '\r\n\r\n' '\n'; do
        exec 3<>"/dev/tcp/127.0.0.1/$port"; printf "$blank" >&3; sleep 0.1; exec 3>&-
    done
    sleep 0.3
    two_posts
    wait_server
    [ "$server_rc" -eq 0 ] || fail "test-client exited $server_rc, expected 0 (6 connections without a request are no FAIL)"
    grep -Eq "^PASS +client/3.http/well-formed .*6 connections sent nothing \(or only empty lines\)" "$work/report.txt" ||
        fail "well-formed does not PASS naming the 6 connections without a request"
    # Empty lines and then a request line without a space: garbage, a FAIL.
    start_server --scenario happy -q
    exec 3<>"/dev/tcp/127.0.0.1/$port"; printf '\r\nXYZ\r\n' >&3; sleep 0.1; exec 3>&-
    sleep 0.3
    two_posts
    wait_server
    [ "$server_rc" -eq 1 ] || fail "test-client exited $server_rc after 'XYZ', expected 1"
    grep -Eq "^FAIL +client/3.http/well-formed .*no-request" "$work/report.txt" || fail "'XYZ' is no FAIL"
    start_server --scenario happy -q
    exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'G' >&3; exec 3>&-
    sleep 0.3
    two_posts
    wait_server
    [ "$server_rc" -eq 1 ] || fail "test-client exited $server_rc after a 1-byte connection, expected 1"
    grep -Eq "^FAIL +client/3.http/well-formed .*no-request" "$work/report.txt" || fail "a 1-byte connection is no FAIL"
    echo "probe: 3 empty and 3 empty-line connections PASS, an XYZ line and a 1-byte one FAIL"
    ;;
iotawatt)
    start_server --scenario happy -q -v
    # IoTaWatt's bulk shape: time=T, offsets, trimmed values, nulls; its
    # encoding keeps the '=' padding (SPEC §7).
    pt1='time=1764000000&data=[[0,"iotawatt",231.4,null,12.05],[5,"iotawatt",231.6,0.12,12.1]]'
    pt2='time=1764000010&data=[[0,"iotawatt",231.5,null,12.07],[5,"iotawatt",231.2,0.13,null]]'
    for pt in "$pt1" "$pt2"; do
        "$exe" send "http://127.0.0.1:$port/input/bulk" --userid 1 --apikey "$key" --retries 0 \
            "$pt" 2>>"$work/send.txt" || fail "send: $?"
    done
    wait_server
    [ "$server_rc" -eq 0 ] || fail "test-client exited $server_rc"
    grep -q '"body":"[^"]*=",' "$work/capture.jsonl" || fail "no body with '=' padding was posted"
    grep -Eq "^PASS +client/3.body/padding .*'=' padding kept" "$work/report.txt" || fail "padding not judged as kept"
    grep -Eq "^PASS +client/5.values/numeric .*numbers or null" "$work/report.txt" || fail "nulls not accepted"
    grep -Eq "^INFO +client/5.time/mode .*bulk time=T \(absolute\)" "$work/report.txt" || fail "time mode not recognised"
    never_key
    echo "iotawatt: bulk time=T with nulls and '=' padding PASSes"
    ;;
limits)
    # --requests ends the run by itself; so does --duration with a device
    # that went quiet; neither needs Ctrl-C.
    rows_csv 40 >"$work/rows.csv"
    start_server --scenario happy -q --requests 3
    "$exe" send "http://127.0.0.1:$port" --userid 1 --apikey "$key" --bulk "$work/rows.csv" \
        "${fast_send[@]}" --retries 0 2>"$work/send.txt"
    wait_server
    [ "$server_rc" -eq 0 ] || fail "test-client --requests 3 exited $server_rc"
    grep -q "^emoncrypt test-client: 3 requests" "$work/report.txt" || fail "did not stop after 3 requests"
    rm -f "$work/port"
    start=$(date +%s%N)
    "$exe" test-client --listen 127.0.0.1:0 --port-file "$work/port" --userid 1 --apikey "$key" \
        --duration 1 -q >"$work/report.txt" 2>"$work/server.txt"
    rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$rc" -eq 2 ] || fail "a run that saw nothing exited $rc, expected 2 (INCOMPLETE: scenarios not completed)"
    # generous (ASan, a loaded machine): without --duration the run is 300 s
    [ "$ms" -lt 10000 ] || fail "--duration 1 took $ms ms"
    grep -Eq "^INCOMPLETE +client/7.scenario/happy .*not completed" "$work/report.txt" || fail "no 'not completed' INCOMPLETE"
    echo "limits: --requests and --duration end the run"
    ;;
incomplete)
    # Issue 11 point 5: a correct device with a fixed retry wait (1 s here,
    # 10 s in the field) and a run too short for it: INCOMPLETE, not FAIL,
    # exit 2, and the report says which --duration this device needs; a
    # run of that length completes and exits 0.
    rows_csv 60 >"$work/rows.csv"
    fixed=(--rows-per-post 2 --interval-ms 1000 --retry-ms 1000 --max-backoff-ms 1000
           --timeout-ms 800 --retries -1)
    start_server --scenario happy,wrong-ack,http-500,happy -q --duration 3
    "$exe" send "http://127.0.0.1:$port" --userid 1 --apikey "$key" --bulk "$work/rows.csv" \
        "${fixed[@]}" 2>"$work/send.txt" &
    device=$!
    wait_server
    kill "$device" 2>/dev/null; wait "$device" 2>/dev/null
    [ "$server_rc" -eq 2 ] || fail "a too-short run of a correct device exited $server_rc, expected 2"
    if grep -Eq "^FAIL " "$work/report.txt"; then fail "a too-short run FAILs a correct device"; fi
    grep -Eq "^INCOMPLETE +client/7.scenario/" "$work/report.txt" || fail "no INCOMPLETE scenario"
    grep -q "^result: INCOMPLETE" "$work/report.txt" || fail "the result line does not say INCOMPLETE"
    need=$(grep -o -- "run with --duration [0-9]*" "$work/report.txt" | head -1 | awk '{print $4}')
    [ -n "$need" ] || fail "the report does not say which --duration the device needs"
    grep -q "posts again ~1.[0-9] s after" "$work/report.txt" || fail "the device's 1 s interval is not named"
    [ "$need" -le 40 ] || fail "--duration $need suggested for a device that needs ~8 s"
    rm -f "$work/port"
    start_server --scenario happy,wrong-ack,http-500,happy -q --duration "$need"
    "$exe" send "http://127.0.0.1:$port" --userid 1 --apikey "$key" --bulk "$work/rows.csv" \
        "${fixed[@]}" 2>"$work/send.txt" &
    device=$!
    wait_server
    kill "$device" 2>/dev/null; wait "$device" 2>/dev/null
    [ "$server_rc" -eq 0 ] || fail "the run with the suggested --duration $need exited $server_rc"
    grep -q "4/4 scenarios complete" "$work/report.txt" || fail "the suggested --duration $need was not enough"
    echo "incomplete: exit 2 with --duration $need suggested; that run completes"
    ;;
self-test)
    # No device at hand: the reference client runs inside test-client, and
    # a test-only mutant in its place is caught.
    "$exe" test-client --listen 127.0.0.1:0 --userid 1 --apikey "$key" --self-test \
        >"$work/report.txt" 2>"$work/server.txt" || fail "--self-test exited $?"
    grep -q "12/12 scenarios complete" "$work/report.txt" || fail "not every scenario completed"
    "$exe" test-client --listen 127.0.0.1:0 --userid 1 --apikey "$key" \
        --self-test-mutant drops-data >"$work/report.txt" 2>"$work/server.txt"
    rc=$?
    [ "$rc" -eq 1 ] || fail "--self-test-mutant drops-data exited $rc"
    grep -Eq "^FAIL +client/7.ack/no-data-lost " "$work/report.txt" || fail "drops-data not caught"
    never_key
    echo "self-test: reference PASSes, mutant FAILs"
    ;;
mutant-list)
    want=$(echo "$3" | tr ',' '\n' | sort)
    have=$("$exe" send --list-mutants | awk '{print $1}' | sort)
    [ "$want" = "$have" ] || fail "cmake/client.cmake's mutant list differs from send --list-mutants: $(diff <(echo "$want") <(echo "$have") | tr '\n' ' ')"
    [ "$(echo "$have" | wc -l)" -ge 12 ] || fail "fewer than 12 mutants"
    ;;
*)
    fail "unknown mode"
    ;;
esac
