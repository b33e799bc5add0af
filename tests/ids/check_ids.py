#!/usr/bin/env python3
"""The case ids as a contract (issue 12).

  check_ids.py manifest EMONCRYPT SRCDIR   suites/ids.txt against both --list
  check_ids.py grep EMONCRYPT SRCDIR       every listed id is a literal in the
                                           row that defines it
  check_ids.py negative EMONCRYPT SRCDIR   both checks fail on doctored input
                                           (grep: on doctored copies of the tree)

manifest: every id that `emoncrypt test-server --list` and `emoncrypt
test-client --list` print is in suites/ids.txt; every id of suites/ids.txt
is still printed or renamed ("OLD -> NEW", NEW printed), and --case OLD
(--section OLD for a renamed section) still selects NEW.

grep: for every listed id, `git grep -n -F '"ID"'` (a scan of the tree's
files when it is no git checkout) finds it, as a row's designated
initializer `.id = "ID"`, in the file that defines its row:
server/N.area/... in suites/server/sN_area.c, client/N.area/... in
suites/client/cN_area.c ('-' in the area as '_'); server/8.vectors/TCID,
whose row is a reference vector, as '"tcId": "TCID"' in vectors/*.json.
An id glued by a macro ("server/5.store/" id_) is not found.

Exit 0 when the check holds, 1 with one line per problem, 2 on a set-up
error.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile



def run_list(exe, role, *args):
    p = subprocess.run([exe, "test-" + role, "--list", *args], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("%s test-%s --list %s: exit %d: %s" % (exe, role, " ".join(args), p.returncode,
                                                                  p.stderr.strip()))
    pat = re.compile(r"^(server/\S+)" if role == "server" else r"^\s*(client/\S+)")
    return [m.group(1) for m in map(pat.match, p.stdout.splitlines()) if m]


def listed_ids(exe, srcdir):
    vectors = os.path.join(srcdir, "vectors", "emoncms_input_v1.json")
    return run_list(exe, "server", "--vectors", vectors) + run_list(exe, "client")


def read_manifest(text):
    ids, renames = [], []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"(\S+) -> (\S+)", line)
        if m:
            renames.append((m.group(1), m.group(2)))
        elif re.fullmatch(r"(server|client)/\S+", line):
            ids.append(line)
        else:
            raise RuntimeError("suites/ids.txt:%d: neither an id nor 'OLD -> NEW': %s" % (n, line))
    return ids, renames


def renamed(old_id, renames):
    """The id old_id is called now, following renames, or None."""
    for _ in range(8):
        for o, n in renames:
            if o.endswith("/") and old_id.startswith(o):
                old_id = n + old_id[len(o):]
                break
            if old_id == o:
                old_id = n
                break
        else:
            return old_id
    return None


def check_manifest(manifest_text, listed, alias_probe):
    """Problems, one line each: listed = the ids --list prints;
    alias_probe(old, is_section) = the ids --case/--section old lists."""
    ids, renames = read_manifest(manifest_text)
    problems = []
    listed_set, manifest_set = set(listed), set(ids)
    for i in listed:
        if i not in manifest_set:
            problems.append("%s: printed by --list but not in suites/ids.txt (add it)" % i)
    for i in ids:
        if i in listed_set:
            continue
        now = renamed(i, renames)
        if now == i:
            problems.append("%s: in suites/ids.txt but no longer printed by --list, and not renamed "
                            "(a user's --case %s would stop matching: add 'OLD -> NEW')" % (i, i))
        elif now not in listed_set:
            problems.append("%s: renamed to %s, which --list does not print" % (i, now))
    for o, n in renames:
        section = o.endswith("/")
        if section != n.endswith("/"):
            problems.append("%s -> %s: a section rename ends both names with '/'" % (o, n))
            continue
        if not section and o in listed_set:
            problems.append("%s -> %s: the old id is still printed by --list" % (o, n))
            continue
        want = sorted(x for x in listed if (x.startswith(n) if section else x == n))
        if not want:
            problems.append("%s -> %s: --list prints no id %s" % (o, n, "under " + n if section else n))
            continue
        got = sorted(alias_probe(o, section))
        if got != want:
            problems.append("%s -> %s: --%s %s selects %s, not %s" % (o, n, "section" if section else "case",
                                                                     o, got, want))
    return problems


def source_files(srcdir):
    """The tree's files, as git grep sees them (tracked), or all of them."""
    if os.path.isdir(os.path.join(srcdir, ".git")) or os.path.isfile(os.path.join(srcdir, ".git")):
        p = subprocess.run(["git", "-C", srcdir, "ls-files", "-z"], capture_output=True)
        if p.returncode == 0:
            return [f for f in p.stdout.decode().split("\0") if f]
    out = []
    for top, dirs, files in os.walk(srcdir):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not d.startswith("build")]
        for f in files:
            out.append(os.path.relpath(os.path.join(top, f), srcdir))
    return out


def defining_files(i):
    """The files in which the row of id i must be written out."""
    m = re.fullmatch(r"server/8\.vectors/(.+)", i)
    if m:
        return None  # vectors/*.json
    m = re.fullmatch(r"(server|client)/(\d+)\.([a-z-]+)/.+", i)
    if m:
        return ("suites/%s/%s%s_%s.c" % (m.group(1), m.group(1)[0], m.group(2), m.group(3).replace("-", "_")),)
    return ()


def check_grep(srcdir, listed, skip_files=()):
    files = [f for f in source_files(srcdir) if f not in skip_files]
    texts = {}

    def text(f):
        if f not in texts:
            try:
                with open(os.path.join(srcdir, f), encoding="utf-8", errors="replace") as fh:
                    texts[f] = fh.read()
            except OSError:
                texts[f] = ""
        return texts[f]

    problems = []
    vector_files = [f for f in files if re.fullmatch(r"vectors/[^/]+\.json", f) and "schema" not in f]
    c_files = [f for f in files if f.endswith((".c", ".h"))]
    for i in listed:
        where = defining_files(i)
        if where is None:
            tc = i[len("server/8.vectors/"):]
            needle = '"tcId": "%s"' % tc
            if not any(needle in text(f) for f in vector_files):
                problems.append("%s: no '%s' in vectors/*.json" % (i, needle))
            continue
        needle = '"%s"' % i
        hits = [f for f in c_files if needle in text(f)]
        if not any(f in where for f in hits):
            problems.append("%s: the literal %s is in none of %s (found in: %s)" %
                            (i, needle, ", ".join(where) or "(no file for this section)",
                             ", ".join(hits) or "no file"))
            continue
        row = re.compile(r"\.id\s*=\s*" + re.escape(needle))
        if not any(row.search(text(f)) for f in hits if f in where):
            problems.append("%s: %s is in %s but not as a row's designated initializer (.id = %s)" %
                            (i, needle, ", ".join(f for f in hits if f in where), needle))
    return problems


def glue_id(text, i):
    """text with id i glued by a macro, as 27 rows were before issue 12
    ("server/5.store/" id_): it still compiles to the same id."""
    section, name = i.rsplit("/", 1)
    if '"%s"' % i not in text:
        raise RuntimeError("cannot doctor: %s is not written out" % i)
    return ('#define GLUED_ID(id_) "%s/" id_\n' % section +
            text.replace('"%s"' % i, 'GLUED_ID("%s")' % name))


def check_grep_doctored(srcdir, listed, edits):
    """check_grep over a copy of suites/ and vectors/ with edits applied
    ({path: text -> text}); the copy has no .git, so it is scanned."""
    tmp = tempfile.mkdtemp(prefix="check_ids.")
    try:
        for d in ("suites", "vectors"):
            shutil.copytree(os.path.join(srcdir, d), os.path.join(tmp, d))
        for f, edit in edits.items():
            path = os.path.join(tmp, f)
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            doctored = edit(text)
            if doctored == text and edits:
                raise RuntimeError("cannot doctor %s: the edit changed nothing" % f)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(doctored)
        return check_grep(tmp, listed)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def alias_prober(exe):
    def probe(old, section):
        role = old.split("/", 1)[0]
        return run_list(exe, role, "--section" if section else "--case", old)
    return probe


def negative(exe, srcdir):
    """Each doctored input must give a problem naming what was doctored."""
    with open(os.path.join(srcdir, "suites", "ids.txt"), encoding="utf-8") as fh:
        manifest = fh.read()
    listed = listed_ids(exe, srcdir)
    probe = alias_prober(exe)
    failures = []

    def expect(label, problems, word, only=False):
        if not any(word in p for p in problems):
            failures.append("%s: the check did not fail (wanted a problem naming %s; got %s)" %
                            (label, word, problems[:3]))
        elif only and not all(word in p for p in problems):
            failures.append("%s: other ids failed too: %s" % (label, [p for p in problems if word not in p][:3]))
        else:
            print("ok: %s fails: %s" % (label, next(p for p in problems if word in p)))

    gone = "server/5.store/nothing-on-reject"
    expect("an id --list no longer prints", check_manifest(manifest, [i for i in listed if i != gone], probe), gone)
    added = "client/7.ack/brand-new"
    expect("an id missing from suites/ids.txt", check_manifest(manifest, listed + [added], probe), added)
    bad = manifest + "\nserver/4.ack/gone\nserver/4.ack/gone -> server/4.ack/nosuch\n"
    expect("a rename to an id --list does not print", check_manifest(bad, listed, probe), "server/4.ack/nosuch")
    unaliased = manifest.replace("client/3.content-type/ -> client/3.ctype/", "")
    expect("a renamed id without its 'OLD -> NEW'", check_manifest(unaliased, listed, probe),
           "client/3.content-type/exact")
    expect("a rename whose alias does not select",
           check_manifest(manifest, listed, lambda o, s: []), "client/3.content-type/")
    expect("an id not written out", check_grep(srcdir, ["server/5.store/not-a-case"]), "not-a-case")
    expect("an id written out only outside its section's file",
           check_grep(srcdir, ["server/4.ack/of-plaintext"], skip_files=("suites/server/s4_ack.c",)),
           "server/4.ack/of-plaintext")
    expect("a vector id not in vectors/*.json", check_grep(srcdir, ["server/8.vectors/post/nosuch"]),
           "post/nosuch")
    # Doctored copies of the source tree (no .git: the plain file scan,
    # which must find every other id of the whole list).
    clean = check_grep_doctored(srcdir, listed, {})
    if clean:
        failures.append("an undoctored copy of the tree: %d problems: %s" % (len(clean), clean[:3]))
    else:
        print("ok: an undoctored copy of the tree (scanned, no .git) passes for all %d ids" % len(listed))
    glued = "server/5.store/nothing-on-reject"
    expect("an id glued by a macro", check_grep_doctored(srcdir, listed, {
        "suites/server/s5_store.c": lambda t: glue_id(t, glued)}), glued, only=True)
    moved = "server/4.ack/of-plaintext"
    expect("an id written out only in another section's file", check_grep_doctored(srcdir, listed, {
        "suites/server/s4_ack.c": lambda t: glue_id(t, moved),
        "suites/server/s4_auth.c": lambda t: t + '\nstatic const char *moved = "%s";\n' % moved}), moved, only=True)
    positional = "server/3.post/csv"
    expect("a row whose id is positional, not .id = \"...\"", check_grep_doctored(srcdir, listed, {
        "suites/server/s3_post.c": lambda t: t.replace('.id = "%s"' % positional, '"%s"' % positional)}),
        positional, only=True)
    cmoved = "client/2.hmac/lowercase"
    expect("a client id written out only outside its section's file", check_grep_doctored(srcdir, listed, {
        "suites/client/c2_hmac.c": lambda t: glue_id(t, cmoved),
        "suites/client/client_checks.c": lambda t: t + '\nstatic const char *moved = "%s";\n' % cmoved}),
        cmoved, only=True)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


def main(argv):
    if len(argv) != 4 or argv[1] not in ("manifest", "grep", "negative"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    mode, exe, srcdir = argv[1:]
    try:
        if mode == "negative":
            return negative(exe, srcdir)
        listed = listed_ids(exe, srcdir)
        if mode == "manifest":
            with open(os.path.join(srcdir, "suites", "ids.txt"), encoding="utf-8") as fh:
                problems = check_manifest(fh.read(), listed, alias_prober(exe))
        else:
            problems = check_grep(srcdir, listed)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        print("check_ids.py: %s" % e, file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    if mode == "grep":
        vec = sum(defining_files(i) is None for i in listed)
        print("grep: %d ids are rows written out in their section's file (suites/server/sN_area.c, "
              "%s); %d vector ids are tcIds of vectors/*.json ('\"tcId\": \"TCID\"')" %
              (len(listed) - vec, "suites/client/cN_area.c", vec))
    print("%s: %d ids (%d server, %d client), %d problems" %
          (mode, len(listed), sum(i.startswith("server/") for i in listed),
           sum(i.startswith("client/") for i in listed), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
