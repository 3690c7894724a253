"""Guideline check definitions: the packs load; a bad definition is refused with one line
naming the file, the line, the check id and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.config_files import SEEDS_DIR, SeedError
from audit.policy_file import load_policy
from tests.conftest import CliCall

GOOD = """[[guidelines.checks]]
id = "privacy-link"
title = "Homepage links to a privacy policy"
source = "OMB M-23-22, section III"
severity = "medium"
applies_to = ["active"]
test = "homepage_links_to"
patterns = ["privacy"]
"""


def test_the_bundled_packs_load() -> None:
    default = load_policy()
    ids = [c.id for c in default.guideline_checks]
    assert "link-privacy" in ids and "hsts" in ids and len(ids) == len(set(ids))
    pack = load_policy(SEEDS_DIR / "policies" / "m-23-22.toml")
    checks = {c.id: c for c in pack.guideline_checks}
    # the M-23-22 requirements a crawler can check, each with its source
    for wanted in (
        "https-valid",
        "hsts",
        "dap",
        "site-search",
        "uswds-banner",
        "mobile-viewport",
        "privacy-link",
        "accessibility-link",
        "foia-link",
        "no-fear-link",
        "inspector-general-link",
        "usa-gov-link",
        "budget-performance-link",
        "contact-link",
        "vulnerability-disclosure",
        "sitemap",
        "robots-allows-site",
    ):
        assert checks[wanted].source.startswith("OMB M-23-22"), wanted
    assert pack.guideline_pack["name"] == "OMB M-23-22"
    assert pack.checks_source and pack.checks_source.endswith("m-23-22.toml")
    assert checks["hsts"].args["min_max_age"] == 31536000


def test_a_draft_replaces_the_checks_and_their_set_name(tmp_path: Path) -> None:
    draft = tmp_path / "draft.toml"
    draft.write_text(GOOD, encoding="utf-8")
    policy = load_policy(draft)
    assert [c.id for c in policy.guideline_checks] == ["privacy-link"]
    assert "name" not in policy.guideline_pack and policy.checks_source == str(draft)
    assert policy.guideline_checks[0].rule == "guideline:privacy-link"


@pytest.mark.parametrize(
    ("change", "line", "key", "words"),
    [
        (('test = "homepage_links_to"', 'test = "homepage_link"'), 7, "test", "unknown predicate"),
        (('title = "Homepage links to a privacy policy"\n', ""), 1, "title", "missing key"),
        (('patterns = ["privacy"]', 'patterns = ["privacy("]'), 8, "patterns", "bad regular"),
        (('severity = "medium"', 'severity = "urgent"'), 5, "severity", "low, medium or high"),
        (('patterns = ["privacy"]', ""), 1, "patterns", "missing key"),
        (('patterns = ["privacy"]', 'patterns = ["p"]\nfile = "x"'), 9, "file", "unknown key"),
        (('applies_to = ["active"]', 'applies_to = ["alive"]'), 6, "applies_to", "site statuses"),
    ],
)
def test_a_bad_check_names_file_line_check_and_key(
    tmp_path: Path, change: tuple[str, str], line: int, key: str, words: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(SeedError) as caught:
        load_policy(bad)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{bad}:{line}: guideline check 'privacy-link': key '{key}':")
    assert words in message


def test_a_bad_member_of_any_of_names_its_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        GOOD.replace('test = "homepage_links_to"\npatterns = ["privacy"]', 'test = "any_of"\n')
        + 'of = [{ test = "file_present", file = "humans.txt" }]\n',
        encoding="utf-8",
    )
    with pytest.raises(SeedError, match=r"key 'of': of\[0\]\.file: must be one of"):
        load_policy(bad)


def test_the_cli_refuses_a_bad_draft_with_one_line(tmp_path: Path, cli_run: CliCall) -> None:
    bad = tmp_path / "draft.toml"
    bad.write_text(GOOD.replace("homepage_links_to", "links_everywhere"), encoding="utf-8")
    for command in (["guidelines", "--policy", str(bad)], ["audit", "--policy", str(bad)]):
        result = cli_run(*command)
        assert result.exit_code == 2
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output
        assert f"{bad}:7: guideline check 'privacy-link': key 'test': unknown predicate" in lines[0]
    missing_id = tmp_path / "noid.toml"
    missing_id.write_text(GOOD.replace('id = "privacy-link"\n', ""), encoding="utf-8")
    result = cli_run("guidelines", "--policy", str(missing_id))
    assert result.exit_code == 2 and "guideline check #1 (no id): key 'id': missing key" in (
        result.output
    )


def test_guidelines_without_a_crawl_says_what_to_run(cli_run: CliCall) -> None:
    result = cli_run("guidelines")
    assert result.exit_code == 2 and "govaudit crawl" in result.output
