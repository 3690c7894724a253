"""The simulated web's DNS: an authoritative DNS server on 127.0.0.1 (dnslib's server).

Zones are data, like the sites: a mapping of zone name -> owner names (relative to the zone;
"@" is the apex) -> record type -> rdata in zone-file syntax (a string or a list), laid over
`defaults` (records every zone has unless it removes them with null; `{zone}` in rdata is
the zone's name). One server answers for every zone it holds, as a recursive resolver would
for a client: DS queries for a zone's apex are answered from the parent's side of the cut,
so a zone whose nameservers are down still gets its DS answer.

Behaviours, per zone (keys starting with `$`):

* `$lame: true`: the zone's nameservers do not answer; every query in it gets SERVFAIL (what
  a recursive resolver answers then), except DS at the apex (the parent answers that).
* `$silent: [names]`: queries for these names get no answer at all (the client times out).
* `$servfail: [names]`, `$refused: [names]`: these names answer SERVFAIL / REFUSED.
* `$ttl: N`: the zone's TTL (default 300); `$defaults: false`: the defaults do not apply.

A name outside every zone is REFUSED; a name inside a zone that has no records (and is no
ancestor of one) is NXDOMAIN, one without the asked type NODATA (both with the zone's SOA).
CNAMEs are followed within the data; `*` labels are wildcards (RFC 4592, simplified).

Both UDP and TCP listen on the same port (a free one by default). `latency` (seconds) delays
every answer: each query is handled in its own thread, so delays overlap.

    with SimulatedDNS(zones, defaults=defaults) as dns:
        dns.nameserver  # "127.0.0.1:40153"
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.dns import DNSError
from dnslib.server import DNSLogger, DNSServer

DEMO_DNS_FILE = Path(__file__).resolve().parent / "demo" / "dns.yaml"
DEFAULT_TTL = 300
BEHAVIOURS = ("$lame", "$silent", "$servfail", "$refused", "$ttl", "$defaults")
MAX_CNAME_CHAIN = 8


class ZoneError(ValueError):
    """Bad zone data: the message names the zone, the owner name and the record."""


class _Unanswered(DNSError):
    """Raised by the resolver to send no answer at all (dnslib logs DNSError, sends nothing)."""


def _merge(defaults: Mapping[str, Any], zone: Mapping[str, Any]) -> dict[str, Any]:
    """The zone's owner names: `defaults` with the zone's names laid over them (a type set to
    null removes it, a name set to null removes the name)."""
    # one level of copy is enough: types are replaced or removed, their values never changed
    merged: dict[str, Any] = {name: dict(types or {}) for name, types in defaults.items()}
    for name, types in zone.items():
        if name.startswith("$"):
            continue
        if types is None:
            merged.pop(name, None)
            continue
        target = dict(merged.get(name) or {})
        for rtype, rdata in types.items():
            if rdata is None:
                target.pop(rtype, None)
            else:
                target[rtype] = rdata
        merged[name] = target
    return merged


def _absolute(name: str, zone: str) -> str:
    if name == "@":
        return zone
    if name.endswith("."):
        return name.rstrip(".").lower()
    return f"{name}.{zone}".lower()


class ZoneData:
    """Every record of every zone, indexed for answering: (owner, type) -> RRs.

    Records are kept as zone-file lines and parsed on first use (then cached); `lazy=False`
    (the default) parses them all at once, so bad data fails at load time with the zone, the
    name and the record. A 16,539-zone world (the benchmarks) starts in seconds with
    `lazy=True`."""

    def __init__(
        self,
        zones: Mapping[str, Any],
        defaults: Mapping[str, Any] | None = None,
        *,
        lazy: bool = False,
    ) -> None:
        self.lines: dict[tuple[str, int], list[str]] = {}
        self.parsed: dict[tuple[str, int], list[RR]] = {}
        self.owners: set[str] = set()
        self.zones: dict[str, dict[str, Any]] = {}
        for zone_name, zone in zones.items():
            zone_name = zone_name.rstrip(".").lower()
            zone = dict(zone or {})
            unknown = [k for k in zone if k.startswith("$") and k not in BEHAVIOURS]
            if unknown:
                raise ZoneError(f"zone {zone_name}: unknown behaviour {unknown[0]!r}")
            ttl = int(zone.get("$ttl", DEFAULT_TTL))
            names = _merge((defaults or {}) if zone.get("$defaults", True) else {}, zone)
            for name, types in names.items():
                owner = _absolute(name, zone_name)
                for rtype, rdata in (types or {}).items():
                    values = [rdata] if isinstance(rdata, str | int) else list(rdata)
                    for value in values:
                        text = str(value).replace("{zone}", zone_name)
                        self._add(owner, str(rtype).upper(), text, ttl, zone_name)
            if (zone_name, QTYPE.SOA) not in self.lines:
                raise ZoneError(f"zone {zone_name}: no SOA record at the apex (@)")
            self.zones[zone_name] = {
                "lame": bool(zone.get("$lame", False)),
                "silent": {_absolute(n, zone_name) for n in zone.get("$silent") or []},
                "servfail": {_absolute(n, zone_name) for n in zone.get("$servfail") or []},
                "refused": {_absolute(n, zone_name) for n in zone.get("$refused") or []},
            }
        if not lazy:
            for owner, qtype in list(self.lines):
                self.lookup(owner, qtype)

    def _add(self, owner: str, rtype: str, rdata: str, ttl: int, zone: str) -> None:
        try:
            qtype = getattr(QTYPE, rtype)
        except (AttributeError, DNSError):
            qtype = None
        if not isinstance(qtype, int):
            raise ZoneError(f"zone {zone}: {owner}: unknown record type {rtype!r}")
        if rtype == "TXT" and not rdata.startswith('"'):
            # TXT rdata as plain text: one string, split into 255-byte pieces like a zone
            # file's "a" "b" (a long SPF record is several strings joined by the reader).
            raw = rdata.encode()
            rdata = " ".join(
                '"' + raw[i : i + 255].decode().replace("\\", "\\\\").replace('"', '\\"') + '"'
                for i in range(0, max(len(raw), 1), 255)
            )
        self.lines.setdefault((owner, qtype), []).append(f"{owner}. {ttl} IN {rtype} {rdata}")
        labels = owner.split(".")
        for i in range(len(labels)):
            self.owners.add(".".join(labels[i:]))

    def lookup(self, name: str, qtype: int) -> list[RR]:
        key = (name, qtype)
        found = self.parsed.get(key)
        if found is None:
            found = []
            for line in self.lines.get(key, ()):
                try:
                    found += RR.fromZone(line)
                except Exception as exc:
                    raise ZoneError(f"{line!r}: {exc}") from exc
            self.parsed[key] = found
        return found

    def soa(self, zone: str) -> RR:
        return self.lookup(zone, QTYPE.SOA)[0]

    def zone_of(self, name: str, qtype: int) -> str | None:
        """The closest enclosing zone; for DS at a zone's apex, the parent's."""
        labels = name.split(".")
        start = 1 if qtype == QTYPE.DS and name in self.zones else 0
        for i in range(start, len(labels)):
            candidate = ".".join(labels[i:])
            if candidate in self.zones:
                return candidate
        return None

    def wildcard(self, name: str, zone: str) -> str | None:
        """The wildcard owner that covers `name`, if any (closest encloser first)."""
        labels = name.split(".")
        for i in range(1, len(labels) - len(zone.split(".")) + 1):
            encloser = ".".join(labels[i:])
            if "*." + encloser in self.owners:
                return "*." + encloser
            if encloser in self.owners:
                return None
        return None


class _Resolver:
    """dnslib resolver over ZoneData (one instance, called from every handler thread)."""

    def __init__(self, data: ZoneData, latency: float, log: list[tuple[str, str]] | None):
        self.data = data
        self.latency = latency
        self.log = log
        self.count = 0
        self.lock = threading.Lock()

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = request.q.qtype
        with self.lock:
            self.count += 1
            if self.log is not None:
                self.log.append((qname, QTYPE.get(qtype, str(qtype))))
        if self.latency:
            time.sleep(self.latency)
        reply = request.reply()
        zone = self.data.zone_of(qname, qtype)
        if zone is None:
            reply.header.rcode = RCODE.REFUSED
            return reply
        info = self.data.zones[zone]
        if qname in info["silent"]:
            raise _Unanswered(f"{qname}: silent")
        if info["lame"] or qname in info["servfail"]:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if qname in info["refused"]:
            reply.header.rcode = RCODE.REFUSED
            return reply
        name = qname
        for _ in range(MAX_CNAME_CHAIN):
            found = self.data.lookup(name, qtype)
            if found:
                for rr in found:
                    reply.add_answer(_renamed(rr, name))
                return reply
            cname = self.data.lookup(name, QTYPE.CNAME) if qtype != QTYPE.CNAME else []
            if not cname:
                break
            reply.add_answer(cname[0])
            name = str(cname[0].rdata.label).rstrip(".").lower()
            if self.data.zone_of(name, qtype) is None:
                return reply
        if name in self.data.owners:
            reply.add_auth(self.data.soa(zone))
            return reply
        wildcard = self.data.wildcard(name, zone)
        if wildcard is not None:
            found = self.data.lookup(wildcard, qtype)
            for rr in found:
                reply.add_answer(_renamed(rr, name))
            if not found:
                reply.add_auth(self.data.soa(zone))
            return reply
        if name == qname:
            reply.header.rcode = RCODE.NXDOMAIN
        reply.add_auth(self.data.soa(zone))
        return reply


def _renamed(rr: RR, name: str) -> RR:
    if str(rr.rname).rstrip(".").lower() == name:
        return rr
    return RR(name, rr.rtype, rr.rclass, rr.ttl, rr.rdata)


def _bind_pair(host: str, port: int) -> int:
    """A port free for both UDP and TCP on `host` (the given one when not 0)."""
    if port:
        return port
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            candidate = udp.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind((host, candidate))
            except OSError:
                continue
        return int(candidate)
    raise OSError("no port free for both UDP and TCP")


class SimulatedDNS:
    """An authoritative DNS server for zones given as data, on UDP and TCP."""

    def __init__(
        self,
        zones: Mapping[str, Any],
        *,
        defaults: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        keep_log: bool = True,
        lazy: bool = False,
    ) -> None:
        self.data = ZoneData(zones, defaults, lazy=lazy)
        self.host = host
        self.requested_port = port
        self.port = 0
        self._log: list[tuple[str, str]] | None = [] if keep_log else None
        self.resolver = _Resolver(self.data, latency, self._log)
        self._servers: list[DNSServer] = []

    @classmethod
    def from_file(cls, path: Path | str, **kwargs: Any) -> SimulatedDNS:
        """Zones from a YAML file: `zones`, optional `defaults` and `latency`."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ZoneError(f"{path}: {' '.join(str(exc).split())}") from exc
        kwargs.setdefault("latency", float(data.get("latency") or 0.0))
        try:
            return cls(data.get("zones") or {}, defaults=data.get("defaults"), **kwargs)
        except ZoneError as exc:
            raise ZoneError(f"{path}: {exc}") from exc

    @classmethod
    def demo(cls, **kwargs: Any) -> SimulatedDNS:
        """The DNS of the demo world (simweb/demo/dns.yaml)."""
        return cls.from_file(DEMO_DNS_FILE, **kwargs)

    @property
    def nameserver(self) -> str:
        """IP:PORT, as `govaudit dns --nameserver` takes it."""
        return f"{self.host}:{self.port}"

    @property
    def query_count(self) -> int:
        return self.resolver.count

    def queries(self) -> list[tuple[str, str]]:
        """(name, type) of every query so far (empty with keep_log=False)."""
        with self.resolver.lock:
            return list(self._log or [])

    def zone_names(self) -> list[str]:
        return sorted(self.data.zones)

    def start(self) -> SimulatedDNS:
        logger = DNSLogger(log="-request,-reply,-truncated,-error", prefix=False)
        for attempt in range(20):
            port = _bind_pair(self.host, self.requested_port)
            try:
                udp = DNSServer(self.resolver, address=self.host, port=port, logger=logger)
                try:
                    tcp = DNSServer(
                        self.resolver, address=self.host, port=port, tcp=True, logger=logger
                    )
                except OSError:
                    udp.server.server_close()
                    raise
            except OSError:
                if self.requested_port or attempt == 19:
                    raise
                continue
            self._servers = [udp, tcp]
            self.port = port
            break
        for server in self._servers:
            server.start_thread()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers = []

    def __enter__(self) -> SimulatedDNS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def zones_for(names: Iterable[str], **zone: Any) -> dict[str, Any]:
    """The same zone definition for many names (benchmarks, bulk tests)."""
    return {name: dict(zone) for name in names}
