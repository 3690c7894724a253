"""Print pyproject's `replay` requirement (pywb), for installing it in its own virtualenv."""

import tomllib
from pathlib import Path

pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
print(tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]["replay"][0])
