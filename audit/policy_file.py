"""The policy file: seeds/policy.toml, with the user's --policy files laid over it.

Dates, windows and rules live here, not in code, so the same tool audits the next freeze or
the next policy. Every problem is reported as `file:line: what is wrong`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.config_files import SEEDS_DIR, SeedError, read_toml, toml_key_line
from audit.crawl_settings import CrawlSettings, SettingError


class _ValidatedElsewhere:
    """Schema marker: this part has its own validator (guideline checks name their id)."""


GUIDELINE_CHECKS = _ValidatedElsewhere()
# [crawl] is checked by the crawl settings' model (audit/crawl_settings.py).
CRAWL_SETTINGS = _ValidatedElsewhere()

# Schema of policy.toml: a dict is a table; [spec] is an array of tables; (type,) a list of type;
# "*" inside a table allows any key with that value type.
_STR_LIST = (str,)
POLICY_SCHEMA: dict[str, Any] = {
    "memo": {"name": str, "date": dt.date, "title": str, "url": str},
    "executive_order": {"name": str, "date": dt.date, "title": str, "url": str},
    "deadlines": {"senior_official": dt.date, "customer_service_plan": dt.date},
    "freeze": {
        "federal_only": bool,
        "windows": [{"name": str, "start": dt.date, "end": dt.date, "authority": str, "note": str}],
    },
    "plans": {
        "open_paths": _STR_LIST,
        "candidate_patterns": _STR_LIST,
        "required_elements": _STR_LIST,
        "elements": {"*": _STR_LIST},
        "max_document_bytes": int,
        "follow_depth": int,
        "soft_404_threshold": float,
        "inline_min_elements": int,
    },
    "crawl": CRAWL_SETTINGS,
    "rdap": {"bootstrap_file": str, "base_url": str},
    # `crawl --archive`: how far from the as-of date a capture may be, and how gently the
    # archive (one host) is asked.
    "archive": {
        "window_days": int,
        "far_days": int,
        "concurrent_requests": int,
        "requests_per_second": float,
        "cdx_limit": int,
    },
    "email": {
        "directive": str,
        "url": str,
        "dmarc_policy": str,
        "dmarc_pct": int,
        "report_addresses": _STR_LIST,
        "subdomain_policy": bool,
    },
    "inventory": {"max_shrink": float},
    "guidelines": {
        "name": str,
        "title": str,
        "date": dt.date,
        "url": str,
        "checks": GUIDELINE_CHECKS,
    },
}
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    dt.date: "a date (YYYY-MM-DD, unquoted)",
}


# Ranges of numeric settings: (minimum, maximum), None for no bound ([crawl]'s are the crawl
# settings model's). A negative follow depth or a threshold above 1 means nothing.
BOUNDS: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("plans", "max_document_bytes"): (1024, None),
    ("plans", "follow_depth"): (0, 5),
    ("plans", "soft_404_threshold"): (0.0, 1.0),
    ("plans", "inline_min_elements"): (1, None),
    ("inventory", "max_shrink"): (0.0, 1.0),
    ("archive", "window_days"): (0, 3660),
    ("archive", "far_days"): (0, None),
    ("archive", "concurrent_requests"): (1, 16),
    ("archive", "requests_per_second"): (0.01, 100.0),
    ("archive", "cdx_limit"): (1, None),
    ("email", "dmarc_pct"): (0, 100),
}


# Settings that take one of a few words.
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("email", "dmarc_policy"): ("none", "quarantine", "reject"),
}


def _check(value: Any, spec: Any, path: list[str | int], fail: Any) -> None:
    if isinstance(spec, _ValidatedElsewhere):
        return
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            fail(path, "must be a table")
        for k, v in value.items():
            if k in spec:
                _check(v, spec[k], [*path, k], fail)
            elif "*" in spec:
                _check(v, spec["*"], [*path, k], fail)
            else:
                known = ", ".join(sorted(k2 for k2 in spec if k2 != "*"))
                fail(
                    [*path, k],
                    f"unknown key {'.'.join(map(str, [*path, k]))!r} (known here: {known})",
                )
    elif isinstance(spec, list):
        if not isinstance(value, list):
            fail(path, "must be an array of tables ([[...]])")
        for i, item in enumerate(value):
            _check(item, spec[0], [*path, i], fail)
    elif isinstance(spec, tuple):
        if not isinstance(value, list):
            fail(path, "must be a list")
        for i, item in enumerate(value):
            _check(item, spec[0], [*path, i], fail)
    else:
        ok = isinstance(value, spec) and not (spec is int and isinstance(value, bool))
        if spec is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if spec is dt.date and isinstance(value, dt.datetime):
            ok = False
        if not ok:
            fail(
                path,
                f"{'.'.join(map(str, path))} must be {_TYPE_NAMES.get(spec, spec)}, not {value!r}",
            )


def _read_policy_file(path: Path) -> tuple[str, dict[str, Any]]:
    text, data = read_toml(path)

    def fail(where: list[str | int], message: str) -> None:
        raise SeedError(f"{path}:{toml_key_line(text, where)}: {message}")

    _check(data, POLICY_SCHEMA, [], fail)
    _check_crawl_settings(path, text, data)
    _check_guideline_checks(path, text, data)
    for (table, key), (low, high) in BOUNDS.items():
        value = data.get(table, {}).get(key)
        if value is None:
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"at least {low}" if high is None else f"between {low} and {high}"
            fail([table, key], f"{table}.{key} must be {span}, not {value!r}")
    for (table, key), words in CHOICES.items():
        value = data.get(table, {}).get(key)
        if value is not None and value not in words:
            fail([table, key], f"{table}.{key} must be one of {', '.join(words)}, not {value!r}")
    return text, data


def _check_crawl_settings(path: Path, text: str, data: dict[str, Any]) -> None:
    """[crawl], by the one model of the crawl's settings, naming the file and line."""
    section = data.get("crawl")
    if section is None:
        return
    if not isinstance(section, dict):
        raise SeedError(f"{path}:{toml_key_line(text, ['crawl'])}: must be a table")
    try:
        CrawlSettings.from_mapping(
            section, where=lambda key: f"{path}:{toml_key_line(text, ['crawl', key])}"
        )
    except SettingError as exc:
        raise SeedError(str(exc)) from None


SEVERITIES = ("low", "medium", "high")
SITE_STATUSES = ("active", "redirect", "error", "unreachable", "parked")
# What a guideline check judges: registered domains (their www. and bare hosts as one site)
# and websites (every host of the inventory, `govaudit guidelines --level websites`).
CHECK_LEVELS = ("domains", "websites")
_CHECK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# Keys every check has (beside its predicate's arguments): key -> (kind, required).
_CHECK_KEYS: dict[str, tuple[str, bool]] = {
    "id": ("str", True),
    "title": ("str", True),
    "source": ("str", True),
    "severity": ("str", True),
    "test": ("str", True),
    "applies_to": ("list", False),
    "levels": ("list", False),
    "description": ("str", False),
}


@dataclass(frozen=True)
class GuidelineCheck:
    """One `[[guidelines.checks]]` entry, validated: its predicate (`test`) and arguments."""

    id: str
    title: str
    source: str
    severity: str
    test: str
    args: dict[str, Any]
    applies_to: tuple[str, ...] = ("active",)
    description: str = ""
    levels: tuple[str, ...] = CHECK_LEVELS

    @property
    def rule(self) -> str:
        return f"guideline:{self.id}"

    def definition(self) -> dict[str, Any]:
        """What the check judges (two checks with equal definitions judge alike)."""
        return {
            "test": self.test,
            "applies_to": list(self.applies_to),
            "levels": list(self.levels),
            **self.args,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "severity": self.severity,
            "description": self.description,
            **self.definition(),
        }


def _validate_check_entry(entry: Any, where: str, nested: bool, problem: Any) -> dict[str, Any]:
    """Validate one check (or one `of` member of an any_of check); `problem(key, message)`
    raises. Returns the predicate's arguments with defaults filled in."""
    from audit.guideline_predicates import PREDICATES

    if not isinstance(entry, dict):
        problem(None, f"{where} must be a table")
    keys = {"test": ("str", True)} if nested else _CHECK_KEYS
    for key, (_kind, required) in keys.items():
        if required and key not in entry:
            problem(key, f"missing key {key!r}")
    test = entry["test"]
    if not isinstance(test, str) or test not in PREDICATES:
        known = ", ".join(sorted(PREDICATES))
        problem("test", f"unknown predicate {test!r} (known: {known})")
    predicate = PREDICATES[test]
    for key, value in entry.items():
        if key in keys:
            kind = keys[key][0]
            if kind == "str" and not isinstance(value, str):
                problem(key, f"must be a string, not {value!r}")
            continue
        if key not in predicate.params:
            known = ", ".join(sorted(predicate.params)) or "none"
            problem(key, f"unknown key {key!r} (arguments of {test}: {known})")
    args: dict[str, Any] = {}
    for key, param in predicate.params.items():
        if key not in entry:
            if param.required:
                problem(key, f"missing key {key!r} (required by {test})")
            if param.default is not None:
                args[key] = param.default
            continue
        value = entry[key]
        if param.kind == "patterns":
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and v for v in value)
            ):
                problem(key, f"must be a non-empty list of regular expressions, not {value!r}")
            for pattern in value:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    problem(key, f"bad regular expression {pattern!r} ({exc})")
            args[key] = list(value)
        elif param.kind == "str":
            if not isinstance(value, str) or not value:
                problem(key, f"must be a non-empty string, not {value!r}")
            args[key] = value
        elif param.kind == "int":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problem(key, f"must be a whole number >= 0, not {value!r}")
            args[key] = value
        elif param.kind == "bool":
            if not isinstance(value, bool):
                problem(key, f"must be true or false, not {value!r}")
            args[key] = value
        elif param.kind == "choice":
            if value not in param.choices:
                problem(key, f"must be one of {', '.join(param.choices)}, not {value!r}")
            args[key] = value
        elif param.kind == "checks":
            if nested:
                problem(key, "any_of cannot be nested")
            if not isinstance(value, list) or not value:
                problem(key, "must be a non-empty list of inline tables {test = ...}")
            members = []
            for i, member in enumerate(value):
                member_args = _validate_check_entry(
                    member,
                    f"{key}[{i}]",
                    True,
                    lambda sub, message, i=i, key=key: problem(
                        key, f"{key}[{i}]" + (f".{sub}" if sub else "") + f": {message}"
                    ),
                )
                members.append({"test": member["test"], **member_args})
            args[key] = members
    if "path" in args and not str(args["path"]).startswith("/"):
        problem("path", f"must start with '/', not {args['path']!r}")
    return args


def _check_guideline_checks(path: Path, text: str, data: dict[str, Any]) -> None:
    """Every problem names the file, the line, the check id and the key."""
    checks = data.get("guidelines", {}).get("checks")
    if checks is None:
        return
    if not isinstance(checks, list):
        line = toml_key_line(text, ["guidelines", "checks"])
        raise SeedError(f"{path}:{line}: guidelines.checks must be an array of tables")
    seen: dict[str, int] = {}
    for i, entry in enumerate(checks):
        ident = entry.get("id") if isinstance(entry, dict) else None
        name = repr(ident) if isinstance(ident, str) else f"#{i + 1} (no id)"

        def problem(key: str | None, message: str, i: int = i, name: str = name) -> None:
            where = ["guidelines", "checks", i, key or "id"]
            key_part = f" key {key!r}:" if key else ""
            raise SeedError(
                f"{path}:{toml_key_line(text, where)}: guideline check {name}:{key_part} {message}"
            )

        entry_args = _validate_check_entry(entry, f"guideline check {name}", False, problem)
        if not _CHECK_ID.match(ident):
            problem("id", "must be 1-40 characters of a-z, 0-9 and - (it names findings)")
        if ident in seen:
            problem("id", f"id already used by check #{seen[ident] + 1}")
        seen[ident] = i
        if entry["severity"] not in SEVERITIES:
            problem("severity", f"must be low, medium or high, not {entry['severity']!r}")
        applies = entry.get("applies_to", ["active"])
        if (
            not isinstance(applies, list)
            or not applies
            or any(a not in SITE_STATUSES for a in applies)
        ):
            problem(
                "applies_to",
                f"must be a non-empty list of site statuses ({', '.join(SITE_STATUSES)}), "
                f"not {applies!r}",
            )
        levels = entry.get("levels", list(CHECK_LEVELS))
        if (
            not isinstance(levels, list)
            or not levels
            or any(level not in CHECK_LEVELS for level in levels)
        ):
            problem(
                "levels",
                f"must be a non-empty list of {', '.join(CHECK_LEVELS)}, not {levels!r}",
            )
        del entry_args


def _overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Keys of `top` replace those of `base`; tables merge; a list replaces the whole list."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class FreezeWindow:
    name: str
    start: dt.date
    end: dt.date
    authority: str
    note: str = ""

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Policy:
    data: dict[str, Any]
    sources: tuple[str, ...]
    checks_source: str | None = None  # the file the guideline checks in force come from

    @property
    def sha256(self) -> str:
        blob = json.dumps(self.data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()

    @property
    def windows(self) -> list[FreezeWindow]:
        return [
            FreezeWindow(w["name"], w["start"], w["end"], w.get("authority", ""), w.get("note", ""))
            for w in self.data.get("freeze", {}).get("windows", [])
        ]

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.data.get(name, {}))

    @property
    def crawl_settings(self) -> CrawlSettings:
        """[crawl] as the crawl's settings (checked when each file was read)."""
        return CrawlSettings.from_mapping(
            self.data.get("crawl", {}), where=lambda key: self.sources[-1]
        )

    @property
    def plan_deadline(self) -> dt.date | None:
        return self.data.get("deadlines", {}).get("customer_service_plan")

    def as_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.data, default=str))

    @property
    def guideline_checks(self) -> list[GuidelineCheck]:
        """The guideline checks in force (validated when the policy was loaded)."""
        return [
            GuidelineCheck(
                id=c["id"],
                title=c["title"],
                source=c["source"],
                severity=c["severity"],
                test=c["test"],
                args=_validate_check_entry(c, c["id"], False, _already_validated),
                applies_to=tuple(c.get("applies_to", ["active"])),
                description=c.get("description", ""),
                levels=tuple(c.get("levels", CHECK_LEVELS)),
            )
            for c in self.data.get("guidelines", {}).get("checks", [])
        ]

    @property
    def guideline_pack(self) -> dict[str, Any]:
        """The guideline set's name, title, date and URL, and the file its checks come from."""
        found = {k: v for k, v in self.data.get("guidelines", {}).items() if k != "checks"}
        return {**json.loads(json.dumps(found, default=str)), "file": self.checks_source}


def _already_validated(key: str | None, message: str) -> None:
    raise SeedError(f"guideline check: {key}: {message}")


def load_policy(
    override: Path | None = None, base: Path | None = None, more: Sequence[Path] = ()
) -> Policy:
    """seeds/policy.toml (or `base`), with `override` and then each of `more` laid over it."""
    base = base or SEEDS_DIR / "policy.toml"
    base_text, data = _read_policy_file(base)
    sources = [str(base)]
    texts = {str(base): (base_text, data)}
    checks_source = str(base) if "checks" in data.get("guidelines", {}) else None
    for layer in [p for p in (override, *more) if p is not None]:
        top_text, top = _read_policy_file(layer)
        data = _overlay(data, top)
        if "checks" in top.get("guidelines", {}):
            # A file with its own checks is a guideline set of its own: the name, title and
            # date of the set below it do not describe it.
            data["guidelines"] = dict(top["guidelines"])
        sources.append(str(layer))
        texts[str(layer)] = (top_text, top)
        if "checks" in top.get("guidelines", {}):
            checks_source = str(layer)
    # Semantic checks name the file that set the value.
    windows = data.get("freeze", {}).get("windows", [])
    owner = next(
        (s for s in reversed(sources) if "windows" in texts[s][1].get("freeze", {})), sources[0]
    )
    owner_text = texts[owner][0]
    names: set[str] = set()
    for i, w in enumerate(windows):
        for required in ("name", "start", "end"):
            if required not in w:
                line = toml_key_line(owner_text, ["freeze", "windows", i, "name"])
                raise SeedError(f"{owner}:{line}: freeze window #{i + 1} has no {required!r}")
        if w["end"] < w["start"]:
            line = toml_key_line(owner_text, ["freeze", "windows", i, "end"])
            raise SeedError(
                f"{owner}:{line}: freeze window {w['name']!r} ends ({w['end']}) before it "
                f"starts ({w['start']})"
            )
        if w["name"] in names:
            line = toml_key_line(owner_text, ["freeze", "windows", i, "name"])
            raise SeedError(f"{owner}:{line}: two freeze windows are named {w['name']!r}")
        names.add(w["name"])
    plans = data.get("plans", {})
    for name in plans.get("required_elements", []):
        if name not in plans.get("elements", {}):
            raise SeedError(
                f"{sources[-1]}:"
                f"{toml_key_line(texts[sources[-1]][0], ['plans', 'required_elements'])}: "
                f"required element {name!r} has no patterns in [plans.elements]"
            )
    for src in sources:
        src_text, src_data = texts[src]
        for group, patterns in [
            ("candidate_patterns", src_data.get("plans", {}).get("candidate_patterns", [])),
            *[
                (f"elements.{k}", v)
                for k, v in src_data.get("plans", {}).get("elements", {}).items()
            ],
        ]:
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    line = toml_key_line(src_text, ["plans", *group.split(".")])
                    raise SeedError(
                        f"{src}:{line}: bad regular expression {pattern!r} ({exc})"
                    ) from exc
    return Policy(data=data, sources=tuple(sources), checks_source=checks_source)
