"""DNS observations (`govaudit dns`): what the DNS says about each domain, as answered.

For every domain: NS, SOA, MX, TXT, A, AAAA, DS (answered by the parent), DNSKEY and CAA of
the domain, A and AAAA of its www host, and the TXT of `_dmarc.` (of the organizational
domain too, when the domain has none and is not one itself). Each answer is kept as received
(outcome, rcode, records, TTL, time taken); a timeout, SERVFAIL or REFUSED is kept as such,
never as "no record". Queries go through dnspython's asyncio resolver to the configured
nameservers, N domains at once.

The SPF and DMARC records found are then read with checkdmarc (crawler/email_records.py, in
a thread pool: it is synchronous and makes its own lookups). What it says is stored with the
answers (crawler/dns_query.py says what an answer holds). Judging (BOD 18-01, IPv6, DNSSEC,
the DNS state) is audit/email_dns.py's. Several processes (`python -m
crawler.dns_observation`) share a run's domains by a stable hash.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
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

from crawler.dns_query import (
    ANSWER,
    NODATA,
    NXDOMAIN,
    Nameserver,
    ask,
    configure_resolver,
    parse_nameserver,
)
from crawler.email_records import (
    clear_library_cache,
    dmarc_records,
    organizational_domain,
    read_dmarc,
    read_spf,
)

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
        self.resolver = configure_resolver(
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
                *(ask(self.resolver, prefix + domain, rtype) for prefix, rtype in QUERIES)
            )
        )
        txt = answers[[q for _, q in QUERIES].index("TXT")]
        dmarc_answer = answers[-1]
        org = organizational_domain(domain)
        answered = dmarc_answer["outcome"] in (NXDOMAIN, NODATA, ANSWER)
        if org != domain and answered and not dmarc_records(dmarc_answer):
            # RFC 7489 § 6.6.3: no record for the domain, so the organizational domain's
            # record applies (its sp= to subdomains).
            dmarc_answer = await ask(self.resolver, f"_dmarc.{org}", "TXT")
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
        on_error: Callable[[str, Exception], None] | None = None,
    ) -> None:
        # `concurrency` observers take the next domain as each finishes: a domain that times
        # out holds one slot, never a whole batch. A domain whose observation raises is that
        # domain's failure (`on_error`), never the run's.
        pending = iter(targets)

        async def observer() -> None:
            for domain, agency in pending:
                try:
                    observation = await self.observe(domain, agency)
                except Exception as exc:
                    if on_error is None:
                        raise
                    on_error(domain, exc)
                    continue
                on_result(observation)

        await asyncio.gather(*(observer() for _ in range(max(1, self.concurrency))))

    def close(self) -> None:
        self.pool.shutdown(wait=True)


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
    failed: list[tuple[str, str]] = []
    done = 0
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush
        if failed:
            with db.session() as session:
                for domain, error in failed:
                    session.execute(
                        CrawlTask.__table__.update()
                        .where(CrawlTask.id == task_ids[domain])
                        .values(state="failed", error=error, finished_at=utcnow())
                    )
            failed.clear()
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

    def on_error(domain: str, exc: Exception) -> None:
        nonlocal done
        # The task's error reads as the crawl's failed units do (the job's StepUnits).
        failed.append((domain, f"internal error: {type(exc).__name__}: {exc}"[:500]))
        done += 1
        if on_progress is not None:
            on_progress(done, len(tasks))

    clear_library_cache()
    observer = Observer(nameservers, timeout, concurrency)
    try:
        asyncio.run(
            observer.observe_all([(key, agency) for _, key, agency in tasks], on_result, on_error)
        )
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
