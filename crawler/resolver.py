"""A DNS resolver that never hands the crawler a private address.

`fetch_refusal` refuses URLs written with IP literals, but a public-looking name can still
resolve to 127.0.0.1, 10.0.0.5, 169.254.169.254 (cloud metadata) or ::1; a crawler that
connects there reaches inside our own network (DNS rebinding, SSRF). This resolver, installed
as Scrapy's `TWISTED_DNS_RESOLVER`, checks every answer before Twisted connects to it and
fails the lookup with `ForbiddenAddressError` when the address is not globally routable.

Through a configured proxy the crawler resolves only the proxy's own name: the proxy
resolves the sites' names, so there the check belongs to the proxy.

`GOVAUDIT_TEST_DNS`, a test hook (audit/test_hooks.py), answers chosen names without asking
the system resolver; the answers are checked like any other, so it can only make lookups
fail. The test suite uses it to make .gov names resolve to forbidden addresses.
"""

from __future__ import annotations

import ipaddress
import json
import os
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from audit.test_hooks import TEST_DNS
from crawler.fetch_errors import FORBIDDEN_ADDRESS as REFUSAL

TEST_DNS_ENV = TEST_DNS


class ForbiddenAddressError(DNSLookupError):
    """The name resolved, but to an address the crawler must not connect to."""

    def __init__(self, name: str, address: str) -> None:
        super().__init__(f"{REFUSAL}: {name}")
        self.name = name
        self.address = address


def is_forbidden_address(text: str) -> bool:
    """True unless ``text`` is a globally routable unicast address (unreadable counts too)."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _proxy_hosts() -> frozenset[str]:
    hosts = set()
    for url in urllib.request.getproxies().values():
        host = urlsplit(url if "://" in url else f"http://{url}").hostname
        if host:
            hosts.add(host.lower())
    return frozenset(hosts)


def _test_answers() -> dict[str, str]:
    text = os.environ.get(TEST_DNS_ENV)
    if not text:
        return {}
    data = json.loads(text)
    return {str(k).lower().rstrip("."): str(v) for k, v in data.items()}


class PublicAddressResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing answers that are not public addresses."""

    def __init__(self, reactor: Any, cache_size: int, timeout: float) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.answers = _test_answers()
        # The proxy is ours, on purpose often on 127.0.0.1 or localhost.
        self.trusted_names = _proxy_hosts()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> PublicAddressResolver:
        size = (
            crawler.settings.getint("DNSCACHE_SIZE")
            if crawler.settings.getbool("DNSCACHE_ENABLED")
            else 0
        )
        return cls(reactor, size, crawler.settings.getfloat("DNS_TIMEOUT"))

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        key = name.lower().rstrip(".")
        if key in self.trusted_names:
            return super().getHostByName(name, timeout)
        answer = self.answers.get(key)
        if answer is not None:
            result: defer.Deferred[str] = defer.succeed(answer)
        else:
            result = super().getHostByName(name, timeout)
        return result.addCallback(self._checked, name)

    @staticmethod
    def _checked(address: str, name: str) -> str:
        if is_forbidden_address(address):
            raise ForbiddenAddressError(name, address)
        return address
