"""Primitives of RE-Bench audit verification (docs/audit.md), Python standard library only: canonical JSON, the
hash-chain link, the seal messages and Ed25519 signature verification. Used by verify_bundle.py."""
import hashlib
import json

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


def campaign_seal_message(stream, version, head, attempts):
    listed = [{"attempt": a, "head": h, "signature": sig} for a, h, sig in attempts]
    return canon({"attempts": listed, "domain": "rebench.campaign-seal.v1", "head": head, "stream": stream,
                  "version": Num(str(version))}).encode("utf-8")


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


