#!/usr/bin/env bash
# Every "§N" the sources, README, docs and --help texts cite for the
# protocol (SPEC §N, SPEC.md §N, the "(§3, §5)" of the README's tables) and
# every case id's section number (server/4.auth/… is §4) must name a
# section of docs/SPEC.md ("## N." or "### N.M").  Citations of other
# documents ("RFC 4648 §10", "RFC 9110 §5.5") are not ours and are skipped.
# usage: spec_cites.sh SOURCE_DIR [EMONCRYPT] [EXTRA_FILE…]
#   EXTRA_FILEs are checked as well (the self-test feeds a bad citation).
set -u
src=$1; shift
ec=${1:-}; [[ $# -gt 0 ]] && shift
spec=$src/docs/SPEC.md
[[ -r $spec ]] || { echo "FAIL: $spec missing"; exit 1; }

mapfile -t sections < <(grep -oE '^#{2,3} [0-9]+(\.[0-9]+)*\.? ' "$spec" |
    sed -E 's/^#+ //; s/\.? $//')
[[ ${#sections[@]} -ge 8 ]] || { echo "FAIL: docs/SPEC.md has ${#sections[@]} numbered sections"; exit 1; }
declare -A have=()
for s in "${sections[@]}"; do have[$s]=1; done

failures=0 checked=0
check() {            # check WHERE NUMBER
    checked=$((checked + 1))
    [[ -n ${have[$2]:-} ]] && return
    echo "FAIL: $1 cites §$2, which docs/SPEC.md does not have"
    failures=$((failures + 1))
}

# §-citations in a stream of "where:text" lines (grep -n output).
scan() {
    local file where text raw c prev="" prevfile=""
    while IFS= read -r line; do
        [[ $line =~ ^([^:]*):([0-9]+):(.*)$ ]] || continue
        file=${BASH_REMATCH[1]}; where=$file:${BASH_REMATCH[2]}; text=${BASH_REMATCH[3]}
        raw=$text
        # A line that continues "… (RFC 9110" with "§5.5)": not ours.
        if [[ $file == "$prevfile" && $prev =~ RFC\ ?[0-9]+,?[[:space:]]*$ ]]; then
            text=$(sed -E 's/^[^§]*§ ?[0-9]+(\.[0-9]+)*//' <<<"$text")
        fi
        prevfile=$file; prev=$raw
        # drop other documents' sections: "RFC 1234 §5.5", "RFC 1234, §4"
        text=$(sed -E 's/RFC ?[0-9]+,? ?§ ?[0-9]+(\.[0-9]+)*//g; s/(FIPS|SP) [0-9.-]+ ?§ ?[0-9.]+//g' <<<"$text")
        while read -r c; do
            [[ -n $c ]] && check "$where" "$c"
        done < <(grep -oE '§ ?[0-9]+(\.[0-9]+)*' <<<"$text" | sed -E 's/§ ?//; s/\.$//')
    done
}

mapfile -t files < <(cd "$src" && find . \( -name build -o -name 'build-*' -o -name .git \) -prune -o \
    -type f \( -name '*.c' -o -name '*.h' -o -name '*.inc' -o -name '*.md' -o -name '*.py' \
    -o -name '*.sh' -o -name '*.cmake' -o -name CMakeLists.txt -o -name run \) -print |
    grep -v '^./docs/SPEC.md$' | grep -v '^./tests/docs/' | sort)
scan < <(cd "$src" && grep -HnE '§|RFC' "${files[@]}" /dev/null)
for extra in "$@"; do scan < <(grep -HnE '§|RFC' "$extra" /dev/null); done

# Case ids: "server/N.…" and "client/N.…" in the suites.
while IFS= read -r hit; do
    where=${hit%%:\"*}; n=${hit##*\"}; n=${n#*/}; n=${n%.}
    check "$where (case id)" "$n"
done < <(cd "$src" && grep -rHoE '"(server|client)/[0-9]+\.' suites harness)

# The running program's help texts.
if [[ -n $ec ]]; then
    for cmd in "" $("$ec" --list-commands); do
        # shellcheck disable=SC2086
        scan < <("$ec" $cmd --help 2>&1 | sed "s|^|emoncrypt $cmd --help:0:|")
    done
fi

echo "checked $checked citations against ${#sections[@]} sections of docs/SPEC.md; $failures unresolved"
[[ $checked -gt 100 ]] || { echo "FAIL: only $checked citations found: is the scan broken?"; exit 1; }
[[ $failures -eq 0 ]]
