#!/usr/bin/env python3
"""The verdicts of a test-client run (its --json report), kept and compared.

  device-verdicts.py extract LIVE.json OUT.verdicts.json [NOTE]
      keep what a live run decided: every row's id and verdict, in order,
      its totals and exit code (NOTE: what was recorded, one line)
  device-verdicts.py check EXPECTED.verdicts.json REPLAY.json
      exit 0 when the replay (test-client --from-capture --json) gave every
      row the same verdict, the same totals and exit code, and answered
      every request as captured (client/replay/answers PASS); else print
      each difference and exit 1
"""
import json
import sys

REPLAY_ROW = "client/replay/answers"


def rows(report):
    return [[r["id"], r["verdict"]] for r in report["results"] if r["id"] != REPLAY_ROW]


def extract(live, out, note):
    with open(live, encoding="utf-8") as f:
        rep = json.load(f)
    kept = {
        "note": note,
        "profile": rep.get("profile"),
        "strict": rep.get("strict"),
        "exit_code": rep["exit_code"],
        "totals": rep["totals"],
        "verdicts": rows(rep),
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(kept, f, indent=1)
        f.write("\n")
    return 0


def check(expected, replay):
    with open(expected, encoding="utf-8") as f:
        want = json.load(f)
    with open(replay, encoding="utf-8") as f:
        rep = json.load(f)
    problems = []
    got = rows(rep)
    if got != want["verdicts"]:
        n = max(len(got), len(want["verdicts"]))
        for i in range(n):
            a = want["verdicts"][i] if i < len(want["verdicts"]) else None
            b = got[i] if i < len(got) else None
            if a != b:
                problems.append("row %d: live %s, replay %s" % (i + 1, a, b))
    answers = [r for r in rep["results"] if r["id"] == REPLAY_ROW]
    if len(answers) != 1 or answers[0]["verdict"] != "PASS":
        problems.append("%s: %s" % (REPLAY_ROW, answers[0]["message"] if answers else "missing"))
    # the replay's own row is one more PASS (or the FAIL above)
    totals = dict(rep["totals"])
    if answers:
        v = answers[0]["verdict"]
        totals[v] -= 1
        totals["total"] -= 1
        if v == "FAIL":
            totals["failures"] -= 1
    for k, v in want["totals"].items():
        if totals.get(k) != v:
            problems.append("totals %s: live %s, replay %s" % (k, v, totals.get(k)))
    live_exit = want["exit_code"]
    if rep["exit_code"] != live_exit:
        problems.append("exit code: live %s, replay %s" % (live_exit, rep["exit_code"]))
    for p in problems:
        print("device-verdicts: " + p)
    if problems:
        print("device-verdicts: the replay of %s differs from the live run" % expected)
        return 1
    print("device-verdicts: %d verdicts as in the live run (%s)"
          % (len(got), ", ".join("%s %s" % (want["totals"][k], k)
                                  for k in ("PASS", "FAIL", "NON-STRICT", "INFO", "SKIP",
                                            "INCOMPLETE"))))
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "extract":
        return extract(argv[2], argv[3], argv[4] if len(argv) > 4 else "")
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
