"""The periodic job's configuration: a TOML file, every key also a GOVAUDIT_* variable.

Precedence: command-line options, then environment variables, then the file, then defaults.
A key `k` of the top level is `GOVAUDIT_K`; a key `k` of table `[t]` is `GOVAUDIT_T_K`
(`db` -> GOVAUDIT_DB, `[log] level` -> GOVAUDIT_LOG_LEVEL). Relative paths in the file are
relative to the file's folder; in variables, to the working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.config_files import read_toml, toml_key_line
from audit.crawl_settings import CrawlSettings, SettingError, job_settings

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


# key -> (type, default). Tables are one level deep. "path"/"paths" are strings resolved
# against the file's folder.
SCHEMA: dict[str, Any] = {
    "db": ("db", None),
    "registry": ("paths", []),
    "bundled_registry": ("bool", True),
    "policy": ("path", None),
    "agencies": ("path", None),
    "waivers": ("path", None),
    "output": ("path", "govaudit-out"),
    "rdap": ("bool", True),
    "dns": ("bool", True),
    "dns_nameservers": ("strs", []),
    "dns_timeout": ("float", 5.0),
    "dns_concurrency": ("int", 50),
    "a11y": ("bool", True),
    "a11y_concurrency": ("int", 2),
    "a11y_timeout": ("float", 60.0),
    "retention": ("int", 4),
    "workers": ("int", None),
    "distributed": ("bool", False),
    "warc": ("bool", False),
    "warc_dir": ("path", None),
    "batch_size": ("int", 32),
    "crawl": {
        # The crawl settings of audit/crawl_settings.py with a job_key, checked by its model
        # once the file and the variables are read (None: the policy's [crawl]).
        **{key: ("crawl", None) for key in job_settings()},
        # appended to the User-Agent: who to tell when the crawl misbehaves
        "contact": ("str", None),
        # also crawl every website of the inventory (`crawl --websites`) after the domains
        "websites": ("bool", False),
    },
    "log": {
        "file": ("path", None),
        "level": ("level", "INFO"),
        "scrapy_level": ("level", "WARNING"),
    },
    "lock": {"stale_after": ("float", 900.0)},
    # The crawl step reads web archives as of a date instead of the live web
    # (`crawl --archive URL --as-of DATE --window DAYS`): urls tried in order.
    "archive": {
        "urls": ("strs", []),
        "as_of": ("date", None),
        "window_days": ("int", None),
    },
}
MINIMUM: dict[str, float] = {"retention": 2, "workers": 1}
MINIMUM.update({"lock.stale_after": 10, "a11y_concurrency": 1, "a11y_timeout": 1})
MINIMUM.update({"batch_size": 1, "archive.window_days": 0})
MINIMUM.update({"dns_timeout": 0.1, "dns_concurrency": 1})
TYPE_WORDS = {
    "str": "a string",
    "db": "a database URL (a string)",
    "path": "a string (a path)",
    "paths": "a string or a list of strings (paths)",
    "strs": "a string or a list of strings",
    "bool": "true or false",
    "int": "an integer",
    "float": "a number",
    "level": f"one of {', '.join(LOG_LEVELS)}",
    "date": "a date (YYYY-MM-DD)",
}


# GOVAUDIT_* variables read elsewhere than the run configuration (whose keys are variables
# too, see env_name): a variable of neither list, nor of the test suite's
# (audit/test_hooks.py), is a misspelling, and is warned about.
OTHER_VARIABLES = (
    "GOVAUDIT_CONFIG",  # govaudit run --config
    "GOVAUDIT_SEEDS",  # a seeds folder of one's own (audit/config_files.py)
    "GOVAUDIT_DATA_DIR",  # state govaudit writes (audit/config_files.py)
    "GOVAUDIT_CHROMIUM",  # the browser of `govaudit a11y`
    "GOVAUDIT_WAYBACK",  # pywb's `wayback` for the demo's web archive (govaudit/replay_archive.py)
    "GOVAUDIT_BATCH_UNITS",  # units per write transaction (crawler/crawl_process.py)
    "GOVAUDIT_SCRAPY_LOG_LEVEL",  # set by `govaudit run` for its crawler processes
    "GOVAUDIT_SCRAPY_LOG_FILE",
)
# The test suite's variables (audit/test_hooks.py) are read too, but are no configuration:
# never listed to users, and never warned about.


def known_variables() -> list[str]:
    """Every GOVAUDIT_* variable of govaudit's configuration (not the test suite's)."""
    return sorted({env_name(key) for key in _keys()} | set(OTHER_VARIABLES))


def unknown_variable_warnings(environ: dict[str, str] | None = None) -> list[str]:
    """One line per GOVAUDIT_* variable of the environment that govaudit does not read (a
    misspelling is otherwise silently ignored), naming the closest known one and them all."""
    import difflib

    environ = dict(os.environ if environ is None else environ)
    from audit.test_hooks import TEST_VARIABLES

    known = known_variables()
    lines = []
    for name in sorted(n for n in environ if n.upper().startswith("GOVAUDIT_")):
        if name in known or name in TEST_VARIABLES:
            continue
        close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.7)
        hint = f"did you mean {close[0]}? " if close else ""
        lines.append(f"unknown variable {name} ignored ({hint}known: {', '.join(known)})")
    return lines


class ConfigError(ValueError):
    """A bad configuration: one line naming the file (or variable), line and key."""


@dataclass
class JobConfig:
    values: dict[str, Any] = field(default_factory=dict)  # dotted key -> value
    source: Path | None = None
    where: dict[str, str] = field(default_factory=dict)  # dotted key -> FILE:LINE or variable

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def crawl_overrides(self) -> dict[str, Any]:
        """The [crawl] keys given, by their settings' names (audit/crawl_settings.py)."""
        return {
            setting.name: self.values[f"crawl.{key}"]
            for key, setting in job_settings().items()
            if self.values[f"crawl.{key}"] is not None
        }


def _keys() -> dict[str, tuple[str, Any]]:
    flat: dict[str, tuple[str, Any]] = {}
    for key, spec in SCHEMA.items():
        if isinstance(spec, dict):
            flat.update({f"{key}.{k}": v for k, v in spec.items()})
        else:
            flat[key] = spec
    return flat


def env_name(key: str) -> str:
    return "GOVAUDIT_" + key.replace(".", "_").upper()


def _convert(kind: str, value: Any, base: Path | None, where: str, key: str) -> Any:
    def wrong() -> ConfigError:
        return ConfigError(f"{where}: {key} must be {TYPE_WORDS[kind]}, not {value!r}")

    from_env = isinstance(value, str) and base is None
    if kind == "crawl":
        return _crawl_value(key, value, where) if from_env else value
    if kind == "db":
        if not isinstance(value, str):
            raise wrong()
        # A relative SQLite path in the file is relative to the file, like every other path.
        if base is not None and value.startswith("sqlite:///") and value[10:11] not in ("/", ":"):
            return f"sqlite:///{os.path.normpath(base / value[10:])}"
        return value
    if kind in ("str", "path"):
        if not isinstance(value, str):
            raise wrong()
        if kind == "str":
            return value
        # normpath: logs say /srv/govaudit-run, not /srv/examples/../govaudit-run.
        return os.path.normpath((base or Path.cwd()) / Path(value).expanduser())
    if kind in ("paths", "strs"):
        # A string or a list of strings (in a variable: comma-separated).
        items = value.split(",") if isinstance(value, str) and base is None else value
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise wrong()
        texts = [i.strip() for i in items if i.strip()]
        if kind == "strs":
            return texts
        folder = base or Path.cwd()
        return [os.path.normpath(folder / Path(i).expanduser()) for i in texts]
    if kind == "date":
        import datetime as dt

        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise wrong() from None
    if kind == "level":
        if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
            raise wrong()
        return value.upper()
    if kind == "bool":
        if from_env:
            word = value.strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off"):
                return False
            raise wrong()
        if not isinstance(value, bool):
            raise wrong()
        return value
    if from_env:
        try:
            return int(value) if kind == "int" else float(value)
        except ValueError:
            raise wrong() from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong()
    if kind == "int" and not isinstance(value, int):
        raise wrong()
    return value if kind == "int" else float(value)


def _crawl_value(key: str, text: str, where: str) -> Any:
    """A crawl setting's variable as the setting's type; text that is none stays text, for
    the crawl settings' model to say what it must be."""
    kind = job_settings()[key.removeprefix("crawl.")].kind
    word = {str: "str", int: "int", float: "float", bool: "bool"}[kind]
    try:
        return _convert(word, text, None, where, key)
    except ConfigError:
        return text


def _check_crawl_settings(values: dict[str, Any], where: dict[str, str]) -> None:
    """The [crawl] settings given, checked by the crawl settings' model and stored as its
    types (an integer timeout as a number)."""
    given = {key: values[f"crawl.{key}"] for key in job_settings()}
    try:
        crawl = CrawlSettings().evolve(
            given, where=lambda key: where[f"crawl.{key}"], vocabulary="run_config"
        )
    except SettingError as exc:
        raise ConfigError(str(exc)) from None
    for key, setting in job_settings().items():
        if given[key] is not None:
            values[f"crawl.{key}"] = getattr(crawl, setting.name)


def load_config(path: Path | None, environ: dict[str, str] | None = None) -> JobConfig:
    """Defaults, then the file, then GOVAUDIT_* variables; raise ConfigError on anything bad."""
    environ = dict(os.environ if environ is None else environ)
    keys = _keys()
    values = {key: default for key, (_kind, default) in keys.items()}
    values["output"] = str(Path.cwd() / values["output"])
    where: dict[str, str] = {}
    if path is not None:
        text, data = read_toml(path, ConfigError)
        base = path.resolve().parent
        for top, value in data.items():
            spec = SCHEMA.get(top)
            items = value.items() if isinstance(spec, dict) and isinstance(value, dict) else None
            if spec is None:
                line = toml_key_line(text, [top])
                known = ", ".join(SCHEMA)
                raise ConfigError(f"{path}:{line}: unknown key {top!r} (known: {known})")
            if isinstance(spec, dict) and items is None:
                line = toml_key_line(text, [top])
                raise ConfigError(f"{path}:{line}: {top} must be a table ([{top}])")
            for key, item in items if items is not None else [(None, value)]:
                dotted = top if key is None else f"{top}.{key}"
                line = toml_key_line(text, dotted.split("."))
                if dotted not in keys:
                    known = ", ".join(k for k in keys if k.startswith(f"{top}."))
                    raise ConfigError(
                        f"{path}:{line}: unknown key {dotted!r} (known here: {known})"
                    )
                where[dotted] = f"{path}:{line}"
                values[dotted] = _convert(keys[dotted][0], item, base, where[dotted], dotted)
    for dotted, (kind, _default) in keys.items():
        name = env_name(dotted)
        if environ.get(name, "") != "":
            where[dotted] = name
            values[dotted] = _convert(kind, environ[name], None, name, dotted)
    _check_crawl_settings(values, where)
    for dotted, low in MINIMUM.items():
        if values[dotted] is not None and values[dotted] < low:
            raise ConfigError(f"{where.get(dotted, path)}: {dotted} must be at least {low}")
    if values["archive.urls"] and not values["archive.as_of"]:
        raise ConfigError(f"{where['archive.urls']}: archive.urls needs archive.as_of (a date)")
    return JobConfig(values, path, where)
