#!/bin/sh
# shellcheck disable=SC2086,SC2015
# ($warn, $target, $objs and EXTRA_CFLAGS are word lists)
# The port kit's Arduino library (harness/port/arduino/make_library.cmake)
# compiled the way a board's toolchain compiles it (ctest port-arduino/*):
#
#   arduino_check.sh host LIB STUB WORK EMONCRYPT CC CXX
#       the library's src/*.c with CC (C99) and examples/SelfTest/SelfTest.ino
#       with CXX as C++ against the Arduino stand-in STUB/Arduino.h, all
#       -Wall -Wextra -Werror, the mbedTLS shim (ECP_SHIM_MBEDTLS) linked
#       with the host's libmbedcrypto; then the sketch runs and its serial
#       output must pass `emoncrypt port-report` (JUnit in WORK): the exit
#       code is port-report's.  EXTRA_CFLAGS (environment) are added to the
#       C compiles (the mutant check: -DECP_MUTANT_STREAM_CARRY).
#   arduino_check.sh arm LIB STUB WORK MBEDTLS_INCLUDE_DIR CONFIG_DIR
#       the same sources compiled (not linked) with arm-none-eabi-gcc/g++
#       for a Cortex-M3 with picolibc; mbedTLS's headers from
#       MBEDTLS_INCLUDE_DIR (the host's: headers only) with the bare-metal
#       configuration CONFIG_DIR/mbedtls_fw_config.h (harness/port/fw, as
#       the QEMU images use; the host's config wants pthreads).
#
# Exit codes: 0 pass, 1 the sketch's self-test failed (port-report), 2
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
    [ $# -eq 6 ] || die "usage: host LIB STUB WORK EMONCRYPT CC CXX"
    lib=$1 stub=$2 work=$3 ec=$4 cc=$5 cxx=$6
    [ -f "$lib/library.properties" ] || die "$lib is not the generated library (port-arduino/library)"
    rm -rf "$work" && mkdir -p "$work" || die "cannot create $work"
    objs=""
    for c in "$lib"/src/*.c; do
        o="$work/$(basename "$c" .c).o"
        run "$cc" -std=c99 $warn -DECP_SHIM_MBEDTLS ${EXTRA_CFLAGS:-} -I"$lib/src" -c "$c" -o "$o"
        objs="$objs $o"
    done
    run "$cxx" -std=c++11 $warn -I"$stub" -I"$lib/src" -x c++ \
        -c "$lib/examples/SelfTest/SelfTest.ino" -o "$work/SelfTest.o"
    run "$cxx" -std=c++11 $warn -I"$stub" -c "$stub/arduino_stub.cpp" -o "$work/stub.o"
    run "$cxx" -o "$work/selftest" $objs "$work/SelfTest.o" "$work/stub.o" -lmbedcrypto
    "$work/selftest" > "$work/serial.log"
    rc=$?
    echo "arduino_check.sh: the sketch exited $rc; its serial output, judged by port-report:"
    "$ec" port-report "$work/serial.log" -q --junit "$work/serial.junit.xml"
    ;;
arm)
    [ $# -eq 5 ] || die "usage: arm LIB STUB WORK MBEDTLS_INCLUDE_DIR CONFIG_DIR"
    lib=$1 stub=$2 work=$3 mbed=$4 config=$5
    [ -f "$config/mbedtls_fw_config.h" ] || die "no $config/mbedtls_fw_config.h"
    command -v arm-none-eabi-gcc >/dev/null 2>&1 || skip "arm-none-eabi-gcc not found (apt-get install gcc-arm-none-eabi)"
    command -v arm-none-eabi-g++ >/dev/null 2>&1 || skip "arm-none-eabi-g++ not found (apt-get install gcc-arm-none-eabi)"
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
    run arm-none-eabi-g++ $target -std=c++11 $warn -fno-exceptions -fno-rtti \
        -I"$stub" -I"$lib/src" -x c++ -c "$lib/examples/SelfTest/SelfTest.ino" \
        -o "$work/SelfTest.o"
    run arm-none-eabi-size "$work"/*.o
    ;;
*)
    die "usage: arduino_check.sh host|arm ..."
    ;;
esac
