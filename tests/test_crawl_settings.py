"""The crawl settings' one model (audit/crawl_settings.py): defaults, type and bounds errors
naming where the value was given, precedence policy < run configuration < command, the form a
run stores, and the run settings every kind of run builds (govaudit/run_settings.py)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from audit.config_files import SeedError
from audit.crawl_settings import BY_NAME, CrawlSettings, SettingError, job_settings
from audit.policy_file import load_policy
from crawler.settings import scrapy_settings
from govaudit.job_config import ConfigError, load_config
from govaudit.run_settings import crawl_run_settings, run_settings
from tests.test_seeds import write


def test_defaults_are_the_fields_and_nothing_is_given() -> None:
    settings = CrawlSettings()
    assert settings.max_pages_per_site == 50 and settings.max_depth == 2
    assert settings.concurrent_requests == 64 and settings.concurrent_requests_per_host == 2
    assert settings.download_timeout == 20.0 and settings.obey_robots is True
    assert settings.max_open_units is None and settings.ca_bundle is None
    assert settings.as_stored() == {}
    assert set(settings.as_dict()) == set(BY_NAME)
    # the metadata the options and the run configuration read
    assert BY_NAME["concurrent_requests"].job_key == "concurrency"
    assert BY_NAME["ca_bundle"].in_policy is False
    assert set(job_settings()) == {
        "user_agent",
        "max_pages_per_site",
        "max_depth",
        "concurrency",
        "per_host",
        "timeout",
        "obey_robots",
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_depth": "3"}, "f.toml:7: crawl.max_depth must be an integer, not '3'"),
        ({"max_depth": True}, "f.toml:7: crawl.max_depth must be an integer, not True"),
        ({"obey_robots": 1}, "f.toml:7: crawl.obey_robots must be true or false, not 1"),
        ({"download_timeout": "x"}, "f.toml:7: crawl.download_timeout must be a number, not 'x'"),
        ({"user_agent": 5}, "f.toml:7: crawl.user_agent must be a string, not 5"),
        ({"max_depth": -1}, "f.toml:7: crawl.max_depth must be at least 0, not -1"),
        ({"retry_times": 21}, "f.toml:7: crawl.retry_times must be between 0 and 20, not 21"),
        ({"max_dept": 3}, "f.toml:7: unknown key 'crawl.max_dept' (known here: autothrottle,"),
        # only a command sets the trust roots
        ({"ca_bundle": "x.pem"}, "f.toml:7: unknown key 'crawl.ca_bundle'"),
    ],
)
def test_bad_values_name_where_and_what(values: dict[str, object], message: str) -> None:
    with pytest.raises(SettingError) as err:
        CrawlSettings.from_mapping(values, where=lambda key: "f.toml:7")
    assert str(err.value).startswith(message)


def test_the_run_configuration_vocabulary_and_its_wording() -> None:
    where = {"concurrency": "c.toml:3", "per_host": "GOVAUDIT_CRAWL_PER_HOST"}
    settings = CrawlSettings().evolve(
        {"concurrency": 8, "timeout": 5}, where=where.get, vocabulary="run_config"
    )
    assert settings.concurrent_requests == 8 and settings.download_timeout == 5.0
    assert isinstance(settings.download_timeout, float)
    with pytest.raises(SettingError, match=r"^GOVAUDIT_CRAWL_PER_HOST: crawl.per_host must be at "):
        settings.evolve({"per_host": 0}, where=where.get, vocabulary="run_config")
    # a setting's own name is no key of the run configuration
    with pytest.raises(SettingError, match=r"unknown key 'crawl\.concurrent_requests'"):
        settings.evolve({"concurrent_requests": 2}, vocabulary="run_config")


def test_the_model_checks_itself_and_is_frozen() -> None:
    with pytest.raises(SettingError, match=r"crawl\.max_pages_per_site must be at least 1, not 0"):
        CrawlSettings(max_pages_per_site=0)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        CrawlSettings().max_depth = 3  # type: ignore[misc]


def test_precedence_policy_then_run_configuration_then_command(tmp_path: Path) -> None:
    policy = load_policy(
        write(tmp_path, "p.toml", "[crawl]\nmax_depth = 4\nmax_pages_per_site = 9\n")
    )
    config = load_config(
        write(tmp_path, "c.toml", "[crawl]\nmax_depth = 3\nper_host = 1\n"),
        environ={"GOVAUDIT_CRAWL_PER_HOST": "3"},
    )
    from_policy = policy.crawl_settings
    assert (from_policy.max_depth, from_policy.max_pages_per_site) == (4, 9)
    from_job = from_policy.evolve(config.crawl_overrides())
    # the variable wins over the file, the file over the policy
    assert (from_job.max_depth, from_job.concurrent_requests_per_host) == (3, 3)
    assert from_job.max_pages_per_site == 9
    # a command's option (None: not given) over both
    from_command = from_job.evolve({"max_depth": 1, "max_pages_per_site": None})
    assert (from_command.max_depth, from_command.max_pages_per_site) == (1, 9)
    assert from_command.concurrent_requests_per_host == 3


def test_policy_and_run_configuration_errors_keep_file_and_line(tmp_path: Path) -> None:
    bad = write(tmp_path, "p.toml", "[plans]\n\n[crawl]\nmax_depth = 1\nretry_times = 99\n")
    with pytest.raises(SeedError, match=rf"^{bad}:5: crawl.retry_times must be between 0 and 20"):
        load_policy(bad)
    bad = write(tmp_path, "t.toml", "[crawl]\nmax_depth = 2\ntimeout = 0.01\n")
    with pytest.raises(ConfigError, match=rf"^{bad}:3: crawl.timeout must be at least 0.1$"):
        load_config(bad, environ={})
    with pytest.raises(ConfigError, match=r"^GOVAUDIT_CRAWL_MAX_DEPTH: crawl.max_depth must be an"):
        load_config(None, environ={"GOVAUDIT_CRAWL_MAX_DEPTH": "deep"})


def test_a_run_stores_the_settings_given_as_it_always_has(tmp_path: Path) -> None:
    policy = load_policy()
    stored = policy.crawl_settings.evolve({"ca_bundle": "/ca.pem"}).as_stored()
    # the bundled policy's keys in its order, then what the command gave
    assert list(stored) == [
        "user_agent",
        "max_pages_per_site",
        "max_depth",
        "concurrent_requests",
        "concurrent_requests_per_host",
        "download_timeout",
        "download_maxsize",
        "obey_robots",
        "retry_times",
        "autothrottle",
        "ca_bundle",
    ]
    # read back by the crawler processes, the defaults under it
    scrapy = scrapy_settings({"max_depth": 3, "concurrent_requests": 8})
    assert scrapy["CONCURRENT_REQUESTS"] == 8 and scrapy["GOVAUDIT_MAX_OPEN_UNITS"] == 32
    assert scrapy["USER_AGENT"] == CrawlSettings().user_agent


def test_every_kind_of_run_spells_the_shared_keys_alike() -> None:
    policy = load_policy()
    crawl = policy.crawl_settings
    domains = crawl_run_settings(policy, ["sites", "open"], crawl, keep_evidence=False)
    assert list(domains) == [
        "jobs",
        "crawl",
        "plans",
        "keep_evidence",
        "policy_sources",
        "selection",
        "warc",
        "warc_dir",
    ]
    assert domains["selection"] == {"domains": [], "agency": None, "limit": None}
    assert domains["warc"] is False and domains["warc_dir"] is None
    assert crawl_run_settings(policy, ["sites"], crawl, warc_dir="/w")["warc_dir"] == "/w"
    rdap = run_settings(["rdap"], crawl=crawl, rdap_url="https://r/", job_run=[4, "rdap_run"])
    assert rdap == {
        "jobs": ["rdap"],
        "crawl": crawl.as_stored(),
        "rdap_url": "https://r/",
        "job_run": [4, "rdap_run"],
    }
    assert run_settings(["dns"], dns={"timeout": 5.0}) == {"jobs": ["dns"], "dns": {"timeout": 5.0}}
    a11y = run_settings(["a11y"], a11y={"concurrency": 2}, source_run=None)
    assert a11y == {"jobs": ["a11y"], "a11y": {"concurrency": 2}, "source_run": None}
