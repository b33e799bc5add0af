#!/usr/bin/env python3
"""`emoncrypt port-report` from the outside (ctest port-report/*): serial
logs made up in the format of harness/port/README.md section 7, each with
the exit code and the report files it must give.  Each mode fails on a
port-report that always exits 0 (or that writes nothing).

usage: port_report_check.py EMONCRYPT WORKDIR MODE
       port_report_check.py expect JSON FIRST_FAILURE ONLY_CHECK
modes:
  good            boot noise, CR LF, the runner's own lines: exit 0; JUnit
                  with 5 testcases, 0 failures, 1 skipped, the right
                  names; JSON and HTML written; the same from stdin
  fail            a FAIL line: exit 1; one <failure>, in the testcase
                  named by the vector, its message naming the check
  truncated       no ECP END: exit 2, no report written
  counts-disagree ECP END's counts are not the lines read: exit 2
  restart         a second ECP BEGIN before ECP END: exit 2
  mid-run         a case line before ECP BEGIN: exit 2
  duplicate       the same id twice: exit 2
  unwritable      --junit in a missing directory: exit 2, naming --junit,
                  before the log is read
expect: a QEMU run's port-report JSON (port_qemu.sh report): it failed,
its first FAIL is FIRST_FAILURE, and every FAIL names only ONLY_CHECK.
"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def expect_mode(path, first, only):
    with open(path, encoding="utf-8") as f:
        rep = json.load(f)
    fails = [r for r in rep["results"] if r["verdict"] == "FAIL"]
    if rep.get("exit_code") != 1 or not fails:
        fail(f"{path}: expected a failed run, got exit_code {rep.get('exit_code')}, "
             f"{len(fails)} FAIL")
    elif fails[0]["id"] != first:
        fail(f"{path}: first FAIL is {fails[0]['id']}, expected {first}")
    for r in fails:
        checks = [w[len("check="):] for w in (r.get("message") or "").split()
                  if w.startswith("check=")]
        if checks != [only]:
            fail(f"{path}: {r['id']} fails check {checks}, expected only {only}")
    if not failures:
        print(f"ok: {len(fails)} FAIL, first {first}, every one in check {only}")
    return 1 if failures else 0


if len(sys.argv) == 5 and sys.argv[1] == "expect":
    sys.exit(expect_mode(*sys.argv[2:]))
if len(sys.argv) != 4:
    print(__doc__)
    sys.exit(2)
ec, work, mode = sys.argv[1:]
os.makedirs(work, exist_ok=True)

BEGIN = "ECP BEGIN 1 mbedtls cortex-m3"
CASES = [
    "ECP PASS kat/sha256-abc kat",
    "ECP PASS post/spec8-reference valid",
    "ECP PASS len/16 valid",
    "ECP SKIP legacy/spec-example valid out-of-scope",
    "ECP PASS kit/random-iv-roundtrip kit",
]
END = "ECP END total=5 pass=4 fail=0 skip=1"
NOISE_BEFORE = ["", "\x00\x00ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
                "load 0x4010f000, len 3460, room 16", "port kit self-test starting"]


def write_log(name, lines, eol="\r\n"):
    path = os.path.join(work, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(eol.join(lines) + eol)
    return path


def run(args, stdin=None):
    p = subprocess.run([ec, "port-report", *args], input=stdin, capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def junit(path):
    """(testcases by name, totals) of a JUnit file, or None."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        fail(f"{path}: not JUnit XML: {e}")
        return None, None
    cases = {}
    for tc in root.iter("testcase"):
        cases[tc.get("name")] = tc
    totals = {
        "tests": len(cases),
        "failures": sum(1 for tc in cases.values() if tc.find("failure") is not None),
        "skipped": sum(1 for tc in cases.values() if tc.find("skipped") is not None),
    }
    return cases, totals


def reports(tag):
    return {k: os.path.join(work, f"{tag}.{k}") for k in ("xml", "json", "html")}


def clean(paths):
    for p in paths.values():
        if os.path.exists(p):
            os.remove(p)


def expect_exit(args, want, stdin=None, stderr_has=None):
    rc, out, err = run(args, stdin)
    if rc != want:
        fail(f"port-report {' '.join(args)}: exit {rc}, expected {want}\n{out}{err}")
    if stderr_has and stderr_has not in err:
        fail(f"port-report {' '.join(args)}: stderr lacks '{stderr_has}': {err!r}")
    return rc, out, err


def rejected(name, lines, stderr_has):
    """A log that is not one whole run: exit 2, nothing written."""
    log = write_log(name + ".log", lines)
    r = reports(name)
    clean(r)
    expect_exit([log, "--junit", r["xml"], "--json", r["json"]], 2, stderr_has=stderr_has)
    for p in (r["xml"], r["json"]):
        if os.path.exists(p):
            fail(f"{p} written for a log that is not a whole run")


if mode == "good":
    noise_inside = ["openssl on host: 9 primitive/kit checks; vectors: ...",
                    "  expected: AAECAwQF", "FAIL is a word, not an ECP line"]
    lines = NOISE_BEFORE + [BEGIN] + CASES[:2] + noise_inside + CASES[2:] + [END, "", "halt"]
    log = write_log("good.log", lines)
    for source in ("file", "stdin"):
        r = reports("good-" + source)
        clean(r)
        args = ["--junit", r["xml"], "--json", r["json"], "--html", r["html"]]
        if source == "file":
            rc, out, err = expect_exit([log] + args, 0)
        else:
            with open(log, encoding="utf-8", newline="") as f:
                rc, out, err = expect_exit(["-"] + args, 0, stdin=f.read())
        cases, totals = junit(r["xml"])
        if totals is None:
            continue
        want = {"tests": 5, "failures": 0, "skipped": 1}
        if totals != want:
            fail(f"{source}: JUnit counts {totals}, expected {want}")
        names = {c.split()[2] for c in CASES}
        if set(cases) != names:
            fail(f"{source}: JUnit testcases {sorted(cases)}, expected {sorted(names)}")
        skipped = cases.get("legacy/spec-example")
        if skipped is None or skipped.find("skipped") is None:
            fail(f"{source}: legacy/spec-example is not <skipped>")
        try:
            with open(r["json"], encoding="utf-8") as f:
                rep = json.load(f)
            if rep["totals"]["PASS"] != 4 or rep["totals"]["SKIP"] != 1 or rep["exit_code"] != 0:
                fail(f"{source}: JSON totals {rep['totals']}, exit_code {rep['exit_code']}")
            if rep["target"] != "mbedtls on cortex-m3":
                fail(f"{source}: JSON target {rep['target']!r}")
        except (OSError, ValueError, KeyError) as e:
            fail(f"{source}: JSON report: {e}")
        if not os.path.exists(r["html"]) or "<html" not in open(r["html"], encoding="utf-8").read():
            fail(f"{source}: no HTML report")
        if "5 cases" not in out or "result: OK" not in out:
            fail(f"{source}: console summary: {out!r}")
elif mode == "fail":
    bad = ("ECP FAIL len/16 valid check=body status=differs-from-vector diff=42 failed=1")
    lines = NOISE_BEFORE + [BEGIN, CASES[0], CASES[1],
                            "FAIL len/16 [body] status=differs-from-vector first difference at byte 42",
                            bad] + CASES[3:] + ["ECP END total=5 pass=3 fail=1 skip=1"]
    log = write_log("fail.log", lines)
    r = reports("fail")
    clean(r)
    expect_exit([log, "--junit", r["xml"], "--json", r["json"]], 1)
    cases, totals = junit(r["xml"])
    if totals is not None:
        if totals["failures"] != 1 or totals["tests"] != 5:
            fail(f"JUnit counts {totals}, expected 5 tests, 1 failure")
        tc = cases.get("len/16")
        f = tc.find("failure") if tc is not None else None
        if f is None:
            fail("no <failure> in testcase len/16")
        elif "check=body" not in (f.get("message") or ""):
            fail(f"len/16's <failure> message does not name the check: {f.get('message')!r}")
        for name, other in cases.items():
            if name != "len/16" and other.find("failure") is not None:
                fail(f"{name} has a <failure>")
elif mode == "truncated":
    rejected("truncated", NOISE_BEFORE + [BEGIN] + CASES[:3], "no ECP END")
    rejected("truncated-begin-only", NOISE_BEFORE + [BEGIN], "no ECP END")
    rejected("no-begin", NOISE_BEFORE, "no ECP BEGIN")
    rejected("cut-end", [BEGIN] + CASES + ["ECP END total=5 pass=4"], "without fail=N")
elif mode == "counts-disagree":
    rejected("lost-line", [BEGIN] + CASES[:2] + CASES[3:] + [END], "total=5")
    rejected("wrong-split", [BEGIN] + CASES + ["ECP END total=5 pass=5 fail=0 skip=0"], "pass=5")
elif mode == "restart":
    rejected("restart", [BEGIN] + CASES[:2] + NOISE_BEFORE + [BEGIN] + CASES + [END],
             "second ECP BEGIN")
elif mode == "mid-run":
    rejected("mid-run", CASES[2:] + [END], "before ECP BEGIN")
elif mode == "duplicate":
    rejected("duplicate", [BEGIN] + CASES[:4] + [CASES[1], END], "twice")
elif mode == "unwritable":
    missing = os.path.join(work, "no-such-dir", "r.xml")
    p = subprocess.Popen([ec, "port-report", "-", "--junit", missing], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # stdin is closed empty: a port-report that read the log first would
    # complain about the log (no ECP BEGIN), not about --junit.
    out, err = p.communicate(timeout=20)
    if p.returncode != 2 or "--junit" not in err or "ECP" in err:
        fail(f"--junit in a missing directory: exit {p.returncode}, stderr {err!r}")
else:
    print(__doc__)
    sys.exit(2)

if failures:
    sys.exit(1)
print(f"ok: port-report {mode}")
