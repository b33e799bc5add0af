#!/usr/bin/env bash
# report/html-chromium (issue 13 point 3): the HTML report of a failing run,
# rendered by a real browser (Debian's chromium, headless).
#   - the first failure is on the first screen (1280x800): a screenshot holds
#     the failure card's background colour; the same page with 3000 px
#     pushed in above it must not (the probe can fail);
#   - the inline filter works without network: #q=<a failing id> leaves
#     exactly that case shown ("showing 1 of N cases" in the DOM);
#   - text is readable: no raw \x22 escapes; nothing is fetched (no src=,
#     no <link>, no http(s) URL other than the target's).
# Skipped (exit 77) with the reason when chromium is not installed.
# usage: html_chromium.sh EMONCRYPT SOURCE_DIR PYTHON
set -u
ec=$1 src=$2 py=${3:-python3}
chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $chromium ]]; then
    echo "SKIP: chromium is not installed (Debian package chromium, tools/packages.txt)"
    exit 77
fi
key=00112233445566778899aabbccddeeff
work=$(mktemp -d)
serve_pid=""
trap '[[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$ec" serve -l 127.0.0.1:0 -u 1 -k "$key" -q --ready-file "$work/ready" 2>"$work/serve.err" &
serve_pid=$!
for _ in $(seq 100); do [[ -s $work/ready ]] && break; sleep 0.1; done
[[ -s $work/ready ]] || { echo "serve did not start"; cat "$work/serve.err"; exit 1; }
url=$(cat "$work/ready")
# --strict against a server that answers as Emoncms: FAILs and NON-STRICTs.
"$ec" test-server "$url" --userid 1 --apikey "$key" --strict -q --html "$work/report.html" \
    >"$work/run.out" 2>&1
rc=$?
[[ $rc == 1 ]] || { echo "test-server exit $rc, expected 1"; cat "$work/run.out"; exit 1; }
# The first failure whose id is no other id's prefix (the filter matches
# substrings: server/3.post/std-alphabet also shows …-no-padding).
first_fail=
for id in $(grep -o '<article class="case card failure" data-verdict="[A-Z-]*" data-text="[^ "]*' \
    "$work/report.html" | sed 's/.*data-text="//'); do
    if [[ $(grep -o '<tr class="case[^>]*' "$work/report.html" | grep -cF "$id") == 1 ]]; then first_fail=$id; break; fi
done
[[ -n $first_fail ]] || fail "no failure card in the report"
total=$(grep -c '^<tr class="case' "$work/report.html")

browser() { # OUT ARGS…: chromium headless, bounded, its own profile
    local out=$1; shift
    HOME=$work timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
        --disable-dev-shm-usage --no-first-run --hide-scrollbars --user-data-dir="$work/profile" \
        --window-size=1280,800 "$@" >"$out" 2>"$work/chromium.err"
}

# 1. the first failure on the first screen
colour=ffebe9   # .card.failure background, used nowhere else
browser "$work/shot.log" --screenshot="$work/shot.png" "file://$work/report.html"
if [[ ! -s $work/shot.png ]]; then
    fail "chromium wrote no screenshot"; tail -5 "$work/chromium.err"
else
    read -r n w h < <("$py" "$src/tests/report/png_probe.py" "$work/shot.png" $colour)
    echo "screenshot ${w}x${h}: $n pixels of #$colour (the first failure card)"
    [[ $n -ge 5000 ]] || fail "the first screen shows no failure card ($n pixels of #$colour)"
fi
# … and the probe sees it when the failure is pushed off the first screen.
sed 's|<body>|<body><div style="height:3000px"></div>|' "$work/report.html" >"$work/pushed.html"
browser "$work/shot2.log" --screenshot="$work/pushed.png" "file://$work/pushed.html"
if [[ -s $work/pushed.png ]]; then
    read -r n2 _ _ < <("$py" "$src/tests/report/png_probe.py" "$work/pushed.png" $colour)
    [[ $n2 -eq 0 ]] || fail "the probe still sees $n2 failure pixels with the failure pushed down"
else
    fail "chromium wrote no screenshot of the pushed page"
fi

# 2. the filter, from the #q= fragment, in the browser's DOM
browser "$work/dom.html" --dump-dom "file://$work/report.html#q=$first_fail"
grep -q "showing 1 of $total cases" "$work/dom.html" ||
    fail "filter #q=$first_fail: no 'showing 1 of $total cases' in the DOM ($(grep -o 'showing [0-9]* of [0-9]* cases' "$work/dom.html"))"
browser "$work/dom-all.html" --dump-dom "file://$work/report.html"
grep -q "showing $total of $total cases" "$work/dom-all.html" ||
    fail "no filter: not every case shown"

# 3. readable and self-contained
grep -q '\\x22' "$work/report.html" && fail "raw \\x22 escapes in the page"
grep -q '{"success": false' "$work/dom.html" || fail "the Emoncms JSON answer is not shown as text"
grep -Eq '<link|<img|<iframe| src=' "$work/report.html" && fail "the page loads something"
grep -o 'https\?://[^ "<&]*' "$work/report.html" | grep -v "^$url" | grep -q . &&
    fail "a URL other than the target's in the page"
# summary before failures before NON-STRICT before the full list
order=$(grep -no '<header id="summary">\|<section id="failures">\|<section id="non-strict">\|<section id="all">' \
    "$work/report.html" | cut -d: -f2 | tr '\n' ' ')
[[ $order == '<header id="summary"> <section id="failures"> <section id="all"> ' ||
   $order == '<header id="summary"> <section id="failures"> <section id="non-strict"> <section id="all"> ' ]] ||
    fail "sections out of order: $order"

[[ $failures -eq 0 ]] || exit 1
echo "html-chromium: first failure on the first screen ($n px), filter shows 1 of $total, page self-contained"
