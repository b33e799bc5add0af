#!/usr/bin/env bash
# ctest cli/setup-diagnosis (issue 13 point 4): a set-up error is one line
# and exit 2 before any case runs, not hundreds of FAILs:
#   - a wrong write key (every correct post answered 'invalid data'),
#   - a user id that is not an account ('User not found'),
#   - a URL that serves an HTML page, or 404s (not an Emoncms),
#   - http://host where Emoncms is under http://host/emoncms (says so),
# and a right set-up still runs the suite (exit 0).
#
# usage: setup_diagnosis.sh EMONCRYPT PYTHON3 WORKDIR
set -u
ec=$1 py=$2 work=$3
key=0123456789abcdef0123456789abcdef
other=fedcba9876543210fedcba9876543210
rm -rf "$work"
mkdir -p "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
fail() { echo "setup_diagnosis: $*" >&2; exit 1; }
wait_file() { for _ in $(seq 100); do [[ -s "$1" ]] && return 0; sleep 0.1; done; fail "$2 did not start"; }

"$ec" serve --listen 127.0.0.1:0 --userid 1 --apikey "$key" --ready-file "$work/ready" \
    >"$work/serve.txt" 2>&1 &
pids+=($!)
wait_file "$work/ready" serve
url=$(cat "$work/ready")
for mode in html 404 prefix; do
    "$py" "$(dirname "$0")/fake_web.py" $mode "$work/port-$mode" "$url" 2>"$work/web-$mode.txt" &
    pids+=($!)
done
for mode in html 404 prefix; do wait_file "$work/port-$mode" "fake_web.py $mode"; done

# run NAME WANT-EXIT TEXT ARGS…: exit status, TEXT on stderr in one line,
# and nothing else printed (no case lines, no summary)
run() {
    local name=$1 want=$2 text=$3
    shift 3
    "$ec" test-server "$@" --no-vectors >"$work/$name.out" 2>"$work/$name.err"
    local rc=$?
    [[ $rc -eq $want ]] || { cat "$work/$name.out" "$work/$name.err" >&2; fail "$name: exit $rc, want $want"; }
    [[ -z "$text" ]] && return 0
    [[ $(wc -l <"$work/$name.err") -eq 1 ]] || { cat "$work/$name.err" >&2; fail "$name: stderr is not one line"; }
    [[ ! -s "$work/$name.out" ]] || { head "$work/$name.out" >&2; fail "$name: printed more than the diagnosis"; }
    grep -qF -- "$text" "$work/$name.err" || { cat "$work/$name.err" >&2; fail "$name: no '$text'"; }
    grep -qF -- "$other" "$work/$name.err" && fail "$name: the key is in the output"
    echo "$name: $(cat "$work/$name.err")"
}

run wrong-key 2 "every correct post (2 of 2) was answered 'invalid data': is --apikey the write API key of user 1?" \
    "$url" --userid 1 --apikey "$other"
run wrong-key-quiet 2 "'invalid data'" "$url" --userid 1 --apikey "$other" -q
run wrong-user 2 "'User not found': user id 7 is not an account" "$url" --userid 7 --apikey "$key"
h="http://127.0.0.1:$(cat "$work/port-html")"
run html 2 "$h is not an Emoncms (a correct POST /input/post answered an HTML page (\"Router login\") (HTTP 200))" \
    "$h" --userid 1 --apikey "$key"
n="http://127.0.0.1:$(cat "$work/port-404")"
run not-found 2 "$n is not an Emoncms (a correct POST /input/post answered an HTML page (\"404 Not Found\") (HTTP 404))" \
    "$n" --userid 1 --apikey "$key"
p="http://127.0.0.1:$(cat "$work/port-prefix")"
run prefix 2 "is not Emoncms's base (POST /input/post answered an HTML page (\"404 Not Found\") (HTTP 404)): use URL $p/emoncms" \
    "$p" --userid 1 --apikey "$key"
# the wrong key behind the prefix is still the key
run prefix-wrong-key 2 "'invalid data'" "$p/emoncms" --userid 1 --apikey "$other"
# a right set-up: the suite runs (through the prefix too)
run right 0 "" "$url" --userid 1 --apikey "$key" --section 3.post -q
grep -q "^emoncrypt test-server: .* cases against" "$work/right.out" || fail "right: no summary"
run right-prefix 0 "" "$p/emoncms" --userid 1 --apikey "$key" --section 3.post -q
echo "setup_diagnosis: all set-up errors diagnosed in one line, exit 2"
