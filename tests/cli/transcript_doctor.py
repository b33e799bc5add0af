#!/usr/bin/env python3
"""Write a doctored copy of a transcript (tests/cli/transcript.sh):
  response: the first recorded ack of a server/3.post case (a 200 whose
            body is 44 base64url bytes) gets one character changed, so
            the replayed case must FAIL;
  request:  one recorded request body gets one byte changed, so the
            suite's own request is unrecorded (drift)."""
import base64, json, sys

mode, src, dst = sys.argv[1:4]
doc = json.load(open(src))
for x in doc["exchanges"]:
    if x["kind"] != "http":
        continue
    if mode == "response":
        r = x["response"]
        body = base64.b64decode(r.get("body", {}).get("b64", "") or "")
        if (x.get("case", "").startswith("server/3.post/") and r["net"] == "ok"
                and r.get("status") == 200 and len(body) == 44 and body.endswith(b"=")):
            bad = (b"B" if body[:1] != b"B" else b"C") + body[1:]
            r["body"] = {"b64": base64.b64encode(bad).decode()}
            print("doctored the answer of exchange %d (%s)" % (x["n"], x["case"]))
            break
    else:
        b = x["request"]["body"].get("b64")
        if b:
            body = bytearray(base64.b64decode(b))
            body[0] ^= 1
            x["request"]["body"] = {"b64": base64.b64encode(bytes(body)).decode()}
            print("doctored the request of exchange %d (%s %s)" % (x["n"], x["request"]["method"],
                                                                    x["request"]["target"]))
            break
else:
    sys.exit("nothing to doctor in " + src)
json.dump(doc, open(dst, "w"), indent=1)
