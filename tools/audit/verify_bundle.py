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
import uuid
import zipfile

from audit_primitives import Num, ed25519_verify, key_id, link, parse, seal_message, campaign_seal_message

GENESIS = "0" * 64
SEAL_TYPE = "attempt_sealed"
CAMPAIGN_SEAL_TYPE = "campaign_sealed"
TERMINAL_TYPES = {"attempt_completed", "attempt_failed", "attempt_cancelled"}
CAMPAIGN_TERMINAL_TYPES = {"campaign_completed"}
FORMAT = "rebench-audit-bundle/1"
CORRECTION_TYPE = "attempt_correction_recorded"


# ---- the bundle -----------------------------------------------------------------------------------------------

class BadBundle(Exception):
    pass


class Broken(Exception):
    def __init__(self, at, problem, attempt=None):
        super().__init__("event %d: %s" % (at, problem))
        self.at = at
        self.problem = problem
        self.attempt = attempt


def parse_lines(name, data):
    events = []
    for number, line in enumerate(data.decode("utf-8").split("\n"), 1):
        if not line:
            continue
        try:
            events.append(parse(line))
        except ValueError as e:
            raise BadBundle("%s line %d is not valid JSON: %s" % (name, number, e))
    return events


def read_bundle(path):
    """Returns (manifest, events, attempts [(id, events, event_count)], blobs {digest: bytes},
    corrections [(attempt id, stream, events, event_count)])."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            names = set(z.namelist())
            for needed in ("manifest.json", "events.jsonl"):
                if needed not in names:
                    raise BadBundle("the archive has no %s: not an audit bundle" % needed)
            manifest = json.loads(z.read("manifest.json").decode("utf-8"))
            if manifest.get("format") != FORMAT:
                raise BadBundle("manifest format %r is not %s" % (manifest.get("format"), FORMAT))
            files = manifest.get("files", {})

            def listed(name):
                if name not in names:
                    raise BadBundle("the archive has no %s" % name)
                data = z.read(name)
                if files.get(name, {}).get("sha256") != hashlib.sha256(data).hexdigest():
                    raise BadBundle("%s does not match the SHA-256 in manifest.json: altered or incomplete" % name)
                return data
            events = parse_lines("events.jsonl", listed("events.jsonl"))
            attempts = []
            for a in manifest.get("attempts", []):
                name = "attempts/%s.jsonl" % a["id"]
                attempts.append((a["id"], parse_lines(name, listed(name)), int(a["event_count"])))
            corrections = []
            for c in manifest.get("corrections", []):
                if not (isinstance(c, dict) and isinstance(c.get("attempt_id"), str) and isinstance(c.get("stream"), str)):
                    raise BadBundle("manifest.json: a 'corrections' entry lacks a string attempt_id or stream")
                name = "corrections/%s.jsonl" % c["attempt_id"]
                corrections.append((c["attempt_id"], c["stream"], parse_lines(name, listed(name)), int(c["event_count"])))
            blobs = {n[len("blobs/"):]: z.read(n) for n in names if n.startswith("blobs/") and len(n) > len("blobs/")}
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as e:
        raise BadBundle("%s is not a readable audit bundle (zip): %s" % (path, e))
    except (ValueError, UnicodeDecodeError) as e:
        raise BadBundle("manifest.json is not valid JSON: %s" % e)
    return manifest, events, attempts, blobs, corrections


def field(data, name):
    for k, v in data.items():
        if k.lower() == name.lower():
            return v
    return None


def blob_refs(type_name, data):
    """(member, digest, size) for every blob the event references (docs/audit.md, "Blobs")."""
    refs = []
    if not isinstance(data, dict):
        return refs

    def size(name):
        v = field(data, name)
        return int(v) if isinstance(v, Num) else -1
    for k, v in data.items():
        if k.lower().endswith("blobsha256") and isinstance(v, str) and not isinstance(v, Num):
            refs.append((k, v, size(k[:-len("BlobSha256")] + "BlobSize")))
    content = field(data, "ContentSha256")
    if type_name == "action_requested" and field(data, "ContentBlobStored") is True and isinstance(content, str) and not isinstance(content, Num):
        refs.append(("ContentSha256", content, size("ContentSize")))
    return refs


def check_blobs(events, blobs):
    """Every referenced blob is in the bundle, hashes to its digest and has the recorded size; returns the count."""
    checked = 0
    for e in events:
        for member, digest, size in blob_refs(e["type"], e["data"]):
            at = int(e["version"])
            where = "(%s) %s %s: " % (e["type"], member, digest)
            if not (len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
                raise Broken(at, where + "is not a lower-case hex SHA-256")
            if digest not in blobs:
                raise Broken(at, where + "the blob is missing")
            actual = hashlib.sha256(blobs[digest]).hexdigest()
            if actual != digest:
                raise Broken(at, where + "the blob's bytes hash to %s: the blob was altered" % actual)
            if len(blobs[digest]) != size:
                raise Broken(at, where + "the event records size %d but the blob has %d bytes" % (size, len(blobs[digest])))
            checked += 1
    return checked


def verify_stream(stream, events, trusted, expected_count, terminal_types):
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
        if e["type"] in (SEAL_TYPE, CAMPAIGN_SEAL_TYPE):
            data = e["data"]
            head_version, head = int(field(data, "HeadVersion")), field(data, "HeadHash")
            seal_key = field(data, "KeyId")
            if field(data, "Algorithm") != "Ed25519":
                raise Broken(expected, "the seal uses algorithm %r" % field(data, "Algorithm"))
            if head_version != expected - 1 or head != prev:
                raise Broken(expected, "the seal signs event %d, but the history before it ends at event %d" % (head_version, expected - 1))
            if seal_key not in trusted:
                raise Broken(expected, "the seal is signed by an unknown key %r" % seal_key)
            if e["type"] == CAMPAIGN_SEAL_TYPE:
                listed = [(field(a, "AttemptId"), field(a, "HeadHash"), field(a, "Signature")) for a in field(data, "Attempts") or []]
                message = campaign_seal_message(stream, head_version, head, listed)
            else:
                message = seal_message(stream, head_version, head)
            if not ed25519_verify(trusted[seal_key], message, base64.b64decode(field(data, "Signature"))):
                raise Broken(expected, "the seal's signature is not valid for key %s" % seal_key)
            sealed = True
        else:
            sealed = False
            if e["type"] in terminal_types:
                terminal_at = expected
        prev, n = computed, expected
    if n == 0:
        raise Broken(1, "the stream has no events")
    if expected_count != n:
        raise Broken(n + 1, "the manifest lists %s events but the bundle has %d" % (expected_count, n))
    if terminal_at and not sealed:
        raise Broken(n + 1, "the stream ended at event %d but is not sealed" % terminal_at)
    return n, sealed, seal_key, prev


def verify_attempt(stream, events, trusted, expected_count, blobs):
    n, sealed, seal_key, head = verify_stream(stream, events, trusted, expected_count, TERMINAL_TYPES)
    return n, sealed, seal_key, head, check_blobs(events, blobs)


def verify_campaign(manifest, events, attempts, blobs, trusted):
    stream = manifest["stream"]
    n, sealed, seal_key, head = verify_stream(stream, events, trusted, int(manifest["event_count"]), CAMPAIGN_TERMINAL_TYPES)
    ids = [str(a).lower() for a in field(events[0]["data"], "AttemptIds") or []]
    listed = None
    if sealed:
        listed = [(field(a, "AttemptId"), field(a, "HeadHash"), field(a, "Signature")) for a in field(events[-1]["data"], "Attempts") or []]
        if [a[0] for a in listed] != ids:
            raise Broken(n, "the campaign seal lists attempts %s but the campaign has %s" % ([a[0] for a in listed], ids))
    by_id = {a[0]: a for a in attempts}
    for i, attempt_id in enumerate(ids):
        if attempt_id not in by_id:
            raise Broken(1, "its history is missing from the bundle", attempt_id)
        _, attempt_events, count = by_id[attempt_id]
        try:
            verify_attempt(attempt_id, attempt_events, trusted, count, blobs)
        except Broken as b:
            raise Broken(b.at, b.problem, attempt_id)
        if listed is not None:
            last = attempt_events[-1]
            own = (attempt_id, field(last["data"], "HeadHash"), field(last["data"], "Signature")) if last["type"] == SEAL_TYPE else None
            if own != listed[i]:
                raise Broken(int(last["version"]), "its seal is not the one the campaign seal signed", attempt_id)
    return n, sealed, seal_key, head, len(ids)


def corrections_stream_id(attempt_id):
    """The UUID (version 8) of SHA-256("rebench.corrections.v1:" + attempt id), as docs/audit.md defines it."""
    b = bytearray(hashlib.sha256(("rebench.corrections.v1:" + str(uuid.UUID(attempt_id))).encode("utf-8")).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x80
    b[8] = (b[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(b)))


def verify_corrections(corrections, attempt_ids, trusted, campaign):
    """Each corrections stream: of an attempt in the bundle, at its derived id, only corrections (checked before
    the chain, so a forged seal never reaches the seal check), chained (never sealed), each naming that attempt.
    Returns how many corrections were checked. Problems read as the .NET verifier's (in a campaign bundle they
    name the attempt)."""
    checked = 0
    for attempt_id, stream, events, count in corrections:
        named = attempt_id if campaign else None
        if attempt_id not in attempt_ids:
            raise Broken(1, "the bundle has corrections of attempt %s, which it does not hold" % attempt_id, named)
        try:
            checked += check_corrections_stream(attempt_id, stream, events, count, trusted)
        except Broken as b:
            raise Broken(b.at, "in the corrections of attempt %s: %s" % (attempt_id, b.problem), named)
    return checked


def check_corrections_stream(attempt_id, stream, events, count, trusted):
    try:
        derived = corrections_stream_id(attempt_id)
    except ValueError:
        derived = None
    if stream != derived:
        raise Broken(1, "stream %s is not the corrections stream of attempt %s" % (stream, attempt_id))
    for e in events:
        if e["type"] != CORRECTION_TYPE:
            raise Broken(int(e["version"]), "event %s is a %s, not a correction" % (e["version"], e["type"]))
    n, _, _, _ = verify_stream(stream, events, trusted, count, set())
    for e in events:
        if not isinstance(e["data"], dict):
            raise Broken(int(e["version"]), "correction %s has a body that is not a JSON object" % e["version"])
        if str(field(e["data"], "AttemptId")).lower() != attempt_id.lower():
            raise Broken(int(e["version"]), "correction %s names attempt %s, not %s" % (e["version"], field(e["data"], "AttemptId"), attempt_id))
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--public-key", help="the platform's Ed25519 public key (base64 of the raw 32 bytes)")
    args = ap.parse_args()
    try:
        manifest, events, attempts, blobs, corrections = read_bundle(args.bundle)
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
    trusted = {key_id(pinned): pinned}
    try:
        if manifest.get("kind") == "campaign":
            n, sealed, seal_key, head, count = verify_campaign(manifest, events, attempts, blobs, trusted)
            what = "campaign: %d events and %d attempts verified" % (n, count)
        else:
            n, sealed, seal_key, head, count = verify_attempt(manifest["stream"], events, trusted, int(manifest.get("event_count", len(events))), blobs)
            what = "%d events verified, %d blob references" % (n, count)
        held = [a[0] for a in attempts] if manifest.get("kind") == "campaign" else [manifest["stream"]]
        fixed = verify_corrections(corrections, held, trusted, manifest.get("kind") == "campaign")
        if corrections:
            what += "; %d corrections (chained, not signed)" % fixed
    except Broken as e:
        print("BROKEN %sat event %d: %s" % ("in attempt %s " % e.attempt if e.attempt else "", e.at, e.problem))
        return 1
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as e:
        print("BROKEN: malformed event record: %s" % e)
        return 1
    print("OK: %s; %s; head %s" % (what, "sealed by key %s" % seal_key if sealed else "not sealed (still running)", head))
    return 0


if __name__ == "__main__":
    sys.exit(main())
