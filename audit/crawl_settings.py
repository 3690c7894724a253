"""The crawl's settings as one model: `CrawlSettings`, a frozen attrs class with one typed
field per setting (its default, bounds, help, and the names the run configuration and
`govaudit crawl` give it), which validates every value it is given.

Built from the policy's `[crawl]` section (audit/policy_file.py), overridden by `govaudit
run`'s `[crawl]` table (govaudit/job_config.py) and by `govaudit crawl`'s options
(govaudit/commands/crawl.py), always through `CrawlSettings.evolve`, whose errors name the
file and line (or variable, or option) of the bad value. crawler/settings.py turns it into
Scrapy's settings. A field's name is the key everywhere a run's settings are stored
(`crawl_run.settings["crawl"]`, `as_stored()`) and in the policy.

"Concurrency" is said of two things in govaudit's public words, and only there: the run
configuration's `[crawl] concurrency` and `crawl --concurrency` are `concurrent_requests`
(requests in flight in one crawler process), while `govaudit worker --concurrency` is how
many batches (crawler processes) one worker runs at once (`parallel_batches` inside).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

# How each vocabulary names a setting: the policy's [crawl] and stored runs by the field's
# name (`policy`: only the fields settable there), `govaudit run`'s [crawl] by `job_key`,
# code (commands, the website crawl) by the field's name.
Vocabulary = Literal["policy", "run_config", "name"]

TYPE_WORDS = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


class SettingError(ValueError):
    """A bad crawl setting: one line naming where it was given, the key and what is wrong."""


@attrs.frozen
class SettingInfo:
    """What consumers other than the model need to know of a setting (the field's metadata)."""

    name: str
    kind: type
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    # the key of `govaudit run`'s [crawl] table (None: not settable there)
    job_key: str | None = None
    # settable in the policy's [crawl] (False: only by a command, e.g. --ca-bundle)
    in_policy: bool = True

    def key_in(self, vocabulary: Vocabulary) -> str | None:
        if vocabulary == "run_config":
            return self.job_key
        if vocabulary == "policy" and not self.in_policy:
            return None
        return self.name

    def checked(self, value: Any, label: str, where: str, says_value: bool = True) -> Any:
        """`value` if it is of the setting's type and within its bounds (an integer given for
        a number becomes a float), else SettingError `where: label must be ...`."""
        ok = isinstance(value, self.kind) and not (self.kind is int and isinstance(value, bool))
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if value is not None and not ok:
            raise SettingError(f"{where}: {label} must be {TYPE_WORDS[self.kind]}, not {value!r}")
        low, high = self.minimum, self.maximum
        if value is not None and (
            (low is not None and value < low) or (high is not None and value > high)
        ):
            span = f"at least {low}" if high is None else f"between {low} and {high}"
            # The run configuration words every minimum of its own without the value.
            shown = f", not {value!r}" if says_value else ""
            raise SettingError(f"{where}: {label} must be {span}{shown}")
        return value


def _setting(
    default: Any,
    kind: type,
    help: str,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    job_key: str | None = None,
    in_policy: bool = True,
    optional: bool = False,
) -> Any:
    """A field of CrawlSettings: its default, its metadata, a validator of type and bounds
    (`optional`: None is a value, "not set")."""
    info = {"kind": kind, "default": default, "help": help, "minimum": minimum}
    info |= {"maximum": maximum, "job_key": job_key, "in_policy": in_policy}

    def validate(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is None and optional:
            return
        setting = SettingInfo(attribute.name, **info)
        setting.checked(value, f"crawl.{attribute.name}", "crawl settings")

    return attrs.field(default=default, validator=validate, metadata={"setting": info})


@attrs.frozen(kw_only=True)
class CrawlSettings:
    """One crawl's settings. `given`: the settings set by the policy, the run configuration
    or a command (a run stores those, as it always has: `as_stored`)."""

    user_agent: str = _setting(
        "govaudit/0.1 (+https://github.com/govaudit/govaudit)",
        str,
        "User-Agent header",
        job_key="user_agent",
    )
    max_pages_per_site: int = _setting(
        50, int, "Pages crawled per site at most", 1, job_key="max_pages_per_site"
    )
    max_depth: int = _setting(2, int, "Links followed from the homepage", 0, job_key="max_depth")
    concurrent_requests: int = _setting(
        64, int, "Requests in flight per crawler process", 1, job_key="concurrency"
    )
    concurrent_requests_per_host: int = _setting(
        2, int, "Requests in flight per host", 1, job_key="per_host"
    )
    download_timeout: float = _setting(
        20.0, float, "Download timeout, seconds", 0.1, job_key="timeout"
    )
    download_maxsize: int = _setting(10 * 1024 * 1024, int, "Largest response, bytes", 1024)
    obey_robots: bool = _setting(True, bool, "Obey robots.txt", job_key="obey_robots")
    retry_times: int = _setting(2, int, "Retries of a failed request", 0, 20)
    autothrottle: bool = _setting(True, bool, "Slow down for slow hosts (Scrapy's AutoThrottle)")
    # None: 4 x concurrent_requests
    max_open_units: int | None = _setting(
        None, int, "Units (domains, agencies) open at once in one process", 1, optional=True
    )
    ca_bundle: str | None = _setting(
        None,
        str,
        "PEM certificates to trust besides the system's",
        in_policy=False,
        optional=True,
    )
    # 0: off, each registered domain then has one download slot; the website crawl sets it
    # (crawler/domain_limit.py)
    concurrent_requests_per_domain: int = _setting(
        0, int, "Requests in flight to all hosts of one registered domain", 0, in_policy=False
    )
    given: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset, repr=False)

    @classmethod
    def from_mapping(
        cls,
        values: Mapping[str, Any],
        *,
        where: Callable[[str], str],
        vocabulary: Vocabulary = "policy",
    ) -> CrawlSettings:
        """The defaults with `values` laid over them (see `evolve`)."""
        return cls().evolve(values, where=where, vocabulary=vocabulary)

    def evolve(
        self,
        values: Mapping[str, Any],
        *,
        where: Callable[[str], str] = lambda key: "crawl settings",
        vocabulary: Vocabulary = "name",
    ) -> CrawlSettings:
        """These settings with `values` (keys in `vocabulary`; None: not given) laid over
        them, each checked; a bad one is SettingError `where(key): crawl.KEY must be ...`."""
        keys = {s.key_in(vocabulary): s for s in SETTINGS}
        keys.pop(None, None)
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if value is None:
                continue
            setting = keys.get(key)
            if setting is None:
                known = ", ".join(sorted(str(k) for k in keys))
                raise SettingError(
                    f"{where(key)}: unknown key {f'crawl.{key}'!r} (known here: {known})"
                )
            changes[setting.name] = setting.checked(
                value, f"crawl.{key}", where(key), says_value=vocabulary != "run_config"
            )
        return attrs.evolve(self, **changes, given=self.given | changes.keys())

    def as_stored(self) -> dict[str, Any]:
        """The form a run stores (`crawl_run.settings["crawl"]`): the settings given, by name.
        crawler/settings.py reads it back with the defaults under it."""
        return {s.name: getattr(self, s.name) for s in SETTINGS if s.name in self.given}

    def as_dict(self) -> dict[str, Any]:
        """Every setting, by name."""
        return {s.name: getattr(self, s.name) for s in SETTINGS}


SETTINGS: tuple[SettingInfo, ...] = tuple(
    SettingInfo(f.name, **f.metadata["setting"])
    for f in attrs.fields(CrawlSettings)
    if "setting" in f.metadata
)
BY_NAME = {s.name: s for s in SETTINGS}


def policy_keys() -> list[str]:
    """The keys the policy's [crawl] section may have."""
    return [s.name for s in SETTINGS if s.in_policy]


def job_settings() -> dict[str, SettingInfo]:
    """The run configuration's [crawl] key -> the setting it sets."""
    return {s.job_key: s for s in SETTINGS if s.job_key is not None}
