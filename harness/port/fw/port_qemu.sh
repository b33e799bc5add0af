#!/bin/sh
# emoncrypt port kit — the steps of the ctest cases of cmake/port_qemu.cmake
# (label port-qemu): fetch mbedTLS's Debian source, cross-build the
# self-test images of one board, run one image under QEMU.
#
#   port_qemu.sh fetch SRC_DIR
#   port_qemu.sh build SRC_DIR PORT_DIR TOOLCHAIN TARGET BUILD_DIR
#   port_qemu.sh run   TARGET ELF LOG [SELFTEST ARGS...]
#   port_qemu.sh report EMONCRYPT TARGET ELF LOG JUNIT [PYTHON CHECK FIRST ONLY]
#
# report runs the image as run does, then judges its log with
# `emoncrypt port-report LOG --junit JUNIT --json JUNIT.json`: the exit
# code is port-report's.  With PYTHON CHECK FIRST ONLY (a mutant), the run
# passes only when port-report exits 1 and CHECK (tests/port/
# port_report_check.py expect) finds the first FAIL at FIRST and every
# FAIL in check ONLY.
#
# Exit codes: 0 pass, 1 failure, 2 usage/set-up error, 77 skipped (what is
# missing is printed).
set -u

die() { echo "port_qemu.sh: $*" >&2; exit 2; }
skip() { echo "skipped: $*"; exit 77; }

mbedtls_tree() {
    for d in "$1"/mbedtls-2.*; do
        if [ -f "$d/library/aes.c" ]; then echo "$d"; return 0; fi
    done
    return 1
}

cmd=${1:-}
[ -n "$cmd" ] && shift
case "$cmd" in
fetch)
    [ $# -eq 1 ] || die "usage: fetch SRC_DIR"
    src=$1
    if tree=$(mbedtls_tree "$src"); then
        echo "mbedTLS source present: $tree"
        exit 0
    fi
    command -v apt-get >/dev/null 2>&1 || skip "apt-get not found (a Debian system is needed for 'apt-get source mbedtls')"
    command -v dpkg-source >/dev/null 2>&1 || skip "dpkg-source not found (apt-get install dpkg-dev)"
    mkdir -p "$src" || die "cannot create $src"
    # Debian's mbedTLS 2.x source package (bookworm: 2.28.3), unpacked
    # with its Debian patches.  Needs a deb-src line (tools/run adds one).
    if ! (cd "$src" && apt-get source mbedtls >fetch.log 2>&1); then
        tail -5 "$src/fetch.log"
        skip "'apt-get source mbedtls' failed: no deb-src line for bookworm in /etc/apt/sources.list.d/ (tools/run adds one), or no network"
    fi
    tree=$(mbedtls_tree "$src") || { tail -5 "$src/fetch.log"; die "no mbedtls-2.* tree in $src after apt-get source"; }
    echo "mbedTLS source fetched: $tree"
    ;;
build)
    [ $# -eq 5 ] || die "usage: build SRC_DIR PORT_DIR TOOLCHAIN TARGET BUILD_DIR"
    src=$1 port=$2 toolchain=$3 target=$4 out=$5
    tree=$(mbedtls_tree "$src") || skip "no mbedTLS source in $src (see port-qemu/mbedtls-source)"
    cmake -S "$port/fw" -B "$out" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
        -DECP_FW_TARGET="$target" -DMBEDTLS_DIR="$tree" >"$out.configure.log" 2>&1 \
        || { cat "$out.configure.log"; exit 1; }
    cmake --build "$out" -j2 || exit 1
    ;;
run)
    [ $# -ge 3 ] || die "usage: run TARGET ELF LOG [ARGS...]"
    target=$1 elf=$2 log=$3
    shift 3
    [ -f "$elf" ] || skip "$elf not built (see port-qemu/$target/build)"
    args="arg=--board,arg=$target"
    for a in "$@"; do args="$args,arg=$a"; done
    case "$target" in
        cortex-m3) set -- qemu-system-arm -M mps2-an385 -cpu cortex-m3 ;;
        cortex-m4) set -- qemu-system-arm -M mps2-an386 -cpu cortex-m4 ;;
        rv32)      set -- qemu-system-riscv32 -M virt -bios none ;;
        *) die "unknown target $target" ;;
    esac
    # stdout and exit status come back over semihosting; a hung image is
    # stopped after 300 s.
    timeout 300 "$@" -nographic -monitor none -serial none \
        -semihosting-config "enable=on,target=native,$args" -kernel "$elf" >"$log" 2>&1
    rc=$?
    cat "$log"
    [ $rc -eq 124 ] && { echo "port_qemu.sh: $elf did not finish in 300 s"; exit 1; }
    exit $rc
    ;;
report)
    [ $# -eq 5 ] || [ $# -eq 9 ] || die "usage: report EMONCRYPT TARGET ELF LOG JUNIT [PYTHON CHECK FIRST ONLY]"
    ec=$1 target=$2 elf=$3 log=$4 junit=$5
    [ -f "$elf" ] || skip "$elf not built (see port-qemu/$target/build)"
    sh "$0" run "$target" "$elf" "$log" >/dev/null
    rc=$?
    [ $rc -eq 77 ] && skip "the run was skipped"
    echo "port_qemu.sh: $elf exited $rc under QEMU; its log, judged by port-report:"
    rm -f "$junit" "$junit.json"
    "$ec" port-report "$log" -q --junit "$junit" --json "$junit.json"
    rc=$?
    echo "port_qemu.sh: port-report exit $rc, JUnit in $junit"
    [ $# -eq 5 ] && exit $rc
    [ $rc -eq 1 ] || { echo "port_qemu.sh: the mutant must fail (port-report exit 1)"; exit 1; }
    "$6" "$7" expect "$junit.json" "$8" "$9"
    ;;
*)
    die "usage: port_qemu.sh fetch|build|run|report ..."
    ;;
esac
