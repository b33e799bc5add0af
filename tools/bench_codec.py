#!/usr/bin/python3
"""The Python baseline of the codec benchmark (tools/bench).

Verifies the same vectors as tools/bench_codec.c, step for step, with the
`cryptography` package (Debian python3-cryptography): read the HMAC from
Authorization, base64url-decode the body, AES-128-CBC decrypt and strip
PKCS#7, HMAC-SHA256 the decrypted bytes and compare in constant time,
compute the ack (base64url of SHA-256, '=' kept) and compare it with the
vector's.  Prints one JSON object: {"vectors": N, "verified": V,
"seconds": S, "per_second": R}, S in CPU seconds.

usage: /usr/bin/python3 tools/bench_codec.py VECTORS.json [SECONDS]
"""
import base64
import json
import sys
import time

from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def selected(path):
    """Valid aes128cbc vectors with an ack, as (key, body, mac, ack)."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out = []
    for group in doc["testGroups"]:
        if group.get("profile") != "aes128cbc":
            continue
        for t in group["tests"]:
            req = t.get("request", {})
            auth = req.get("authorization")
            if t.get("result") != "valid" or not t.get("ack") or not auth or ":" not in auth:
                continue
            out.append((bytes.fromhex(t["apikey"]), req["body"].encode("ascii"),
                        auth.split(":", 1)[1], t["ack"]))
    return out


def verify(key, body, mac_hex, ack):
    raw = base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
    if len(raw) < 32:
        return False
    decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:16])).decryptor()
    padded = decryptor.update(raw[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    plain = unpadder.update(padded) + unpadder.finalize()
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(plain)
    mac.verify(bytes.fromhex(mac_hex))          # raises on mismatch, constant time
    digest = hashes.Hash(hashes.SHA256())
    digest.update(plain)
    return base64.urlsafe_b64encode(digest.finalize()).decode("ascii") == ack


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    seconds = float(sys.argv[2]) if len(sys.argv) == 3 else 1.0
    vectors = selected(sys.argv[1])
    if not vectors:
        sys.stderr.write("bench_codec.py: no valid aes128cbc vectors\n")
        return 2
    for v in vectors:
        if not verify(*v):
            sys.stderr.write("bench_codec.py: a vector does not verify\n")
            return 1
    # CPU time, as the C side measures it: other work on the machine does
    # not change it.
    verified = 0
    t0 = t1 = time.process_time()
    while t1 - t0 < seconds:
        for v in vectors:
            verified += verify(*v)
        t1 = time.process_time()
    print(json.dumps({"vectors": len(vectors), "verified": verified,
                      "seconds": round(t1 - t0, 3),
                      "per_second": round(verified / (t1 - t0), 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
