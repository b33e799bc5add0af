#!/usr/bin/env bash
# ctest client/cli/state-across-runs and client/cli/state-bad (issue 11,
# "a one-shot device that posts again in a later process run completes
# scenarios across runs"): the reference device (emoncrypt send, one post
# per process, what it could not deliver kept in a spool file for the next
# run, as a cron script does) posts once per test-client run.
#   across: with --state FILE the 12 scenarios complete over the runs (the
#           last report: 12/12, no FAIL, exit 0; every earlier one exit 2,
#           INCOMPLETE, never FAIL); without --state the same runs never
#           complete one scenario.
#   bad:    a corrupt state file, one of another version, of another user id
#           or scenario selection: exit 2 and one line naming the file; the
#           file is left as it was.
# usage: client_state.sh EMONCRYPT WORKDIR across|bad
set -u
ec=$1 work=$2 mode=$3
key=0123456789abcdef0123456789abcdef
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
fail() { echo "client_state: $*" >&2; exit 1; }

# One cron tick: a new reading joins the spool, test-client runs for one
# request, the device posts the spool once (no retry in this process).
# $1 = tick, $2.. = extra test-client options.  Sets tick_rc.
tick() {
    local i=$1
    shift
    echo "$((1764000000 + 10 * i)),$((31337000 + i)).25,7$((1000 + i))" >>spool.csv
    rm -f port
    "$ec" test-client "$@" --max-requests 1 -l 127.0.0.1:0 -u 1 -k "$key" --port-file port -q \
        >"run$i.out" 2>"run$i.err" &
    local tc=$!
    for _ in $(seq 200); do [[ -s port ]] && break; sleep 0.05; done
    [[ -s port ]] || { kill "$tc"; fail "tick $i: no port file"; }
    rm -f spool.new
    "$ec" send "http://127.0.0.1:$(cat port)" -u 1 -k "$key" --retries 0 --timeout-ms 1500 \
        --bulk spool.csv --undelivered spool.new -q >"send$i.out" 2>&1
    if [[ -f spool.new ]]; then mv spool.new spool.csv; else : >spool.csv; fi
    wait "$tc"
    tick_rc=$?
}

runs=40
case $mode in
across)
    done_at=0
    for i in $(seq $runs); do
        tick "$i" --state s.json
        grep -q "^FAIL" "run$i.out" && { grep "^FAIL" "run$i.out"; fail "run $i: a FAIL"; }
        grep -q "scenarios complete, state saved to s.json" "run$i.out" ||
            { cat "run$i.out" "run$i.err"; fail "run $i: the summary does not say the state was saved"; }
        if grep -q "12/12 scenarios complete" "run$i.out"; then
            [[ $tick_rc -eq 0 ]] || fail "run $i: 12/12 complete but exit $tick_rc"
            done_at=$i
            break
        fi
        [[ $tick_rc -eq 2 ]] || fail "run $i: incomplete, exit $tick_rc, want 2"
        grep -q "^result: INCOMPLETE" "run$i.out" || fail "run $i: no 'result: INCOMPLETE'"
    done
    [[ $done_at -gt 0 ]] || { tail -5 "run$runs.out"; fail "with --state: not complete after $runs runs"; }
    n=$(grep -c "^PASS *client/7.scenario/" "run$done_at.out")
    [[ $n -eq 12 ]] || fail "run $done_at: $n scenarios PASS, want 12"
    grep -q '"version":1' s.json || fail "the state file has no version"
    grep -qi "$key" s.json && fail "the state file holds the key"
    grep -Eq '313370[0-9]{2}\.25' s.json && fail "the state file holds a plaintext value"
    echo "with --state: 12/12 scenarios complete after $done_at one-post runs"
    rm -f spool.csv
    for i in $(seq $done_at); do
        tick "$i"
        grep -q "0/12 scenarios complete" "run$i.out" || { cat "run$i.out"; fail "without --state, run $i: not 0/12"; }
        [[ $tick_rc -eq 2 ]] || fail "without --state, run $i: exit $tick_rc, want 2"
    done
    echo "without --state: 0/12 in each of $done_at runs"
    ;;
bad)
    base=(test-client -l 127.0.0.1:0 -u 1 -k "$key" --duration 1 -q)
    check() { # $1 = what, $2 = file, $3 = expected words; extra options after
        local what=$1 file=$2 words=$3
        shift 3
        cp "$file" before
        "$ec" "${base[@]}" --state "$file" "$@" >out 2>err
        local rc=$?
        [[ $rc -eq 2 ]] || { cat err; fail "$what: exit $rc, want 2"; }
        [[ $(wc -l <err) -eq 1 ]] || { cat err; fail "$what: not one line on stderr"; }
        grep -q -- "--state $file: .*$words" err || { cat err; fail "$what: the line does not name $file ($words)"; }
        cmp -s before "$file" || fail "$what: the file was changed"
        [[ -s out ]] && { cat out; fail "$what: a report was printed"; }
        echo "$what: $(cat err)"
    }
    printf 'not json{' >corrupt.json
    check "corrupt" corrupt.json "corrupt"
    printf '{"format":"emoncrypt-test-client-state","version":99}\n' >v99.json
    check "another version" v99.json "version 99"
    printf '{"format":"something-else","version":1}\n' >other.json
    check "another format" other.json "corrupt"
    # a real state file: one run with a post, then used by user 2, with
    # other scenarios, and cut short
    tick 1 --state good.json
    [[ -s good.json ]] || fail "no state written"
    check "another user id" good.json "user id 1, not 2" -u 2
    check "another scenario selection" good.json "scenarios" --scenario happy
    head -c 100 good.json >cut.json
    check "cut short" cut.json "corrupt"
    sed 's/"scenario_pos":[0-9]*/"scenario_pos":"x"/' good.json >field.json
    check "a field of the wrong type" field.json "corrupt (scenario_pos)"
    # missing is a fresh start
    "$ec" "${base[@]}" --state fresh.json >out 2>err
    [[ $? -eq 2 ]] || fail "missing file: not the usual INCOMPLETE exit 2"
    grep -q "state saved to fresh.json" out || fail "missing file: not a fresh start"
    echo "missing file: a fresh start"
    ;;
*) fail "mode $mode" ;;
esac
