#!/usr/bin/python3
"""footprint.py — the port kit's footprint on the emulated boards, checked
against issue 16's limits (ctest port-qemu/footprint).

For each board build directory (harness/port/fw, built and run by the
port-qemu ctests) it reads
  - .text/.data/.bss of what a production image links: libfw_kit_core.a
    (the kit with ECP_NO_SELFTEST), libfw_shim_mbedtls.a (the shim) and
    libfw_mbedcrypto.a (the 7 mbedTLS 2.28 files), with the board's `size`;
  - from the self-test run's log (selftest-mbedtls.log): the work buffer
    given and the bytes of it written (painted first), and the peak stack
    of ecp_selftest (the stack region painted, board_qemu.c);
prints a Markdown table, writes it to --out, and checks
  work buffer used <= --max-work, stack peak <= --max-stack,
  kit .text <= --max-kit-text on cortex-m3 (the limit's target),
  and that every vector ran (0 too large, 0 failed).

usage: footprint.py [--max-work B] [--max-stack B] [--max-kit-text B]
                    [--out FILE] BOARD=BUILD_DIR...
Exit codes: 0 every figure within its limit, 1 a figure over its limit or
a run that did not pass, 2 usage / unreadable build or log, 77 (ctest's
skip) a board whose build or run was skipped (its archives or log absent).

EXAMPLES
  footprint.py cortex-m3=build/port-qemu/cortex-m3 rv32=build/port-qemu/rv32
  footprint.py --max-stack 64 cortex-m3=build/port-qemu/cortex-m3   # fails: 1
"""
import argparse
import os
import re
import subprocess
import sys

SIZE_TOOL = {"cortex-m3": "arm-none-eabi-size", "cortex-m4": "arm-none-eabi-size",
             "rv32": "riscv64-unknown-elf-size", "lx106": "xtensa-lx106-elf-size"}
PARTS = [("kit", "libfw_kit_core.a"), ("shim", "libfw_shim_mbedtls.a"),
         ("mbedtls", "libfw_mbedcrypto.a")]
SUMMARY = re.compile(r"(\d+) too large; (\d+) failed checks; work buffer (\d+) bytes, "
                     r"(\d+) used; stack peak (\d+) bytes")


def sizes(tool, archive):
    """Sum of text, data, bss over the archive's members."""
    out = subprocess.run([tool, "-t", archive], capture_output=True, text=True,
                         check=True).stdout
    total = out.strip().splitlines()[-1].split()
    return int(total[0]), int(total[1]), int(total[2])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 epilog=__doc__[__doc__.index("EXAMPLES"):],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-work", type=int, default=2048)
    ap.add_argument("--max-stack", type=int, default=2048)
    ap.add_argument("--max-kit-text", type=int, default=8192)
    ap.add_argument("--out")
    ap.add_argument("boards", nargs="+", metavar="BOARD=BUILD_DIR")
    try:
        args = ap.parse_args()
    except SystemExit as e:
        sys.exit(0 if e.code == 0 else 2)

    rows, over = [], []
    for spec in args.boards:
        board, _, build = spec.partition("=")
        if board not in SIZE_TOOL or not build:
            print(f"footprint.py: {spec}: want BOARD=BUILD_DIR, BOARD one of "
                  f"{', '.join(SIZE_TOOL)}", file=sys.stderr)
            return 2
        log = os.path.join(build, "selftest-mbedtls.log")
        missing = [lib for _, lib in PARTS if not os.path.exists(os.path.join(build, lib))]
        if missing or not os.path.exists(log):
            # Its build or run was skipped (no cross tools, no mbedTLS
            # source): nothing to measure, which is not a failure.
            print(f"skipped: {board} was not built and run (see port-qemu/{board}/build): "
                  f"no {', '.join(missing) or log} in {build}")
            return 77
        try:
            figures = {name: sizes(SIZE_TOOL[board], os.path.join(build, lib))
                       for name, lib in PARTS}
            with open(log, encoding="utf-8", errors="replace") as f:
                m = SUMMARY.search(f.read())
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"footprint.py: {board}: {e}", file=sys.stderr)
            return 2
        if m is None:
            print(f"footprint.py: {board}: no summary line in {log}", file=sys.stderr)
            return 2
        too_large, failed, work, used, stack = (int(g) for g in m.groups())
        kit_text = figures["kit"][0]
        if too_large or failed:
            over.append(f"{board}: {too_large} vectors too large, {failed} failed checks")
        if used > args.max_work:
            over.append(f"{board}: work buffer {used} bytes used > {args.max_work}")
        if stack > args.max_stack:
            over.append(f"{board}: stack peak {stack} bytes > {args.max_stack}")
        if board == "cortex-m3" and kit_text > args.max_kit_text:
            over.append(f"{board}: kit .text {kit_text} bytes > {args.max_kit_text}")
        cells = [board]
        for name, _ in PARTS:
            cells.append("%d / %d / %d" % figures[name])
        cells += [f"{used} of {work}", str(stack)]
        rows.append(cells)

    table = ["| board | kit (no self-test) text / data / bss | mbedTLS shim | "
             "mbedTLS 2.28 (7 files) | work buffer used | peak stack of ecp_selftest |",
             "|---|---|---|---|---|---|"]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    table.append(f"\nLimits: work buffer <= {args.max_work} B, peak stack <= "
                 f"{args.max_stack} B, kit .text <= {args.max_kit_text} B on cortex-m3 "
                 "(-Os); bytes, from `size` of the archives and the self-test run's "
                 "painted work buffer and stack.")
    text = "\n".join(table) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    for o in over:
        print(f"OVER {o}")
    print(f"footprint: {len(rows)} boards, {len(over)} figures over their limits")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
