#!/usr/bin/env bash
# Puts Prometheus's promtool at .venv/bin/promtool for the alert rules' tests (tests/alerts.rs): the one on
# PATH when there is one, or else the binary out of Debian's `prometheus` package, fetched with
# `apt-get download` and unpacked with `dpkg-deb` (nothing is installed system-wide, no service starts).
# Safe to run again: it does nothing once promtool is there. When neither works it says how to get promtool
# and leaves it to the test to fail with the same advice.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target="$root/.venv/bin/promtool"
mkdir -p "$root/.venv/bin"

if [ -x "$target" ] && "$target" --version >/dev/null 2>&1; then
  exit 0
fi
if command -v promtool >/dev/null 2>&1; then
  ln -sf "$(command -v promtool)" "$target"
  exit 0
fi

advice="install Debian's prometheus package (apt-get install prometheus) or put promtool on PATH, then run make setup"
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "setup-promtool: no apt-get here: $advice" >&2
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "setup-promtool: fetching promtool from Debian's prometheus package" >&2
if ! apt-get download prometheus >/dev/null 2>&1; then
  # A fresh machine may have no package lists yet; only root can fetch them.
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null 2>&1 || true
  fi
  if ! apt-get download prometheus >/dev/null 2>&1; then
    echo "setup-promtool: apt-get download prometheus failed: $advice" >&2
    exit 0
  fi
fi
dpkg-deb -x prometheus_*.deb unpacked
install -m 0755 unpacked/usr/bin/promtool "$target"
"$target" --version 2>&1 | head -n1 >&2
