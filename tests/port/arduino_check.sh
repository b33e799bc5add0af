#!/bin/sh
# shellcheck disable=SC2086,SC2015
# ($warn, $target, $objs and EXTRA_CFLAGS are word lists)
# The port kit's Arduino library (harness/port/arduino/make_library.cmake)
# compiled the way a board's toolchain compiles it (ctest port-arduino/*):
#
#   arduino_check.sh host LIB PORT_DIR WORK EMONCRYPT CC
#       the library's src/*.c with CC (C99, -Wall -Wextra -Werror), the
#       mbedTLS shim (ECP_SHIM_MBEDTLS) linked with the host's
#       libmbedcrypto and the kit's host runner PORT_DIR/port_main.c; the
#       self-test runs and its output must pass `emoncrypt port-report`
#       (JUnit in WORK): the exit code is port-report's.  EXTRA_CFLAGS
#       (environment) are added to the library's compiles (the mutant
#       check: -DECP_MUTANT_STREAM_CARRY).
#   arduino_check.sh arm LIB WORK MBEDTLS_INCLUDE_DIR CONFIG_DIR
#       the same sources compiled (not linked) with arm-none-eabi-gcc
#       for a Cortex-M3 with picolibc; mbedTLS's headers from
#       MBEDTLS_INCLUDE_DIR (the host's: headers only) with the bare-metal
#       configuration CONFIG_DIR/mbedtls_fw_config.h (harness/port/fw, as
#       the QEMU images use; the host's config wants pthreads).
#
# Exit codes: 0 pass, 1 the self-test failed (port-report), 2
# usage or a log port-report could not read, 3 a compile or link failed,
# 77 skipped (what is missing is printed).
set -u
die() { echo "arduino_check.sh: $*" >&2; exit 2; }
skip() { echo "skipped: $*"; exit 77; }
run() { echo "+ $*"; "$@" || { echo "arduino_check.sh: failed: $1"; exit 3; }; }

mode=${1:-}
[ -n "$mode" ] && shift
warn="-Wall -Wextra -Werror"
case "$mode" in
host)
    [ $# -eq 5 ] || die "usage: host LIB PORT_DIR WORK EMONCRYPT CC"
    lib=$1 port=$2 work=$3 ec=$4 cc=$5
    [ -f "$lib/library.properties" ] || die "$lib is not the generated library (port-arduino/library)"
    rm -rf "$work" && mkdir -p "$work" || die "cannot create $work"
    objs=""
    for c in "$lib"/src/*.c; do
        o="$work/$(basename "$c" .c).o"
        run "$cc" -std=c99 $warn -DECP_SHIM_MBEDTLS ${EXTRA_CFLAGS:-} -I"$lib/src" -c "$c" -o "$o"
        objs="$objs $o"
    done
    run "$cc" -std=c99 $warn -DECP_SHIM_MBEDTLS -I"$lib/src" -c "$port/port_main.c" -o "$work/port_main.o"
    run "$cc" -o "$work/selftest" $objs "$work/port_main.o" -lmbedcrypto
    "$work/selftest" > "$work/serial.log"
    rc=$?
    echo "arduino_check.sh: the self-test exited $rc; its output, judged by port-report:"
    "$ec" port-report "$work/serial.log" -q --junit "$work/serial.junit.xml"
    ;;
arm)
    [ $# -eq 4 ] || die "usage: arm LIB WORK MBEDTLS_INCLUDE_DIR CONFIG_DIR"
    lib=$1 work=$2 mbed=$3 config=$4
    [ -f "$config/mbedtls_fw_config.h" ] || die "no $config/mbedtls_fw_config.h"
    command -v arm-none-eabi-gcc >/dev/null 2>&1 || skip "arm-none-eabi-gcc not found (apt-get install gcc-arm-none-eabi)"
    specs=/usr/lib/picolibc/arm-none-eabi/picolibc.specs
    [ -f "$specs" ] || skip "$specs not found (apt-get install picolibc-arm-none-eabi)"
    [ -f "$mbed/mbedtls/aes.h" ] || skip "no mbedTLS headers in $mbed (apt-get install libmbedtls-dev)"
    rm -rf "$work" && mkdir -p "$work/include" || die "cannot create $work"
    # Only mbedTLS's headers, not the rest of the host's include dir.
    ln -s "$mbed/mbedtls" "$work/include/mbedtls" || die "cannot link $mbed/mbedtls"
    target="-mcpu=cortex-m3 -mthumb -Os --specs=$specs"
    for c in "$lib"/src/*.c; do
        run arm-none-eabi-gcc $target -std=c99 $warn -DECP_SHIM_MBEDTLS \
            -DMBEDTLS_CONFIG_FILE='"mbedtls_fw_config.h"' -I"$config" \
            -I"$work/include" -I"$lib/src" -c "$c" -o "$work/$(basename "$c" .c).o"
    done
    run arm-none-eabi-size "$work"/*.o
    ;;
*)
    die "usage: arduino_check.sh host|arm ..."
    ;;
esac
