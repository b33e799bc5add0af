#!/usr/bin/env python3
"""ctest fleet/export*: what `emoncrypt fleet export` writes, checked from
the outside with an independent codec (Python's cryptography, SPEC §2-§4).

usage: export_check.py EMONCRYPT WORKDIR [--bulk-rows K] [--dtd | --check]

Exports a small fleet of two users (keys made for the test, from a config
file) and checks: the scenario is well-formed XML (with --dtd: valid
against Tsung's DTD, exit 77 when tsung is not installed) and names the
corpus, the server and the agents; the corpus has exactly the requested
lines, each of its exact length; each line decrypts with its user's key to
the plaintext its device must send (re-derived here), its MAC is the
HMAC-SHA256 of that plaintext and its ack the base64url SHA-256; every IV
is distinct; each device's times ascend within the time range the options
give; expected.tsv holds exactly the rows of each plaintext; no file holds
a write key (hex either case, base64 either alphabet with or without '=',
raw bytes).  Then every check is shown to fail: corrupted copies of the
export (a flipped body byte, a wrong ack, a MAC of other bytes, a reused
IV, descending times, a lost expected row, a key left in the scenario, a
line too many) must each be caught by the check meant for it.
With --check: `emoncrypt fleet check` on a run made up from the export in
the format Tsung 1.7.0 writes (tsung.dump, tsung.log) and serve's store and
log: a clean run is OK (exit 0); a lost, a duplicated and an unexpected
stored row, a nomatch, a 500, a replay in serve's log, Tsung counting
fewer matches than the dump has acks, and a Tsung error counter each make
it exit 1 naming the count; a dump that is not Tsung's exits 2.
Exit 0 pass, 1 a check failed, 2 set-up error, 77 skipped (--dtd only)."""
import base64
import hashlib
import hmac
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

DTD = "/usr/share/tsung/tsung-1.0.dtd"
USERS = [("7", "5a1e7b3c9d2f4a6b8c0d1e2f3a4b5c6d"), ("42", "c0ffee0123456789abcdef0123456789")]
DEVICES = 5          # over 2 users: devices 0,2,4 -> user 7; 1,3 -> user 42
REQUESTS = 4603      # not a multiple of DEVICES (the last round is partial), and
                     # more than two chunks of 2048 lines (built on several threads)
INTERVAL = 10
END_TIME = 1700000000
PREFIX = "/a--b"     # '--' in the URL: it must not break the XML comment
URL = "http://127.0.0.1:8080" + PREFIX
AGENTS = ["localhost:2", "127.0.0.1"]


def b64url_nopad(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def reading(device, seq, channel):
    return (device * 37 + seq * 11 + channel * 101) % 3000


def plaintext_of(device, k, bulk, when):
    """What emoncrypt load's device `device` posts the k-th time (time `when`)."""
    if bulk == 0:
        return ('node=emoncrypt_load_%d&time=%d&fulljson={"power1":%d,"power2":%d}'
                % (device, when, reading(device, k, 1), reading(device, k, 2)))
    rows = ",".join('[%d,"emoncrypt_load_%d",%d,%d]'
                    % (r, device, reading(device, k + r, 1), reading(device, k + r, 2))
                    for r in range(bulk))
    return "time=%d&data=[%s]" % (when - (bulk - 1), rows)


def rows_of(device, userid, k, bulk, when):
    """The rows Emoncms's input code stores for that post."""
    node = "emoncrypt_load_%d" % device
    if bulk == 0:
        return [(userid, when, node, "power%d" % c, float(reading(device, k, c))) for c in (1, 2)]
    out = []
    for r in range(bulk):
        t = when - (bulk - 1) + r
        out += [(userid, t, node, str(c), float(reading(device, k + r, c))) for c in (1, 2)]
    return out


def decrypt(key, body):
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if len(raw) < 32 or len(raw) % 16:
        raise ValueError("body is not IV plus whole blocks")
    iv, ct = raw[:16], raw[16:]
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = dec.update(ct) + dec.finalize()
    n = padded[-1]
    if not 1 <= n <= 16 or padded[-n:] != bytes([n]) * n:
        raise ValueError("bad PKCS#7 padding")
    return iv, padded[:-n]


def encrypt(key, iv, pt):
    n = 16 - len(pt) % 16
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return b64url_nopad(iv + enc.update(pt + bytes([n]) * n) + enc.finalize())


def key_forms():
    forms = set()
    for _, hexkey in USERS:
        raw = bytes.fromhex(hexkey)
        forms |= {hexkey.encode(), hexkey.upper().encode(), raw}
        for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            forms |= {enc, enc.rstrip(b"=")}
    return forms


def check(out, bulk, requests, failures):
    """Every check on the export in `out`; failed check names go to failures."""
    def fail(name, text):
        failures.append(name)
        print("FAIL %s: %s" % (name, text))

    keys = {u: bytes.fromhex(k) for u, k in USERS}
    posts_per_device = -(-requests // DEVICES)
    lowest = END_TIME - (posts_per_device - 1) * INTERVAL
    endpoint = "/input/bulk" if bulk else "/input/post"

    # The scenario: well-formed, and it says what it should.
    xml = out / "scenario.xml"
    r = subprocess.run(["xmllint", "--noout", "--nonet", str(xml)], capture_output=True, text=True)
    if r.returncode != 0:
        fail("xml-well-formed", r.stderr.strip()[:300])
    text = xml.read_text()
    corpus = out / "corpus.csv"
    wants = ['value="%s"' % corpus.resolve(), '<server host="127.0.0.1" port="8080" type="tcp"/>',
             'maxnumber="%d"' % requests, 'fileid="corpus"', 'order="iter"',
             'dumptraffic="protocol"', 'when="nomatch"', "^%%_ack%%$",
             # Tsung reads the phase's duration as an integer ("92.060" is a
             # config error): REQUESTS / rate = 92.06 s, rounded up.
             '<arrivalphase phase="1" duration="%d" unit="second">' % -(-requests // 50)]
    wants += ['<client host="localhost" cpu="2" use_controller_vm="false"',
              '<client host="127.0.0.1" cpu="1" use_controller_vm="false"']
    for w in wants:
        if w not in text:
            fail("xml-content", "scenario.xml lacks %s" % w)

    # The corpus, line by line.
    lines = corpus.read_text().split("\n")
    if lines[-1] != "":
        fail("corpus-size", "the last line is not terminated")
    lines = lines[:-1]
    if len(lines) != requests:
        fail("corpus-size", "%d lines, --requests %d" % (len(lines), requests))
    ivs = {}
    last_time = {}
    expect_rows = {}
    for i, line in enumerate(lines):
        f = line.split(";")
        if len(f) != 4:
            fail("corpus-format", "line %d: %d fields" % (i, len(f)))
            continue
        path, auth, body, ack = f
        device, k = i % DEVICES, i // DEVICES
        userid = USERS[device % len(USERS)][0]
        when = END_TIME - (posts_per_device - 1 - k) * INTERVAL
        pt = plaintext_of(device, k, bulk, when).encode()
        expect_rows[i] = rows_of(device, userid, k, bulk, when)
        if path != "%s%s?seq=%d" % (PREFIX, endpoint, i):
            fail("corpus-path", "line %d: path %s" % (i, path))
        m = re.fullmatch(r"(\d+):([0-9a-f]{64})", auth)
        if not m or m.group(1) != userid:
            fail("corpus-auth", "line %d: Authorization is not %s:HMACHEX" % (i, userid))
            continue
        try:
            iv, got = decrypt(keys[userid], body)
        except ValueError as e:
            fail("decrypt", "line %d: %s" % (i, e))
            continue
        if got != pt:
            fail("decrypt", "line %d decrypts to %r, not %r" % (i, got[:60], pt[:60]))
        if not hmac.compare_digest(m.group(2), hmac.new(keys[userid], got, hashlib.sha256).hexdigest()):
            fail("mac", "line %d: the MAC is not HMAC-SHA256(key, plaintext)" % i)
        want_ack = base64.urlsafe_b64encode(hashlib.sha256(got).digest()).decode()
        if ack != want_ack or len(ack) != 44:
            fail("ack", "line %d: ack %s, want %s" % (i, ack, want_ack))
        if iv in ivs:
            fail("iv-distinct", "line %d reuses the IV of line %d" % (i, ivs[iv]))
        ivs[iv] = i
        t = int(re.search(rb"time=(\d+)", got).group(1)) if re.search(rb"time=(\d+)", got) else -1
        if device in last_time and t <= last_time[device]:
            fail("time-ascending", "line %d: device %d's time %d after %d" % (i, device, t, last_time[device]))
        if not (lowest - bulk <= t <= END_TIME):
            fail("time-range", "line %d: time %d outside [%d, %d]" % (i, t, lowest, END_TIME))
        last_time[device] = t
        # The exact length: nothing in a line but the four fields (the body
        # keeps its '=' padding, as SPEC §7's client sends it).
        body_len = len(base64.urlsafe_b64encode(bytes(16 + (len(pt) // 16 + 1) * 16)))
        want_len = len(path) + len(auth) + body_len + 44 + 3
        if len(line) != want_len:
            fail("corpus-size", "line %d: %d characters, want %d" % (i, len(line), want_len))

    # expected.tsv: exactly the rows of each line's plaintext.
    got_rows = {}
    header = None
    for n, row in enumerate((out / "expected.tsv").read_text().splitlines()):
        if row.startswith("#"):
            header = row
            continue
        f = row.split("\t")
        if len(f) != 6:
            fail("expected-rows", "expected.tsv line %d: %d fields" % (n + 1, len(f)))
            continue
        got_rows.setdefault(int(f[0]), []).append((f[1], int(f[2]), f[3], f[4], float(f[5])))
    if header is None or ("corpus lines %d" % requests) not in header:
        fail("expected-rows", "expected.tsv's header does not give the corpus lines")
    if got_rows != expect_rows:
        bad = sorted(set(got_rows) ^ set(expect_rows)) or \
            [s for s in expect_rows if got_rows.get(s) != expect_rows[s]]
        fail("expected-rows", "rows differ for line(s) %s" % bad[:5])

    # No write key, in any form, in any file of the export.
    forms = key_forms()
    for p in sorted(out.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            for form in forms:
                if form in data:
                    fail("no-key", "%s holds a write key (%r...)" % (p.name, form[:8]))
                    break
    for p in out.iterdir():
        if p.name.endswith(".tmp"):
            fail("corpus-size", "a temporary file was left: %s" % p.name)


def mutate(out, bulk, name):
    """A corrupted copy of the export for mutant `name`; returns the check
    that must catch it."""
    corpus = out / "corpus.csv"
    lines = corpus.read_text().split("\n")[:-1]
    keys = {u: bytes.fromhex(k) for u, k in USERS}

    def reencrypt(i, pt=None, iv=None):
        path, auth, body, ack = lines[i].split(";")
        userid = auth.split(":")[0]
        old_iv, old_pt = decrypt(keys[userid], body)
        pt = old_pt if pt is None else pt
        iv = old_iv if iv is None else iv
        mac = hmac.new(keys[userid], pt, hashlib.sha256).hexdigest()
        ack = base64.urlsafe_b64encode(hashlib.sha256(pt).digest()).decode()
        lines[i] = ";".join([path, "%s:%s" % (userid, mac), encrypt(keys[userid], iv, pt), ack])

    if name == "body-byte":
        path, auth, body, ack = lines[17].split(";")
        c = "A" if body[40] != "A" else "B"
        lines[17] = ";".join([path, auth, body[:40] + c + body[41:], ack])
        expect = "decrypt"
    elif name == "wrong-ack":
        f = lines[30].split(";")
        f[3] = lines[31].split(";")[3]
        lines[30] = ";".join(f)
        expect = "ack"
    elif name == "wrong-mac":
        f = lines[12].split(";")
        g = lines[12 + DEVICES * 2].split(";")   # the same user, another post
        f[1] = g[1]
        lines[12] = ";".join(f)
        expect = "mac"
    elif name == "iv-reuse":
        iv = decrypt(keys[USERS[0][0]], lines[0].split(";")[2])[0]
        reencrypt(10, iv=iv)                     # device 0 again, user 7
        expect = "iv-distinct"
    elif name == "time-descending":
        # Device 1's 4th post carries the time of its 2nd: a valid request
        # (fresh IV, right MAC and ack) that would go back in time.
        i, j = 1 + 3 * DEVICES, 1 + 1 * DEVICES
        t_old = re.search(rb"time=(\d+)", decrypt(keys["42"], lines[j].split(";")[2])[1]).group(1)
        pt = decrypt(keys["42"], lines[i].split(";")[2])[1]
        reencrypt(i, pt=re.sub(rb"time=\d+", b"time=" + t_old, pt))
        expect = "time-ascending"
    elif name == "row-lost":
        tsv = out / "expected.tsv"
        rows = tsv.read_text().splitlines(True)
        del rows[5]
        tsv.write_text("".join(rows))
        expect = "expected-rows"
    elif name == "key-in-xml":
        xml = out / "scenario.xml"
        raw = bytes.fromhex(USERS[1][1])
        xml.write_text(xml.read_text() + "<!-- %s -->\n" % base64.urlsafe_b64encode(raw).decode().rstrip("="))
        expect = "no-key"
    elif name == "line-too-many":
        lines.append(lines[-1])
        expect = "corpus-size"
    elif name == "xml-broken":
        xml = out / "scenario.xml"
        xml.write_text(xml.read_text().replace("<!-- emoncrypt", "<!-- emoncrypt -- ", 1))
        expect = "xml-well-formed"
    else:
        raise SystemExit("no mutant %s" % name)
    corpus.write_text("\n".join(lines) + "\n")
    return expect


def fake_run(out, run, requests, tweak=None):
    """A Tsung run of every corpus line, all acked, and the server's store and
    log as `emoncrypt serve --strict` writes them; `tweak` alters one part."""
    run.mkdir()
    lines = (out / "corpus.csv").read_text().split("\n")[:-1]
    dump = ["#date;pid;id;http method;host;URL;HTTP status;size;duration;transaction;match;error;tag"]
    for i, line in enumerate(lines):
        dump.append("%.6f;<0.%d.0>;%d;post;127.0.0.1;%s;200;160;%.3f;-;;;"
                    % (1796646804.0 + i * 0.01, 180 + i, i + 1, line.split(";")[0], 1.0 + i % 7))
    store, log = [], []
    for row in (out / "expected.tsv").read_text().splitlines():
        if row.startswith("#"):
            continue
        seq, uid, t, node, name, value = row.split("\t")
        store.append(json.dumps({"userid": uid, "time": int(t), "node": node, "name": name,
                                 "value": float(value)}, separators=(",", ":")))
    for i in range(len(lines)):
        log.append("POST /input/post?seq=%d [aes128cbc] -> 200 ok user 7, 2 rows stored" % i)
    n = len(lines)
    tlog = ["# stats: dump at 1796646813",
            "stats: request %d 7.4 11.0 96.4 0.79 0 0" % n,
            "stats: match %d %d" % (n, n), "stats: 200 %d %d" % (n, n),
            "# stats: dump at 1796646823",
            "stats: request 0 0 0 96.4 0.79 7.4 %d" % n,
            "stats: match 0 %d" % n, "stats: 200 0 %d" % n]
    parts = {"dump": dump, "store": store, "log": log, "tlog": tlog}
    if tweak:
        tweak(parts)
    (run / "tsung.dump").write_text("\n".join(parts["dump"]) + "\n")
    (run / "tsung.log").write_text("\n".join(parts["tlog"]) + "\n")
    (run / "store.jsonl").write_text("\n".join(parts["store"]) + "\n")
    (run / "serve.log").write_text("\n".join(parts["log"]) + "\n")


def check_runs(ec, work, out):
    """fleet check on made-up runs: OK when clean, exit 1 for each fault."""
    def set_line(key, i, text):
        return lambda p: p[key].__setitem__(i, text)

    def status(i, code, match=""):
        def t(p):
            f = p["dump"][i].split(";")
            f[6], f[10] = code, match
            p["dump"][i] = ";".join(f)
        return t

    def changed_value(p):
        row = json.loads(p["store"][3])
        row["value"] += 1
        p["store"][3] = json.dumps(row)

    cases = [
        ("clean", None, 0, "0 lost, 0 duplicated, 0 of requests not acked"),
        ("row-lost", lambda p: p["store"].pop(8), 1, "1 lost"),
        ("row-duplicated", lambda p: p["store"].insert(9, p["store"][9]), 1, "1 duplicated"),
        ("row-changed", changed_value, 1, "1 lost, 0 duplicated, 1 of requests not acked"),
        ("nomatch", status(5, "200", "nomatch"), 1, "1 not acked"),
        ("status-500", status(6, "500"), 1, "1 not acked"),
        ("replay", set_line("log", 4, "POST /input/post?seq=4 [aes128cbc] -> 401 replay"), 1,
         "1 refused"),
        ("tsung-fewer-matches", set_line("tlog", 6, "stats: match 0 %d" % (REQUESTS - 1)), 1,
         "its match count is not the dump's acks"),
        ("tsung-error", lambda p: p["tlog"].append("stats: error_connect_econnrefused 0 3"), 1,
         "3 errors"),
        ("not-a-dump", set_line("dump", 3, "garbage"), 2, "not a line of Tsung's protocol dump"),
    ]
    bad = 0
    for name, tweak, want_rc, want_text in cases:
        run = work / ("run-" + name)
        fake_run(out, run, REQUESTS, tweak)
        r = subprocess.run([ec, "fleet", "check", str(out), "--dump", str(run / "tsung.dump"),
                            "--store", str(run / "store.jsonl"), "--serve-log", str(run / "serve.log")],
                           capture_output=True, text=True)
        text = r.stdout + r.stderr
        if r.returncode == want_rc and want_text in text:
            print("PASS check %s: exit %d, '%s'" % (name, r.returncode, want_text))
        else:
            print("FAIL check %s: exit %d (want %d), '%s' %s\n%s"
                  % (name, r.returncode, want_rc, want_text,
                     "missing" if want_text not in text else "present", text))
            bad += 1
    return 1 if bad else 0


MUTANTS = ["body-byte", "wrong-ack", "wrong-mac", "iv-reuse", "time-descending", "row-lost",
           "key-in-xml", "line-too-many", "xml-broken"]


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        return 2
    ec, work = args[0], pathlib.Path(args[1])
    bulk = int(args[args.index("--bulk-rows") + 1]) if "--bulk-rows" in args else 0
    dtd = "--dtd" in args
    if dtd and not os.path.exists(DTD):
        print("SKIP: %s is absent (Debian package tsung; tools/packages.txt)" % DTD)
        return 77
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cfg = work / "users.json"
    cfg.write_text(json.dumps({"users": [{"userid": int(u), "apikey": k} for u, k in USERS]}))
    out = work / "export"
    cmd = [ec, "fleet", "export", str(out), URL, "--config", str(cfg), "--devices", str(DEVICES),
           "--requests", str(REQUESTS), "--interval", str(INTERVAL), "--end-time", str(END_TIME),
           "--rate", "50"]
    if bulk:
        cmd += ["--bulk-rows", str(bulk)]
    for a in AGENTS:
        cmd += ["--agent", a]
    r = subprocess.run(cmd, capture_output=True, text=True)
    print("$ %s\n%s%s" % (" ".join(cmd[1:]), r.stdout, r.stderr), end="")
    if r.returncode != 0:
        print("FAIL: fleet export exited %d" % r.returncode)
        return 1
    for form in key_forms():
        if isinstance(form, bytes) and form in (r.stdout + r.stderr).encode():
            print("FAIL no-key: fleet export printed a write key")
            return 1

    if dtd:
        v = subprocess.run(["xmllint", "--noout", "--nonet", "--dtdvalid", DTD, str(out / "scenario.xml")],
                           capture_output=True, text=True)
        print(v.stderr, end="")
        if v.returncode != 0:
            print("FAIL: scenario.xml is not valid against %s" % DTD)
            return 1
        # The check can fail: an element Tsung does not know is invalid.
        bad = work / "invalid.xml"
        bad.write_text((out / "scenario.xml").read_text().replace("<sessions>", "<sessions><bogus/>", 1))
        v = subprocess.run(["xmllint", "--noout", "--nonet", "--dtdvalid", DTD, str(bad)],
                           capture_output=True, text=True)
        if v.returncode == 0:
            print("FAIL: an invalid scenario passed the DTD check")
            return 1
        print("PASS: scenario.xml is valid Tsung XML (%s); a <bogus/> element is not" % DTD)
        return 0

    if "--check" in args:
        return check_runs(ec, work, out)

    failures = []
    check(out, bulk, REQUESTS, failures)
    if failures:
        print("FAIL: %d check(s) failed on the export itself" % len(failures))
        return 1
    print("PASS: %d lines decrypt to their plaintexts, MACs and acks right, IVs distinct, "
          "times ascending, rows as expected, no key" % REQUESTS)

    # Every check can fail.
    missed = 0
    for name in MUTANTS:
        copy = work / ("mutant-" + name)
        shutil.copytree(out, copy)
        # The scenario names the corpus by its absolute path: point it at the copy.
        xml = copy / "scenario.xml"
        xml.write_text(xml.read_text().replace(str((out / "corpus.csv").resolve()),
                                               str((copy / "corpus.csv").resolve())))
        expect = mutate(copy, bulk, name)
        got = []
        sys.stdout.flush()
        saved = sys.stdout
        sys.stdout = open(os.devnull, "w")
        try:
            check(copy, bulk, REQUESTS, got)
        finally:
            sys.stdout.close()
            sys.stdout = saved
        if expect in got:
            print("PASS mutant %s: caught by %s" % (name, expect))
        else:
            print("FAIL mutant %s: %s did not catch it (failed: %s)" % (name, expect, got or "none"))
            missed += 1
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
