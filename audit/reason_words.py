"""Status reasons in words: the pieces of the sentences `plan_status` and `site_status` write.

A reason is read once, by a person: "/open and /open/ answer 404 on all four endpoints (www
and bare, https and http)", "the plan link answered 503 three times". Every URL with its answer
stays in the evidence; a reason names the endpoints of a domain by what they are (www or bare,
https or http) and counts in words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

# How each failure reads: (present singular, present plural, past). The subject is a URL,
# a path, a link or a set of endpoints.
_VERBS: dict[str, tuple[str, str, str]] = {
    "timeout": ("times out", "time out", "timed out"),
    "refused": ("refuses the connection", "refuse the connection", "refused the connection"),
    "dns": ("has no DNS address", "have no DNS address", "had no DNS address"),
    "tls": ("fails the TLS handshake", "fail the TLS handshake", "failed the TLS handshake"),
    "robots": (
        "is forbidden by robots.txt",
        "are forbidden by robots.txt",
        "was forbidden by robots.txt",
    ),
    "refused-url": ("is refused by the crawler", "are refused by the crawler", "was refused"),
    "soft-404": (
        "answers with the site's page for any address (a soft 404)",
        "answer with the site's page for any address (a soft 404)",
        "answered with the site's page for any address (a soft 404)",
    ),
    "homepage": ("leads to the homepage", "lead to the homepage", "led to the homepage"),
    "left-scope": (
        "leads off the agency's domains",
        "lead off the agency's domains",
        "led off the agency's domains",
    ),
}


def number(n: int) -> str:
    """ "one" ... "ten", then digits."""
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{number(n)} times")


def plural(n: int, word: str, words: str | None = None) -> str:
    return word if n == 1 else (words or word + "s")


def join(items: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    parts = [p for p in items if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def outcome(verdict: str, many: bool = False, attempts: int = 1) -> str:
    """How a fetch ended, as a verb phrase: "answers 404", "time out", "answered 503 three
    times". ``verdict``: "http-N" or an HTTP status as a string, an error kind (timeout,
    refused, dns, tls, robots), "error:KIND", soft-404, homepage, left-scope."""
    kind = verdict.removeprefix("error:")
    code = kind.removeprefix("http-")
    if code.isdigit():
        forms = (f"answers {code}", f"answer {code}", f"answered {code}")
    elif code == "None":
        forms = ("gets no answer", "get no answer", "got no answer")
    else:
        forms = _VERBS.get(kind, (f"fails ({kind})", f"fail ({kind})", f"failed ({kind})"))
    if attempts > 1:
        return f"{forms[2]} {times(attempts)}"
    return forms[1] if many else forms[0]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def endpoints(origins: Iterable[str], domain: str) -> str:
    """A set of origins of ``domain`` in words: "all four endpoints (www and bare, https and
    http)", "both https endpoints (www and bare)", "both www endpoints (https and http)", or
    the origins themselves."""
    found = sorted(set(origins))
    domain = domain.lower()
    hosts = {f"www.{domain}": "www", domain: "bare"}
    named: set[tuple[str, str]] = set()
    for origin in found:
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower()
        if host not in hosts or parts.port is not None:
            return join(found)
        named.add((parts.scheme, hosts[host]))
    schemes = {s for s, _ in named}
    kinds = {k for _, k in named}
    if len(named) == 4:
        return "all four endpoints (www and bare, https and http)"
    if len(named) == 2 and len(schemes) == 1:
        return f"both {next(iter(schemes))} endpoints (www and bare)"
    if len(named) == 2 and len(kinds) == 1:
        return f"both {next(iter(kinds))} endpoints (https and http)"
    return join(found)


def clause(subject: Sequence[str], verdict: str, where: str = "", attempts: int = 1) -> str:
    """ "/open and /open/ answer 404 on all four endpoints"."""
    text = f"{join(subject)} {outcome(verdict, len(subject) > 1, attempts)}"
    return f"{text} on {where}" if where else text


# Words the policy's element ids spell in lower case that a reader expects in capitals.
_UPPER = {"eo": "EO", "omb": "OMB", "gpra": "GPRA", "foia": "FOIA", "usa": "USA"}


def element_label(name: str) -> str:
    """A plan element's id as words: "eo_13571_reference" -> "EO 13571 reference"."""
    return " ".join(_UPPER.get(w, w) for w in name.split("_"))
