#!/usr/bin/env bash
# ctest install/consumer (issue 15): `cmake --install` into a scratch
# prefix, then build programs outside the project against it
#   - with pkg-config: emoncrypt (the codec library) shared and fully
#     static (-static: proves Requires.private/Libs.private are complete),
#     emoncrypt-harness shared and static (our archives, system .so);
#   - with find_package(emoncrypt CONFIG): emoncrypt::codec, codec_static,
#     and with COMPONENTS harness emoncrypt::harness, harness_static; the
#     codec-only configure must look for nothing but OpenSSL and zlib, and
#     a version the package is not (99) must be refused;
# runs each, and checks what the codec programs load (readelf NEEDED and
# ldd): libemoncrypt, libcrypto, zlib and libc only, never libcurl,
# libmicrohttpd or jansson.  The same check applied to the harness
# library must fail (so it can).
# Usage: consumer.sh BUILD SRC CC SANITIZE
set -eu
build=$1 src=$2 cc=${3:-cc} sanitize=${4:-OFF}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "install/consumer: $*" >&2; exit 1; }
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name emoncrypt.pc | head -1)
[ -n "$pc" ] || fail "no emoncrypt.pc installed"
pcdir=$(dirname "$pc")
[ -f "$pcdir/emoncrypt-harness.pc" ] || fail "no emoncrypt-harness.pc installed"
export PKG_CONFIG_PATH=$pcdir
libdir=$(pkg-config --variable=libdir emoncrypt)
# (an installed libemoncrypt-dev must not stand in for the scratch prefix)
[[ $libdir == "$prefix"/* ]] || fail "pkg-config found emoncrypt.pc's libdir $libdir, not in $prefix"
for f in libemoncrypt.so libemoncrypt.a libemoncrypt-harness.so libemoncrypt-harness.a \
         cmake/emoncrypt/emoncrypt-config.cmake cmake/emoncrypt/emoncrypt-config-version.cmake; do
    [ -e "$libdir/$f" ] || fail "libdir $libdir from emoncrypt.pc has no $f"
done
for f in README.md emoncrypt_port.c emoncrypt_port.h emoncrypt_vectors.h shim_openssl.c; do
    [ -f "$prefix/share/emoncrypt/port/$f" ] || fail "port kit: no share/emoncrypt/port/$f"
done
[ -x "$prefix/bin/emoncrypt" ] || fail "emoncrypt CLI not installed"
"$prefix/bin/emoncrypt" --version >/dev/null
# The port kit's Arduino/PlatformIO/ESP-IDF library, generated from the
# installed kit by the installed generator and CLI (section 8 of its README).
port=$prefix/share/emoncrypt/port
cmake -DEMONCRYPT="$prefix/bin/emoncrypt" -DPORT_DIR="$port" -DOUT="$work/arduino-lib" \
    -DVERSION=0.0.0 -DURL=https://emoncms.org -P "$port/arduino/make_library.cmake" >/dev/null \
    || fail "make_library.cmake from the installed kit failed"
for f in library.properties library.json CMakeLists.txt src/emoncrypt_port.c \
         src/emoncrypt_vectors.h; do
    [ -s "$work/arduino-lib/$f" ] || fail "generated library from the installed kit: no $f"
done
cmp -s "$port/emoncrypt_port.c" "$work/arduino-lib/src/emoncrypt_port.c" \
    || fail "generated library: src/emoncrypt_port.c is not the installed kit's"

# A sanitizer build's library needs its runtime in the program that loads
# it, and cannot be linked -static.
san=""
case "$sanitize" in ON|on|1|TRUE|true) san="-fsanitize=address,undefined" ;; esac
cflags="-std=c11 -Wall -Wextra -Werror $san"

# lean FILE: FILE, and everything it loads, is the codec library and what
# it may need (libcrypto, zlib, libc; the sanitizer runtimes under asan).
allowed='^(libemoncrypt\.so\.[0-9]+|libcrypto\.so\.[0-9]+|libz\.so\.[0-9]+|libc\.so\.[0-9]+|libm\.so\.[0-9]+|libdl\.so\.[0-9]+|libpthread\.so\.[0-9]+|librt\.so\.[0-9]+|ld-linux.*|linux-vdso.*|libasan\.so.*|libubsan\.so.*|libstdc\+\+\.so.*|libgcc_s\.so.*)$'
lean() {
    local f=$1 n bad=""
    for n in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p') \
             $(ldd "$f" | awk '{print $1}' | sed 's,.*/,,'); do
        [[ $n =~ $allowed ]] || bad="$bad $n"
    done
    [ -z "$bad" ] || { echo "$f loads:$bad"; return 1; }
}
lean "$libdir/libemoncrypt.so" || fail "libemoncrypt.so needs more than libcrypto and zlib"
if lean "$libdir/libemoncrypt-harness.so" >/dev/null; then
    fail "the NEEDED check passed libemoncrypt-harness.so (which needs libcurl): it cannot fail"
fi

# ---- pkg-config ----
"$cc" $cflags "$src/tests/install/consumer.c" $(pkg-config --cflags --libs emoncrypt) \
    -Wl,-rpath,"$libdir" -o "$work/pc_codec"
"$work/pc_codec" >/dev/null || fail "pkg-config shared codec consumer failed"
lean "$work/pc_codec" || fail "pkg-config shared codec consumer loads more than the codec"
"$cc" $cflags "$src/tests/install/consumer_harness.c" $(pkg-config --cflags --libs emoncrypt-harness) \
    -Wl,-rpath,"$libdir" -o "$work/pc_harness"
"$work/pc_harness" >/dev/null || fail "pkg-config shared harness consumer failed"
# Static: a copy of the prefix with only the archives of our libraries.
static=$work/static
cp -a "$prefix" "$static"
rm -f "$static"/lib*/libemoncrypt*.so* "$static"/lib/*/libemoncrypt*.so* 2>/dev/null || true
export PKG_CONFIG_PATH=${pcdir/#$prefix/$static}
# Debian 12's libcurl.pc and libmicrohttpd.pc name in Libs.private
# libraries (-lnghttp2, -lssh2, -lgnutls, …) whose -dev packages
# libcurl4-openssl-dev and libmicrohttpd-dev do not pull in: those, and
# only those (private libraries of a dependency), are left out when the
# linker has no file for them.
line="" dropped=""
third_private=" $(pkg-config --static --libs-only-l libcurl jansson libmicrohttpd zlib libcrypto) "
have_lib() { # have_lib NAME: the linker finds libNAME.so or .a (-L dirs of the line too)
    local d
    for d in $(pkg-config --static --libs-only-L emoncrypt-harness | sed 's/-L//g'); do
        [ -e "$d/lib$1.so" ] || [ -e "$d/lib$1.a" ] && return 0
    done
    [ "$("$cc" -print-file-name="lib$1.so")" != "lib$1.so" ] || [ "$("$cc" -print-file-name="lib$1.a")" != "lib$1.a" ]
}
for f in $(pkg-config --static --cflags --libs emoncrypt-harness); do
    if [[ $f == -l* ]] && ! have_lib "${f#-l}"; then
        [[ $third_private == *" $f "* ]] || fail "'pkg-config --static --libs emoncrypt-harness' names $f, which is not installed"
        dropped="$dropped $f"
        continue
    fi
    line="$line $f"
done
[ -z "$dropped" ] || echo "static harness link: left out dependencies' private$dropped (no -dev package installed)"
# shellcheck disable=SC2086
"$cc" $cflags "$src/tests/install/consumer_harness.c" $line -o "$work/pc_harness_static" ||
    fail "static link from 'pkg-config --static --libs emoncrypt-harness' failed"
"$work/pc_harness_static" >/dev/null || fail "pkg-config static harness consumer failed"
readelf -d "$work/pc_harness_static" | grep -q 'NEEDED.*libemoncrypt' &&
    fail "static harness consumer still loads libemoncrypt"
if [ -z "$san" ]; then
    "$cc" $cflags -static "$src/tests/install/consumer.c" \
        $(pkg-config --static --cflags --libs emoncrypt) -o "$work/pc_codec_static" 2>"$work/static.err" ||
        { cat "$work/static.err"; fail "-static link from 'pkg-config --static --libs emoncrypt' failed"; }
    "$work/pc_codec_static" >/dev/null || fail "fully static codec consumer failed"
    readelf -d "$work/pc_codec_static" | grep -q NEEDED && fail "-static codec consumer has NEEDED entries"
fi
echo "pkg-config: codec shared + static$([ -z "$san" ] && echo ' (-static)'), harness shared + static: ok"

# ---- find_package(emoncrypt CONFIG) ----
cm() { # cm DIR ARGS…: configure and build the consumer project in DIR
    local d=$1; shift
    CC=$cc cmake -S "$src/tests/install/cmake_consumer" -B "$d" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCONSUMER_SRC="$src/tests/install" -DCMAKE_C_FLAGS="$cflags" "$@" >"$d.log" 2>&1 &&
    cmake --build "$d" >>"$d.log" 2>&1
}
cm "$work/cm_codec" -DWANT_VERSION=0.1 || { cat "$work/cm_codec.log"; fail "find_package(emoncrypt 0.1 CONFIG) consumer did not build"; }
grep -q "^emoncrypt_DIR:PATH=$prefix/" "$work/cm_codec/CMakeCache.txt" ||
    fail "find_package found $(sed -n 's/^emoncrypt_DIR:PATH=//p' "$work/cm_codec/CMakeCache.txt"), not the scratch prefix"
if grep -qE '^(CURL|JANSSON|MHD|PC_CURL)[A-Z_]*[:=]' "$work/cm_codec/CMakeCache.txt"; then
    fail "find_package(emoncrypt) without the harness component looked for libcurl/jansson/libmicrohttpd"
fi
for t in codec codec_static; do
    "$work/cm_codec/consumer_$t" >/dev/null || fail "find_package consumer_$t failed"
    lean "$work/cm_codec/consumer_$t" || fail "emoncrypt::$t consumer loads more than the codec"
done
readelf -d "$work/cm_codec/consumer_codec" | grep -q 'NEEDED.*libemoncrypt\.so' ||
    fail "emoncrypt::codec consumer does not load libemoncrypt.so"
readelf -d "$work/cm_codec/consumer_codec_static" | grep -q 'NEEDED.*libemoncrypt' &&
    fail "emoncrypt::codec_static consumer loads libemoncrypt.so"
cm "$work/cm_harness" -DWITH_HARNESS=ON || { cat "$work/cm_harness.log"; fail "find_package(emoncrypt CONFIG COMPONENTS harness) consumer did not build"; }
for t in harness harness_static; do
    "$work/cm_harness/consumer_$t" >/dev/null || fail "find_package consumer_$t failed"
done
if cm "$work/cm_v99" -DWANT_VERSION=99; then
    fail "find_package(emoncrypt 99 CONFIG) was accepted (version file)"
fi
echo "find_package: emoncrypt::codec, codec_static, harness, harness_static: ok; version 99 refused"
