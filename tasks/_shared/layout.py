"""Lays out a variant's agent/, scoring/ and reference/ folders the way the scoring service does (tasks/README.md,
"Layout" and "Layers"): its own folders under variants/VARIANT/ (or the bundle's; folders_of: another variant's),
with the manifest's layers under them, file by file. For operator scripts that run a scorer outside the platform
(measure_constants.sh); the service itself lays out folders in C# (services/scoring/Catalog/BundleLoader.Layers.cs),
and tests/Tasks.Tests/VariantFoldersTests.cs checks that both give the same files for every variant.
  usage: /usr/bin/python3 tasks/_shared/layout.py BUNDLE_DIR VARIANT DEST   (DEST/agent, DEST/scoring, DEST/reference)
"""
import os
import shutil
import sys

import yaml

FOLDERS = ("agent", "scoring", "reference")


def files(folder):
    """Relative path -> absolute path of every file under folder, __pycache__ skipped (as the bundle digest does)."""
    found = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            full = os.path.join(root, name)
            found[os.path.relpath(full, folder).replace(os.sep, "/")] = full
    return found


def plain(path):
    return bool(path) and not path.startswith("/") and "\\" not in path and all(p not in ("", ".", "..") for p in path.split("/"))


def layer_files(bundle, layers):
    """(folder, relative path) -> source, for the layers in order; the loader refuses what this refuses."""
    out = {}
    for layer in layers:
        source, into, name = layer["from"], layer["into"].rstrip("/"), layer.get("as")
        if not plain(source) or not plain(into) or into.split("/")[0] not in FOLDERS:
            sys.exit(f"bad layer {layer!r}")
        base = os.path.dirname(bundle) if source.startswith("_shared/") else bundle
        full = os.path.join(base, source)
        folder, _, sub = into.partition("/")
        prefix = sub + "/" if sub else ""
        found = {prefix + (name or os.path.basename(full)): full} if os.path.isfile(full) else \
            {prefix + rel: f for rel, f in files(full).items()} if os.path.isdir(full) and name is None else None
        if found is None:
            sys.exit(f"layer {layer!r}: no such file or folder")
        for rel, f in found.items():
            if (folder, rel) in out:
                sys.exit(f"layer {layer!r}: {folder}/{rel} is given twice")
            out[(folder, rel)] = f
    return out


def layout(bundle, variant, dest):
    bundle = os.path.abspath(bundle)
    with open(os.path.join(bundle, "manifest.yaml")) as f:
        manifest = yaml.safe_load(f)
    variants = {v["name"]: v for v in manifest["variants"]}
    section = variants[variant]
    if section.get("folders_of"):
        section = variants[section["folders_of"]]
    layered = layer_files(bundle, (manifest.get("layers") or []) + (section.get("layers") or []))
    for folder in FOLDERS:
        own = os.path.join(bundle, "variants", section["name"], folder)
        own = own if os.path.isdir(own) else os.path.join(bundle, folder)
        chosen = {rel: f for (where, rel), f in layered.items() if where == folder}
        chosen.update(files(own) if os.path.isdir(own) else {})  # the folder's own files win over its layers'
        for rel, f in chosen.items():
            target = os.path.join(dest, folder, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(f, target)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    layout(*sys.argv[1:])
