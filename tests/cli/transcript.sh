#!/bin/sh
# ctest transcript/NAME (issues 11 and 19): replay a recorded run of
# test-server (tests/transcripts/NAME.json) against `emoncrypt
# serve-transcript` with the recorded seed, clock and options, and require
# every case's verdict and the totals as recorded, no request the
# transcript lacks and no recorded exchange left unasked.
#   transcript.sh EC FILE             the replay must agree
#   transcript.sh EC FILE negative    one recorded ack altered: the replay
#                                     must differ (this test fails if not)
#   transcript.sh EC FILE drift       one recorded request altered: the
#                                     server must report an unrecorded one
#   transcript.sh EC - refuse         --record refuses a key other than the
#                                     public test key, --readkey, no --seed
ec=$1
file=$2
mode=${3:-replay}
key=0123456789abcdef0123456789abcdef
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.txt; do [ -f "$f" ] && { echo "== $f"; tail -8 "$f"; }; done; exit 1; }
here=$(dirname "$0")
if [ "$mode" = refuse ]; then
    # --record keeps no secret: another key, or --readkey, is refused
    # before anything is sent (nothing listens on the URL) or written
    for extra in "--apikey 5e3f0c9a7b2d4e6f8a1c3b5d7e9f0a2b" \
                 "--apikey $key --readkey 5e3f0c9a7b2d4e6f8a1c3b5d7e9f0a2b"; do
        # shellcheck disable=SC2086
        "$ec" test-server http://127.0.0.1:9 --userid 1 $extra --seed 1 --no-vectors \
            --record "$work/t.json" >"$work/refuse.txt" 2>&1
        rc=$?
        [ $rc -eq 2 ] || fail "--record with $extra: exit $rc, expected 2"
        grep -q 'no secret' "$work/refuse.txt" || fail "--record with $extra: no reason given"
        [ ! -e "$work/t.json" ] || fail "--record with $extra wrote a transcript"
    done
    "$ec" test-server http://127.0.0.1:9 --userid 1 --apikey "$key" --no-vectors \
        --record "$work/t.json" >"$work/refuse.txt" 2>&1
    [ $? -eq 2 ] || fail "--record without --seed accepted"
    echo "transcript refuse: ok"
    exit 0
fi
played=$file
if [ "$mode" != replay ]; then
    played=$work/doctored.json
    python3 "$here/transcript_doctor.py" "$( [ "$mode" = negative ] && echo response || echo request)" \
        "$file" "$played" || fail "cannot doctor $file"
fi
"$ec" serve-transcript "$played" -q --ready-file "$work/url" 2>"$work/server.txt" &
server=$!
for _ in $(seq 200); do [ -s "$work/url" ] && break; sleep 0.05; done
[ -s "$work/url" ] || fail "serve-transcript did not start"
set --
while IFS= read -r a; do set -- "$@" "$a"; done <<ARGS
$("$ec" serve-transcript "$played" --args)
ARGS
"$ec" test-server "$(cat "$work/url")" --apikey "$key" "$@" -q --record "$work/replay.json" \
    >"$work/suite.txt" 2>&1
rc=$?
[ $rc -le 1 ] || fail "test-server exit $rc"
kill "$server"
wait "$server"
src=$?
server=
"$ec" serve-transcript "$played" --compare "$work/replay.json" >"$work/compare.txt" 2>&1
crc=$?
tail -1 "$work/compare.txt"
grep '^emoncrypt serve-transcript: stopped' "$work/server.txt"
case $mode in
replay)
    [ $src -eq 0 ] || fail "serve-transcript exit $src: the suite's requests drifted from the transcript"
    [ $crc -eq 0 ] || fail "the replay's verdicts differ from the recorded ones"
    ;;
negative)
    [ $crc -eq 1 ] || fail "an altered recorded answer went unnoticed (compare exit $crc)"
    grep '^DIFFERS' "$work/compare.txt"
    ;;
drift)
    [ $src -eq 1 ] || fail "an altered recorded request went unnoticed (serve-transcript exit $src)"
    grep -q 'UNRECORDED' "$work/server.txt" || fail "no UNRECORDED line"
    grep 'UNRECORDED' "$work/server.txt" | head -1
    ;;
esac
echo "transcript $(basename "$file") $mode: ok"
