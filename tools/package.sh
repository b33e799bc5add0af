#!/usr/bin/env bash
# tools/package.sh — `tools/run package` (issue 15): build the Debian
# packages from this tree with Debian's tooling, check them with lintian,
# install them into this machine with apt-get, and run the installed
# suite against the installed reference server.
#
#   1. the tree (tracked and untracked, not ignored files) is copied to
#      build-package/src and built with `dpkg-buildpackage -b -us -uc`:
#      build-package/*.deb (emoncrypt, libemoncrypt0, libemoncrypt-harness0,
#      libemoncrypt-dev, emoncrypt-port);
#   2. `lintian --fail-on error` on the .changes (output in
#      build-package/lintian.txt);
#   3. `apt-get install ./build-package/*.deb`;
#   4. /usr/bin/emoncrypt serve on a free loopback port, /usr/bin/emoncrypt
#      test-server against it from /, with no EMONCRYPT_VECTORS: it must
#      pass and run as many cases as the package build's own binary does
#      with the source tree's vectors;
#   5. a program built against the installed -dev package with pkg-config
#      and with find_package (no prefix given: /usr).
# Needs root (apt-get install); exit 1 when a check fails, 2 on set-up error.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$top/build-package
say() { printf '==> %s\n' "$*"; }
fail() { echo "tools/run package: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || { echo "tools/run package: installs the .debs with apt-get: run as root" >&2; exit 2; }
for t in dpkg-buildpackage dh lintian help2man; do
    command -v "$t" >/dev/null || { echo "tools/run package: $t not found (tools/packages.txt)" >&2; exit 2; }
done

say "package: copy the tree to build-package/src"
rm -rf "$out"
mkdir -p "$out/src"
(cd "$top" && git ls-files -z -c -o --exclude-standard | tar --null -T - -cf -) | tar -C "$out/src" -xf -

say "package: dpkg-buildpackage -b -us -uc"
(cd "$out/src" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -b -us -uc) \
    >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; fail "dpkg-buildpackage failed (build-package/build.log)"; }
ls "$out"/*.deb
changes=$(ls "$out"/*.changes)

say "package: lintian"
rc=0
lintian --fail-on error --display-info "$changes" >"$out/lintian.txt" 2>&1 || rc=$?
cat "$out/lintian.txt"
[ $rc -eq 0 ] || fail "lintian found errors (build-package/lintian.txt)"
echo "lintian: $(grep -c '^E:' "$out/lintian.txt" || true) errors, $(grep -c '^W:' "$out/lintian.txt" || true) warnings, $(grep -c '^I:' "$out/lintian.txt" || true) info"

say "package: apt-get install ./build-package/*.deb"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y --reinstall \
    "$out"/*.deb >"$out/install.log" 2>&1 || { tail -20 "$out/install.log"; fail "apt-get install failed"; }
dpkg-query -W emoncrypt libemoncrypt0 libemoncrypt-harness0 libemoncrypt-dev emoncrypt-port

say "package: the installed test-server against the installed serve"
work=$(mktemp -d)
. "$top/tests/install/serve_lib.sh"
cd /
start_serve /usr/bin/emoncrypt
built=$(ls "$out"/src/obj-*/emoncrypt)
"$built" test-server "$url" --userid 1 --apikey $key -q >"$work/built.out" 2>&1 ||
    { cat "$work/built.out"; fail "the package build's test-server failed against the installed serve"; }
want=$(total "$work/built.out")
rc=0
env -u EMONCRYPT_VECTORS /usr/bin/emoncrypt test-server "$url" --userid 1 --apikey $key -q \
    >"$work/inst.out" 2>&1 || rc=$?
tail -1 "$work/inst.out"
[ $rc -eq 0 ] || { cat "$work/inst.out"; fail "the installed test-server exited $rc"; }
got=$(total "$work/inst.out")
[ -n "$want" ] && [ "$got" = "$want" ] || fail "the installed test-server ran ${got:-no} cases, the source tree's binary ${want:-no}"
echo "installed test-server: $got cases (source tree's vectors: $want), exit 0"

say "package: a consumer of the installed libemoncrypt-dev"
cc -std=c11 -Wall -Wextra -Werror "$top/tests/install/consumer.c" $(pkg-config --cflags --libs emoncrypt) \
    -o "$work/pc_codec" && "$work/pc_codec" || fail "pkg-config consumer of /usr failed"
cc -std=c11 -Wall -Wextra -Werror "$top/tests/install/consumer_harness.c" \
    $(pkg-config --cflags --libs emoncrypt-harness) -o "$work/pc_harness" && "$work/pc_harness" ||
    fail "pkg-config harness consumer of /usr failed"
cmake -S "$top/tests/install/cmake_consumer" -B "$work/cm" -DWITH_HARNESS=ON \
    -DCONSUMER_SRC="$top/tests/install" >"$work/cm.log" 2>&1 && cmake --build "$work/cm" >>"$work/cm.log" 2>&1 ||
    { cat "$work/cm.log"; fail "find_package(emoncrypt CONFIG) consumer of /usr did not build"; }
for t in codec codec_static harness harness_static; do
    "$work/cm/consumer_$t" >/dev/null || fail "find_package consumer_$t of /usr failed"
done
echo "consumers of /usr: pkg-config codec + harness, find_package codec, codec_static, harness, harness_static: ok"
say "package: every check passed (remove with: apt-get remove emoncrypt libemoncrypt-dev libemoncrypt0 libemoncrypt-harness0 emoncrypt-port)"
