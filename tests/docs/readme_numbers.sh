#!/usr/bin/env bash
# docs/readme-numbers (issue 13 point 9): the numbers the README and the
# port kit's README quote come from a run, and this checks them:
#   README.md        the test-server summary line = the totals of a run of
#                    test-server (default options, vectors included)
#                    against `emoncrypt serve`
#   harness/port/README.md  "all N vectors" = `emoncrypt vectors --format c`'s
#                    EMONCRYPT_VECTOR_COUNT = the shipped header's; "# K
#                    vectors" after the --id 'post/*' example = that export's
# usage: readme_numbers.sh SOURCE_DIR EMONCRYPT [README PORT_README]
#   (README / PORT_README: other copies to check, for docs/readme-numbers-catches)
set -u
src=$1 ec=$2
readme=${3:-$src/README.md}
port_readme=${4:-$src/harness/port/README.md}
key=00112233445566778899aabbccddeeff
work=$(mktemp -d)
serve_pid=""
trap '[[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# ---- README.md: the test-server summary ----------------------------------
re='^emoncrypt test-server: ([0-9]+) cases against [^ ]+ in [0-9]+ ms: ([0-9]+) PASS, ([0-9]+) FAIL, ([0-9]+) NON-STRICT, ([0-9]+) INFO, ([0-9]+) SKIP$'
line=$(grep -E "$re" "$readme" | head -1)
if [[ -z $line ]]; then
    fail "README: no 'emoncrypt test-server: N cases … SKIP' line"
else
    [[ $line =~ $re ]]
    quoted="total=${BASH_REMATCH[1]} PASS=${BASH_REMATCH[2]} FAIL=${BASH_REMATCH[3]} NON-STRICT=${BASH_REMATCH[4]} INFO=${BASH_REMATCH[5]} SKIP=${BASH_REMATCH[6]}"
    "$ec" serve -l 127.0.0.1:0 -u 1 -k "$key" -q --ready-file "$work/ready" 2>"$work/serve.err" &
    serve_pid=$!
    for _ in $(seq 100); do [[ -s $work/ready ]] && break; sleep 0.1; done
    [[ -s $work/ready ]] || { echo "serve did not start"; cat "$work/serve.err"; exit 1; }
    "$ec" test-server "$(cat "$work/ready")" --userid 1 --apikey "$key" -q \
        --json "$work/run.json" >"$work/run.out" 2>&1
    kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; serve_pid=""
    # the totals object comes first in the JSON; results have no such keys
    count() { grep -o "\"$1\": [0-9]*" "$work/run.json" | head -1 | grep -o '[0-9]*$'; }
    ran="total=$(count total) PASS=$(count PASS) FAIL=$(count FAIL) NON-STRICT=$(count NON-STRICT) INFO=$(count INFO) SKIP=$(count SKIP)"
    [[ $quoted == "$ran" ]] || fail "README says $quoted; a run against serve gives $ran"
fi

# ---- harness/port/README.md: vector counts -------------------------------
"$ec" vectors --format c >"$work/all.h" 2>"$work/vectors.err" || fail "emoncrypt vectors --format c failed"
exported=$(sed -n 's/^#define EMONCRYPT_VECTOR_COUNT \([0-9]*\)$/\1/p' "$work/all.h")
shipped=$(sed -n 's/^#define EMONCRYPT_VECTOR_COUNT \([0-9]*\)$/\1/p' "$src/harness/port/emoncrypt_vectors.h")
said=$(grep -o 'contains all [0-9]* vectors' "$port_readme" | grep -o '[0-9]*')
[[ -n $exported && $exported == "$shipped" ]] ||
    fail "the shipped header has ${shipped:-?} vectors, emoncrypt vectors exports ${exported:-?}"
[[ $said == "$exported" ]] ||
    fail "harness/port/README.md says all ${said:-?} vectors; the export has ${exported:-?}"
"$ec" vectors --format c --id 'post/*' >"$work/post.h" 2>/dev/null
post=$(sed -n 's/^#define EMONCRYPT_VECTOR_COUNT \([0-9]*\)$/\1/p' "$work/post.h")
said_post=$(grep -F -- "--id 'post/*'" "$port_readme" | grep -o '# [0-9]* vectors' | grep -o '[0-9]*' | head -1)
[[ $said_post == "$post" ]] ||
    fail "harness/port/README.md says --id 'post/*' gives ${said_post:-?} vectors; it gives ${post:-?}"

[[ $failures -eq 0 ]] || exit 1
echo "readme-numbers: README $ran; port kit: $exported vectors, $post for post/*"
