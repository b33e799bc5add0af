#!/usr/bin/env bash
# ctest install/relocatable (issue 15): `cmake --install` into a scratch
# prefix, move the prefix elsewhere, hide the source tree's vectors/ (a
# private mount namespace with an empty tmpfs over it, when unshare works),
# then
#   - the installed `emoncrypt vectors` and `test-server` read
#     PREFIX/share/emoncrypt/vectors, found from the binary's own location:
#     the installed test-server against the installed serve runs exactly as
#     many cases as the build tree's binary does with the source vectors;
#   - with the installed vectors removed, both say so and exit 2 (never
#     fewer cases in silence); EMONCRYPT_VECTORS names a file instead.
set -eu
build=$1 src=$2
work=$(mktemp -d)
fail() { echo "install/relocatable: $*" >&2; exit 1; }
. "$src/tests/install/serve_lib.sh"

cmake --install "$build" --prefix "$work/staged" >/dev/null
mv "$work/staged" "$work/moved"
prefix=$work/moved
ec=$prefix/bin/emoncrypt
[ -x "$ec" ] || fail "no bin/emoncrypt installed"
vecfile=$prefix/share/emoncrypt/vectors/emoncms_input_v1.json
[ -f "$vecfile" ] || fail "no share/emoncrypt/vectors/emoncms_input_v1.json installed"

# hidden CMD… — run CMD with the source tree's vectors/ hidden if we can.
hide=0
if unshare -m sh -c "mount -t tmpfs none '$src/vectors'" 2>/dev/null; then hide=1; fi
hidden() {
    if [ $hide -eq 1 ]; then
        unshare -m sh -c 'mount -t tmpfs none "$1/vectors" && shift && exec "$@"' sh "$src" "$@"
    else
        "$@"
    fi
}
[ $hide -eq 1 ] || echo "install/relocatable: unshare -m not permitted; source vectors left visible"

# The installed serve on a free loopback port.
start_serve "$ec"

# The reference count: the build tree's binary with the source vectors.
"$build/emoncrypt" test-server "$url" --userid 1 --apikey $key -q >"$work/built.out" ||
    { cat "$work/built.out"; fail "the build tree's test-server failed against the installed serve"; }
want=$(total "$work/built.out")
[ -n "$want" ] || fail "no summary line from the build tree's test-server"

env -u EMONCRYPT_VECTORS "$ec" vectors >"$work/vectors.out" 2>&1 ||
    { cat "$work/vectors.out"; fail "installed 'emoncrypt vectors' failed"; }
rc=0
hidden env -u EMONCRYPT_VECTORS "$ec" test-server "$url" --userid 1 --apikey $key -q >"$work/inst.out" 2>&1 || rc=$?
got=$(total "$work/inst.out")
[ $rc -eq 0 ] || { cat "$work/inst.out"; fail "installed test-server exited $rc"; }
[ "$got" = "$want" ] || fail "installed test-server ran ${got:-no} cases, the build tree's $want"
echo "installed test-server: $got cases (build tree: $want), source vectors hidden: $hide"

# Without its vectors the installed binary says so and exits 2.
mv "$vecfile" "$work/v.json"
for cmd in "vectors" "test-server $url --userid 1 --apikey $key -q"; do
    rc=0
    # shellcheck disable=SC2086
    hidden env -u EMONCRYPT_VECTORS "$ec" $cmd >"$work/miss.out" 2>"$work/miss.err" || rc=$?
    [ $rc -eq 2 ] || { cat "$work/miss.out" "$work/miss.err"; fail "'$cmd' without vectors exited $rc, not 2"; }
    grep -q "cannot find the reference vectors" "$work/miss.err" ||
        { cat "$work/miss.err"; fail "'$cmd' without vectors did not say why"; }
done
# EMONCRYPT_VECTORS names the file.
rc=0
EMONCRYPT_VECTORS="$work/v.json" hidden "$ec" test-server "$url" --userid 1 --apikey $key -q >"$work/env.out" 2>&1 || rc=$?
[ $rc -eq 0 ] && [ "$(total "$work/env.out")" = "$want" ] ||
    { cat "$work/env.out"; fail "EMONCRYPT_VECTORS: exit $rc, $(total "$work/env.out") cases, want $want"; }
echo "missing vectors: exit 2 with the reason; EMONCRYPT_VECTORS: $want cases"
