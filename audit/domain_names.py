"""Normalising and validating .gov domain names.

tldextract is built with its bundled Public Suffix List snapshot (``suffix_list_urls=()``) so
that nothing here ever reaches for the network.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import idna

if TYPE_CHECKING:
    from tldextract import TLDExtract


@lru_cache(maxsize=1)
def _extractor() -> TLDExtract:
    # Imported on first use: tldextract imports requests (a third of a second of start-up),
    # and registry loads rarely need it (see _plain_gov_name).
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class DomainError(ValueError):
    """A name that is not a registrable .gov domain; the message says why."""


def normalise_host(raw: str) -> str:
    """A host name as browsers read it: trimmed, without its trailing dot, mapped by UTS #46
    (non-transitional, without the STD3 rules, as the WHATWG URL Standard does) and encoded
    to ASCII (IDNA A-labels).

    Where IDNA 2003 (Python's `idna` codec) and UTS #46 differ, this follows the browsers: ß
    and final ς are kept (`faß.gov` is `xn--fa-hia.gov`, not `fass.gov`), zero-width
    joiners are kept where IDNA 2008 allows them (after a virama) and refused elsewhere
    rather than silently dropped (`local\u200dhost` is no host, not `localhost`), ẞ maps to
    ß. Fullwidth and ideographic dots separate labels in both. Labels must also pass IDNA
    2008 (the `idna` package): symbols and emoji that some browsers still accept are
    refused, the safe side for a gate that decides what may be fetched.
    """
    text = raw.strip()
    name = text.rstrip(".")
    if not name:
        raise DomainError("empty domain name")
    if any(ch.isspace() for ch in name):
        raise DomainError(f"{text!r} contains white space")
    if name.isascii() and "xn--" not in name.lower():
        # Plain ASCII (nearly every name): UTS #46 only lower-cases it.
        name = name.lower()
        _check_label_lengths(name, text)
        return name
    try:
        mapped = idna.uts46_remap(name, std3_rules=False, transitional=False).rstrip(".")
        _check_label_lengths(mapped, text)
        return ".".join(
            # An ASCII label is as the mapping left it (browsers allow `_` and `--`, which
            # IDNA 2008 labels may not have); an A-label (xn--) is decoded and checked.
            label
            if label.isascii() and not label.startswith("xn--")
            else idna.alabel(label).decode("ascii")
            for label in mapped.split(".")
        )
    except idna.IDNAError as exc:
        raise DomainError(f"{text!r} is not a valid IDNA name ({exc})") from exc


def _check_label_lengths(name: str, text: str) -> None:
    if any(not label or len(label) > 63 for label in name.split(".")):
        raise DomainError(f"{text!r} is not a valid IDNA name (label empty or too long)")


FED_US = "fed.us"


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """The registrable domain (eTLD+1) of a host name, or "" when it has none.

    `fed.us` counts as a suffix: the .gov registry delegated names under it to agencies
    (`fs.fed.us`, `treasury.fed.us`) as it does under .gov, though the Public Suffix List
    does not list it.
    """
    labels = host.lower().rstrip(".").split(".")
    if len(labels) >= 3 and labels[-2:] == ["fed", "us"]:
        return ".".join(labels[-3:])
    ext = _extractor()(host)
    return ext.top_domain_under_public_suffix


def suffix_of(host: str) -> str:
    return _extractor()(host).suffix


def is_ip_literal(host: str) -> bool:
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def domain_kind(name: str) -> str:
    """`fed.us` for a registry domain under fed.us, else `gov`."""
    return FED_US if name == FED_US or name.endswith("." + FED_US) else "gov"


# One plain label directly under .gov: nearly every registry row. Every check of
# normalise_gov_domain passes for such a name (UTS #46 leaves lower-case ASCII as it is, an
# A-label excepted, which it decodes and checks; not an IP; allowed characters; suffix gov,
# registrable), so it skips the IDNA mapping, the IP parse and two suffix-list look-ups,
# which were most of the CPU of loading a registry file.
_PLAIN_GOV = re.compile(r"(?!-)(?!xn--)[a-z0-9-]{1,63}(?<!-)\.gov")


@lru_cache(maxsize=1)
def _suffix_list_has_rules_under_gov() -> bool:
    """Whether the Public Suffix List names anything under gov (then `x.gov` could itself be
    a suffix, and the short cut would not hold).

    Read from the snapshot file tldextract ships (the list _extractor uses), so that the
    short cut does not import tldextract; counting its private section too can only turn
    the short cut off. Without that file, tldextract is asked."""
    spec = importlib.util.find_spec("tldextract")
    origin = spec.origin if spec is not None else None
    snapshot = Path(origin).parent / ".tld_set_snapshot" if origin else None
    try:
        rules = snapshot.read_text(encoding="utf-8").splitlines() if snapshot else None
    except OSError:
        rules = None
    if not rules:
        rules = _extractor().tlds
    return any(rule.strip().endswith(".gov") for rule in rules)


def _plain_gov_name(raw: str) -> str | None:
    name = raw.strip().rstrip(".").lower()
    if _PLAIN_GOV.fullmatch(name) is None or _suffix_list_has_rules_under_gov():
        return None
    return name


def normalise_registry_domain(raw: str) -> str:
    """A registry row's domain: a .gov domain, or one the registry administered under fed.us.

    The 2014-2022 federal exports list `FS.FED.US`, `TREASURY.FED.US`... (and `FED.US`
    itself): domains of the snapshot of kind `fed.us`, not invalid rows.
    """
    plain = _plain_gov_name(raw)
    if plain is not None:
        return plain
    name = normalise_host(raw)
    labels = name.split(".")
    if labels[-2:] == ["fed", "us"] and len(labels) <= 3:
        _check_labels(name)
        return name
    return normalise_gov_domain(raw)


def _check_labels(name: str) -> None:
    for label in name.split("."):
        if not label or len(label) > 63:
            raise DomainError(f"{name!r} has an empty or over-long label")
        if label.startswith("-") or label.endswith("-"):
            raise DomainError(f"{name!r} has a label starting or ending with '-'")
        if not all(ch.isalnum() or ch == "-" for ch in label):
            raise DomainError(f"{name!r} has a character not allowed in a host name")


def normalise_gov_domain(raw: str) -> str:
    """Normalise a registry domain and check that it is a registrable name directly under .gov.

    Raises DomainError with a one-line reason otherwise (``fs.fed.us`` is not .gov,
    ``www.usda.gov`` is a host, not a registrable domain).
    """
    plain = _plain_gov_name(raw)
    if plain is not None:
        return plain
    name = normalise_host(raw)
    if is_ip_literal(name):
        raise DomainError(f"{name!r} is an IP address, not a domain")
    _check_labels(name)
    if suffix_of(name) != "gov":
        raise DomainError(f"{name!r} is not under .gov")
    if registrable_domain(name) != name:
        raise DomainError(f"{name!r} is not a registrable .gov domain (second level only)")
    return name
