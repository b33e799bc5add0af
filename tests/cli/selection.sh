#!/usr/bin/env bash
# Case selection (issue 13): --case/--section repeatable, globs, the id as
# printed and the short form, --exclude, a pattern that matches nothing is
# exit 2 with one line and no traffic, and --list prints the ids and the
# count a run reports, for test-server (against emoncrypt serve) and
# test-client (--self-test).
# usage: selection.sh EMONCRYPT
set -u
ec=$1
key=0123456789abcdef0123456789abcdef
work=$(mktemp -d)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
serve_pid=
cleanup() { [[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$ec" serve --listen 127.0.0.1:0 --userid 1 --apikey "$key" --ready-file "$work/url" \
    2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do [[ -s "$work/url" ]] && break; sleep 0.1; done
[[ -s "$work/url" ]] || { echo "FAIL: emoncrypt serve did not start"; exit 1; }
url=$(cat "$work/url")

# ids of a JSON report, one a line
ids() { python3 -c 'import json,sys; [print(r["id"]) for r in json.load(open(sys.argv[1]))["results"]]' "$1"; }
# the count --list prints (its last line "N cases")
list_count() { "$ec" "$@" --list | tail -n 1 | sed -n 's/^\([0-9]*\) cases$/\1/p'; }

# run NAME ARGS…: test-server against serve with ARGS; its JSON ids in $work/NAME.ids,
# and the count --list gives for the same selection must equal the run's.
run() {
    local name=$1
    shift
    "$ec" test-server "$url" --userid 1 --apikey "$key" -q --json "$work/$name.json" "$@" \
        >"$work/$name.out" 2>&1
    local rc=$?
    [[ $rc -le 1 ]] || { fail "$name: exit $rc: $(tail -n 2 "$work/$name.out")"; return; }
    ids "$work/$name.json" >"$work/$name.ids"
    local n listed
    n=$(wc -l <"$work/$name.ids")
    listed=$(list_count test-server "$@")
    [[ "$n" -gt 0 ]] || fail "$name: the run reported no case"
    [[ "$listed" == "$n" ]] || fail "$name: --list counts '$listed', the run reported $n"
    echo "ok: $name ($n cases, --list agrees)"
}

# a typo'd or printed-but-wrong section: exit 2, one line naming it, no request
before=$(wc -l <"$work/serve.log")
for bad in "--section 4.nosuch" "--section server/4.nosuch" "--case server/4.auth/nosuch*" \
           "--exclude 9.*"; do
    # shellcheck disable=SC2086
    "$ec" test-server "$url" --userid 1 --apikey "$key" $bad >"$work/bad.out" 2>"$work/bad.err"
    rc=$?
    pattern=${bad#* }
    [[ $rc -eq 2 ]] || fail "$bad: exit $rc, expected 2"
    [[ $(wc -l <"$work/bad.err") -eq 1 ]] || fail "$bad: stderr is not one line: $(cat "$work/bad.err")"
    grep -qF -- "'$pattern' matches no case" "$work/bad.err" || fail "$bad: stderr does not name '$pattern': $(cat "$work/bad.err")"
    [[ ! -s "$work/bad.out" ]] || fail "$bad: printed a report"
done
[[ $(wc -l <"$work/serve.log") -eq $before ]] || fail "a selection that matched nothing sent requests"
echo "ok: patterns that match nothing"

# two sections, the printed form and the short form: both run, nothing else
run two --section server/4.auth --section 4.ack
grep -q '^server/4\.auth/' "$work/two.ids" || fail "two: no 4.auth case ran"
grep -q '^server/4\.ack/' "$work/two.ids" || fail "two: no 4.ack case ran"
! grep -vqE '^server/4\.(auth|ack)/' "$work/two.ids" || fail "two: other cases ran: $(grep -vE '^server/4\.(auth|ack)/' "$work/two.ids" | head -3)"

# a glob
run glob --case 'server/4.auth/*'
cmp -s <(grep '^server/4\.auth/' "$work/two.ids") "$work/glob.ids" ||
    fail "glob: --case 'server/4.auth/*' did not run exactly the 4.auth cases"
run glob-short --case '4.auth/missing-*' --case 'server/3.post/*'
! grep -vqE '^server/(4\.auth/missing-|3\.post/)' "$work/glob-short.ids" || fail "glob-short: other cases ran"
grep -q '^server/3\.post/' "$work/glob-short.ids" || fail "glob-short: no 3.post case"

# exclude, a section and a case
run exclude --section 4 --exclude 4.auth --exclude 'server/4.ack/*'
grep -qE '^server/4\.(auth|ack)/' "$work/exclude.ids" && fail "exclude: an excluded case ran"
grep -q '^server/4\.' "$work/exclude.ids" || fail "exclude: no section 4 case ran"

# the vectors are listed and run like any other case
run vectors --section 8.vectors --exclude '*gz*'
grep -q '^server/8\.vectors/' "$work/vectors.ids" || fail "vectors: no vector case"
grep -q 'gz' "$work/vectors.ids" && fail "vectors: --exclude '*gz*' kept a gz vector"

# everything: --list's count is the run's (vectors included)
run all
all_listed=$("$ec" test-server --list | grep -c '^server/8\.vectors/')
[[ $all_listed -gt 100 ]] || fail "--list shows $all_listed vector cases"

# test-client: the same selection over checks and scenarios
crun() {
    local name=$1
    shift
    "$ec" test-client --listen 127.0.0.1:0 --userid 1 --apikey "$key" --self-test -q \
        --json "$work/$name.json" "$@" >"$work/$name.out" 2>&1
    local rc=$?
    [[ $rc -le 1 ]] || { fail "client $name: exit $rc: $(tail -n 2 "$work/$name.out")"; return; }
    ids "$work/$name.json" >"$work/$name.ids"
    local n listed
    n=$(wc -l <"$work/$name.ids")
    listed=$(list_count test-client "$@")
    [[ "$n" -gt 0 ]] || fail "client $name: the run reported no case"
    [[ "$listed" == "$n" ]] || fail "client $name: --list counts '$listed', the run reported $n"
    echo "ok: client $name ($n cases, --list agrees)"
}
crun c-two --section client/2.iv --section 3.auth
! grep -vqE '^client/(2\.iv|3\.auth)/' "$work/c-two.ids" || fail "client c-two: other checks reported"
crun c-scen --case '7.scenario/http-*' --exclude client/7.scenario/http-429
[[ "$(cat "$work/c-scen.ids")" == "client/7.scenario/http-500" ]] || fail "client c-scen: $(cat "$work/c-scen.ids")"
grep -q 'scenario http-500)' "$work/c-scen.out" || fail "client c-scen: the run did not script only http-500"
crun c-all
"$ec" test-client --userid 1 --apikey "$key" --section 2.nosuch >"$work/cbad.out" 2>"$work/cbad.err"
rc=$?
[[ $rc -eq 2 && $(wc -l <"$work/cbad.err") -eq 1 ]] && grep -qF "'2.nosuch' matches no case" "$work/cbad.err" ||
    fail "client: --section 2.nosuch: exit $rc, $(cat "$work/cbad.err")"

[[ $failures -eq 0 ]] || exit 1
echo "selection: all checks passed"
