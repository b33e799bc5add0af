#!/usr/bin/python3
"""Generate the emoncrypt reference vectors, independently of the C harness.

    gen_vectors.py --out DIR      write emoncms_input_v1.json and its schema
    gen_vectors.py --check DIR    exit 1 when DIR's files differ from a fresh run
    gen_vectors.py --selftest [DIR]
                                  decrypt every accepted vector back and
                                  recompute every answer from the file alone
    gen_vectors.py --validate DIR validate the JSON file against the schema

Everything here is a second, separate reading of SPEC.md and of the Emoncms
source: the request builder (with the client mistakes of message.h), an
Emoncms-compatible server model and a strict one.  The expected answers are
computed by running each request through those models, never typed in.
Only the standard library and Debian's python3-cryptography are used.
"""

import argparse
import base64
import hashlib
import hmac
import json
import re
import sys
import unicodedata
import zlib
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

VECTORS_NAME = "emoncms_input_v1.json"
SCHEMA_NAME = "emoncms_input_v1.schema.json"
GENERATOR_VERSION = "1"

NOW = 1700000000
APIKEY = "0123456789abcdef0123456789abcdef"
USERID = "1"
USERNAME = "emonuser"
OTHER_APIKEY = "fedcba9876543210fedcba9876543210"
STRICT_MAX_BODY = 1 << 20        # 1 MiB: the cap a strict server documents
MAX_NODES = 32                   # Emoncms's max_node_id_limit default

CT_HTML = "text/html; charset=UTF-8"   # PHP's default for a bare echo
CT_PLAIN = "text/plain;charset=UTF-8"  # header('Content-Type: text/plain') as PHP sends it
CT_LEGACY = "text"                     # the 2017 route set header('Content-Type: text')
WWW_AUTH_APIKEY = ('Bearer realm="API KEY", error="invalid_apikey", '
                   'error_description="Invalid API key"')

MISTAKES = ["std-alphabet", "no-b64-padding", "hmac-upper", "hmac-over-ct",
            "hmac-plus-nul", "hmac-hex-key", "zero-padding", "no-full-pad",
            "iv-appended", "cbc-chain-bug", "hex-key-as-key", "gzip-header"]


class Unsupported(Exception):
    """A vector would rely on PHP behaviour this model does not pin down."""


# ---------------------------------------------------------------------------
# primitives

def aes_block_encrypt(key, block):
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def cbc_encrypt_raw(key, iv, data):
    assert len(data) % 16 == 0
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def cbc_decrypt_raw(key, iv, data):
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def pkcs7(data):
    n = 16 - len(data) % 16
    return data + bytes([n]) * n


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def hmac_hex(key, msg):
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def ack_of(wire):
    return base64.urlsafe_b64encode(hashlib.sha256(wire).digest()).decode()


def b64url(data, pad=True):
    s = base64.urlsafe_b64encode(data).decode()
    return s if pad else s.rstrip("=")


def derived_iv(tc_id):
    return hashlib.sha256(b"emoncrypt/iv/" + tc_id.encode()).digest()[:16]


def gzip_bytes(data):
    """The gzip-header mistake, byte for byte as message.h defines it."""
    co = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY)
    raw = co.compress(data) + co.flush()
    return (bytes.fromhex("1f8b08000000000000ff") + raw
            + (zlib.crc32(data) & 0xffffffff).to_bytes(4, "little")
            + (len(data) & 0xffffffff).to_bytes(4, "little"))


# ---------------------------------------------------------------------------
# PHP semantics the server model needs (checked with php -r, see README)

PHP_WS = " \t\n\r\v\f"
_NUMERIC = re.compile(r"[ \t\n\r\v\f]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\v\f]*\Z")
_LEADING = re.compile(r"[ \t\n\r\v\f]*([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)")


def php_is_numeric(v):
    if isinstance(v, bool) or v is None:
        return False
    if isinstance(v, (int, float)):
        return True
    return _NUMERIC.match(v) is not None


def php_float(v):
    if v is None:
        return 0.0
    if isinstance(v, bool):
        raise Unsupported("boolean value")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        m = _LEADING.match(v)
        return float(m.group(1)) if m else 0.0
    raise Unsupported("array or object where a scalar is cast")


def php_int(v):
    if v is None:
        return 0
    if isinstance(v, bool):
        raise Unsupported("boolean value")
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    m = _LEADING.match(v)
    if not m:
        return 0
    text = m.group(1)
    if re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    return int(float(text))


def php_str(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        raise Unsupported("boolean node")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return v
    raise Unsupported("float or container used as a name")


def keep_name_chars(s, extra=""):
    """preg_replace('/[^\\p{N}\\p{L}_\\s\\-.]/u', '', s) (+ ':,' for data)."""
    out = []
    for ch in s:
        cat = unicodedata.category(ch)
        if cat[0] in "NL" or ch in "_-." + extra or ch in PHP_WS:
            out.append(ch)
        elif ch.isspace():
            raise Unsupported("non-ASCII whitespace in a name")
    return "".join(out)


def php_array_key(k):
    """PHP turns a canonical decimal string key into an integer key."""
    if isinstance(k, str) and re.fullmatch(r"-?[1-9][0-9]*|0", k):
        return int(k)
    return k


def php_b64decode_lenient(body):
    """PHP base64_decode(str_replace(['-','_'], ['+','/'], body)), non-strict."""
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    table = {c: i for i, c in enumerate(alphabet)}
    out = bytearray()
    acc, bits = 0, 0
    for c in body.replace(b"-", b"+").replace(b"_", b"/"):
        if c not in table:          # '=' anywhere, whitespace, anything else: skipped
            continue
        acc = ((acc << 6) | table[c]) & 0xffffff
        bits += 6
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xff)
    return bytes(out)


URL_ALPHABET = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64decode_strict(body):
    """Canonical base64url: URL alphabet, '=' optional but then exact,
    no 4n+1 length, zero unused bits.  Returns (bytes, None) or (None, detail)."""
    if not body:
        return None, "b64-empty"
    for c in body:
        if c not in URL_ALPHABET and c != ord("="):
            return None, "b64-char"
    stripped = body.rstrip(b"=")
    npad = len(body) - len(stripped)
    if b"=" in stripped:
        return None, "b64-padding"
    if npad:
        if npad > 2 or len(body) % 4 != 0:
            return None, "b64-padding"
    if len(stripped) % 4 == 1:
        return None, "b64-length"
    data = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
    if b64url(data, pad=False).encode() != stripped:
        return None, "b64-trailing-bits"
    return data, None


def decrypt_body(key, raw):
    """openssl_decrypt as Emoncms calls it: (plaintext, None) or (None, detail)."""
    if len(raw) < 32:
        return None, "ct-short"
    if (len(raw) - 16) % 16:
        return None, "ct-length"
    padded = cbc_decrypt_raw(key, raw[:16], raw[16:])
    n = padded[-1]
    if n == 0:
        return None, "pad-zero"
    if n > 16:
        return None, "pad-range"
    if padded[-n:] != bytes([n]) * n:
        return None, "pad-bytes"
    return padded[:-n], None


def strict_json(text):
    def no_const(c):
        raise Unsupported("JSON constant " + c)

    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise Unsupported("duplicate JSON key")
        return dict(items)
    return json.loads(text, parse_constant=no_const, object_pairs_hook=pairs)


def php_json_decode(text):
    """json_decode for the inputs our vectors use; None on error."""
    try:
        return strict_json(text)
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# the application (Modules/input/input_methods.php, master)

class AppError(Exception):
    pass


def is_null_text(v):
    return v is None or v == "null"


def process_node(state, time, node, inputs):
    node = keep_name_chars(php_str(node))
    if node not in state["nodes"]:
        if len(state["nodes"]) >= MAX_NODES:
            raise AppError("Error: Reached the maximal allowed number of different "
                           "NodeIds, limit is %d. Node '%s' was ignored." % (MAX_NODES, node))
        state["nodes"].append(node)
    for name, (value, sent_null) in inputs.items():
        name = keep_name_chars(php_str(name))
        if name == "":
            raise Unsupported("empty input name")
        state["rows"].append([time, node, name, None if sent_null else value])


def put(inputs, key, value):
    inputs[php_array_key(key)] = value   # dict keeps a replaced key's first position


def app_post(params, path_node, now, state):
    if path_node:
        node = path_node
    elif "node" in params:
        node = params["node"]
    else:
        node = 0
    node = keep_name_chars(php_str(node))
    if node == "":
        node = 0
    time = now
    if "time" in params:
        t = params["time"]
        if php_is_numeric(t):
            time = php_int(t)
        elif t != "":
            raise Unsupported("date string in time=")
    datain = None
    for k in ("json", "fulljson", "csv", "data"):
        if k in params:
            datain = params[k]
            break
    if datain is None or datain == "":
        raise AppError("Request contains no data via csv, json or data tag")
    inputs = {}
    if "fulljson" in params:
        doc = php_json_decode(datain)
        if not isinstance(doc, (dict, list)) or any(isinstance(v, (dict, list)) for v in
                                                     (doc.values() if isinstance(doc, dict) else doc)):
            raise AppError("Input in not a valid JSON object")
        items = list(doc.items()) if isinstance(doc, dict) else list(enumerate(doc))
        if "time" not in params:
            lower = [k for k, _ in items if isinstance(k, str) and k.lower() == "time"]
            if len(lower) > 1 or (lower and lower[0] != "time"):
                raise Unsupported("time key not in lower case")
            if lower:
                t = dict(items)["time"]
                if php_is_numeric(t):
                    time = php_int(t)
                elif t is not None:
                    raise Unsupported("date string in fulljson time")
                items = [(k, v) for k, v in items if k != "time"]
        for k, v in items:
            if isinstance(v, bool):
                raise Unsupported("boolean value")
            if php_is_numeric(v):
                put(inputs, k, (php_float(v), False))
            elif v == "null":
                put(inputs, k, (0.0, True))     # kept as the text "null"
            else:
                put(inputs, k, (php_float(v), v is None))
    else:
        text = keep_name_chars(datain, ":,")
        csvi = 0
        for pair in text.split(","):
            kv = pair.split(":")
            if len(kv) > 1:
                if kv[0] == "":
                    raise AppError("Format error, json key missing or invalid character")
                if not php_is_numeric(kv[1]) and kv[1] != "null":
                    raise AppError("Format error, json value is not numeric")
                put(inputs, kv[0], (php_float(kv[1]), kv[1] == "null"))
            else:
                if not php_is_numeric(kv[0]) and kv[0] != "null":
                    raise AppError("Format error: csv value is not numeric")
                put(inputs, csvi + 1, (php_float(kv[0]), kv[0] == "null"))
                csvi += 1
    process_node(state, time, node, inputs)


def app_bulk(params, now, state):
    data = params.get("data")
    if data is None or data == "":
        raise AppError("Format error, json string supplied is not valid")
    doc = php_json_decode(data)
    if doc is None or doc == [] or doc is False or doc == 0:
        raise AppError("Format error, json string supplied is not valid")
    if not isinstance(doc, list) or any(not isinstance(item, list) for item in doc):
        raise Unsupported("bulk data that is not a list of lists (PHP 8 TypeError)")
    last = doc[-1]
    if len(last) == 0 or last[0] is None:
        raise AppError("Format error, last item in bulk data does not contain any data")
    if "sentat" in params:
        ref = now - php_int(params["sentat"])
    elif "offset" in params:
        ref = now - php_int(params["offset"])
    elif "time" in params:
        ref = php_int(params["time"])
    else:
        ref = now - php_int(last[0])
    for item in doc:
        if len(item) <= 2:
            continue
        time = ref + php_int(item[0])
        if isinstance(item[1], dict):
            raise AppError("Format error, node must not be an object")
        node = item[1]
        if node is None or node == "":
            node = 0
        inputs = {}
        name = 1
        for v in item[2:]:
            if isinstance(v, dict):
                for k, ov in v.items():
                    if isinstance(ov, (dict, list, bool)):
                        raise Unsupported("container in a value object")
                    put(inputs, k, (php_float(ov), ov is None))
                continue
            if isinstance(v, (list, bool)):
                raise Unsupported("array or boolean value in a bulk row")
            put(inputs, name, (php_float(v), v is None))
            name += 1
        process_node(state, time, node, inputs)


def app_legacy(plaintext, state):
    """Modules/input/input_methods.php encrypted(), as of 2017 (ecba1670)."""
    try:
        doc = strict_json(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        doc = None
    if doc is None or doc == [] or doc is False or doc == 0 or doc == "":
        raise AppError("Invalid data string or encryption key")
    if not isinstance(doc, list) or any(not isinstance(item, list) for item in doc):
        raise Unsupported("legacy data that is not a list of lists")
    for item in doc:
        if len(item) <= 2:
            continue
        time = php_int(item[0])
        if isinstance(item[1], dict):
            raise AppError("Format error, node must not be an object")
        node = php_str(item[1])
        inputs = {}
        name = 1
        for v in item[2:]:
            if isinstance(v, dict):
                if not v:
                    raise Unsupported("empty value object")
                k, ov = next(iter(v.items()))
                put(inputs, k, (php_float(ov), ov is None))
                continue
            if isinstance(v, (list, bool)):
                raise Unsupported("array or boolean value")
            if v is not None and php_str(v) != "" if not isinstance(v, float) else True:
                put(inputs, name, (php_float(v), False))
            name += 1
        if node not in state["nodes"]:
            state["nodes"].append(node)
        for k, (value, _) in inputs.items():
            state["rows"].append([time, node, str(k), value])


# ---------------------------------------------------------------------------
# request parameters

def parse_query(q):
    """$_GET for the simple queries the vectors use."""
    from urllib.parse import unquote_plus
    out = {}
    if not q:
        return out
    for piece in q.split("&"):
        if piece == "":
            continue
        k, _, v = piece.partition("=")
        k, v = unquote_plus(k), unquote_plus(v)
        if re.search(r"[\[. ]", k) or "\\" in v or k == "":
            raise Unsupported("query key/value PHP would mangle")
        out[k] = v
    return out


def parse_plaintext(params, plaintext):
    """param.php: explode('&'), explode('='), exactly two parts, later wins."""
    for chunk in plaintext.split(b"&"):
        parts = chunk.split(b"=")
        if len(parts) == 2:
            try:
                k, v = parts[0].decode("utf-8"), parts[1].decode("utf-8")
            except UnicodeDecodeError:
                k = v = None
            if k is None:
                continue        # binary junk: cannot name any known parameter
            params[k] = v


# ---------------------------------------------------------------------------
# the server models

def answer(status, ctype, body, fault, detail=None, rows=None, www=None):
    a = {"status": status, "contentType": ctype, "body": body, "fault": fault}
    if www:
        a["wwwAuthenticate"] = www
    if detail:
        a["detail"] = detail
    if rows is not None:
        a["rows"] = rows
    return a


def json_error(message):
    return '{"success": false, "message": "' + message.replace('"', "'") + '"}'


def serve(vec, strict):
    """The answer of an Emoncms-compatible (strict=False) or hardened server."""
    req = vec["request"]
    now = vec["now"]
    key = bytes.fromhex(vec["apikey"])
    body = req["body"].encode("utf-8")
    ctype = req["contentType"]
    auth = req["authorization"]
    path = req["path"]
    route = path[len("/input/"):] if path.startswith("/input/") else None

    if route == "encrypted":
        return serve_legacy(vec, body, key)

    action, path_node = None, None
    if route is not None:
        parts = route.split("/", 1)
        action = parts[0]
        if action.endswith(".json"):
            action = action[:-5]
        if len(parts) == 2:
            path_node = parts[1]
            if "." in path_node or path_node in ("", "0"):
                raise Unsupported("path node PHP's router would change")
    if action not in ("post", "bulk"):
        raise Unsupported("route outside input/post and input/bulk")
    if ctype not in ("aes128cbc", "aes128cbcgz"):
        if auth is None:
            raise Unsupported("plain request without any key")
        return answer(401, CT_HTML, "Invalid API key", "not-encrypted", www=WWW_AUTH_APIKEY)
    if strict and req["method"] != "POST":
        return answer(405, CT_HTML, "method not allowed", "method")
    if strict and len(body) > STRICT_MAX_BODY:
        return answer(413, CT_HTML, "request body too large", "too-large")
    if auth is None:
        return answer(200, CT_HTML, "missing authorization header", "auth-missing")
    parts = auth.split(":")
    if len(parts) != 2:
        return answer(200, CT_HTML, "authorization header format should be userid:hmac", "auth-format")
    userid, given = parts
    if strict and not re.fullmatch(r"[1-9][0-9]*", userid):
        return answer(200, CT_HTML, "User not found", "strict-userid")
    if php_int(userid) != int(vec["userid"]) or (strict and userid != vec["userid"]):
        return answer(200, CT_HTML, "User not found", "user-unknown")
    if body == b"":
        return answer(200, CT_HTML, "no content in post body", "body-empty")

    if strict:
        raw, why = b64decode_strict(body)
        if why:
            return answer(200, CT_HTML, "invalid data", "strict-base64", why)
    else:
        raw = php_b64decode_lenient(body)
    decrypted, why = decrypt_body(key, raw)
    if decrypted is None:
        if strict:
            return answer(200, CT_HTML, "invalid data", "invalid-data", why)
        mac_input = b""          # openssl_decrypt returned false; hash_hmac sees ""
    else:
        mac_input = decrypted
    if not hmac.compare_digest(given.encode("utf-8"), hmac_hex(key, mac_input).encode()):
        return answer(200, CT_HTML, "invalid data", "invalid-data", why or "hmac-mismatch")
    detail = why                 # the MAC-of-empty quirk passes here with why set
    plaintext = mac_input
    if ctype == "aes128cbcgz":
        try:
            d = zlib.decompressobj()
            plaintext = d.decompress(mac_input) + d.flush()
            if not d.eof:
                raise zlib.error("truncated stream")
            # PHP's gzuncompress ignores bytes after the end of the stream
            # (checked with php -r); a strict server refuses them
            if strict and d.unused_data:
                raise zlib.error("bytes after the end of the stream")
        except zlib.error:
            plaintext = b""
            detail = detail or "zlib"

    params = parse_query(req.get("query"))
    parse_plaintext(params, plaintext)
    state = {"rows": [], "nodes": []}
    try:
        if action == "post":
            app_post(params, path_node, now, state)
        else:
            app_bulk(params, now, state)
    except AppError as e:
        if state["rows"]:
            # Emoncms stores row by row: what came before the error stays
            return answer(200, CT_PLAIN, json_error(str(e)), "app-error", detail, rows=state["rows"])
        return answer(200, CT_PLAIN, json_error(str(e)), "app-error", detail)
    return answer(200, CT_PLAIN, ack_of(mac_input), "ok", detail, rows=state["rows"])


def serve_legacy(vec, body, key):
    from urllib.parse import unquote_plus
    form = {}
    if vec["request"]["contentType"] == "application/x-www-form-urlencoded":
        for piece in body.decode("utf-8").split("&"):
            k, _, v = piece.partition("=")
            form[unquote_plus(k)] = unquote_plus(v)
    if "username" not in form or "data" not in form:
        return answer(200, CT_LEGACY, "Missing username or data parameters", "legacy-params")
    if form["username"] != vec.get("username"):
        return answer(200, CT_LEGACY, "User not found", "user-unknown")
    raw = php_b64decode_lenient(form["data"].encode("latin-1"))
    plaintext, why = decrypt_body(key, raw)
    state = {"rows": [], "nodes": []}
    try:
        app_legacy(plaintext if plaintext is not None else b"", state)
    except AppError as e:
        fault = "legacy-data" if str(e).startswith("Invalid data string") else "app-error"
        return answer(200, CT_LEGACY, str(e), fault, why, rows=state["rows"] or None)
    return answer(200, CT_LEGACY, ack_of(plaintext), "ok", rows=state["rows"])


# ---------------------------------------------------------------------------
# the client: ec_request_build, with the mistakes of message.h

def build(tc_id, plaintext, endpoint="post", profile="aes128cbc", path_node=None,
          mistakes=(), iv=None, apikey=APIKEY, userid=USERID):
    iv = derived_iv(tc_id) if iv is None else iv
    m = set(mistakes)
    assert m <= set(MISTAKES), m
    key = bytes.fromhex(apikey)
    if profile == "aes128cbcgz":
        wire = gzip_bytes(plaintext) if "gzip-header" in m else zlib.compress(plaintext, 6)
    else:
        wire = plaintext
    aes_key = apikey[:16].encode() if "hex-key-as-key" in m else key
    n = len(wire)
    full_pad = False
    if "zero-padding" in m:
        padded = wire + b"\0" * ((16 - n % 16) % 16) if n else b"\0" * 16
    elif "no-full-pad" in m and n > 0 and n % 16 == 0:
        padded = wire
    else:
        padded = pkcs7(wire)
        full_pad = n > 0 and n % 16 == 0
    ct = cbc_encrypt_raw(aes_key, iv, padded)
    if "cbc-chain-bug" in m and full_pad:
        ct = ct[:-16] + aes_block_encrypt(aes_key, xor(padded[-16:], iv))
    raw = ct + iv if "iv-appended" in m else iv + ct
    mac_key = apikey.encode() if "hmac-hex-key" in m else key
    if "hmac-over-ct" in m:
        mac_msg = raw
    elif "hmac-plus-nul" in m:
        mac_msg = wire + b"\0"
    else:
        mac_msg = wire
    mac = hmac_hex(mac_key, mac_msg)
    if "hmac-upper" in m:
        mac = mac.upper()
    text = base64.b64encode(raw).decode() if "std-alphabet" in m else b64url(raw)
    if "no-b64-padding" in m:
        text = text.rstrip("=")
    path = "/input/" + endpoint + ("/" + path_node if path_node else "")
    vec = {
        "tcId": tc_id,
        "apikey": apikey,
        "userid": userid,
        "iv": iv.hex(),
        "plaintext": plaintext.hex(),
        "mistakes": [x for x in MISTAKES if x in m],
        "request": {"method": "POST", "path": path, "contentType": profile,
                    "authorization": userid + ":" + mac, "body": text},
        "ack": ack_of(wire),
        "_profile": profile,
    }
    try:
        vec["plaintextText"] = plaintext.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return vec


def build_legacy(tc_id, plaintext, iv=None, apikey=APIKEY, username=USERNAME,
                 mistakes=("no-b64-padding",)):
    """The legacy form of ec_request_build: like the 2017 example client, the
    default strips '=' (mistake no-b64-padding; the C builder keeps '=' unless
    told).  Encrypted with apikey; the server's key stays APIKEY, so another
    key is recorded as clientApikey.  A username other than the server's is
    a hand-made request (the builder sends the vector's username)."""
    iv = derived_iv(tc_id) if iv is None else iv
    m = set(mistakes)
    assert m <= {"no-b64-padding"}, m
    raw = iv + cbc_encrypt_raw(bytes.fromhex(apikey), iv, pkcs7(plaintext))
    vec = {
        "tcId": tc_id, "apikey": APIKEY, "userid": USERID, "username": USERNAME,
        "iv": iv.hex(), "plaintext": plaintext.hex(),
        "mistakes": [x for x in MISTAKES if x in m],
        "request": {"method": "POST", "path": "/input/encrypted",
                    "contentType": "application/x-www-form-urlencoded",
                    "authorization": None,
                    "body": "username=" + username + "&data=" + b64url(raw, pad="no-b64-padding" not in m)},
        "ack": ack_of(plaintext), "_profile": "legacy",
    }
    if apikey != APIKEY:
        vec["clientApikey"] = apikey
    if username != USERNAME:
        vec.pop("mistakes")
    vec["plaintextText"] = plaintext.decode("utf-8")
    return vec


def hand(vec, **changes):
    """A request changed after building: no longer the builder's output."""
    vec.pop("mistakes", None)
    for k, v in changes.items():
        vec["request"][k] = v
    return vec


def raw_request(tc_id, raw, mac, endpoint="post", profile="aes128cbc", intended=None):
    """A body built by hand from raw bytes (padding and length faults)."""
    vec = {"tcId": tc_id, "apikey": APIKEY, "userid": USERID,
           "iv": raw[:16].hex() if len(raw) >= 16 else None,
           "request": {"method": "POST", "path": "/input/" + endpoint,
                       "contentType": profile, "authorization": USERID + ":" + mac,
                       "body": b64url(raw)},
           "_profile": profile}
    if vec["iv"] is None:
        del vec["iv"]
    if intended is not None:
        vec["plaintext"] = intended.hex()
        vec["plaintextText"] = intended.decode("utf-8")
    return vec


# ---------------------------------------------------------------------------
# the flags

NOTES = {
    "Spec8": ("Reference", "The SPEC §8 reference vector, reproduced byte for byte.", "A builder or server that differs here is wrong."),
    "Normal": ("Functionality", "A correct request as a good sender builds it.", "Every conformant server accepts it and stores the rows."),
    "PlaintextLength": ("EdgeCase", "Every plaintext length from 0 to 47 (each length modulo 16 over one to three blocks), full-pad-block lengths and large ones.", "Catches padding off-by-one errors and buffer limits."),
    "TrailingNul": ("ClientBug", "The plaintext ends with a NUL byte: device code that encrypts the C string's strlen+1 bytes (the MAC and the ack cover the NUL too).", "Emoncms's name and value filters drop the NUL, so a correctly encrypted one is accepted; the padding still has to be right for strlen+1 bytes."),
    "Utf8": ("EdgeCase", "Node or input names with non-ASCII letters, sent as raw UTF-8 in the plaintext.", "Emoncms keeps Unicode letters and digits; a server must not mangle them."),
    "PostForm": ("Functionality", "One of the input/post data forms: fulljson, json, csv, data.", "Each form is parsed by its own rules (SPEC §5, README 'Application decisions')."),
    "BulkTimeMode": ("Functionality", "input/bulk with one of the time references sentat, offset, time or none (legacy mode).", "Row times are computed from now and the reference."),
    "NullValue": ("EdgeCase", "A value sent as null (JSON null, or the text null).", "Emoncms stores 0; the rows show null (README)."),
    "ValueObject": ("Functionality", "A bulk value given as an object {\"name\": value}.", "The object's keys name the inputs; positional numbering skips it."),
    "IoTaWatt": ("Functionality", "The bulk style IoTaWatt sends: time=T&data=[[dt,\"node\",v…],…] with nulls.", "The most common real client; must work."),
    "PathNode": ("Quirk", "The node comes from /input/post/NODE, which overrides the plaintext's node.", "The path is outside the MAC."),
    "UrlParamOutsideMac": ("Quirk", "A parameter in the URL query string, which the HMAC does not cover.", "Emoncms merges it (plaintext wins on duplicates); an attacker can add time= or node=."),
    "Gz": ("Functionality", "The aes128cbcgz profile: the plaintext is zlib-compressed (RFC 1950) before encryption.", "MAC and ack cover the compressed bytes."),
    "BadZlib": ("CanOfWorms", "aes128cbcgz with bytes that are not a zlib stream but are correctly encrypted and MAC'd.", "gzuncompress fails, no parameters remain: the application's 'no data' error. With display_errors on, real PHP prefixes an HTML warning (not modelled)."),
    "Legacy": ("Legacy", "The 2017 /input/encrypted form method (username=U&data=D), no MAC.", "Answers per SPEC §6, with Content-Type: text."),
    "MalformedBase64": ("ModifiedEncoding", "The body is not canonical base64url (alphabet, padding, whitespace, truncation, non-ASCII).", "PHP's lenient decoder skips unknown characters and '='; a strict server rejects the body with 'invalid data'."),
    "BadPadding": ("PaddingOracle", "The last block decrypts to bytes that are not valid PKCS#7, or the ciphertext length is wrong; the HMAC is over what the sender intended.", "Always 'invalid data'; the detail names the cause, which a server must never reveal."),
    "WrongKey": ("WrongKey", "Encrypted and MAC'd with a different API key, or with the key text instead of its bytes.", "'invalid data'."),
    "HmacFault": ("ModifiedMac", "The Authorization HMAC is wrong in form or value.", "'invalid data' (or an Authorization format error)."),
    "AuthorizationVariant": ("ModifiedHeader", "The Authorization header is missing, has the wrong shape, or names another user.", "The early answers of SPEC §4."),
    "UserIdCast": ("Quirk", "A user id that is not plain decimal (1abc, 01): Emoncms casts it to an integer.", "Compat accepts it as user 1; strict answers 'User not found'."),
    "MacOfEmptyString": ("PaddingOracle", "A body that fails to decrypt, sent with Authorization HMAC(key, \"\"): Emoncms MAC-checks the empty string and passes.", "Compat: the application runs on no data (or on URL parameters); strict: 'invalid data'. Whoever learns HMAC(key, \"\") gets a padding oracle."),
    "ClientMistake": ("ClientBug", "Built with one or more ec_mistake faults of message.h (listed in `mistakes`).", "The C builder, given the same inputs and mistakes, must produce the same request byte for byte."),
    "MistakeNoEffect": ("ClientBug", "A client mistake that changes nothing for this plaintext (e.g. cbc-chain-bug when the length is not a multiple of 16).", "The request is correct and accepted."),
    "OutOfOrder": ("Functionality", "Bulk rows whose times are not ascending or repeat.", "Emoncms stores them as sent, in row order; the suite reports, not fails, this."),
    "Oversize": ("ResourceLimit", "A body at or above the strict cap of 1 MiB (1048576 bytes).", "Compat processes it; strict answers 413 above the cap."),
    "ContentTypeVariant": ("ModifiedHeader", "Content-Type not exactly aes128cbc / aes128cbcgz, or the wrong one of the two.", "Not the encrypted method: 401 'Invalid API key' (the Authorization is taken as a Bearer key)."),
    "GetMethod": ("Quirk", "The encrypted request sent as GET with a body.", "Compat processes it; strict answers 405."),
    "AppError": ("Functionality", "Authenticated, but the application rejects the plaintext.", "The JSON error of input/post or input/bulk, text/plain."),
    "PartialStore": ("CanOfWorms", "The application fails after it has already stored some rows.", "Emoncms keeps the rows stored before the error (rows listed) although the answer is an error."),
    "EmptyPlaintext": ("EdgeCase", "The plaintext is empty.", "Decrypts fine, but the application has no data."),
    "ZlibTrailingBytes": ("CanOfWorms", "aes128cbcgz whose decrypted bytes are a complete zlib stream followed by more bytes (junk, a NUL, a second stream); MAC and ack cover all of them.", "PHP's gzuncompress inflates the first stream and ignores the rest: compat accepts its rows; a strict server refuses the stream (the application's 'no data' error, detail zlib)."),
    "NonCanonicalBase64Accepted": ("ModifiedEncoding", "Base64 that Emoncms decodes to the right bytes although it is not canonical.", "result acceptable: compat accepts, strict rejects."),
}


# ---------------------------------------------------------------------------
# the vectors

def post_pt(node, form, data, extra=""):
    return ("node=%s&%s=%s%s" % (node, form, data, extra)).encode()


def vectors():
    out = []

    def add(vec, comment, flags):
        vec["comment"] = comment
        vec["flags"] = flags
        out.append(vec)
        return vec

    # -- SPEC §8
    v = build("post/spec8-reference", b'node=emontx&fulljson={"power1":100,"power2":200}',
              iv=bytes(range(16)), mistakes=["no-b64-padding"])
    assert v["request"]["body"] == "AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17LlDVdhecrZmUY8UBAam3_oj5jmaczqBieWsajqhNGc"
    assert v["request"]["authorization"] == "1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662"
    assert v["ack"] == "6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48="
    add(v, "SPEC §8 reference vector: fixed IV 000102…0f, body without '=' padding", ["Spec8", "PostForm"])

    # -- plaintext lengths (post, csv, padded with a dummy parameter)
    base = b"node=len&csv=1"
    for n in (1, 15, 16, 17, 31, 32, 33, 1000, 65536):
        if n < len(base):
            pt = (b"node=len&csv=1&x" + b"y" * 32)[:n]
        else:
            pt = base + (b"&pad=" + b"p" * n)[:n - len(base)] if n > len(base) else base
        assert len(pt) == n
        if n == 1:
            add(build("len/1", pt), "plaintext of exactly 1 byte ('n'): decrypts, too short to carry data",
                ["PlaintextLength", "AppError"])
        else:
            add(build("len/%d" % n, pt), "plaintext of exactly %d bytes" % n, ["PlaintextLength"])
    for n in (0,):
        add(build("len/0", b""), "empty plaintext: one full pad block; decrypts, but carries no data",
            ["PlaintextLength", "EmptyPlaintext", "AppError"])
        add(build("len/0-bulk", b"", endpoint="bulk"), "empty plaintext to input/bulk",
            ["PlaintextLength", "EmptyPlaintext", "AppError"])
    for n in (16, 32, 48, 64):
        need = n - len(b"node=b16&csv=")
        values = ["1"] * ((need + 1) // 2)
        if need % 2 == 0:
            values[-1] = "12"
        pt = b"node=b16&csv=" + ",".join(values).encode()
        assert len(pt) == n
        add(build("len/block-%d-csv" % n, pt), "csv plaintext of %d bytes: a full pad block" % n, ["PlaintextLength"])

    # -- post forms
    forms = [
        ("fulljson", b'node=emontx&fulljson={"power1":100,"power2":200.5,"temp":-3.25}', "fulljson with int, float and negative values"),
        ("fulljson-time", b'node=emontx&fulljson={"time":1699999000,"power1":5}', "fulljson time key sets the time and is not an input"),
        ("fulljson-time-param-wins", b'node=emontx&time=1699990000&fulljson={"time":1699999000,"power1":5}', "time= wins over the fulljson time key, which then becomes an input named time"),
        ("fulljson-numeric-string", b'node=emontx&fulljson={"a":"12.5","b":"7"}', "numeric strings are kept as numbers"),
        ("fulljson-nonnumeric", b'node=emontx&fulljson={"a":"abc","b":"12abc","c":""}', "non-numeric strings are cast: abc->0, 12abc->12, empty->0"),
        ("fulljson-null", b'node=emontx&fulljson={"a":null,"b":"null","c":1}', "JSON null (stored 0) and the text null (kept) are both null rows"),
        ("fulljson-array", b'node=emontx&fulljson=[10,20,30]', "a JSON list: names are the indexes 0, 1, 2"),
        ("fulljson-empty-object", b'node=emontx&fulljson={}', "an empty object: nothing stored, still acknowledged"),
        ("fulljson-nested", b'node=emontx&fulljson={"a":{"b":1}}', "nested object: deeper than json_decode depth 2"),
        ("fulljson-invalid", b'node=emontx&fulljson={"a":1', "unterminated JSON"),
        ("fulljson-scalar", b'node=emontx&fulljson=5', "a JSON number is not an object"),
        ("fulljson-exponent", b'node=emontx&fulljson={"a":1e3,"b":-2.5E-1}', "exponent notation"),
        ("json", b'node=emontx&json={power1:100,power2:200}', "json form: loose key:value pairs"),
        ("json-quoted", b'node=emontx&json={"power1":100,"power2":200}', "json form strips quotes and braces"),
        ("json-null", b'node=emontx&json={a:null,b:2}', "json form: null text stored as 0"),
        ("json-not-numeric", b'node=emontx&json={a:abc}', "json form: non-numeric value"),
        ("json-missing-key", b'node=emontx&json={:5}', "json form: empty key"),
        ("json-space-value", b'node=emontx&json={a: 100}', "json form: PHP 8 is_numeric allows the leading space"),
        ("json-extra-colon", b'node=emontx&json={a:1:2}', "json form: only the part after the first colon counts"),
        ("csv", b'node=emontx&csv=100,200,300', "csv: names 1, 2, 3"),
        ("csv-null", b'node=emontx&csv=1,null,3', "csv null text"),
        ("csv-float", b'node=emontx&csv=1.5,-2,.25,1e2', "csv float forms"),
        ("csv-not-numeric", b'node=emontx&csv=1,abc', "csv: non-numeric value"),
        ("csv-mixed-keys", b'node=emontx&csv=5,a:7,9', "csv with a named value: positions keep counting only bare values"),
        ("data", b'node=emontx&data=100,200', "data= is parsed like csv"),
        ("json-over-fulljson", b'node=emontx&json={a:1}&csv=9', "json takes precedence over csv"),
        ("no-data", b'node=emontx&foo=1', "no json, fulljson, csv or data"),
        ("empty-csv", b'node=emontx&csv=', "csv present but empty"),
        ("time-param", b'node=emontx&time=1699999999&csv=1', "time= unix seconds"),
        ("time-float", b'node=emontx&time=1699999999.9&csv=1', "time= with a fraction is truncated"),
        ("time-empty", b'node=emontx&time=&csv=1', "time= empty: not a date, so now"),
        ("node-missing", b'csv=1,2', "no node: node 0"),
        ("node-empty", b'node=&csv=1', "empty node: node 0"),
        ("node-filtered", b'node=em<o>n!tx&csv=1', "node characters outside letters/digits/_-. and space are dropped"),
        ("node-numeric", b'node=16&csv=1', "numeric node"),
        ("duplicate-key-later-wins", b'node=a&node=b&csv=1', "a later duplicate key wins"),
        ("value-with-equals", b'node=emontx&csv=1&note=a=b', "a piece with two '=' is dropped silently"),
        ("name-filtered", b'node=emontx&json={po!wer:1}', "input name characters are filtered too"),
    ]
    for name, pt, comment in forms:
        add(build("post/" + name, pt), comment, ["PostForm"])
    add(build("post/csv-to-bulk-endpoint", b'node=emontx&csv=1', endpoint="bulk"),
        "a post plaintext sent to input/bulk: no data", ["AppError"])

    # -- UTF-8
    utf8 = [
        ("node", 'node=Küche&csv=1,2', "node name with ü"),
        ("node-greek", 'node=θερμό&csv=5', "Greek node name"),
        ("node-cjk", 'node=電力&csv=5', "CJK node name"),
        ("name-fulljson", 'node=emontx&fulljson={"Leistung_ä":10,"température":20}', "UTF-8 input names in fulljson"),
        ("name-json", 'node=emontx&json={wärme:3}', "UTF-8 input name in the json form"),
        ("bulk-node", 'data=[[0,"Gerät",1,2]]&sentat=0', "UTF-8 node in bulk"),
        ("emoji-dropped", 'node=pv☀1&csv=1', "a symbol is not a letter: dropped"),
    ]
    for name, pt, comment in utf8:
        ep = "bulk" if name.startswith("bulk") else "post"
        add(build("utf8/" + name, pt.encode(), endpoint=ep), comment, ["Utf8"])

    # -- path node and URL parameters
    add(build("post/path-node", b'csv=1,2', path_node="emontx"), "/input/post/emontx gives the node", ["PathNode"])
    add(build("post/path-node-overrides", b'node=plain&csv=1', path_node="pathnode"),
        "/input/post/NODE overrides the plaintext node", ["PathNode"])
    for name, path, q, pt, comment in [
        ("query-time", "/input/post", "time=1600000000", b'node=emontx&csv=1', "?time= outside the MAC sets the time"),
        ("query-node", "/input/post", "node=injected", b'csv=1', "?node= used when the plaintext has none"),
        ("query-node-plaintext-wins", "/input/post", "node=injected", b'node=emontx&csv=1', "the plaintext node wins over ?node="),
        ("query-data", "/input/post", "csv=9,9", b'node=emontx', "data only in the URL: accepted although the MAC covers none of it"),
        ("query-json-dot", "/input/post.json", "time=1600000000", b'node=emontx&csv=1', "/input/post.json route with ?time="),
        ("bulk-query-sentat", "/input/bulk", "sentat=100", b'data=[[90,"n",1]]', "?sentat= outside the MAC changes row times"),
        ("bulk-query-time-vs-offset", "/input/bulk", "offset=5", b'data=[[0,"n",1]]&time=1600000000', "offset from the URL beats time from the plaintext (sentat>offset>time order)"),
    ]:
        ep = "bulk" if "bulk" in path else "post"
        v = build("url/" + name, pt, endpoint=ep)
        add(hand(v, path=path, query=q), comment, ["UrlParamOutsideMac"])
    add(build("post/dot-json-route", b'node=emontx&csv=1'), "plain route", ["Normal"])
    add(hand(build("post/dot-json", b'node=emontx&csv=3'), path="/input/post.json"), "/input/post.json", ["Normal"])
    add(hand(build("bulk/dot-json", b'data=[[0,"n",3]]', endpoint="bulk"), path="/input/bulk.json"), "/input/bulk.json", ["Normal"])

    # -- bulk
    bulk = [
        ("sentat", b'data=[[0,"emontx",100,200],[10,"emontx",101,201]]&sentat=10', "sentat: time = now - sentat + t", ["BulkTimeMode"]),
        ("offset", b'data=[[-10,"emontx",1],[-5,"emontx",2]]&offset=-10', "offset: time = now - offset + t", ["BulkTimeMode"]),
        ("time", b'data=[[0,"emontx",1],[10,"emontx",2]]&time=1699990000', "time: time = T + t", ["BulkTimeMode"]),
        ("none", b'data=[[0,"emontx",1],[2,"b",2],[4,"c",3]]', "no reference: the last row is now", ["BulkTimeMode"]),
        ("sentat-over-time", b'data=[[5,"n",1]]&time=1600000000&sentat=5', "sentat takes precedence over time", ["BulkTimeMode"]),
        ("numeric-nodes", b'data=[[0,16,1137],[2,17,1437,3164],[4,19,1412,3077]]', "integer node ids (legacy mode)", ["BulkTimeMode"]),
        ("nulls", b'data=[[0,"n",null,2,null]]&sentat=0', "null values are stored as 0 and keep their position", ["NullValue"]),
        ("strings", b'data=[[0,"n","5","abc","",7.5]]&sentat=0', "string values are cast like PHP (float)", ["BulkTimeMode"]),
        ("value-object", b'data=[[0,"n",{"power":100,"temp":null},5]]&sentat=0', "value object names inputs; the positional 5 is input 1", ["ValueObject", "NullValue"]),
        ("value-object-mixed", b'data=[[0,"n",1,{"x":2},3]]&sentat=0', "positional names skip the object", ["ValueObject"]),
        ("short-rows-skipped", b'data=[[0,"a"],[1,"b",2]]&sentat=1', "rows with fewer than 3 items are skipped", ["BulkTimeMode"]),
        ("only-short-rows", b'data=[[0,"a"]]&sentat=0', "nothing stored, still acknowledged", ["BulkTimeMode"]),
        ("node-null", b'data=[[0,null,1]]&sentat=0', "null node: node 0", ["BulkTimeMode"]),
        ("node-empty", b'data=[[0,"",1]]&sentat=0', "empty node: node 0", ["BulkTimeMode"]),
        ("time-float-item", b'data=[[1.9,"n",1]]&time=1699990000', "row time offsets are truncated to integers", ["BulkTimeMode"]),
        ("time-string-item", b'data=[["3","n",1]]&time=1699990000', "a string time offset is cast", ["BulkTimeMode"]),
        ("sentat-string", b'data=[[0,"n",1]]&sentat=abc', "a non-numeric sentat casts to 0", ["BulkTimeMode"]),
        ("many-nodes-32", ("data=[" + ",".join('[0,"n%d",%d]' % (i, i) for i in range(32)) + "]&sentat=0").encode(), "32 distinct nodes: the limit, accepted", ["BulkTimeMode"]),
        ("invalid-json", b'data=[[0,"n",1]&sentat=0', "malformed JSON", ["AppError"]),
        ("empty-array", b'data=[]&sentat=0', "an empty list", ["AppError"]),
        ("no-data", b'sentat=0', "no data parameter", ["AppError"]),
        ("last-row-empty", b'data=[[0,"n",1],[]]&sentat=0', "the last row has no items", ["AppError"]),
        ("last-row-null-time", b'data=[[0,"n",1],[null,"n",2]]&sentat=0', "the last row's time is null", ["AppError"]),
        ("node-object", b'data=[[0,{"a":1},1]]&sentat=0', "node must not be an object", ["AppError"]),
        ("json-zero", b'data=0', "data=0 decodes to a falsy value", ["AppError"]),
    ]
    for name, pt, comment, flags in bulk:
        add(build("bulk/" + name, pt, endpoint="bulk"), comment, flags)
    pt = ("data=[" + ",".join('[0,"n%d",%d]' % (i, i) for i in range(33)) + "]&sentat=0").encode()
    add(build("bulk/many-nodes-33", pt, endpoint="bulk"),
        "33 distinct nodes: the 33rd fails after 32 were stored", ["AppError", "PartialStore"])
    pt = b'data=[[0,"n",1],[1,{"x":1},2]]&sentat=0'
    add(build("bulk/node-object-after-rows", pt, endpoint="bulk"),
        "node object in the second row: the first row stays stored", ["AppError", "PartialStore"])

    # -- IoTaWatt
    iw = [
        ("basic", b'time=1699999000&data=[[0,"iotawatt",230.1,12.5],[5,"iotawatt",230.2,12.6]]', "two rows, relative to T"),
        ("nulls", b'time=1699999000&data=[[0,"iotawatt",230.1,null,7],[5,"iotawatt",null,null,8]]', "missing values as null"),
        ("single", b'time=1699999995&data=[[5,"iotawatt",1.25]]', "one row"),
        ("ten-rows", ("time=1699999000&data=[" + ",".join('[%d,"IotaWatt",%d.5,null]' % (i * 5, 100 + i) for i in range(10)) + "]").encode(), "ten rows, 5 s apart"),
        ("precision", b'time=1699999000&data=[[0,"iw",0.001,123456.7,-0.5]]', "trimmed precision"),
        ("all-null", b'time=1699999000&data=[[0,"iw",null,null]]', "only nulls"),
    ]
    for name, pt, comment in iw:
        add(build("iotawatt/" + name, pt, endpoint="bulk"), comment, ["IoTaWatt", "BulkTimeMode"] + (["NullValue"] if b"null" in pt else []))
    add(build("iotawatt/no-padding", iw[0][1], endpoint="bulk", mistakes=["no-b64-padding"]),
        "IoTaWatt body without '=' (allowed)", ["IoTaWatt", "ClientMistake", "MistakeNoEffect"])

    # -- out of order / duplicates
    order = [
        ("descending", b'time=1699999000&data=[[10,"n",1],[5,"n",2],[0,"n",3]]', "descending times"),
        ("duplicate-time", b'time=1699999000&data=[[5,"n",1],[5,"n",2]]', "the same time twice"),
        ("interleaved", b'time=1699999000&data=[[0,"a",1],[10,"b",2],[5,"a",3]]', "out of order within node a"),
        ("legacy-mode-descending", b'data=[[10,"n",1],[0,"n",2]]', "no reference: the last row (time 0) is now, the first is in the future"),
        ("future", b'time=1800000000&data=[[0,"n",1]]', "a time in the future"),
        ("past-epoch", b'time=0&data=[[0,"n",1],[-5,"n",2]]', "times at and before 1970"),
    ]
    for name, pt, comment in order:
        add(build("order/" + name, pt, endpoint="bulk"), comment, ["OutOfOrder"])

    # -- gz
    gz = [
        ("post-csv", b'node=emontx&csv=1,2,3', "post", "csv, zlib"),
        ("post-fulljson", b'node=emontx&fulljson={"power1":100,"power2":200}', "post", "fulljson, zlib"),
        ("bulk-sentat", b'data=[[0,"emontx",100,200],[10,"emontx",101,201]]&sentat=10', "bulk", "bulk, zlib"),
        ("bulk-iotawatt", iw[1][1], "bulk", "IoTaWatt style, zlib"),
        ("bulk-large", ("time=1699999000&data=[" + ",".join('[%d,"gz",%d,null]' % (i, i * 3) for i in range(200)) + "]").encode(), "bulk", "200 rows compress well"),
        ("empty", b'', "post", "empty plaintext compressed"),
    ]
    for name, pt, ep, comment in gz:
        add(build("gz/" + name, pt, endpoint=ep, profile="aes128cbcgz"), comment,
            ["Gz"] + (["EmptyPlaintext", "AppError"] if not pt else []))
    for name, ep in (("gzip-header-post", "post"), ("gzip-header-bulk", "bulk")):
        pt = b'node=emontx&csv=1,2' if ep == "post" else b'data=[[0,"n",1]]&sentat=0'
        add(build("gz/" + name, pt, endpoint=ep, profile="aes128cbcgz", mistakes=["gzip-header"]),
            "gzip (RFC 1952) instead of zlib: gzuncompress fails", ["Gz", "ClientMistake", "BadZlib", "AppError"])

    def gz_raw(tc_id, wire, ep, comment):
        # the bytes given are the wire plaintext itself, encrypted and MAC'd correctly
        iv = derived_iv(tc_id)
        key = bytes.fromhex(APIKEY)
        raw = iv + cbc_encrypt_raw(key, iv, pkcs7(wire))
        v = raw_request(tc_id, raw, hmac_hex(key, wire), endpoint=ep, profile="aes128cbcgz")
        v["ack"] = ack_of(wire)
        add(v, comment, ["Gz", "BadZlib", "AppError"])
    gz_raw("gz/raw-deflate", zlib.compress(b'node=x&csv=1')[2:-4], "post", "raw deflate without the zlib wrapper")
    gz_raw("gz/not-compressed", b'node=emontx&csv=1', "post", "plain text sent as aes128cbcgz")
    gz_raw("gz/bad-checksum", zlib.compress(b'node=x&csv=1')[:-1] + b"\0", "post", "zlib stream with a wrong Adler-32")
    gz_raw("gz/truncated", zlib.compress(b'node=x&csv=1')[:-3], "post", "zlib stream cut short")
    gz_raw("gz/garbage-bulk", b"\x78\x9c\xff\xff\xff", "bulk", "garbage after a zlib header, to input/bulk")

    def gz_trailing(tc_id, pt, trailer, ep, comment):
        # a complete zlib stream of pt with bytes after its end, encrypted
        # and MAC'd correctly; plaintext is what the stream inflates to
        iv = derived_iv(tc_id)
        key = bytes.fromhex(APIKEY)
        wire = zlib.compress(pt, 6) + trailer
        raw = iv + cbc_encrypt_raw(key, iv, pkcs7(wire))
        v = raw_request(tc_id, raw, hmac_hex(key, wire), endpoint=ep, profile="aes128cbcgz", intended=pt)
        v["ack"] = ack_of(wire)
        add(v, comment, ["Gz", "ZlibTrailingBytes"])
    gz_trailing("gz/trailing-junk", b'node=emontx&csv=1,2,3', b"junk", "post",
                "four bytes after the zlib stream: gzuncompress ignores them, strict refuses")
    gz_trailing("gz/trailing-nul", b'node=emontx&csv=1,2,3', b"\0", "post",
                "one NUL after the zlib stream (a C string's terminator sent along)")
    gz_trailing("gz/trailing-second-stream", b'data=[[0,"gz1",1]]&sentat=0',
                zlib.compress(b'data=[[0,"gz2",2]]&sentat=0', 6), "bulk",
                "two zlib streams back to back: only the first is inflated, the second is ignored")
    v = build("ctype/gz-body-as-aes128cbc", b'node=emontx&csv=1', profile="aes128cbcgz")
    add(hand(v, contentType="aes128cbc"), "a zlib plaintext declared aes128cbc: MAC fine, binary params mean no data",
        ["ContentTypeVariant", "Gz", "AppError"])

    # -- legacy
    legacy = [
        ("basic", b'[[1699999000,"emontx",100,200],[1699999010,"emontx",101,201]]', "absolute times, ascending"),
        ("single", b'[[1700000000,"n",1]]', "one row"),
        ("nulls-skipped", b'[[1699999000,"n",null,2,""]]', "null and empty values are skipped (2017 strlen check)"),
        ("value-object-first-key", b'[[1699999000,"n",{"a":1,"b":2},3]]', "an object gives only its first key"),
        ("short-row", b'[[1699999000,"n"],[1699999001,"m",5]]', "short rows skipped"),
        ("numeric-node", b'[[1699999000,10,1.5]]', "integer node"),
        ("not-json", b'node=emontx&csv=1', "a post-style plaintext is not JSON"),
        ("empty-list", b'[]', "an empty list is falsy"),
        ("node-object", b'[[1699999000,{"a":1},5]]', "node must not be an object"),
    ]
    for name, pt, comment in legacy:
        add(build_legacy("legacy/" + name, pt), comment, ["Legacy"])
    pt = legacy[0][1]
    add(build_legacy("legacy/unknown-user", pt, username="nobody"), "unknown username", ["Legacy", "AuthorizationVariant"])
    add(build_legacy("legacy/wrong-key", pt, apikey=OTHER_APIKEY), "encrypted with another key", ["Legacy", "WrongKey"])
    v = build_legacy("legacy/missing-data", pt)
    add(hand(v, body="username=" + USERNAME), "no data field", ["Legacy"])
    v = build_legacy("legacy/missing-username", pt)
    add(hand(v, body=v["request"]["body"].split("&", 1)[1]), "no username field", ["Legacy"])
    add(build_legacy("legacy/padded-body", pt, mistakes=()), "data with '=' padding kept (the builder's default)", ["Legacy"])
    v = build_legacy("legacy/garbage", pt)
    add(hand(v, body="username=" + USERNAME + "&data=AAAA"), "data too short to decrypt", ["Legacy", "BadPadding"])

    # -- malformed base64 (on one plaintext)
    b64pt = b'node=emontx&csv=1,2,3,4,5,6,7,8,9'   # 33 bytes: raw 64, body ends in '=='
    # 161 bytes: raw 192, a 256-character body: three 76-character lines and 28
    b64long = ('node=emontx&csv=' + ",".join(str(100 + i) for i in range(36)) + ",1").encode()
    assert len(b64url(bytes(16 + len(pkcs7(b64long))))) == 256, len(b64long)

    def b64case(name, fn, comment, flags=("MalformedBase64",), ep="post", pt=b64pt):
        v = build("b64/" + name, pt, endpoint=ep)
        v = hand(v, body=fn(v["request"]["body"]))
        add(v, comment, list(flags))
    v0 = build("b64/std-alphabet", b64pt, mistakes=["std-alphabet"])
    assert v0["request"]["body"] != b64url(php_b64decode_lenient(v0["request"]["body"].encode()))
    add(v0, "standard alphabet '+/'", ["MalformedBase64", "ClientMistake", "NonCanonicalBase64Accepted"])
    add(build("b64/std-alphabet-no-padding", b64pt, mistakes=["std-alphabet", "no-b64-padding"]),
        "standard alphabet without padding", ["MalformedBase64", "ClientMistake", "NonCanonicalBase64Accepted"])
    add(build("b64/no-padding", b64pt, mistakes=["no-b64-padding"]), "'=' stripped: allowed", ["ClientMistake", "MistakeNoEffect"])

    def to_std_half(b):
        out, flip = [], False
        for c in b:
            if c in "-_":
                flip = not flip
                out.append({"-": "+", "_": "/"}[c] if flip else c)
            else:
                out.append(c)
        return "".join(out)
    b64case("mixed-alphabet", to_std_half, "URL and standard alphabet mixed", ("MalformedBase64", "NonCanonicalBase64Accepted"))
    b64case("extra-padding", lambda b: b + "==", "extra '=' at the end", ("MalformedBase64", "NonCanonicalBase64Accepted"))
    b64case("padding-in-middle", lambda b: b[:8] + "=" + b[8:], "'=' in the middle: PHP skips it", ("MalformedBase64", "NonCanonicalBase64Accepted"))
    b64case("newline-every-16", lambda b: "\n".join(b[i:i + 16] for i in range(0, len(b), 16)), "a line break every 16 characters", ("MalformedBase64", "NonCanonicalBase64Accepted"))
    b64case("newline-every-76", lambda b: "".join(b[i:i + 76] + "\r\n" for i in range(0, len(b), 76)),
            "CRLF after every 76 characters and at the end (MIME, PHP chunk_split)",
            ("MalformedBase64", "NonCanonicalBase64Accepted"), pt=b64long)
    b64case("crlf-trailing", lambda b: b + "\r\n", "trailing CRLF", ("MalformedBase64", "NonCanonicalBase64Accepted"))
    b64case("space-inside", lambda b: b[:20] + " " + b[20:], "a space inside", ("MalformedBase64", "NonCanonicalBase64Accepted"))
    b64case("tab-leading", lambda b: "\t" + b, "a leading tab", ("MalformedBase64", "NonCanonicalBase64Accepted"))
    b64case("non-ascii", lambda b: b[:10] + "é" + b[10:], "a non-ASCII character inside", ("MalformedBase64", "NonCanonicalBase64Accepted"))
    b64case("junk-char", lambda b: b[:10] + "*" + b[10:], "a '*' inside", ("MalformedBase64", "NonCanonicalBase64Accepted"))
    b64case("percent-encoded-padding", lambda b: b.rstrip("=") + "%3D" * (len(b) - len(b.rstrip("="))), "'=' sent as %3D: '%' skipped, '3D' are data",
            ("MalformedBase64",))
    b64case("truncated-1", lambda b: b.rstrip("=")[:-1], "last character dropped")
    b64case("truncated-4", lambda b: b.rstrip("=")[:-4], "last 4 characters dropped")
    b64case("truncated-half", lambda b: b[:len(b) // 2], "half the body")
    b64case("dangling-char", lambda b: b.rstrip("=") + "A", "one extra character (4n+1)", ("MalformedBase64", "NonCanonicalBase64Accepted"))
    b64case("not-base64", lambda b: "!!!!not base64!!!!", "no base64 at all")
    b64case("only-padding", lambda b: "====", "only '='")
    b64case("whitespace-only", lambda b: "  \n", "only whitespace: non-empty, decodes to nothing")

    def trailing_bits(b):
        s = b.rstrip("=")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        i = alphabet.index(s[-1])
        unused = {2: 4, 3: 2}[len(s) % 4]
        return s[:-1] + alphabet[i | ((1 << unused) - 1)] + b[len(s):]
    v = build("b64/trailing-bits", b'node=emontx&csv=1,2,3,4,5,6,7,8,9')  # raw 64 bytes: two '='
    if len(v["request"]["body"]) - len(v["request"]["body"].rstrip("=")) == 0:
        raise AssertionError("trailing-bits needs a padded body")
    add(hand(v, body=trailing_bits(v["request"]["body"])), "non-zero unused bits in the last character",
        ["MalformedBase64", "NonCanonicalBase64Accepted"])
    add(hand(build("b64/empty-body", b64pt), body=""), "empty body", ["MalformedBase64"])
    b64case("bulk-std-alphabet", lambda b: b.replace("-", "+").replace("_", "/"), "standard alphabet to input/bulk",
            ("MalformedBase64", "NonCanonicalBase64Accepted"), ep="bulk", pt=b'data=[[0,"n",1,2,3,4,5,6,7,8]]&sentat=0')

    # -- padding faults: raw CBC of chosen last blocks, HMAC of the intended plaintext
    key = bytes.fromhex(APIKEY)
    intended = b'node=pad&csv=1,2,3'      # 18 bytes: 2 blocks, 14 pad bytes
    mac = hmac_hex(key, intended)

    def pad_case(name, last_block_fn, comment, blocks=None, body_fn=None):
        tc_id = "pad/" + name
        iv = derived_iv(tc_id)
        padded = pkcs7(intended)
        if blocks is None:
            padded = padded[:-16] + last_block_fn(padded[-16:])
            raw = iv + cbc_encrypt_raw(key, iv, padded)
        else:
            raw = blocks(iv)
        if body_fn:
            raw = body_fn(raw)
        add(raw_request(tc_id, raw, mac, intended=intended), comment, ["BadPadding"])

    tail = intended[16:]
    for n in (0, 17, 18, 31, 32, 64, 128, 200, 255):
        pad_case("byte-%d" % n, lambda b, n=n: tail + bytes([n]) * 14, "every pad byte %d" % n)
    for n in (0, 17, 255):
        pad_case("last-byte-%d" % n, lambda b, n=n: tail + bytes([14]) * 13 + bytes([n]), "last byte %d, others 14" % n)
    for n in range(2, 15):
        def bad(b, n=n):
            blk = bytearray(tail + bytes([n]) * 14)
            blk[16 - n] ^= 0x01
            return bytes(blk)
        pad_case("inconsistent-%d" % n, bad, "pad length %d, first pad byte off by one" % n)
    pad_case("inconsistent-middle", lambda b: tail + bytes([14]) * 6 + b"\x0d" + bytes([14]) * 7, "one pad byte in the middle differs")
    pad_case("extra-block-of-15", None, "an extra block of sixteen 0x0f: valid padding of 15 leaves a stray byte, HMAC differs",
             blocks=lambda iv: iv + cbc_encrypt_raw(key, iv, pkcs7(intended) + bytes([15]) * 16))
    pad_case("valid-but-wrong", lambda b: tail + b"XXXXXXXXXXXXX" + b"\x01", "valid 1-byte padding of other bytes: decrypts, HMAC differs")
    pad_case("ct-length-not-multiple", None, "ciphertext of 20 bytes",
             blocks=lambda iv: iv + cbc_encrypt_raw(key, iv, pkcs7(intended))[:20])
    pad_case("one-byte-short", None, "ciphertext one byte short of two blocks",
             blocks=lambda iv: iv + cbc_encrypt_raw(key, iv, pkcs7(intended))[:31])
    pad_case("one-byte-long", None, "ciphertext one byte longer than two blocks",
             blocks=lambda iv: iv + cbc_encrypt_raw(key, iv, pkcs7(intended)) + b"\0")
    pad_case("iv-only", None, "only the 16-byte IV", blocks=lambda iv: iv)
    pad_case("iv-short", None, "8 bytes: less than an IV", blocks=lambda iv: iv[:8])
    pad_case("one-byte", None, "a single byte", blocks=lambda iv: iv[:1])
    pad_case("iv-plus-half-block", None, "IV and 8 bytes", blocks=lambda iv: iv + b"\0" * 8)
    pad_case("last-block-dropped", None, "the final ciphertext block dropped",
             blocks=lambda iv: iv + cbc_encrypt_raw(key, iv, pkcs7(intended))[:16])
    pad_case("last-block-flipped", None, "a bit flipped in the last ciphertext block",
             blocks=lambda iv: (lambda c: iv + c[:-1] + bytes([c[-1] ^ 0x80]))(cbc_encrypt_raw(key, iv, pkcs7(intended))))
    pad_case("iv-flipped", None, "a bit flipped in the IV: first block changes, padding fine, HMAC differs",
             blocks=lambda iv: bytes([iv[0] ^ 1]) + iv[1:] + cbc_encrypt_raw(key, iv, pkcs7(intended)))
    pad_case("blocks-swapped", None, "the two ciphertext blocks swapped",
             blocks=lambda iv: (lambda c: iv + c[16:] + c[:16])(cbc_encrypt_raw(key, iv, pkcs7(intended))))
    pad_case("zero-body", None, "48 zero bytes", blocks=lambda iv: b"\0" * 48)

    # -- wrong key
    for name, pt, ep in (("post", b'node=emontx&csv=1', "post"), ("bulk", b'data=[[0,"n",1]]&sentat=0', "bulk"),
                         ("post-long", b'node=emontx&csv=' + b"1," * 40 + b"1", "post")):
        v = build("key/wrong-key-" + name, pt, endpoint=ep, apikey=OTHER_APIKEY)
        v["apikey"], v["clientApikey"] = APIKEY, OTHER_APIKEY
        # the builder's output under clientApikey: it keeps its (empty) mistakes
        add(v, "encrypted and MAC'd with another user's key", ["WrongKey"])
    v = build("key/wrong-aes-key-right-mac", b'node=emontx&csv=1', apikey=OTHER_APIKEY)
    v["apikey"], v["clientApikey"] = APIKEY, OTHER_APIKEY
    v = hand(v, authorization=USERID + ":" + hmac_hex(key, b'node=emontx&csv=1'))
    add(v, "encrypted with another key, HMAC with the right one", ["WrongKey"])
    for m in ("hex-key-as-key", "hmac-hex-key"):
        for name, pt in (("short", b'node=k&csv=1'), ("block", b'node=emontx&csv=1,2,3'), ("long", b'node=emontx&fulljson={"a":1,"b":2,"c":3}')):
            add(build("key/%s-%s" % (m, name), pt, mistakes=[m]), "mistake %s" % m, ["WrongKey", "ClientMistake"])

    # -- HMAC faults
    hpt = b'node=emontx&csv=1,2'
    good = build("hmac/base", hpt)
    right = good["request"]["authorization"].split(":")[1]
    hm = [
        ("uppercase", USERID + ":" + right.upper(), "uppercase hex"),
        ("first-char-upper", USERID + ":" + right[0].upper() + right[1:] if right[0].isalpha() else USERID + ":" + right.upper(), "one uppercase hex digit"),
        ("truncated-63", USERID + ":" + right[:63], "63 hex digits"),
        ("truncated-32", USERID + ":" + right[:32], "32 hex digits (HMAC-SHA256-128)"),
        ("extended-65", USERID + ":" + right + "0", "65 hex digits"),
        ("flipped", USERID + ":" + right[:-1] + ("0" if right[-1] != "0" else "1"), "last hex digit changed"),
        ("empty", USERID + ":", "empty HMAC"),
        ("base64-mac", USERID + ":" + base64.b64encode(bytes.fromhex(right)).decode(), "HMAC in base64, not hex"),
        ("sha256-not-hmac", USERID + ":" + hashlib.sha256(hpt).hexdigest(), "plain SHA-256 of the plaintext"),
        ("wrong-key", USERID + ":" + hmac_hex(bytes.fromhex(OTHER_APIKEY), hpt), "HMAC with another key"),
        ("mac-of-ack", USERID + ":" + hmac_hex(key, good["ack"].encode()), "HMAC of the ack text"),
        ("whitespace-after", USERID + ": " + right, "a space after the colon"),
    ]
    add(good, "correct request (baseline for the HMAC faults)", ["Normal"])
    for name, auth, comment in hm:
        add(hand(build("hmac/" + name, hpt), authorization=auth), comment, ["HmacFault"])
    for m in ("hmac-upper", "hmac-over-ct", "hmac-plus-nul", "hmac-hex-key"):
        add(build("hmac/mistake-" + m, hpt, mistakes=[m]), "mistake " + m, ["HmacFault", "ClientMistake"])

    # -- Authorization variants
    av = [
        ("missing", None, "no Authorization header", ["AuthorizationVariant"]),
        ("no-colon", right, "only the HMAC", ["AuthorizationVariant"]),
        ("userid-only", USERID, "only the user id", ["AuthorizationVariant"]),
        ("two-colons", USERID + ":" + right + ":", "a trailing colon", ["AuthorizationVariant"]),
        ("three-parts", USERID + ":x:" + right, "three parts", ["AuthorizationVariant"]),
        ("bearer-word", "Bearer " + USERID + ":" + right, "a scheme word: 'Bearer 1' casts to 0", ["AuthorizationVariant"]),
        ("unknown-user", "2:" + right, "user 2 does not exist", ["AuthorizationVariant"]),
        ("user-zero", "0:" + right, "user 0", ["AuthorizationVariant"]),
        ("user-empty", ":" + right, "empty user id", ["AuthorizationVariant"]),
        ("user-negative", "-1:" + right, "negative user id", ["AuthorizationVariant"]),
        ("user-1abc", "1abc:" + right, "'1abc' casts to 1", ["AuthorizationVariant", "UserIdCast"]),
        ("user-leading-zero", "01:" + right, "'01' casts to 1", ["AuthorizationVariant", "UserIdCast"]),
        ("user-1.0", "1.0:" + right, "'1.0' casts to 1", ["AuthorizationVariant", "UserIdCast"]),
        ("user-abc", "abc:" + right, "'abc' casts to 0", ["AuthorizationVariant", "UserIdCast"]),
    ]
    for name, auth, comment, flags in av:
        add(hand(build("auth/" + name, hpt), authorization=auth), comment, flags)
    v = hand(build("auth/missing-empty-body", hpt), authorization=None, body="")
    add(v, "no Authorization and no body: the header is checked first", ["AuthorizationVariant"])
    v = hand(build("auth/unknown-user-empty-body", hpt), authorization="2:" + right, body="")
    add(v, "unknown user and no body: the user is checked first", ["AuthorizationVariant"])
    v = hand(build("auth/format-bad-body", hpt), authorization=USERID, body="!!")
    add(v, "bad format and bad body: the format is checked first", ["AuthorizationVariant"])
    add(build("auth/other-user-id", hpt, userid="42"), "a server whose user has id 42", ["Normal"])

    # -- the MAC-of-empty-string quirk
    mac_empty = hmac_hex(key, b"")
    quirk_bodies = [
        ("post-garbage-block", "post", lambda iv: iv + bytes(16), None, "IV and a zero block: padding fails"),
        ("post-iv-only", "post", lambda iv: iv, None, "IV only"),
        ("post-short", "post", lambda iv: iv[:5], None, "5 bytes"),
        ("bulk-garbage-block", "bulk", lambda iv: iv + bytes(16), None, "bulk, bad padding"),
        ("post-url-data", "post", lambda iv: iv + bytes(16), "node=forged&csv=666", "bad body, data in the URL: Emoncms stores it"),
        ("bulk-url-data", "bulk", lambda iv: iv + bytes(16), "data=[[0,%22forged%22,666]]&sentat=0", "bulk, bad body, data in the URL"),
        ("gz-garbage-block", "post", lambda iv: iv + bytes(16), None, "aes128cbcgz, bad padding"),
    ]
    for name, ep, raw_fn, query, comment in quirk_bodies:
        tc_id = "quirk/mac-empty-" + name
        iv = derived_iv(tc_id)
        raw = raw_fn(iv)
        if name == "post-garbage-block" or name == "bulk-garbage-block":
            assert decrypt_body(key, raw)[0] is None
        v = raw_request(tc_id, raw, mac_empty, endpoint=ep,
                        profile="aes128cbcgz" if name.startswith("gz") else "aes128cbc")
        if query:
            v["request"]["query"] = query
        add(v, "Authorization HMAC(key, \"\"), " + comment, ["MacOfEmptyString"] + (["UrlParamOutsideMac"] if query else []))
    # the oracle itself: same header, a body whose padding happens to be valid
    tc_id = "quirk/mac-empty-valid-padding"
    iv = derived_iv(tc_id)
    raw = iv + cbc_encrypt_raw(key, iv, pkcs7(b"secret"))
    add(raw_request(tc_id, raw, mac_empty), "Authorization HMAC(key, \"\") with a body that decrypts: HMAC fails, 'invalid data' (the oracle's other answer)",
        ["MacOfEmptyString"])
    v = build("quirk/replay", b'node=emontx&csv=1')
    add(v, "no replay protection: a stateless vector, accepted each time it is sent", ["Normal"])

    # -- every client mistake, over lengths
    lengths = {"n0": b"", "n1": b"x", "n15": b"node=m&csv=1,23", "n16": b"node=m&csv=1,234",
               "n17": b"node=m&csv=1,2345", "n32": b"node=m&csv=1,2,3,4,5,6,7,8,9,0,1", "n33": b"node=m&csv=1,2,3,4,5,6,7,8,9,0,12"}
    for nm, pt in lengths.items():
        assert len(pt) == int(nm[1:]), nm
    for mistake in MISTAKES:
        if mistake == "gzip-header":
            continue
        for nm, pt in lengths.items():
            v = build("mistake/%s/%s" % (mistake, nm), pt, mistakes=[mistake])
            add(v, "client mistake %s, plaintext of %s bytes" % (mistake, nm[1:]), ["ClientMistake"])
    for nm in ("n1", "n16", "n17"):
        v = build("mistake/gzip-header/%s" % nm, lengths[nm], profile="aes128cbcgz", mistakes=["gzip-header"])
        add(v, "gzip header instead of zlib", ["ClientMistake", "Gz", "BadZlib"])
    for combo in (["std-alphabet", "hmac-upper"], ["no-b64-padding", "hmac-plus-nul"], ["iv-appended", "no-b64-padding"],
                  ["hex-key-as-key", "hmac-hex-key"], ["zero-padding", "hmac-over-ct"]):
        v = build("mistake/combo/" + "+".join(combo), b'node=combo&csv=1,2,3', mistakes=combo)
        add(v, "mistakes combined: " + ", ".join(combo), ["ClientMistake"])
    for mistake in ("cbc-chain-bug", "no-full-pad", "zero-padding"):
        v = build("mistake/%s/gz" % mistake, b'node=gz&csv=1,2,3', profile="aes128cbcgz", mistakes=[mistake])
        add(v, "mistake %s on the compressed bytes" % mistake, ["ClientMistake", "Gz"])

    # -- the bugs the field has (issue 16): every length 0-47, with and
    # without the C string's NUL (device code that encrypts strlen+1 bytes),
    # the Pico W padding bug, CBC chaining over four blocks.  The server
    # model decides each answer; AppError is flagged where it says so.
    have = {v["tcId"]: bytes.fromhex(v["plaintext"]) for v in out if v["tcId"].startswith("len/")}

    def len_pt(n):
        """len/N's plaintext: the loop above's, else 'csv=1' (node 0) and a
        filler below 14 bytes, so that lengths 5-13 carry data too."""
        if "len/%d" % n in have:
            return have["len/%d" % n]
        if n < len(base):
            return (b"csv=1&x=" + b"y" * n)[:n]
        return base + (b"&pad=" + b"p" * n)[:n - len(base)]

    def app_error(v):
        return serve(dict(v, now=NOW), strict=False)["fault"] == "app-error"

    for n in range(48):
        if "len/%d" % n not in have:
            v = build("len/%d" % n, len_pt(n))
            add(v, "plaintext of exactly %d bytes (%d mod 16)" % (n, n % 16),
                ["PlaintextLength"] + (["AppError"] if app_error(v) else []))
    for n in range(48):
        v = build("len/%d-nul" % n, len_pt(n) + b"\0")
        v.pop("plaintextText", None)    # a NUL in JSON text: keep it in the hex only
        add(v, "the %d-byte plaintext of len/%d and its C string's NUL: %d bytes encrypted, MAC'd and acked"
            % (n, n, n + 1), ["PlaintextLength", "TrailingNul"] + (["AppError"] if app_error(v) else []))
    for n in (15, 31, 47):
        # the emonTx4 Pico W sketch: plaintext + NUL a multiple of 16, no pad block
        v = build("mistake/no-full-pad/n%d-nul" % n, len_pt(n) + b"\0", mistakes=["no-full-pad"])
        v.pop("plaintextText", None)
        add(v, "the Pico W padding bug: %d bytes + NUL = %d, sent without the full pad block "
            "(the last byte decrypted is the NUL: pad-zero)" % (n, n + 1), ["ClientMistake", "TrailingNul"])
    pt = b"node=m&csv=" + b",".join(b"%d" % (i % 10) for i in range(1, 20))
    assert len(pt) == 48
    add(build("mistake/cbc-chain-bug/n48", pt, mistakes=["cbc-chain-bug"]),
        "client mistake cbc-chain-bug, plaintext of 48 bytes: the fourth (pad) block chained from the IV",
        ["ClientMistake"])

    # -- Content-Type variants
    for name, ct in (("with-charset", "aes128cbc; charset=utf-8"), ("uppercase", "AES128CBC"), ("capitalised", "Aes128cbc"),
                     ("trailing-space-param", "aes128cbc;"), ("form", "application/x-www-form-urlencoded"),
                     ("octet-stream", "application/octet-stream"), ("text-plain", "text/plain"), ("gz-uppercase", "AES128CBCGZ"),
                     ("absent", None), ("aes256cbc", "aes256cbc"), ("aes128gcm", "aes128gcm")):
        v = hand(build("ctype/" + name, b'node=emontx&csv=1'), contentType=ct)
        add(v, "Content-Type %r: not the encrypted method" % ct, ["ContentTypeVariant"])
    v = hand(build("ctype/gz-declared-plain-body", b'node=emontx&csv=1'), contentType="aes128cbcgz")
    add(v, "aes128cbc body declared aes128cbcgz: gzuncompress of plain text fails", ["ContentTypeVariant", "BadZlib", "AppError"])
    v = hand(build("ctype/gz-declared-bulk", b'data=[[0,"n",1]]&sentat=0', endpoint="bulk"), contentType="aes128cbcgz")
    add(v, "aes128cbc bulk body declared aes128cbcgz", ["ContentTypeVariant", "BadZlib", "AppError"])

    # -- GET
    for name, pt, ep in (("post", b'node=emontx&csv=1', "post"), ("bulk", b'data=[[0,"n",1]]&sentat=0', "bulk")):
        add(hand(build("method/get-" + name, pt, endpoint=ep), method="GET"), "the same request as GET", ["GetMethod"])
    add(hand(build("method/get-bad-mac", b'node=emontx&csv=1'), method="GET", authorization=USERID + ":" + "0" * 64),
        "GET with a wrong HMAC", ["GetMethod", "HmacFault"])

    # -- oversize
    def sized_plaintext(total_body_chars):
        # body = base64url(16 + pad(n)) with '=' kept: choose n so the body has exactly that many chars
        raw_len = total_body_chars // 4 * 3
        assert total_body_chars % 4 == 0 and raw_len % 16 == 0 and raw_len > 32
        n = raw_len - 16 - 1                    # one pad byte
        head = b"node=big&csv=1&pad="
        return head + b"z" * (n - len(head))
    pt = sized_plaintext(STRICT_MAX_BODY + 64)
    v = build("size/over-cap", pt)
    assert len(v["request"]["body"]) == STRICT_MAX_BODY + 64
    del v["plaintext"]
    add(v, "a correct request whose body is 64 bytes over the 1 MiB strict cap", ["Oversize"])
    v = hand(build("size/at-cap-garbage", b"x"), body="A" * STRICT_MAX_BODY)
    add(v, "a body of exactly 1 MiB ('A' * 1048576): not over the cap, decrypts to garbage", ["Oversize", "BadPadding"])

    # -- more normal traffic
    for i in range(10):
        pt = ('node=house%d&fulljson={"power":%d,"voltage":%d.%d}' % (i, 100 * i + 7, 230 + i, i)).encode()
        add(build("post/normal-%02d" % i, pt), "ordinary fulljson post %d" % i, ["Normal"])
    for i in range(8):
        pt = ('time=%d&data=[[0,"iw%d",%d.5,null],[10,"iw%d",%d,7]]' % (1699998000 + 60 * i, i, i, i, i + 1)).encode()
        add(build("bulk/normal-%02d" % i, pt, endpoint="bulk"), "ordinary IoTaWatt-style bulk %d" % i, ["Normal", "IoTaWatt", "NullValue"])
    return out


# ---------------------------------------------------------------------------
# assembling the file

FIELD_ORDER = ["tcId", "comment", "flags", "apikey", "clientApikey", "userid", "username", "iv",
               "plaintext", "plaintextText", "mistakes", "request", "now", "expected",
               "expectedStrict", "ack", "result"]


def finish(vec):
    vec["now"] = NOW
    req = vec["request"]
    req_out = {"method": req["method"], "path": req["path"]}
    if req.get("query") is not None:
        req_out["query"] = req["query"]
    req_out.update({"contentType": req["contentType"], "authorization": req["authorization"], "body": req["body"]})
    vec["request"] = req_out
    compat = serve(vec, strict=False)
    strict = serve(vec, strict=True)
    vec["expected"] = compat
    if strict != compat:
        vec["expectedStrict"] = strict
    ok_c, ok_s = compat["fault"] == "ok", strict["fault"] == "ok"
    if ok_c and ok_s:
        vec["result"] = "valid"
    elif ok_c:
        vec["result"] = "acceptable"
    elif not ok_s:
        vec["result"] = "invalid"
    else:
        raise AssertionError("strict accepts what compat rejects: " + vec["tcId"])
    return {k: vec[k] for k in FIELD_ORDER if k in vec}


def generate():
    groups = {}
    seen = set()
    for vec in vectors():
        assert vec["tcId"] not in seen, vec["tcId"]
        assert re.fullmatch(r"[a-z0-9][a-z0-9._/+-]*", vec["tcId"]), vec["tcId"]
        seen.add(vec["tcId"])
        for f in vec["flags"]:
            assert f in NOTES, f
        profile = vec.pop("_profile")
        groups.setdefault(profile, []).append(finish(vec))
    used = sorted({f for g in groups.values() for v in g for f in v["flags"]})
    assert used == sorted(NOTES), set(NOTES) ^ set(used)
    doc = {
        "algorithm": "EMONCMS-AES128CBC-HMACSHA256",
        "schema": SCHEMA_NAME,
        "generatorVersion": GENERATOR_VERSION,
        "numberOfTests": sum(len(g) for g in groups.values()),
        "header": [
            "Reference vectors for the Emoncms encrypted input protocol (SPEC.md).",
            "Generated by tools/gen_vectors.py; do not edit. See vectors/README.md.",
            "Server write API key of user %s: %s; now = %d unless a vector says otherwise." % (USERID, APIKEY, NOW),
        ],
        "notes": {k: {"bugType": b, "description": d, "effect": e} for k, (b, d, e) in sorted(NOTES.items())},
        "testGroups": [{"type": "EmoncmsEncryptedInput", "profile": p, "tests": groups[p]}
                       for p in ("aes128cbc", "aes128cbcgz", "legacy") if p in groups],
    }
    return dump(doc)


def dump(doc):
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------
# the schema

def schema():
    hex32 = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
    answer_s = {
        "type": "object", "additionalProperties": False,
        "required": ["status", "contentType", "body", "fault"],
        "properties": {
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "contentType": {"type": "string"},
            "wwwAuthenticate": {"type": "string"},
            "body": {"type": "string"},
            "fault": {"type": "string", "pattern": "^[a-z0-9-]+$"},
            "detail": {"type": "string", "pattern": "^[a-z0-9-]+$"},
            "rows": {"type": "array", "items": {
                "type": "array", "prefixItems": [
                    {"type": "integer"}, {"type": "string"}, {"type": "string"},
                    {"type": ["number", "null"]}],
                "minItems": 4, "maxItems": 4}},
        },
    }
    test = {
        "type": "object", "additionalProperties": False,
        "required": ["tcId", "comment", "flags", "apikey", "userid", "request", "now", "expected", "result"],
        "properties": {
            "tcId": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._/+-]*$"},
            "comment": {"type": "string"},
            "flags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
            "apikey": hex32, "clientApikey": hex32,
            "userid": {"type": "string"},
            "username": {"type": "string"},
            "iv": hex32,
            "plaintext": {"type": "string", "pattern": "^([0-9a-f]{2})*$"},
            "plaintextText": {"type": "string"},
            "mistakes": {"type": "array", "uniqueItems": True, "items": {"enum": MISTAKES}},
            "request": {
                "type": "object", "additionalProperties": False,
                "required": ["method", "path", "contentType", "authorization", "body"],
                "properties": {
                    "method": {"enum": ["POST", "GET"]},
                    "path": {"type": "string", "pattern": "^/"},
                    "query": {"type": "string"},
                    "contentType": {"type": ["string", "null"]},
                    "authorization": {"type": ["string", "null"]},
                    "body": {"type": "string"},
                },
            },
            "now": {"type": "integer"},
            "expected": {"$ref": "#/$defs/answer"},
            "expectedStrict": {"$ref": "#/$defs/answer"},
            "ack": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}=$"},
            "result": {"enum": ["valid", "invalid", "acceptable"]},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://emoncrypt.invalid/vectors/" + SCHEMA_NAME,
        "title": "emoncrypt reference vectors for the Emoncms encrypted input protocol",
        "type": "object", "additionalProperties": False,
        "required": ["algorithm", "schema", "generatorVersion", "numberOfTests", "header", "notes", "testGroups"],
        "properties": {
            "algorithm": {"const": "EMONCMS-AES128CBC-HMACSHA256"},
            "schema": {"const": SCHEMA_NAME},
            "generatorVersion": {"type": "string"},
            "numberOfTests": {"type": "integer", "minimum": 1},
            "header": {"type": "array", "items": {"type": "string"}},
            "notes": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": False,
                "required": ["bugType", "description", "effect"],
                "properties": {"bugType": {"type": "string"}, "description": {"type": "string"},
                               "effect": {"type": "string"}}}},
            "testGroups": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False,
                "required": ["type", "profile", "tests"],
                "properties": {
                    "type": {"const": "EmoncmsEncryptedInput"},
                    "profile": {"enum": ["aes128cbc", "aes128cbcgz", "legacy"]},
                    "tests": {"type": "array", "items": {"$ref": "#/$defs/test"}}}}},
        },
        "$defs": {"answer": answer_s, "test": test},
    }


# ---------------------------------------------------------------------------
# checks

def validate(directory):
    """JSON Schema validation (python3-jsonschema) plus what a schema cannot say."""
    import jsonschema
    doc = json.loads((directory / VECTORS_NAME).read_text("utf-8"))
    sch = json.loads((directory / SCHEMA_NAME).read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(sch)
    errors = sorted(jsonschema.Draft202012Validator(sch).iter_errors(doc), key=lambda e: list(e.path))
    for e in errors[:20]:
        print("schema: %s: %s" % ("/".join(map(str, e.path)), e.message), file=sys.stderr)
    problems = len(errors)
    ids = [t["tcId"] for g in doc["testGroups"] for t in g["tests"]]
    if len(ids) != len(set(ids)):
        print("duplicate tcId", file=sys.stderr)
        problems += 1
    if doc["numberOfTests"] != len(ids):
        print("numberOfTests is %d, tests %d" % (doc["numberOfTests"], len(ids)), file=sys.stderr)
        problems += 1
    used = {f for g in doc["testGroups"] for t in g["tests"] for f in t["flags"]}
    if used != set(doc["notes"]):
        print("flags vs notes differ: %s" % sorted(used ^ set(doc["notes"])), file=sys.stderr)
        problems += 1
    print("validate: %d tests, %d problems" % (len(ids), problems))
    return 1 if problems else 0


def selftest(directory):
    """Re-derive the file's answers from the file alone."""
    failures = 0

    def fail(tc, why):
        nonlocal failures
        failures += 1
        print("FAIL %s: %s" % (tc, why), file=sys.stderr)

    # primitive known answers
    if cbc_encrypt_raw(bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c"), bytes.fromhex("000102030405060708090a0b0c0d0e0f"),
                       bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")).hex() != "7649abac8119b246cee98e9b12e9197d":
        fail("kat", "NIST SP 800-38A F.2.1")
    if hmac_hex(b"\x0b" * 20, b"Hi There") != "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7":
        fail("kat", "RFC 4231 case 1")
    doc = json.loads((directory / VECTORS_NAME).read_text("utf-8"))
    checked = 0
    for group in doc["testGroups"]:
        for t in group["tests"]:
            tc = t["tcId"]
            vec = {k: t[k] for k in ("apikey", "userid", "username", "request", "now") if k in t}
            for mode, field in ((False, "expected"), (True, "expectedStrict")):
                want = t.get(field, t["expected"])
                got = serve(vec, strict=mode)
                if got != want:
                    fail(tc, "%s recomputed differs: %r" % (field, got))
            if group["profile"] == "legacy" and "mistakes" in t:
                again = build_legacy(tc, bytes.fromhex(t["plaintext"]), iv=bytes.fromhex(t["iv"]),
                                     apikey=t.get("clientApikey", t["apikey"]), mistakes=t["mistakes"])
                if again["request"]["body"] != t["request"]["body"]:
                    fail(tc, "rebuilding the legacy form body does not give the same body")
            if t["expected"]["fault"] != "ok" or group["profile"] == "legacy":
                continue
            if t["expected"].get("detail"):
                continue        # the MAC-of-empty quirk: nothing decrypts
            # decrypt back, independently of serve(): ack, MAC, plaintext
            key = bytes.fromhex(t["apikey"])
            raw = php_b64decode_lenient(t["request"]["body"].encode("utf-8"))
            padded = cbc_decrypt_raw(key, raw[:16], raw[16:])
            wire = padded[:-padded[-1]]
            if t["request"]["authorization"].split(":")[1] != hmac_hex(key, wire):
                fail(tc, "HMAC does not match the decrypted bytes")
            if t["expected"]["body"] != ack_of(wire) or t.get("ack", ack_of(wire)) != ack_of(wire):
                fail(tc, "ack is not SHA-256 of the decrypted bytes")
            # zlib.decompress, like gzuncompress, ignores bytes after the stream
            pt = zlib.decompress(wire) if group["profile"] == "aes128cbcgz" else wire
            if "plaintext" in t and bytes.fromhex(t["plaintext"]) != pt:
                fail(tc, "plaintext differs from the decrypted one")
            if "plaintextText" in t and t["plaintextText"].encode("utf-8") != pt:
                fail(tc, "plaintextText differs from the decrypted one")
            if "iv" in t and t["iv"] != raw[:16].hex():
                fail(tc, "iv differs from the body's")
            if "mistakes" in t and "plaintext" in t:
                again = build(tc, pt, endpoint="bulk" if "/input/bulk" in t["request"]["path"] else "post",
                              profile=group["profile"], mistakes=t["mistakes"], iv=raw[:16], apikey=t["apikey"],
                              userid=t["userid"],
                              path_node=t["request"]["path"].split("/", 3)[3] if t["request"]["path"].count("/") == 3 else None)
                if again["request"]["body"] != t["request"]["body"]:
                    fail(tc, "rebuilding does not give the same body")
            checked += 1
    print("selftest: %d accepted vectors decrypted back, %d failures" % (checked, failures))
    return 1 if failures else 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--out", metavar="DIR", type=Path, help="write both files into DIR")
    g.add_argument("--check", metavar="DIR", type=Path, help="exit 1 when DIR's files differ from a fresh run")
    g.add_argument("--selftest", metavar="DIR", type=Path, nargs="?", const=Path(__file__).resolve().parent.parent / "vectors",
                   help="recompute the answers of the file in DIR (default: the repository's vectors/)")
    g.add_argument("--validate", metavar="DIR", type=Path, help="validate DIR's file against DIR's schema")
    a = ap.parse_args(argv)
    if a.selftest:
        return selftest(a.selftest)
    if a.validate:
        return validate(a.validate)
    files = {VECTORS_NAME: generate(), SCHEMA_NAME: dump(schema())}
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (a.out / name).write_bytes(data)
        print("wrote %d tests to %s" % (json.loads(files[VECTORS_NAME])["numberOfTests"], a.out / VECTORS_NAME))
        return 0
    status = 0
    for name, data in files.items():
        path = a.check / name
        old = path.read_bytes() if path.exists() else None
        if old != data:
            where = "missing" if old is None else "differs at byte %d" % next(
                (i for i, (x, y) in enumerate(zip(old, data)) if x != y), min(len(old), len(data)))
            print("%s: %s; regenerate with tools/gen_vectors.py --out vectors/" % (path, where), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
