#!/usr/bin/env python3
"""Independent verifier of a RE-Bench audit bundle (docs/audit.md), Python standard library only.

    python3 verify_bundle.py BUNDLE.zip [--public-key BASE64]

Exit codes: 0 verified; 1 the history is broken (the first broken link is printed with its event number);
2 the file is not a readable bundle. Without --public-key the key inside the bundle is trusted (and a warning
printed): pin the platform's published key to detect a history re-signed with another key.
"""
import argparse
import base64
import hashlib
import io
import json
import sys
import zipfile

GENESIS = "0" * 64
SEAL_TYPE = "attempt_sealed"
TERMINAL_TYPES = {"attempt_completed", "attempt_failed", "attempt_cancelled"}
FORMAT = "rebench-audit-bundle/1"


# ---- canonical JSON -------------------------------------------------------------------------------------------

class Num(str):
    """A JSON number kept as its literal, so no float rounding happens before canonicalization."""


def reject_constant(name):
    raise ValueError("non-standard JSON constant " + name)


def parse(text):
    def pairs(items):
        obj = {}
        for k, v in items:
            if k in obj:
                raise ValueError("duplicate key " + k)
            obj[k] = v
        return obj
    return json.loads(text, parse_float=Num, parse_int=Num, parse_constant=reject_constant, object_pairs_hook=pairs)


def canon_number(literal):
    s = literal
    negative = s.startswith("-")
    if negative:
        s = s[1:]
    exponent = 0
    for marker in ("e", "E"):
        if marker in s:
            s, e = s.split(marker)
            exponent = int(e)
    if "." in s:
        whole, frac = s.split(".")
        digits = whole + frac
        exponent -= len(frac)
    else:
        digits = s
    digits = digits.lstrip("0")
    if not digits:
        return "0"
    trimmed = digits.rstrip("0")
    exponent += len(digits) - len(trimmed)
    sign = "-" if negative else ""
    return sign + trimmed + "0" * exponent if exponent >= 0 else sign + trimmed + "e" + str(exponent)


def canon_string(s):
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canon(value):
    if isinstance(value, Num):
        return canon_number(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return canon_string(value)
    if isinstance(value, list):
        return "[" + ",".join(canon(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value.keys(), key=lambda k: k.encode("utf-8"))
        return "{" + ",".join(canon_string(k) + ":" + canon(value[k]) for k in keys) + "}"
    raise ValueError("unexpected JSON value %r" % (value,))


def link(prev, stream, version, type_name, data):
    record = {"data": data, "prev": prev, "stream": stream, "type": type_name, "version": Num(str(version))}
    return hashlib.sha256(canon(record).encode("utf-8")).hexdigest()


def seal_message(stream, version, head):
    return canon({"domain": "rebench.seal.v1", "head": head, "stream": stream, "version": Num(str(version))}).encode("utf-8")


# ---- Ed25519 verification (RFC 8032, section 5.1.7; reference arithmetic) -------------------------------------

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x = (a[1] - a[0]) * (b[1] - b[0]) % P
    y = (a[1] + a[0]) * (b[1] + b[0]) % P
    c = 2 * a[3] * b[3] * D % P
    d = 2 * a[2] * b[2] % P
    e, f, g, h = y - x, d - c, d + c, y + x
    return (e * f, g * h, f * g, e * h)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(b):
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
BASE = (_GX, _GY, 1, _GX * _GY % P)


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return _equal(_mul(s, BASE), _add(r, _mul(h, a)))


def key_id(public):
    return hashlib.sha256(public).hexdigest()[:16]


# ---- the bundle -----------------------------------------------------------------------------------------------

class BadBundle(Exception):
    pass


class Broken(Exception):
    def __init__(self, at, problem):
        super().__init__("event %d: %s" % (at, problem))
        self.at = at


def read_bundle(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            names = set(z.namelist())
            for needed in ("manifest.json", "events.jsonl"):
                if needed not in names:
                    raise BadBundle("the archive has no %s: not an audit bundle" % needed)
            manifest = json.loads(z.read("manifest.json").decode("utf-8"))
            events_bytes = z.read("events.jsonl")
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as e:
        raise BadBundle("%s is not a readable audit bundle (zip): %s" % (path, e))
    except (ValueError, UnicodeDecodeError) as e:
        raise BadBundle("manifest.json is not valid JSON: %s" % e)
    if manifest.get("format") != FORMAT:
        raise BadBundle("manifest format %r is not %s" % (manifest.get("format"), FORMAT))
    declared = manifest.get("files", {}).get("events.jsonl", {}).get("sha256")
    if declared != hashlib.sha256(events_bytes).hexdigest():
        raise BadBundle("events.jsonl does not match the SHA-256 in manifest.json: altered or incomplete")
    events = []
    for number, line in enumerate(events_bytes.decode("utf-8").split("\n"), 1):
        if not line:
            continue
        try:
            events.append(parse(line))
        except ValueError as e:
            raise BadBundle("events.jsonl line %d is not valid JSON: %s" % (number, e))
    return manifest, events


def field(data, name):
    for k, v in data.items():
        if k.lower() == name.lower():
            return v
    return None


def verify(manifest, events, trusted):
    stream = manifest["stream"]
    prev, n, terminal_at, sealed, seal_key = GENESIS, 0, 0, False, None
    for e in events:
        expected = n + 1
        version = int(e["version"])
        if version > expected:
            raise Broken(expected, "missing: the next stored event is number %d" % version)
        if version < expected:
            raise Broken(version, "stored twice or out of order (expected event %d)" % expected)
        computed = link(prev, stream, expected, e["type"], e["data"])
        if computed != e.get("hash"):
            raise Broken(expected, "(%s) does not match its chain hash: its body, type or position was changed, or its predecessor was"
                         % e["type"])
        if e["type"] == SEAL_TYPE:
            data = e["data"]
            head_version, head = int(field(data, "HeadVersion")), field(data, "HeadHash")
            seal_key = field(data, "KeyId")
            if field(data, "Algorithm") != "Ed25519":
                raise Broken(expected, "the seal uses algorithm %r" % field(data, "Algorithm"))
            if head_version != expected - 1 or head != prev:
                raise Broken(expected, "the seal signs event %d, but the history before it ends at event %d" % (head_version, expected - 1))
            if seal_key not in trusted:
                raise Broken(expected, "the seal is signed by an unknown key %r" % seal_key)
            if not ed25519_verify(trusted[seal_key], seal_message(stream, head_version, head), base64.b64decode(field(data, "Signature"))):
                raise Broken(expected, "the seal's signature is not valid for key %s" % seal_key)
            sealed = True
        else:
            sealed = False
            if e["type"] in TERMINAL_TYPES:
                terminal_at = expected
        prev, n = computed, expected
    if n == 0:
        raise Broken(1, "the bundle has no events")
    if int(manifest.get("event_count", n)) != n:
        raise Broken(n + 1, "the manifest lists %s events but the bundle has %d" % (manifest.get("event_count"), n))
    if terminal_at and not sealed:
        raise Broken(n + 1, "the attempt ended at event %d but its history is not sealed" % terminal_at)
    return n, sealed, seal_key, prev


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--public-key", help="the platform's Ed25519 public key (base64 of the raw 32 bytes)")
    args = ap.parse_args()
    try:
        manifest, events = read_bundle(args.bundle)
        if args.public_key:
            pinned = base64.b64decode(args.public_key)
        else:
            pinned = base64.b64decode(manifest["public_key"]["base64"])
            print("warning: trusting the public key inside the bundle; pass --public-key to pin the platform's key", file=sys.stderr)
    except BadBundle as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    except (KeyError, ValueError, TypeError) as e:
        print("error: malformed bundle: %s" % e, file=sys.stderr)
        return 2
    try:
        n, sealed, seal_key, head = verify(manifest, events, {key_id(pinned): pinned})
    except Broken as e:
        print("BROKEN at event %d: %s" % (e.at, e))
        return 1
    except (KeyError, ValueError, TypeError) as e:
        print("BROKEN: malformed event record: %s" % e)
        return 1
    print("OK: %d events verified; %s; head %s" % (n, "sealed by key %s" % seal_key if sealed else "not sealed (attempt still running)", head))
    return 0


if __name__ == "__main__":
    sys.exit(main())
