"""DNS observations (`govaudit dns`): what the DNS says about each domain, as answered.

For every domain: NS, SOA, MX, TXT, A, AAAA, DS (answered by the parent), DNSKEY and CAA of
the domain, A and AAAA of its www host, and the TXT of `_dmarc.` (of the organizational
domain too, when the domain has none and is not one itself). Each answer is kept as received
(outcome, rcode, records, TTL, time taken); a timeout, SERVFAIL or REFUSED is kept as such,
never as "no record". Queries go through dnspython's asyncio resolver to the configured
nameservers, N domains at once.

The SPF and DMARC records found are then read with checkdmarc (in a thread pool: it is
synchronous and makes its own lookups, for SPF includes and DMARC report destinations,
through a resolver of ours that asks the same nameservers and notes every lookup that got no
answer). What it says (valid or the error, DNS lookups counted against SPF's limit of ten,
the DMARC tags with their defaults) is stored with the answers. Judging (BOD 18-01, IPv6,
DNSSEC, the DNS state) is audit/email_dns.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver

DEFAULT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY = 50
BATCH_SIZE = 200
BATCH_SECONDS = 5.0
# (prefix of the domain, record type): what is asked of every domain.
QUERIES: tuple[tuple[str, str], ...] = (
    ("", "NS"),
    ("", "SOA"),
    ("", "MX"),
    ("", "TXT"),
    ("", "A"),
    ("", "AAAA"),
    ("", "DS"),
    ("", "DNSKEY"),
    ("", "CAA"),
    ("www.", "A"),
    ("www.", "AAAA"),
    ("_dmarc.", "TXT"),
)
# Outcomes of one query. Only the first three are answers from the domain's DNS.
ANSWER, NODATA, NXDOMAIN = "answer", "nodata", "nxdomain"
SERVFAIL, REFUSED, TIMEOUT, ERROR = "servfail", "refused", "timeout", "error"
NOT_ANSWERED = (SERVFAIL, REFUSED, TIMEOUT, ERROR)


class NameserverError(ValueError):
    """A --nameserver value that is not IP[:PORT]."""


@dataclass(frozen=True)
class Nameserver:
    address: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """`IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address."""
    raw = text.strip()
    address, port = raw, "53"
    if raw.startswith("["):
        address, _, rest = raw[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise NameserverError(f"{text!r}: expected [IPv6]:PORT")
            port = rest[1:]
    elif raw.count(":") == 1:
        address, port = raw.split(":")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise NameserverError(f"{text!r}: not an IP address (IP[:PORT])") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise NameserverError(f"{text!r}: the port must be a number from 1 to 65535")
    return Nameserver(str(ip), int(port))


def system_nameservers() -> list[Nameserver]:
    """The system's resolvers (/etc/resolv.conf), as the default."""
    try:
        configured = dns.resolver.Resolver().nameservers
    except dns.resolver.NoResolverConfiguration:
        return []
    out = []
    for ns in configured:
        text = ns if isinstance(ns, str) else getattr(ns, "address", str(ns))
        port = 53 if isinstance(ns, str) else int(getattr(ns, "port", 53))
        out.append(Nameserver(text, port))
    return out


def _configure(resolver: Any, nameservers: Sequence[Nameserver], timeout: float) -> Any:
    resolver.nameservers = [dns.nameserver.Do53Nameserver(n.address, n.port) for n in nameservers]
    # Two tries of each nameserver within the timeout: one lost UDP datagram is not a timeout.
    resolver.timeout = timeout / 2 if timeout >= 1.0 else timeout
    resolver.lifetime = timeout
    resolver.cache = None
    return resolver


def _rdata_text(rdtype: int, rdata: Any) -> str:
    if rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "replace")
    return str(rdata.to_text())


def _failure(exc: Exception) -> tuple[str, str | None, str]:
    """(outcome, rcode, message) of a query that got no usable answer."""
    if isinstance(exc, dns.resolver.LifetimeTimeout | dns.exception.Timeout):
        return TIMEOUT, None, f"no answer within {exc.kwargs.get('timeout', 0):.1f} s"
    if isinstance(exc, dns.resolver.NoNameservers):
        rcodes = [e[3] for e in exc.kwargs.get("errors", []) if isinstance(e[3], str)]
        if "REFUSED" in rcodes and "SERVFAIL" not in rcodes:
            return REFUSED, "REFUSED", "REFUSED"
        if rcodes:
            return SERVFAIL, rcodes[0], rcodes[0]
        reasons = [str(e[3]) for e in exc.kwargs.get("errors", []) if e[3] is not None]
        return ERROR, None, "; ".join(reasons) or "no nameserver answered"
    return ERROR, None, f"{type(exc).__name__}: {exc}"


def _answer_entry(name: str, rtype: str, answer: Any, ms: float) -> dict[str, Any]:
    rdtype = dns.rdatatype.from_text(rtype)
    records = [_rdata_text(rdtype, r) for r in answer.rrset] if answer.rrset is not None else []
    entry: dict[str, Any] = {
        "name": name,
        "type": rtype,
        "outcome": ANSWER if records else NODATA,
        "rcode": "NOERROR",
        "records": records,
        "ttl": answer.rrset.ttl if answer.rrset is not None else None,
        "ms": round(ms, 1),
    }
    canonical = str(answer.canonical_name).rstrip(".").lower()
    if canonical != name:
        entry["cname"] = canonical
    return entry


def _failed_entry(name: str, rtype: str, exc: Exception, ms: float) -> dict[str, Any]:
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return {
            "name": name,
            "type": rtype,
            "outcome": NXDOMAIN,
            "rcode": "NXDOMAIN",
            "records": [],
            "ttl": None,
            "ms": round(ms, 1),
        }
    outcome, rcode, message = _failure(exc)
    return {
        "name": name,
        "type": rtype,
        "outcome": outcome,
        "rcode": rcode,
        "records": [],
        "ttl": None,
        "ms": round(ms, 1),
        "error": message,
    }


async def _ask(resolver: Any, name: str, rtype: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        answer = await resolver.resolve(name, rtype, raise_on_no_answer=False, search=False)
    except Exception as exc:  # every failure is an observation, not a crash
        return _failed_entry(name, rtype, exc, (time.perf_counter() - started) * 1000)
    return _answer_entry(name, rtype, answer, (time.perf_counter() - started) * 1000)


class RecordingResolver(dns.resolver.Resolver):
    """The synchronous resolver handed to checkdmarc: the same nameservers and timeout, and
    a note of every lookup it made that got no answer (an SPF include that timed out makes
    the SPF record uncheckable, not invalid)."""

    def __init__(self, nameservers: Sequence[Nameserver], timeout: float) -> None:
        super().__init__(configure=False)
        _configure(self, nameservers, timeout)
        self.failures: list[str] = []
        self.lookups = 0

    def resolve(self, qname: Any, rdtype: Any = "A", *args: Any, **kwargs: Any) -> Any:
        self.lookups += 1
        try:
            return super().resolve(qname, rdtype, *args, **kwargs)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            raise
        except Exception as exc:
            _outcome, _rcode, message = _failure(exc)
            name = str(qname).rstrip(".")
            kind = rdtype if isinstance(rdtype, str) else dns.rdatatype.to_text(rdtype)
            self.failures.append(f"{name} {kind}: {message}")
            raise


def _library_version() -> str:
    from checkdmarc import __version__

    return f"checkdmarc {__version__}"


def read_spf(
    domain: str, txt: dict[str, Any], nameservers: Sequence[Nameserver], timeout: float
) -> dict[str, Any]:
    """The SPF record among the domain's TXT answer, as checkdmarc reads it (its includes,
    redirects, a and mx terms resolved and counted). Empty when the TXT query got no answer:
    the answer itself says why."""
    from checkdmarc.spf import SPFError, parse_spf_record

    if txt["outcome"] in NOT_ANSWERED:
        return {}
    records = [r for r in txt["records"] if r.lower().split(" ", 1)[0] == "v=spf1"]
    facts: dict[str, Any] = {"records": records, "record": None, "library": _library_version()}
    if not records:
        return facts
    if len(records) > 1:
        return {**facts, "valid": False, "error": "more than one SPF record (RFC 7208 § 4.5)"}
    resolver = RecordingResolver(nameservers, timeout)
    facts["record"] = records[0]
    try:
        parsed = parse_spf_record(records[0], domain, resolver=resolver, timeout=timeout)
    except SPFError as exc:
        facts.update(valid=False, error=str(exc.args[0]), warnings=list(exc.warnings))
        facts.update({k: v for k, v in (exc.data or {}).items() if k in ("dns_lookups",)})
    else:
        facts.update(
            valid="error" not in parsed,
            error=parsed.get("error"),
            dns_lookups=parsed["dns_lookups"],
            void_lookups=parsed["void_dns_lookups"],
            all=parsed["parsed"]["all"],
            warnings=list(parsed["warnings"]),
        )
    facts["lookup_failures"] = resolver.failures
    return facts


def _dmarc_records(txt: dict[str, Any]) -> list[str]:
    return [r for r in txt["records"] if r.replace(" ", "").lower().startswith("v=dmarc1")]


def read_dmarc(
    location: str, txt: dict[str, Any], nameservers: Sequence[Nameserver], timeout: float
) -> dict[str, Any]:
    """The DMARC record of one `_dmarc.` answer as checkdmarc reads it: every tag with its
    value (defaults filled in, `sp` from `p` when not given), plus `pct`, which RFC 9989
    dropped and the library no longer returns but BOD 18-01 still asks for."""
    from checkdmarc.dmarc import DMARC_TAG_VALUE_REGEX, DMARCError, parse_dmarc_record

    domain = location.removeprefix("_dmarc.")
    facts: dict[str, Any] = {"location": location, "records": [], "record": None}
    if txt["outcome"] in NOT_ANSWERED:
        return facts
    records = _dmarc_records(txt)
    facts.update(records=records, library=_library_version())
    if txt["records"] and not records:
        facts["other_txt"] = list(txt["records"])
    if not records:
        return facts
    if len(records) > 1:
        return {**facts, "valid": False, "error": "more than one DMARC record (RFC 7489 § 6.6.3)"}
    record = records[0]
    facts["record"] = record
    resolver = RecordingResolver(nameservers, timeout)
    explicit = {k.lower(): v.strip() for k, v in DMARC_TAG_VALUE_REGEX.findall(record)}
    try:
        parsed = parse_dmarc_record(record, domain, resolver=resolver, timeout=timeout)
    except DMARCError as exc:
        facts.update(valid=False, error=str(exc.args[0]) if exc.args else type(exc).__name__)
    else:
        tags = parsed["tags"]
        rua = [f"{u['scheme']}:{u['address']}" for u in tags.get("rua", {}).get("value") or []]
        facts.update(
            valid=True,
            p=tags["p"]["value"],
            sp=tags["sp"]["value"],
            sp_explicit=bool(tags["sp"]["explicit"]),
            pct=explicit.get("pct"),
            rua=rua,
            warnings=list(parsed["warnings"]),
        )
    facts["lookup_failures"] = resolver.failures
    return facts


def organizational_domain(name: str) -> str:
    """The registrable domain under the Public Suffix List (checkdmarc's list)."""
    from checkdmarc.utils import get_base_domain

    return str(get_base_domain(name))


@dataclass
class DomainObservation:
    domain: str
    agency: str | None
    checked_at: dt.datetime
    resolver: str
    seconds: float
    answers: list[dict[str, Any]]
    spf: dict[str, Any] = field(default_factory=dict)
    dmarc: dict[str, Any] = field(default_factory=dict)


class Observer:
    """Observes domains N at once over one event loop; SPF and DMARC reading in threads."""

    def __init__(self, nameservers: Sequence[Nameserver], timeout: float, concurrency: int) -> None:
        self.nameservers = list(nameservers)
        self.timeout = timeout
        self.concurrency = concurrency
        self.resolver = _configure(
            dns.asyncresolver.Resolver(configure=False), self.nameservers, timeout
        )
        self.label = ", ".join(map(str, self.nameservers))
        # checkdmarc and its Public Suffix List load on first use: not inside the event loop,
        # where they would stall every query in flight.
        organizational_domain("example.gov")
        self.pool = ThreadPoolExecutor(max_workers=max(2, concurrency), thread_name_prefix="dns")

    async def observe(self, domain: str, agency: str | None) -> DomainObservation:
        loop = asyncio.get_running_loop()
        checked_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        started = time.perf_counter()
        answers = list(
            await asyncio.gather(
                *(_ask(self.resolver, prefix + domain, rtype) for prefix, rtype in QUERIES)
            )
        )
        txt = answers[[q for _, q in QUERIES].index("TXT")]
        dmarc_answer = answers[-1]
        org = organizational_domain(domain)
        answered = dmarc_answer["outcome"] in (NXDOMAIN, NODATA, ANSWER)
        if org != domain and answered and not _dmarc_records(dmarc_answer):
            # RFC 7489 § 6.6.3: no record for the domain, so the organizational domain's
            # record applies (its sp= to subdomains).
            dmarc_answer = await _ask(self.resolver, f"_dmarc.{org}", "TXT")
            answers.append(dmarc_answer)
        spf, dmarc = await asyncio.gather(
            loop.run_in_executor(self.pool, read_spf, domain, txt, self.nameservers, self.timeout),
            loop.run_in_executor(
                self.pool,
                read_dmarc,
                dmarc_answer["name"],
                dmarc_answer,
                self.nameservers,
                self.timeout,
            ),
        )
        return DomainObservation(
            domain=domain,
            agency=agency,
            checked_at=checked_at,
            resolver=self.label,
            seconds=round(time.perf_counter() - started, 3),
            answers=answers,
            spf=spf,
            dmarc=dmarc,
        )

    async def observe_all(
        self,
        targets: Sequence[tuple[str, str | None]],
        on_result: Callable[[DomainObservation], None],
    ) -> None:
        # `concurrency` observers take the next domain as each finishes: a domain that times
        # out holds one slot, never a whole batch.
        pending = iter(targets)

        async def observer() -> None:
            for domain, agency in pending:
                on_result(await self.observe(domain, agency))

        await asyncio.gather(*(observer() for _ in range(max(1, self.concurrency))))

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def clear_library_cache() -> None:
    """checkdmarc caches answers per name for the process, whatever nameserver gave them: a
    run must not reuse another run's (or another server's) answers."""
    from checkdmarc.utils import DNS_CACHE

    DNS_CACHE.clear()


def share_of(domain: str, workers: int) -> int:
    """Which of `workers` processes observes a domain (stable across processes and runs)."""
    return int(hashlib.sha256(domain.encode()).hexdigest()[:8], 16) % max(1, workers)


def observe_run(
    db: Any,
    run_id: int,
    *,
    nameservers: Sequence[Nameserver],
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: Callable[[int, int], None] | None = None,
    worker: int = 0,
    workers: int = 1,
) -> int:
    """Observe every pending domain of a DNS run (this worker's share of them); store each
    observation with its task's state in the same transaction, in batches (a killed run
    redoes at most the batch in flight). Returns the number of domains observed."""
    from sqlalchemy import select

    from audit.models import CrawlTask, DnsObservation, utcnow

    with db.session() as session:
        tasks = [
            t
            for t in session.execute(
                select(CrawlTask.id, CrawlTask.key, CrawlTask.agency)
                .where(CrawlTask.run_id == run_id, CrawlTask.job == "dns")
                .where(CrawlTask.state == "pending")
                .order_by(CrawlTask.id)
            ).all()
            if share_of(t.key, workers) == worker
        ]
    task_ids = {key: task_id for task_id, key, _ in tasks}
    pending: list[DomainObservation] = []
    done = 0
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush
        if not pending:
            return
        with db.session() as session:
            session.execute(
                DnsObservation.__table__.insert(),
                [
                    {
                        "run_id": run_id,
                        "domain": o.domain,
                        "agency": o.agency,
                        "checked_at": o.checked_at,
                        "resolver": o.resolver,
                        "seconds": o.seconds,
                        "answers": o.answers,
                        "spf": o.spf,
                        "dmarc": o.dmarc,
                    }
                    for o in pending
                ],
            )
            session.execute(
                CrawlTask.__table__.update()
                .where(CrawlTask.id.in_([task_ids[o.domain] for o in pending]))
                .values(state="done", finished_at=utcnow())
            )
        pending.clear()
        last_flush = time.monotonic()

    def on_result(observation: DomainObservation) -> None:
        nonlocal done
        pending.append(observation)
        done += 1
        if len(pending) >= BATCH_SIZE or time.monotonic() - last_flush > BATCH_SECONDS:
            flush()
        if on_progress is not None:
            on_progress(done, len(tasks))

    clear_library_cache()
    observer = Observer(nameservers, timeout, concurrency)
    try:
        asyncio.run(observer.observe_all([(key, agency) for _, key, agency in tasks], on_result))
    finally:
        observer.close()
        flush()
    return done


def pending_count(db: Any, run_id: int) -> tuple[int, int]:
    """(domains no longer pending, all domains) of a DNS run."""
    from sqlalchemy import func, select

    from audit.models import CrawlTask

    with db.session() as session:
        done, total = session.execute(
            select(
                func.count(CrawlTask.id).filter(CrawlTask.state != "pending"),
                func.count(CrawlTask.id),
            ).where(CrawlTask.run_id == run_id, CrawlTask.job == "dns")
        ).one()
    return int(done or 0), int(total or 0)


def observe_in_processes(
    db: Any,
    run_id: int,
    workers: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> bool:
    """Observe a DNS run's pending domains in `workers` processes (`python -m
    crawler.dns_observation`, each over its share; the database URL in their environment,
    never on a command line). True when every process ended well."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "crawler.dns_observation", "--run", str(run_id),
             "--worker", str(i), "--workers", str(workers)],
            env={**os.environ, "GOVAUDIT_DB": db.url},
        )
        for i in range(workers)
    ]  # fmt: skip
    try:
        while any(p.poll() is None for p in procs):
            if on_progress is not None:
                on_progress(*pending_count(db, run_id))
            time.sleep(1.0)
    except KeyboardInterrupt:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            p.wait()
        raise
    if on_progress is not None:
        on_progress(*pending_count(db, run_id))
    return all(p.returncode == 0 for p in procs)


def main(argv: Sequence[str] | None = None) -> int:
    """One observer process: its share of a DNS run, with the run's stored settings."""
    from audit.db import Database
    from audit.models import CrawlRun

    parser = argparse.ArgumentParser(prog="python -m crawler.dns_observation")
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    db = Database(os.environ["GOVAUDIT_DB"])
    try:
        with db.session() as session:
            run = session.get(CrawlRun, args.run)
            options = dict(((run.settings or {}) if run else {}).get("dns") or {})
        observe_run(
            db,
            args.run,
            nameservers=[parse_nameserver(n) for n in options["nameservers"]],
            timeout=float(options["timeout"]),
            # the run's concurrency is shared out between its processes
            concurrency=max(1, -(-int(options["concurrency"]) // args.workers)),
            worker=args.worker,
            workers=args.workers,
        )
    except KeyboardInterrupt:
        return 130
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
