#!/usr/bin/env bash
# Static check of docker-compose.yml (no Docker engine here): it parses, every depends_on target exists,
# every service waited on with service_healthy has a healthcheck, every service has a profile, and the
# files it mounts or builds from exist. Uses `docker compose config` instead when a compose plugin is present.
set -euo pipefail
cd "$(dirname "$0")/.."
if docker compose version >/dev/null 2>&1; then
  REBENCH_API_KEY=${REBENCH_API_KEY:-validate} docker compose -f docker-compose.yml --profile all config -q
fi
/usr/bin/python3 -c 'import yaml' 2>/dev/null || {
  source scripts/lib/infra.sh
  apt_install python3-yaml
}
/usr/bin/python3 - docker-compose.yml <<'PY'
import os, sys, yaml
path = sys.argv[1]
with open(path) as f:
    doc = yaml.safe_load(f)
services = doc.get("services") or {}
errors = []
for name, svc in services.items():
    if not svc.get("image") and not svc.get("build"):
        errors.append(f"{name}: neither image nor build")
    if not svc.get("profiles"):
        errors.append(f"{name}: no profiles")
    deps = svc.get("depends_on") or {}
    for dep in (deps if isinstance(deps, list) else deps.keys()):
        if dep not in services:
            errors.append(f"{name}: depends_on unknown service '{dep}'")
        elif isinstance(deps, dict) and (deps[dep] or {}).get("condition") == "service_healthy" \
                and not services[dep].get("healthcheck"):
            errors.append(f"{name}: waits for {dep} to be healthy but {dep} has no healthcheck")
    build = svc.get("build")
    if isinstance(build, dict):
        dockerfile = os.path.join(build.get("context", "."), build.get("dockerfile", "Dockerfile"))
        if not os.path.isfile(dockerfile):
            errors.append(f"{name}: build file {dockerfile} missing")
    for vol in svc.get("volumes") or []:
        src = vol.split(":")[0] if isinstance(vol, str) else vol.get("source", "")
        if src.startswith((".", "/")) and not os.path.exists(src):
            errors.append(f"{name}: mounted path {src} missing")
        elif not src.startswith((".", "/")) and src not in (doc.get("volumes") or {}):
            errors.append(f"{name}: named volume {src} not declared")
if errors:
    print(f"{path}: " + "; ".join(errors), file=sys.stderr)
    sys.exit(1)
print(f"{path}: OK ({len(services)} services)", file=sys.stderr)
PY
