#!/usr/bin/env bash
# ctest install/pkg-config: `cmake --install` into a scratch prefix, then
# build tests/install/consumer.c against it with nothing but pkg-config.
set -eu
build=$1 src=$2 cc=${3:-cc} sanitize=${4:-OFF}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name emoncrypt.pc | head -1)
[ -n "$pc" ] || { echo "no emoncrypt.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir emoncrypt)
[ -f "$libdir/libemoncrypt.so" ] || { echo "libdir $libdir from emoncrypt.pc has no libemoncrypt.so"; exit 1; }
# A sanitizer build's library needs its runtime in the program that loads it.
san=""
case "$sanitize" in ON|on|1|TRUE|true) san="-fsanitize=address,undefined" ;; esac
"$cc" -std=c11 -Wall -Wextra -Werror $san "$src/tests/install/consumer.c" \
  $(pkg-config --cflags --libs emoncrypt) -Wl,-rpath,"$libdir" -o "$prefix/consumer"
"$prefix/consumer"
[ -x "$prefix/bin/emoncrypt" ] || { echo "emoncrypt CLI not installed"; exit 1; }
"$prefix/bin/emoncrypt" --version
