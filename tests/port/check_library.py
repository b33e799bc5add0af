#!/usr/bin/env python3
"""The port kit's generated library (harness/port/arduino/make_library.cmake)
checked as the three tools would read it (ctest port-arduino/metadata):

  - Arduino, library.properties (the 1.5 library format): every required
    field (name, version, author, maintainer, sentence, paragraph,
    category, url, architectures) present and non-empty, the name in the
    allowed characters, a semantic version, a known category, each
    `includes` header in src/; any examples/NAME holds NAME.ino (a sketch's
    .ino is named after its folder);
  - PlatformIO, library.json: valid JSON, name (slug), version (the same
    as library.properties) and description; frameworks include arduino and
    espidf; build.srcDir / includeDir and every example file listed exist;
  - ESP-IDF, CMakeLists.txt: exactly one idf_component_register() whose
    SRCS are exactly src/*.c, INCLUDE_DIRS include src (existing) and
    REQUIRES mbedtls.  There is no ESP-IDF here: this reads the file, it
    does not configure a component.
  - src/ holds the kit as it is in harness/port (--port-dir): the copies
    are byte for byte the tree's.

usage: check_library.py LIB [--version V] [--port-dir DIR]
       check_library.py --bite LIB WORKDIR   doctored copies must each fail
Exit 0: all hold; 1: a check failed; 2: usage.
"""
import json
import os
import re
import shutil
import sys

CATEGORIES = {"Display", "Communication", "Signal Input/Output", "Sensors",
              "Device Control", "Timing", "Data Storage", "Data Processing", "Other"}
REQUIRED = ["name", "version", "author", "maintainer", "sentence", "paragraph",
            "category", "url", "architectures"]
SEMVER = re.compile(r"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")
KIT_FILES = ["emoncrypt_port.h", "emoncrypt_port.c", "port_host.h"]


def read_properties(path, problems):
    props = {}
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                if "=" not in line:
                    problems.append(f"library.properties:{n}: not key=value: {line!r}")
                    continue
                k, v = line.split("=", 1)
                props[k.strip()] = v.strip()
    except OSError as e:
        problems.append(f"library.properties: {e}")
    return props


def idf_calls(text):
    """The argument lists of every idf_component_register( ... ) call,
    comments removed, as lists of words (quotes stripped)."""
    text = re.sub(r"#[^\n]*", "", text)
    calls = []
    for m in re.finditer(r"\bidf_component_register\s*\(", text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        if depth:
            calls.append(None)   # unbalanced
            continue
        body = text[m.end():i - 1]
        calls.append([w.strip('"') for w in re.findall(r'"[^"]*"|[^\s"]+', body)])
    return calls


def idf_args(words):
    keys = {"SRCS", "SRC_DIRS", "INCLUDE_DIRS", "PRIV_INCLUDE_DIRS", "REQUIRES",
            "PRIV_REQUIRES", "EXCLUDE_SRCS", "EMBED_FILES", "LDFRAGMENTS"}
    args, key = {}, None
    for w in words:
        if w in keys:
            key = w
            args.setdefault(key, [])
        elif key is None:
            return None
        else:
            args[key].append(w)
    return args


def check(lib, version=None, port_dir=None):
    problems = []
    p = read_properties(os.path.join(lib, "library.properties"), problems)
    for k in REQUIRED:
        if not p.get(k):
            problems.append(f"library.properties: no {k}=")
    name = p.get("name", "")
    if name and (not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,62}", name)
                 or name.lower().startswith("arduino")):
        problems.append(f"library.properties: name {name!r} is not allowed")
    if p.get("version") and not SEMVER.match(p["version"]):
        problems.append(f"library.properties: version {p['version']!r} is not semver")
    if version and p.get("version") != version:
        problems.append(f"library.properties: version {p.get('version')!r}, the project's is {version}")
    if p.get("category") and p["category"] not in CATEGORIES:
        problems.append(f"library.properties: category {p['category']!r} is not one of Arduino's")
    if p.get("url") and not re.match(r"^https?://\S+$", p["url"]):
        problems.append(f"library.properties: url {p['url']!r} is not a URL")
    for h in filter(None, (x.strip() for x in p.get("includes", "").split(","))):
        if not os.path.isfile(os.path.join(lib, "src", h)):
            problems.append(f"library.properties: includes {h}, not in src/")
    for d in sorted(os.listdir(os.path.join(lib, "examples"))) if os.path.isdir(
            os.path.join(lib, "examples")) else []:
        if not os.path.isfile(os.path.join(lib, "examples", d, d + ".ino")):
            problems.append(f"examples/{d}: no {d}.ino (Arduino opens a sketch by its folder's name)")

    try:
        with open(os.path.join(lib, "library.json"), encoding="utf-8") as f:
            j = json.load(f)
    except (OSError, ValueError) as e:
        problems.append(f"library.json: {e}")
        j = {}
    for k in ("name", "version", "description"):
        if not isinstance(j.get(k), str) or not j.get(k):
            problems.append(f"library.json: no {k}")
    if j.get("name") and not re.fullmatch(r"[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]", j["name"]):
        problems.append(f"library.json: name {j['name']!r} is not a slug")
    if j.get("version") and j.get("version") != p.get("version"):
        problems.append(f"library.json: version {j.get('version')!r} but library.properties "
                        f"has {p.get('version')!r}")
    if j.get("description") and len(j["description"]) > 255:
        problems.append("library.json: description longer than 255 characters")
    fw = j.get("frameworks", [])
    fw = [fw] if isinstance(fw, str) else fw
    for want in ("arduino", "espidf"):
        if want not in fw:
            problems.append(f"library.json: frameworks {fw} lacks {want}")
    build = j.get("build", {})
    for k in ("srcDir", "includeDir"):
        if not build.get(k) or not os.path.isdir(os.path.join(lib, build[k])):
            problems.append(f"library.json: build.{k} {build.get(k)!r} is not a directory")
    for h in j.get("headers", []):
        if not os.path.isfile(os.path.join(lib, build.get("srcDir", "src"), h)):
            problems.append(f"library.json: header {h} not in src/")
    for ex in j.get("examples", []):
        for f in ex.get("files", []):
            if not os.path.isfile(os.path.join(lib, ex.get("base", ""), f)):
                problems.append(f"library.json: example file {ex.get('base')}/{f} missing")

    try:
        with open(os.path.join(lib, "CMakeLists.txt"), encoding="utf-8") as f:
            calls = idf_calls(f.read())
    except OSError as e:
        problems.append(f"CMakeLists.txt: {e}")
        calls = []
    if len(calls) != 1:
        problems.append(f"CMakeLists.txt: {len(calls)} idf_component_register() calls, expected 1")
    elif calls[0] is None:
        problems.append("CMakeLists.txt: idf_component_register( without its )")
    else:
        args = idf_args(calls[0])
        if args is None:
            problems.append("CMakeLists.txt: idf_component_register: a value before any keyword")
            args = {}
        srcdir = os.path.join(lib, "src")
        have = sorted("src/" + f for f in os.listdir(srcdir) if f.endswith(".c")) \
            if os.path.isdir(srcdir) else []
        if sorted(args.get("SRCS", [])) != have or not have:
            problems.append(f"CMakeLists.txt: SRCS {sorted(args.get('SRCS', []))}, src/ has {have}")
        for s in args.get("SRCS", []):
            if not os.path.isfile(os.path.join(lib, s)):
                problems.append(f"CMakeLists.txt: SRCS {s} does not exist")
        inc = args.get("INCLUDE_DIRS", [])
        if "src" not in inc:
            problems.append(f"CMakeLists.txt: INCLUDE_DIRS {inc} lacks src")
        for d in inc:
            if not os.path.isdir(os.path.join(lib, d)):
                problems.append(f"CMakeLists.txt: INCLUDE_DIRS {d} does not exist")
        if "mbedtls" not in args.get("REQUIRES", []) + args.get("PRIV_REQUIRES", []):
            problems.append("CMakeLists.txt: the mbedTLS shim needs REQUIRES mbedtls")

    if port_dir:
        for f in KIT_FILES:
            try:
                with open(os.path.join(lib, "src", f), "rb") as a, \
                        open(os.path.join(port_dir, f), "rb") as b:
                    if a.read() != b.read():
                        problems.append(f"src/{f} is not harness/port/{f}")
            except OSError as e:
                problems.append(f"src/{f}: {e}")
    return problems


def doctor(lib, work, name, path, edit):
    """A copy of lib with one file changed by edit(text) -> text."""
    dst = os.path.join(work, name)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(lib, dst, symlinks=True)
    full = os.path.join(dst, path)
    if edit is None:
        os.remove(full)
    else:
        with open(full, encoding="utf-8") as f:
            text = f.read()
        changed = edit(text)
        if changed == text:
            raise SystemExit(f"doctor {name}: the edit changed nothing in {path}")
        with open(full, "w", encoding="utf-8") as f:
            f.write(changed)
    return dst


def bite(lib, work):
    os.makedirs(work, exist_ok=True)
    failures = 0
    base = check(lib)
    if base:
        print("FAIL: the undoctored library does not pass:", *base, sep="\n  ")
        return 1
    cases = [
        ("no-sentence", "library.properties", lambda t: re.sub(r"(?m)^sentence=.*\n", "", t)),
        ("bad-category", "library.properties", lambda t: t.replace("category=Communication",
                                                                   "category=Crypto")),
        ("includes-missing", "library.properties", lambda t: t.replace(
            "includes=emoncrypt_port.h", "includes=emoncrypt.h")),
        ("json-version", "library.json", lambda t: re.sub(r'"version": "[^"]*"',
                                                          '"version": "9.9.9"', t)),
        ("json-broken", "library.json", lambda t: t.rstrip().rstrip("}")),
        ("json-no-espidf", "library.json", lambda t: t.replace('"espidf"', '"zephyr"')),
        ("idf-src-missing", "CMakeLists.txt", lambda t: t.replace('"src/ecp_shim_mbedtls.c"', "")),
        ("idf-no-register", "CMakeLists.txt", lambda t: t.replace("idf_component_register(",
                                                                  "idf_component_register_x(")),
        ("idf-no-mbedtls", "CMakeLists.txt", lambda t: t.replace("REQUIRES mbedtls",
                                                                 "REQUIRES freertos")),
        ("kit-stale", "src/emoncrypt_port.h", lambda t: t + "\n/* edited by hand */\n"),
    ]
    for name, path, edit in cases:
        doctored = doctor(lib, work, name, path, edit)
        # kit-stale: compared with the undoctored copy (the tree's kit)
        problems = check(doctored, port_dir=os.path.join(lib, "src") if name == "kit-stale"
                         else None)
        if problems:
            print(f"ok: {name}: {problems[0]}")
        else:
            print(f"FAIL: {name}: the doctored library passes")
            failures += 1
    return 1 if failures else 0


def main(argv):
    if len(argv) == 3 and argv[0] == "--bite":
        return bite(argv[1], argv[2])
    if not argv:
        print(__doc__)
        return 2
    lib, version, port_dir = argv[0], None, None
    rest = argv[1:]
    while rest:
        if rest[0] == "--version" and len(rest) > 1:
            version, rest = rest[1], rest[2:]
        elif rest[0] == "--port-dir" and len(rest) > 1:
            port_dir, rest = rest[1], rest[2:]
        else:
            print(__doc__)
            return 2
    problems = check(lib, version, port_dir)
    for pr in problems:
        print("FAIL: " + pr)
    if not problems:
        print(f"ok: {lib}: library.properties, library.json, CMakeLists.txt "
              f"(idf_component_register) and src/ hold")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
