#!/usr/bin/env bash
# The package installs anywhere: build the wheel, install it in a fresh virtualenv outside the
# checkout, and run the demo from an unrelated folder (seeds and templates come from the wheel,
# nothing is read from or written into the repository or the install tree).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$repo/.venv/bin/python" -m build --wheel --outdir "$work/dist" "$repo" >/dev/null
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$work"/dist/govaudit-*.whl
# pywb (the demo's web archive) in a virtualenv of its own, as `make demo` does.
python3 -m venv "$work/replay"
"$work/replay/bin/pip" install -q "$(python3 "$repo/.ci/replay_requirement.py")"
cd "$work"
site="$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
find "$site" -type f -not -path '*/__pycache__/*' | sort > "$work/before"
GOVAUDIT_DATA_DIR="$work/data" GOVAUDIT_WAYBACK="$work/replay/bin/wayback" \
  "$work/venv/bin/govaudit" demo --out "$work/demo" | tail -1 > "$work/index"
test -s "$(cat "$work/index")" || { echo "wheel-check: the demo printed no report" >&2; exit 1; }
grep -q "as archived near 2011-10-24" "$(dirname "$(cat "$work/index")")/plans.html" \
  || { echo "wheel-check: the demo's report has no archived plan table" >&2; exit 1; }
find "$site" -type f -not -path '*/__pycache__/*' | sort > "$work/after"
diff -q "$work/before" "$work/after" >/dev/null || { echo "wheel-check: the demo wrote into the install tree" >&2; diff "$work/before" "$work/after" >&2; exit 1; }
"$work/venv/bin/python" -c 'import importlib.resources as r; assert (r.files("seeds") / "policy.toml").is_file()'
# A new SQLite database gets the recorded migrated schema (the record ships, and matches).
"$work/venv/bin/python" -c 'from audit.db import recorded_schema; assert recorded_schema(), "the wheel has no usable sqlite_schema.json"'
case "$(cat "$work/index")" in "$repo"/*) echo "wheel-check: report inside the checkout" >&2; exit 1;; esac
echo "wheel-check: demo from the installed wheel: $(cat "$work/index")"
