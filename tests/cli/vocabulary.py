#!/usr/bin/env python3
"""One CLI vocabulary (issue 13 point 8), checked from the outside and
against the sources:
  - every command's --help has an EXAMPLES section that runs that command;
  - every command answers --version (and -V) with "emoncrypt VERSION";
  - a short option means the same long option in every command (the table
    is built from the helps' "-x, --long" lines and printed);
  - every short option a command's getopt string accepts is in its help
    with the long option its table maps it to, and every long option of its
    table (hidden ones included: --mutant, --self-test-mutant …) is in its
    help.
usage: vocabulary.py EMONCRYPT SOURCE_DIR"""
import glob
import os
import re
import subprocess
import sys

ec, src = sys.argv[1], sys.argv[2]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def run(*args):
    p = subprocess.run([ec, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


rc, version, _ = run("--version")
version = version.strip()
if rc != 0 or not re.fullmatch(r"emoncrypt \d+\.\d+\.\d+", version):
    fail(f"emoncrypt --version: exit {rc}, '{version}'")
commands = run("--list-commands")[1].split()
if len(commands) < 5:
    fail(f"--list-commands: {commands}")

helps = {}
short = {}   # letter -> {long: [commands]}
for cmd in commands:
    rc, out, err = run(cmd, "--help")
    if rc != 0:
        fail(f"{cmd} --help: exit {rc}")
    helps[cmd] = out
    lines = out.splitlines()
    if "EXAMPLES" not in lines:
        fail(f"{cmd} --help: no EXAMPLES section")
    else:
        after = lines[lines.index("EXAMPLES") + 1:]
        if not any(re.match(rf"\s+(\S+ \| )?emoncrypt {re.escape(cmd)}\b", l) or
                   re.match(rf"\s+echo .*\| emoncrypt {re.escape(cmd)}\b", l) for l in after):
            fail(f"{cmd} --help: EXAMPLES has no 'emoncrypt {cmd} …' line")
    for form in ("--version", "-V"):
        rc, out, err = run(cmd, form)
        if rc != 0 or out.strip() != version:
            fail(f"{cmd} {form}: exit {rc}, '{out.strip()}' (expected '{version}')")
    for m in re.finditer(r"^\s+-([A-Za-z]), --([a-z][a-z0-9-]*)", out if False else helps[cmd], re.M):
        short.setdefault(m.group(1), {}).setdefault(m.group(2), []).append(cmd)

print("short options:")
for letter in sorted(short, key=lambda l: (l.lower(), l)):
    longs = short[letter]
    print(f"  -{letter}  " + "; ".join(f"--{l} ({', '.join(c)})" for l, c in longs.items()))
    if len(longs) > 1:
        fail(f"-{letter} means " + " and ".join(f"--{l} in {', '.join(c)}" for l, c in longs.items()))

# the sources: getopt strings and option tables against the helps
for path in sorted(glob.glob(os.path.join(src, "harness/cli/cmd_*.c"))):
    cmd = os.path.basename(path)[4:-2].replace("_", "-")
    if cmd not in helps:
        fail(f"{path}: no command '{cmd}' in --list-commands")
        continue
    text = open(path, encoding="utf-8").read()
    table = re.findall(r'\{"([a-z][a-z0-9-]*)",\s*(?:no|required|optional)_argument,\s*NULL,\s*([^}]+?)\}', text)
    if not table:
        fail(f"{path}: no option table found")
    help_text = helps[cmd]
    for name, val in table:
        if not re.search(rf"--{re.escape(name)}\b", help_text):
            fail(f"{cmd}: --{name} is accepted but not in its --help")
    optstrings = re.findall(r'getopt_long\(\s*argc,\s*argv,\s*"([^"]*)"', text)
    for optstring in optstrings:
        for letter in re.findall(r"[A-Za-z]", optstring):
            longs = [n for n, v in table if v.strip() == f"'{letter}'"]
            if not longs:
                fail(f"{cmd}: -{letter} has no long option")
            elif not re.search(rf"^\s+-{letter}, --{re.escape(longs[0])}\b", help_text, re.M):
                fail(f"{cmd}: -{letter} (--{longs[0]}) is accepted but its help has no '-{letter}, --{longs[0]}'")
    for letter, longs in short.items():
        for name, cmds in longs.items():
            if cmd in cmds and not any(letter in o for o in optstrings):
                fail(f"{cmd}: its help shows -{letter}, --{name} but getopt does not take -{letter}")

if failures:
    print(f"vocabulary: {len(failures)} failure(s)")
    sys.exit(1)
print(f"vocabulary: {len(commands)} commands, {len(short)} short options, all consistent")
