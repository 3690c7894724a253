"""Pytest fixtures for the simulated web (``pytest_plugins = ["tests.simweb_plugin"]``).

``simulated_web_factory``
    Build and start a :class:`~simweb.server.SimulatedWeb` from site definitions given as data
    (a mapping of site name to definition, written to YAML files in a temporary folder, with
    optional extra files such as HTML templates) or from a directory of site files.  Every web
    made is stopped at the end of the test.

``demo_web``
    The shipped demo world (``simweb/demo/sites``), started once per session.  Tests that
    change its epoch or rely on ``sequence`` pages should restore it (``set_epoch(1)``,
    ``reset_sequences()``); its request log is shared, so filter with ``requests(host)`` or call
    ``clear_log()`` first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from simweb.server import SimulatedWeb
from simweb.sites import DEMO_SITES_DIR

SiteDefs = Mapping[str, Mapping[str, Any]] | str | Path
WebFactory = Callable[..., SimulatedWeb]

_counter = itertools.count()


def write_sites(
    directory: Path,
    sites: Mapping[str, Mapping[str, Any]],
    files: Mapping[str, str | bytes] | None = None,
) -> Path:
    """Write site definitions (name -> definition) as ``name.yaml`` files, plus extra files."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, definition in sites.items():
        text = yaml.safe_dump(dict(definition), sort_keys=False, allow_unicode=True)
        (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    for rel, content in (files or {}).items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return directory


@pytest.fixture
def simulated_web_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebFactory]:
    """A function ``make(sites, *, files=None, epoch=1, start=True, **kwargs) -> SimulatedWeb``.

    ``sites`` is a mapping ``{"usda": {"hosts": [...], "pages": {...}}, ...}`` or a directory
    (or file) of site YAML files.  ``files`` maps relative paths to contents written beside the
    site files (templates for ``body_file``).  Other keyword arguments go to ``SimulatedWeb``.
    """
    webs: list[SimulatedWeb] = []

    def make(
        sites: SiteDefs,
        *,
        files: Mapping[str, str | bytes] | None = None,
        start: bool = True,
        **kwargs: Any,
    ) -> SimulatedWeb:
        if isinstance(sites, str | Path):
            source: Path = Path(sites)
        else:
            folder = tmp_path_factory.mktemp(f"simweb-sites-{next(_counter)}")
            source = write_sites(folder, sites, files)
        web = SimulatedWeb.from_directory(source, **kwargs)
        webs.append(web)
        return web.start() if start else web

    yield make
    for web in webs:
        web.stop()


@pytest.fixture(scope="session")
def demo_web() -> Iterator[SimulatedWeb]:
    """The demo world, started once for the whole session."""
    web = SimulatedWeb.from_directory(DEMO_SITES_DIR).start()
    try:
        yield web
    finally:
        web.stop()
