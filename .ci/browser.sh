#!/usr/bin/env bash
# Debian's Chromium for the accessibility check (axe-core in the browser) and the report's
# browser tests: its headless shell (chromium-headless-shell, the same engine without the full
# browser's layers, about 40% of its CPU per page; audit/config_files.py), and certutil
# (libnss3-tools) with which the check trusts a CA bundle: installed from Debian's packages
# when missing. `make test` needs them (.ci/services.sh calls this); `make demo` runs it with
# --if-possible: on a machine where nothing can be installed (not root, no password-less
# sudo) it installs nothing, and the demo says in one line that accessibility was skipped.
set -euo pipefail

need=()
command -v chromium-headless-shell >/dev/null 2>&1 || need+=(chromium-headless-shell)
command -v certutil >/dev/null 2>&1 || need+=(libnss3-tools)
((${#need[@]})) || exit 0

if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif [ "${1:-}" = "--if-possible" ] && ! sudo -n true 2>/dev/null; then
  exit 0
else
  SUDO="sudo"
fi
echo "installing ${need[*]} (apt-get)" >&2
if [ "${1:-}" = "--if-possible" ]; then
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"; } >&2 \
    || echo "could not install ${need[*]}: the demo runs without its accessibility check" >&2
else
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
fi
