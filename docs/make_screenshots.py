"""Remake the README screenshots from a fresh demo run (`make screenshots`).

Runs `govaudit demo` into a temporary folder, then has Chromium (Debian's, through
Playwright) photograph the overview and one agency page.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reports.render import screenshot  # noqa: E402

GOVAUDIT = str(Path(sys.executable).parent / "govaudit")
SHOTS = REPO / "docs" / "screenshots"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [GOVAUDIT, "demo", "--out", f"{tmp}/demo"], check=True, capture_output=True, text=True
        )
        index = Path(result.stdout.strip().splitlines()[-1])
        print(screenshot(index, SHOTS / "overview.png", height=1100))
        print(screenshot(index.parent / "agencies" / "dol.html", SHOTS / "agency.png", height=1100))


if __name__ == "__main__":
    main()
