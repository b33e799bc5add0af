#!/usr/bin/env python3
"""The kill matrix (issue 12): every case id is caught by a mutant it
declares, or says why it cannot be.

  kill_matrix.py check EMONCRYPT SRCDIR     run the matrix for real
  kill_matrix.py negative EMONCRYPT SRCDIR  the check fails on doctored
                                            declarations
  kill_matrix.py observed EMONCRYPT SRCDIR  print, per mutant, the ids that
                                            FAIL it (to fill in declarations)

The declarations are what `emoncrypt test-server --list --mutants` and
`emoncrypt test-client --list --mutants` print: each id followed by
"mutants: a,b" or "reason: WHY".  check runs the suite once against
every mutant (server: `emoncrypt serve --mutant NAME` on loopback and
`test-server --json`, plus the legacy profile, and --strict for a strict
mutant; client: `test-client --self-test-mutant NAME --scenario all
--json`), two at a time, and fails, naming each violation, when
  - a case declares a mutant that does not FAIL it (NON-STRICT counts as
    FAIL where the mutant is judged under --strict),
  - a mutant FAILs no case at all (or is not run),
  - a listed id has neither mutants nor a reason, or names an unknown
    mutant,
  - the reference (no mutant) FAILs any case (the matrix would mean nothing).

Exit 0 when the matrix holds, 1 with one line per problem, 2 on a set-up
error.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time

KEY = "0123456789abcdef0123456789abcdef"   # the vectors' own account: user 1
USERID = "1"
JOBS = 2


def sh(args, timeout=120, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def server_mutants(exe):
    p = sh([exe, "serve", "--list-mutants"])
    out = []
    for line in p.stdout.splitlines():
        m = re.match(r"^\s*([a-z0-9][a-z0-9-]*)\s", line)
        if m and "(emulation" not in line:
            out.append(m.group(1))
    return out


def client_mutants(exe):
    p = sh([exe, "send", "--list-mutants"])
    return [l.split()[0] for l in p.stdout.splitlines() if l.strip() and not l.startswith(" ")]


def read_report(path):
    with open(path) as f:
        d = json.load(f)
    return {r["id"]: r["verdict"] for r in d["results"]}


def run_server(exe, srcdir, mutant, mode):
    """Verdicts of one test-server run against serve [--mutant mutant];
    mode: "default", "strict" (both sides --strict) or "legacy"."""
    with tempfile.TemporaryDirectory(prefix="killmatrix.") as work:
        ready = os.path.join(work, "url")
        cmd = [exe, "serve", "-l", "127.0.0.1:0", "-u", USERID, "-k", KEY, "--username", "alice",
               "--ready-file", ready, "--quiet", "--max-body", str(4 << 20)]
        if mutant:
            cmd += ["--mutant", mutant]
        if mode == "strict":
            cmd += ["--strict"]
        srv = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(200):
                if os.path.exists(ready) and open(ready).read().strip():
                    break
                if srv.poll() is not None:
                    raise RuntimeError("serve --mutant %s: exit %s: %s" % (mutant, srv.returncode,
                                                                          srv.stderr.read().strip()))
                time.sleep(0.05)
            url = open(ready).read().strip()
            js = os.path.join(work, "report.json")
            args = [exe, "test-server", url, "--userid", USERID, "--apikey", KEY, "--json", js,
                    "--vectors", os.path.join(srcdir, "vectors", "emoncms_input_v1.json"),
                    "--timeout-ms", "10000", "--no-setup-check"]
            if mode == "strict":
                args += ["--strict"]
            if mode == "legacy":
                args += ["--profile", "legacy", "--username", "alice"]
            else:
                args += ["--require", "gz"]
            p = sh(args, timeout=300)
            if not os.path.exists(js):
                raise RuntimeError("test-server against %s (%s): exit %d: %s" % (mutant or "the reference", mode,
                                                                                p.returncode, p.stderr.strip()[-300:]))
            return read_report(js)
        finally:
            srv.terminate()
            srv.wait(timeout=30)


def run_client(exe, srcdir, mutant, mode):
    with tempfile.TemporaryDirectory(prefix="killmatrix.") as work:
        js = os.path.join(work, "report.json")
        args = [exe, "test-client", "-l", "127.0.0.1:0", "-u", USERID, "-k", KEY, "--scenario", "all",
                "--json", js, "--quiet"] + (["--strict"] if mode == "strict" else [])
        args += ["--self-test-mutant", mutant] if mutant else ["--self-test"]
        p = sh(args, timeout=300)
        if not os.path.exists(js):
            raise RuntimeError("test-client --self-test-mutant %s: exit %d: %s" % (mutant, p.returncode,
                                                                                 p.stderr.strip()[-300:]))
        return read_report(js)


CAUGHT = ("FAIL", "INCOMPLETE")


def observe(exe, srcdir):
    """{(role, mutant or None): {id: verdict}}, every run merged per mutant."""
    jobs = []
    smut = server_mutants(exe)
    cmut = client_mutants(exe)
    for m in [None] + smut:
        for mode in ("default", "strict", "legacy"):
            jobs.append(("server", m, mode))
    for m in [None] + cmut:
        for mode in ("default", "strict"):
            jobs.append(("client", m, mode))
    res = {}
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        futs = {pool.submit(run_server if j[0] == "server" else run_client, exe, srcdir, j[1], j[2]): j
                for j in jobs}
        for f in concurrent.futures.as_completed(futs):
            res[futs[f]] = f.result()
    return smut, cmut, res


# Today's mutants (issue 12: all kept): the server's 26 and the client's 20.
KEPT = """ack-of-ciphertext ack-hex ack-no-padding ack-std-alphabet ack-newline ack-text-html
accept-wrong-hmac hmac-case-insensitive hmac-uppercase-only auth-extra-colon hmac-timing
padding-oracle oracle-status ignore-iv accept-partial-block ctype-case-insensitive ctype-parameters
store-rejected drop-last-bulk-row reorder-rows ignore-sentat empty-body-text unknown-user-404
no-replay-cache emoncms-no-gz emoncms-bulk-json-500
fixed-iv zero-iv counter-iv time-iv std-alphabet hmac-upper hmac-over-ct hmac-plus-nul hmac-hex-key
no-full-pad cbc-chain-bug zero-padding ignores-ack any-200 same-iv-resend out-of-order drops-data
resend-acked bearer-side-request apikey-in-query""".split()

DECL = re.compile(r"^\s*((?:server|client)/\S+)\s+(?:mutants: (\S+)|reason: (.+)|(NOTHING DECLARED))\s*$")


def list_args(role, srcdir):
    return ["--vectors", os.path.join(srcdir, "vectors", "emoncms_input_v1.json")] if role == "server" else []


def declarations(exe, srcdir):
    """({id: (role, [mutants] or None, reason or None)}, [every id plain --list prints])."""
    decls, listed = {}, []
    for role in ("server", "client"):
        p = sh([exe, "test-" + role, "--list", "--mutants"] + list_args(role, srcdir))
        if p.returncode != 0:
            raise RuntimeError("test-%s --list --mutants: exit %d: %s" % (role, p.returncode, p.stderr.strip()))
        for line in p.stdout.splitlines():
            m = DECL.match(line)
            if m:
                decls[m.group(1)] = (role, m.group(2).split(",") if m.group(2) else None, m.group(3))
        p = sh([exe, "test-" + role, "--list"] + list_args(role, srcdir))
        pat = re.compile(r"^(server/\S+)" if role == "server" else r"^\s*(client/\S+)")
        listed += [m.group(1) for m in map(pat.match, p.stdout.splitlines()) if m]
    return decls, listed


def caught_by(res):
    """{(role, mutant): set of ids it FAILs} over every mode it ran in,
    and the reference's failures {(role, mode): ids}."""
    caught, ref = {}, {}
    for (role, m, mode), verdicts in res.items():
        bad = {i for i, v in verdicts.items() if v in CAUGHT or (v == "NON-STRICT" and mode == "strict")}
        if m is None:
            if bad:
                ref[(role, mode)] = bad
        else:
            caught.setdefault((role, m), set()).update(bad)
    return caught, ref


def judge(decls, listed, known, ran, caught, ref):
    """The problems, one line each.  known: {role: [mutant names]};
    ran: the (role, mutant) pairs that were run."""
    problems = []
    for (role, mode), ids in sorted(ref.items()):
        problems.append("the reference %s (%s) FAILs %d cases (%s): the matrix would mean nothing"
                        % (role, mode, len(ids), ", ".join(sorted(ids)[:5])))
    for i in listed:
        if i not in decls:
            problems.append("%s: printed by --list but not by --list --mutants" % i)
    declared_by = {}
    for i, (role, muts, reason) in sorted(decls.items()):
        if not muts and not reason:
            problems.append("%s: declares neither mutants nor a reason (.mutants / .no_mutant)" % i)
            continue
        for m in muts or []:
            if m not in known[role]:
                problems.append("%s: declares mutant '%s', which is no %s mutant" % (i, m, role))
                continue
            declared_by.setdefault((role, m), []).append(i)
            if (role, m) in ran and i not in caught.get((role, m), set()):
                problems.append("%s: declares mutant %s, which it does not FAIL" % (i, m))
    for role, names in sorted(known.items()):
        for m in names:
            if (role, m) not in ran:
                continue
            if not caught.get((role, m)):
                problems.append("%s mutant %s: no case FAILs it" % (role, m))
            elif (role, m) not in declared_by:
                problems.append("%s mutant %s: no case declares it (FAILed by %s)"
                                % (role, m, ", ".join(sorted(caught[(role, m)])[:3])))
    return problems


def summary(decls):
    with_m = sum(1 for r, m, _ in decls.values() if m)
    with_r = sum(1 for r, m, why in decls.values() if not m and why)
    names = {(r, x) for r, m, _ in decls.values() for x in m or []}
    return "%d ids: %d with a mutant, %d with a reason; %d mutants declared" % (len(decls), with_m, with_r, len(names))


def check(exe, srcdir):
    decls, listed = declarations(exe, srcdir)
    smut, cmut, res = observe(exe, srcdir)
    known = {"server": smut, "client": cmut}
    problems = ["mutant %s is gone (issue 12: today's mutants are all kept)" % m
                for m in KEPT if m not in smut + cmut]
    ran = {(role, m) for (role, m, _) in res if m}
    caught, ref = caught_by(res)
    problems += judge(decls, listed, known, ran, caught, ref)
    print("kill/matrix: %s; %d server and %d client mutants run" % (summary(decls), len(smut), len(cmut)))
    for p in problems:
        print("kill/matrix: " + p)
    return 1 if problems else 0


def negative(exe, srcdir):
    """The judge on doctored declarations, with a real run of two mutants."""
    decls, listed = declarations(exe, srcdir)
    known = {"server": server_mutants(exe), "client": client_mutants(exe)}
    res = {}
    for m in (None, "ack-hex", "ack-text-html"):
        for mode in ("default", "legacy"):
            res[("server", m, mode)] = run_server(exe, srcdir, m, mode)
    ran = {("server", "ack-hex"), ("server", "ack-text-html")}
    caught, ref = caught_by(res)
    failures = []

    def expect(name, doctored, want):
        got = judge(doctored, listed, known, ran, caught, ref)
        if not any(all(w in p for w in want) for p in got):
            failures.append("%s: the judge did not say %s (it said: %s)" % (name, " + ".join(want), "; ".join(got[:3]) or "nothing"))

    def doctor(**changes):
        d = dict(decls)
        d.update(changes)
        return d
    base = judge(decls, listed, known, ran, caught, ref)
    if base:
        failures.append("the real declarations against ack-hex and ack-text-html: %s" % "; ".join(base[:3]))
    expect("a case claiming a mutant it does not FAIL",
           doctor(**{"server/4.ack/content-type": ("server", ["ack-hex"], None)}),
           ["server/4.ack/content-type", "ack-hex", "does not FAIL"])
    expect("a case with neither mutants nor a reason",
           doctor(**{"server/4.oracle/timing-spread": ("server", None, None)}),
           ["server/4.oracle/timing-spread", "neither"])
    expect("an unknown mutant", doctor(**{"client/2.iv/fresh": ("client", ["no-such-device"], None)}),
           ["client/2.iv/fresh", "no-such-device"])
    d = {i: (r, [m for m in (ms or []) if m != "ack-text-html"] or None, why or (None if ms else why))
         for i, (r, ms, why) in decls.items()}
    expect("a mutant no case declares", d, ["ack-text-html", "no case declares"])
    d = dict(decls)
    del d["client/7.retry/interval"]
    expect("an id --list --mutants leaves out", d, ["client/7.retry/interval", "not by --list --mutants"])
    got = judge(decls, listed, known, ran, caught, {("server", "default"): {"server/3.post/csv"}})
    if not any("reference" in p and "server/3.post/csv" in p for p in got):
        failures.append("a reference that FAILs: the judge did not say so")
    for f in failures:
        print("kill/negative: " + f)
    if not failures:
        print("kill/negative: the judge names each of 6 doctored declarations")
    return 1 if failures else 0


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    mode, exe, srcdir = sys.argv[1:]
    if mode == "observed":
        smut, cmut, res = observe(exe, srcdir)
        print(json.dumps({"%s %s %s" % k: {i: v for i, v in r.items() if v in CAUGHT + ("NON-STRICT",)}
                          for k, r in res.items()}, indent=1, sort_keys=True))
        return 0
    try:
        if mode == "check":
            return check(exe, srcdir)
        if mode == "negative":
            return negative(exe, srcdir)
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        print("kill_matrix.py: %s" % e, file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
