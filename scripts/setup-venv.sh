#!/usr/bin/env bash
# Installs moto's server, the `aws` CLI, parliament and check-jsonschema into the project-local virtualenv .venv/ when they are missing
# or when requirements-dev.txt changed since the last install. Safe to run again: it does nothing then.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
requirements="$root/requirements-dev.txt"
stamp="$venv/.requirements-dev.txt"

if [ -x "$venv/bin/moto_server" ] && [ -x "$venv/bin/aws" ] && [ -x "$venv/bin/parliament" ] &&
  [ -x "$venv/bin/check-jsonschema" ] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup-venv: $python not found; install Python 3 (3.9 or newer) and run again" >&2
  exit 1
fi

echo "setup-venv: installing moto[server] and awscli into $venv" >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
"$venv/bin/python" "$root/scripts/moto-server.py" --help >/dev/null
"$venv/bin/parliament" --help >/dev/null
"$venv/bin/check-jsonschema" --version >/dev/null
"$venv/bin/aws" --version >&2
