#!/usr/bin/env bash
# Recorded devices in the client role (issue 11): a capture of a device's
# traffic against `emoncrypt test-client` is judged again with
# `test-client --from-capture`, and must give the live run's verdicts.
#
#   device-replay.sh EXE reference
#       `emoncrypt send` (the reference client) against test-client --seed 1
#       --capture: the replay of that capture gives the live verdicts; and
#       --seed: two --self-test runs with one seed send the same bytes,
#       two without a seed do not
#   device-replay.sh EXE transcript CAPTURE VERDICTS [test-client options]
#       the committed capture's replay gives the committed live verdicts
#   device-replay.sh EXE negative CAPTURE VERDICTS [test-client options]
#       doctored copies (one request byte changed; one captured answer
#       changed) must NOT give them
set -u
exe=$1
mode=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
verdicts=(python3 "$here/device-verdicts.py")
key=0123456789abcdef0123456789abcdef
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

fail() { echo "device-replay $mode: $*" >&2; for f in "$work"/*.txt; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done; exit 1; }

# replay CAPTURE OUT.json [options]: its exit status in $replay_rc.
replay() {
    local cap=$1 out=$2
    shift 2
    "$exe" test-client --userid 1 --apikey "$key" --seed 1 --from-capture "$cap" --json "$out" -q \
        "$@" >"$work/replay.txt" 2>"$work/replay-err.txt"
    replay_rc=$?
}

# doctor IN OUT request|answer: one byte of the first acked request's
# body, or of the answer it got, changed.
doctor() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
src, dst, what = sys.argv[1:]
lines = open(src, encoding="utf-8").read().splitlines()
done = False
for i, line in enumerate(lines):
    if done or not line.strip():
        continue
    rec = json.loads(line)
    reply = rec.get("reply") or {}
    if rec.get("kind") != "exchange" or reply.get("status") != 200 or not rec.get("body"):
        continue
    if what == "request":
        b = rec["body"]
        k = len(b) // 2
        rec["body"] = b[:k] + ("A" if b[k] != "A" else "B") + b[k + 1:]
    else:
        b = reply.get("body", "")
        reply["body"] = ("x" if b[:1] != "x" else "y") + b[1:]
    lines[i] = json.dumps(rec, separators=(",", ":"))
    done = True
if not done:
    sys.exit("doctor: no acked request in " + src)
open(dst, "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
}

case "$mode" in
reference)
    {
        echo "time,power1,power2"
        for i in $(seq 0 119); do echo "$((1764000000 + i * 10)),$((100 + i)).5,$((200 + i))"; done
    } >"$work/rows.csv"
    "$exe" test-client --listen 127.0.0.1:0 --port-file "$work/port" --userid 1 --apikey "$key" \
        --seed 1 --linger-ms 300 --duration 40 --capture "$work/cap.jsonl" --json "$work/live.json" \
        -q >"$work/live.txt" 2>"$work/live-err.txt" &
    server=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
    [ -s "$work/port" ] || fail "test-client did not start"
    "$exe" send "http://127.0.0.1:$(cat "$work/port")" --userid 1 --apikey "$key" \
        --bulk "$work/rows.csv" --rows-per-post 4 --interval-ms 2 --retry-ms 20 \
        --max-backoff-ms 300 --timeout-ms 800 --retries 8 2>"$work/send.txt" || fail "send exited $?"
    wait "$server"
    live_rc=$?
    server=
    [ "$live_rc" -eq 0 ] || fail "the live run exited $live_rc"
    "${verdicts[@]}" extract "$work/live.json" "$work/live.verdicts.json" "emoncrypt send" ||
        fail "extract"
    replay "$work/cap.jsonl" "$work/replay.json"
    [ "$replay_rc" -eq "$live_rc" ] || fail "the replay exited $replay_rc, the live run $live_rc"
    "${verdicts[@]}" check "$work/live.verdicts.json" "$work/replay.json" >"$work/check.txt" ||
        fail "the replay's verdicts differ"
    cat "$work/check.txt"
    first_rc=$replay_rc
    # the doctored copies: each one is caught (exit 1, the check fails)
    for what in request answer; do
        doctor "$work/cap.jsonl" "$work/$what.jsonl" "$what" || fail "doctor $what"
        replay "$work/$what.jsonl" "$work/$what.json"
        [ "$replay_rc" -eq 1 ] || fail "the replay of a capture with one $what changed exited $replay_rc"
        grep -q "drift: request #" "$work/replay-err.txt" || fail "no drift line for the $what"
        if "${verdicts[@]}" check "$work/live.verdicts.json" "$work/$what.json" >"$work/check.txt"; then
            fail "a capture with one $what changed gave the live verdicts"
        fi
    done
    # A device that hangs up on a trickled ack (its timeout shorter): live,
    # INFO "hung up before it ended"; the replay must keep that answer open
    # until the captured client-gone event, or it sees a delivered post
    # resent (duplicates, FAIL).
    rm -f "$work/port"
    "$exe" test-client --listen 127.0.0.1:0 --port-file "$work/port" --userid 1 --apikey "$key" \
        --scenario slow --linger-ms 300 --duration 30 --capture "$work/slow.jsonl" \
        --json "$work/slow-live.json" -q >"$work/slow-live.txt" 2>&1 &
    server=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
    [ -s "$work/port" ] || fail "test-client (slow) did not start"
    "$exe" send "http://127.0.0.1:$(cat "$work/port")" --userid 1 --apikey "$key" \
        --bulk "$work/rows.csv" --rows-per-post 4 --interval-ms 2 --retry-ms 20 --timeout-ms 150 \
        --retries 3 2>"$work/send.txt" || fail "send (slow) exited $?"
    wait "$server"
    server=
    grep -q "client-gone" "$work/slow.jsonl" || fail "slow: the device did not hang up (no client-gone)"
    "${verdicts[@]}" extract "$work/slow-live.json" "$work/slow.verdicts.json" "" || fail "extract"
    replay "$work/slow.jsonl" "$work/slow.json" --scenario slow
    "${verdicts[@]}" check "$work/slow.verdicts.json" "$work/slow.json" >"$work/check.txt" ||
        fail "a device that hung up on an answer: the replay's verdicts differ"
    # A device that sends the key in clear: its capture judged again gives
    # the FAIL when recorded with --show-secrets; a redacted one cannot, and
    # the replay says so.
    for secrets in show redact; do
        flag=(--show-secrets)
        [ "$secrets" = redact ] && flag=()
        "$exe" test-client --listen 127.0.0.1:0 --userid 1 --apikey "$key" "${flag[@]}" \
            --self-test-mutant bearer-side-request --scenario happy --capture "$work/bearer-$secrets.jsonl" \
            --json "$work/bearer-live.json" -q >"$work/bearer-live.txt" 2>&1
        [ $? -eq 1 ] || fail "bearer-side-request ($secrets): the live run did not exit 1"
        "${verdicts[@]}" extract "$work/bearer-live.json" "$work/bearer.verdicts.json" "" || fail "extract"
        replay "$work/bearer-$secrets.jsonl" "$work/bearer-$secrets.json" --scenario happy
        if [ "$secrets" = show ]; then
            "${verdicts[@]}" check "$work/bearer.verdicts.json" "$work/bearer-show.json" \
                >"$work/check.txt" || fail "bearer-side-request recorded with --show-secrets: verdicts differ"
        else
            grep -q "have the key redacted" "$work/replay-err.txt" ||
                fail "a capture with the key redacted: the replay does not say so"
        fi
    done
    # --seed: the same bytes from the same seed, other bytes without one
    for run in a b c d; do
        seed=(--seed 7)
        case $run in c|d) seed=() ;; esac
        "$exe" test-client --listen 127.0.0.1:0 --userid 1 --apikey "$key" --self-test "${seed[@]}" \
            --scenario happy,wrong-ack --capture "$work/seed-$run.jsonl" -q \
            >"$work/seed-$run.txt" 2>&1 || fail "self-test $run exited $?"
        grep -o '"body":"[^"]*"' "$work/seed-$run.jsonl" >"$work/bodies-$run" ||
            fail "self-test $run: no body captured"
    done
    cmp -s "$work/bodies-a" "$work/bodies-b" || fail "two runs with --seed 7 sent different bytes"
    if cmp -s "$work/bodies-c" "$work/bodies-d"; then fail "two runs without --seed sent the same bytes"; fi
    echo "device-replay reference: live exit $live_rc, replay exit $first_rc; doctored copies caught; --seed reproducible"
    ;;
transcript)
    cap=$1 want=$2
    shift 2
    replay "$cap" "$work/replay.json" "$@"
    "${verdicts[@]}" check "$want" "$work/replay.json" || fail "the replay's verdicts differ (exit $replay_rc)"
    ;;
negative)
    cap=$1 want=$2
    shift 2
    replay "$cap" "$work/replay.json" "$@"
    "${verdicts[@]}" check "$want" "$work/replay.json" >"$work/check.txt" ||
        fail "the undoctored capture does not replay as recorded"
    for what in request answer; do
        doctor "$cap" "$work/$what.jsonl" "$what" || fail "doctor $what"
        replay "$work/$what.jsonl" "$work/$what.json" "$@"
        [ "$replay_rc" -eq 1 ] || fail "one $what changed: the replay exited $replay_rc, not 1"
        if "${verdicts[@]}" check "$want" "$work/$what.json" >"$work/check-$what.txt"; then
            fail "a capture with one $what changed gave the live verdicts"
        fi
        echo "device-replay negative: one $what changed: exit 1, $(grep -c 'device-verdicts: row\|totals\|exit code\|replay/answers' "$work/check-$what.txt") differences"
    done
    ;;
*)
    echo "device-replay: unknown mode $mode" >&2
    exit 2
    ;;
esac
