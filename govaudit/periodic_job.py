"""`govaudit run`: the scheduled job, step by step, resumable, one at a time per database.

Steps: registry (load new registry files) -> crawl (sites and /open) -> rdap (domains with no
registration date) -> a11y -> audit -> report (into OUT/runs/<UTC timestamp>/, then
OUT/latest is repointed atomically) -> prune (retention). A `job_run` row records the step
the job is at and what each finished step made, so a job killed anywhere continues at that
step: the crawl through the crawl run's own resume (its pending tasks), the other steps by
reusing what a killed attempt already wrote.

How a run ends:
- `done`: every step finished and every unit was handled.
- `partial` (exit 1): the report was written, but an optional step (any step that is not
  registry, crawl, audit or report) failed as a whole, or units of a step failed with an
  internal error (job_units.py); each is in `failed_steps` with its reason. The run is over:
  the next `govaudit run` starts a new one.
- `failed` (exit 1, 2 for bad input): a required step failed. The next `govaudit run`
  continues at that step once; if it fails there again the run is over, and the run after
  starts anew, so a step is never resumed into the same error twice. A killed run (its
  status still `running`) always continues where it stopped.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from audit.crawl_settings import CrawlSettings
from audit.db import mask_passwords
from audit.models import AuditRun, CrawlRun, Finding, JobRun, RdapResult, utcnow
from govaudit.app import App, BadInput
from govaudit.job_config import JobConfig
from govaudit.job_lock import acquire
from govaudit.job_log import log_traceback
from govaudit.job_units import StepUnits, first_line, one_line

STEPS = ("registry", "crawl", "rdap", "dns", "a11y", "audit", "report", "prune", "done")
# Without these there is no report: their failure ends the run `failed`. Every other step
# (rdap, a11y, prune, and steps added later unless listed here) is optional: its failure
# ends the run `partial`, with its report.
REQUIRED_STEPS = frozenset({"registry", "crawl", "audit", "report"})
# A required step that failed by its own error is tried again by the next run this many
# times in all, then the run is given up and the next one starts anew.
STEP_ATTEMPTS = 2
# The documented keys of the summary's "registry" (also when the step never ran).
REGISTRY_KEYS = {"files": 0, "loaded": 0, "unchanged": 0, "failed": 0, "newest_snapshot": None}
# Test hook: hold (sleep until killed) at a named point, so tests can SIGKILL a job inside a
# step deterministically: "audit-written" (audit stored, job not told) or "report-written"
# (report rendered, `latest` not switched yet).

Tick = Callable[[Any, float], None]


class JobFailed(RuntimeError):
    """A step failed (exit 1): the next `run` continues at that step."""


@dataclass
class JobResult:
    job_run_id: int | None
    status: str  # done | partial | failed | locked
    state: dict[str, Any]
    seconds: float

    def summary(self) -> dict[str, Any]:
        """The one-line JSON summary: the same keys whatever the outcome."""
        crawl = {"tasks": 0, "done": 0, "failed": 0, "pages": 0, **(self.state.get("crawl") or {})}
        findings = {"total": 0, "new": 0, "resolved": 0, **(self.state.get("audit") or {})}
        registry = {**REGISTRY_KEYS, **(self.state.get("registry") or {})}
        return {
            "run": self.job_run_id,
            "status": self.status,
            "registry": {k: registry[k] for k in REGISTRY_KEYS},
            "crawl": {k: crawl[k] for k in ("tasks", "done", "failed", "pages")},
            "findings": {k: findings[k] for k in ("total", "new", "resolved")},
            "report": self.state.get("report_path"),
            "failed_steps": [
                {"step": f["step"], "reason": f["reason"]}
                for f in self.state.get("failed_steps") or []
            ],
            "seconds": round(self.seconds, 1),
        }


def _hold(point: str, log: logging.Logger) -> None:
    """A test hook (audit/test_hooks.py): the job waits here to be killed."""
    from audit.test_hooks import JOB_HOLD

    if os.environ.get(JOB_HOLD) == point:
        log.info("holding at %s (%s is set)", point, JOB_HOLD)
        while True:
            time.sleep(3600)


class PeriodicJob:
    def __init__(
        self,
        app: App,
        config: JobConfig,
        log: logging.Logger,
        rdap: bool = True,
        on_tick: Callable[[str], Tick | None] | None = None,
        a11y: bool = True,
    ) -> None:
        self.app = app
        self.config = config
        self.log = log
        self.rdap = rdap
        self.a11y = a11y
        self.on_tick = on_tick or (lambda label: None)
        self.job: JobRun | None = None
        self._units: dict[str, StepUnits] = {}

    # ---------------------------------------------------------------- the job

    def run(self) -> JobResult:
        """Take the lock (raises job_lock.Locked), then run or continue the job.

        A required step's failure is raised (JobFailed, BadInput, or the error itself), after
        the log's last line says what happens next; an optional step's failure, and units
        that failed, are recorded in `failed_steps` and the run goes on to its report.
        """
        started = time.monotonic()
        db = self.app.db
        with acquire(db, float(self.config["lock.stale_after"])) as lock:
            if lock.took_over is not None:
                self.log.warning("took over a stale lock: %s", lock.took_over.describe())
            job = self._open_job()
            lock.set_job_run(job.id)
            self.log.info(
                "run %s: %s at step %s (database %s, output %s%s)",
                job.id,
                "continuing" if job.step != "registry" or job.state else "started",
                job.step,
                mask_passwords(db.url),
                self.config["output"],
                f", config {self.config.source}" if self.config.source else "",
            )
            while job.step != "done":
                step = job.step
                began = time.monotonic()
                units = self.units(step)
                counts: dict[str, Any] | None = None
                try:
                    counts = getattr(self, f"step_{step}")()
                except Exception as exc:
                    message = _failure_text(exc)
                    if not isinstance(exc, JobFailed | BadInput):
                        log_traceback(self.log, f"step {step}", exc)
                    if step in REQUIRED_STEPS:
                        self._stop(step, message)
                        raise
                    self._step_failed(step, message)
                    self.log.error(
                        "run %s: step %s failed: %s; the run goes on without it (partial)",
                        job.id,
                        step,
                        message,
                    )
                    self._save(step=STEPS[STEPS.index(step) + 1])
                    continue
                # A required step that failed before and now went through is no failed step;
                # one whose units failed is.
                self._step_failed(step, units.failure)
                nxt = STEPS[STEPS.index(step) + 1]
                self._save(step=nxt, **({step: counts} if counts is not None else {}))
                self.log.info(
                    "run %s: step %s done in %.1f s%s",
                    job.id,
                    step,
                    time.monotonic() - began,
                    f": {_counts_text(counts)}" if counts else "",
                )
            status = "partial" if job.state.get("failed_steps") else "done"
            self._finish(status)
        result = JobResult(job.id, status, dict(job.state), time.monotonic() - started)
        if status == "partial":
            failed = ", ".join(
                f"{f['step']} ({f['reason']})" for f in job.state.get("failed_steps") or []
            )
            self.log.warning(
                "run %s partial in %.1f s: failed step(s): %s; the report is written; the next "
                "`govaudit run` starts a new run",
                job.id,
                result.seconds,
                failed,
            )
        else:
            self.log.info("run %s done in %.1f s", job.id, result.seconds)
        return result

    def units(self, step: str) -> StepUnits:
        """The units of the step being run (job_units.py): failures counted and logged."""
        if step not in self._units:
            self._units[step] = StepUnits(step, self.log)
        return self._units[step]

    def _open_job(self) -> JobRun:
        """The unfinished run to continue (killed, or failed fewer than STEP_ATTEMPTS times
        at its step), else a new one."""
        with self.app.db.session() as session:
            job = session.scalars(
                select(JobRun)
                .where(JobRun.status.in_(["running", "failed"]), JobRun.finished_at.is_(None))
                .order_by(JobRun.id.desc())
                .limit(1)
            ).first()
            if job is None:
                job = JobRun(status="running", step="registry", state={})
                session.add(job)
                session.flush()
            else:
                if job.status == "failed":
                    self.log.info(
                        "run %s stopped at step %s last time (%s); trying it once more",
                        job.id,
                        job.step,
                        first_line(job.error or "", 500) or "no reason recorded",
                    )
                job.status = "running"
                job.error = None
        self.job = job
        return job

    def _save(self, step: str | None = None, **state: Any) -> None:
        assert self.job is not None
        merged = {**self.job.state, **state}
        with self.app.db.session() as session:
            row = session.get(JobRun, self.job.id)
            assert row is not None
            row.state = json.loads(mask_passwords(json.dumps(merged, default=str)))
            if step is not None:
                row.step = step
        self.job.state = merged
        if step is not None:
            self.job.step = step

    def _step_failed(self, step: str, reason: str | None) -> None:
        """Record a failed step in `failed_steps` (the summary and the report show it), or
        with no reason, clear it."""
        assert self.job is not None
        known = self.job.state.get("failed_steps") or []
        failed = [f for f in known if f["step"] != step]
        if reason is not None:
            failed.append({"step": step, "reason": mask_passwords(reason)})
        if failed != known:
            self._save(failed_steps=failed)

    def _stop(self, step: str, message: str) -> None:
        """A required step failed: the run stops; continued once by the next run, then
        given up (finished) so that the run after starts anew."""
        assert self.job is not None
        failures = dict(self.job.state.get("step_failures") or {})
        failures[step] = int(failures.get(step, 0)) + 1
        given_up = failures[step] >= STEP_ATTEMPTS
        self._step_failed(step, message)
        self._save(step_failures=failures)
        with self.app.db.session() as session:
            row = session.get(JobRun, self.job.id)
            assert row is not None
            row.status, row.error = "failed", mask_passwords(f"{step}: {message}")
            if given_up:
                row.finished_at = utcnow()
        self.job.status = "failed"
        if given_up:
            self.log.error(
                "run %s failed at step %s again: %s; the next `govaudit run` starts a new run",
                self.job.id,
                step,
                message,
            )
        else:
            self.log.error(
                "run %s failed at step %s: %s; the next `govaudit run` continues there",
                self.job.id,
                step,
                message,
            )

    def _finish(self, status: str) -> None:
        assert self.job is not None
        with self.app.db.session() as session:
            row = session.get(JobRun, self.job.id)
            assert row is not None
            row.status, row.finished_at = status, utcnow()
        self.job.status = status

    def failed_result(self, seconds: float) -> JobResult:
        """The summary of a job that stopped: what its steps got done."""
        state = dict(self.job.state) if self.job is not None else {}
        run_id = state.get("crawl_run")
        if run_id and "crawl" not in state:
            from crawler.crawl_run import progress

            prog = progress(self.app.db, run_id)
            state["crawl"] = {
                "tasks": prog.total,
                "done": prog.done,
                "failed": prog.failed,
                "pages": prog.pages,
            }
        return JobResult(self.job.id if self.job else None, "failed", state, seconds)

    # ---------------------------------------------------------------- steps

    def registry_files(self) -> list[Path]:
        from audit.config_files import bundled_registry_files

        files: list[Path] = []
        for entry in self.config["registry"]:
            path = Path(entry)
            if path.is_dir():
                found = sorted(path.glob("*.csv"))
            elif glob.has_magic(entry):
                found = sorted(Path(p) for p in glob.glob(entry) if p.endswith(".csv"))
            elif path.is_file():
                found = [path]
            else:
                raise BadInput(f"registry: {entry}: no such file or folder")
            if not found:
                self.log.warning("registry: %s: no .csv files", entry)
            files += found
        if self.config["bundled_registry"]:
            files += bundled_registry_files()
        return list(dict.fromkeys(files))

    def step_registry(self) -> dict[str, Any]:
        from govaudit.registry_files import load_registry_files

        files = self.registry_files()
        if not files:
            raise BadInput("registry: no registry file configured (registry, bundled_registry)")
        load = load_registry_files(
            self.app,
            files,
            echo=lambda line: self.log.info("registry: %s", line),
            warn=lambda line: self.log.warning("registry: %s", line.removeprefix("govaudit: ")),
        )
        if load.failed:
            raise BadInput(f"registry: {load.failed} file(s) refused: {load.errors[0]}")
        return load.as_json()

    def crawl_settings(self) -> CrawlSettings:
        """The policy's [crawl] with the run configuration's [crawl] laid over it."""
        crawl = self.app.policy.crawl_settings.evolve(self.config.crawl_overrides())
        contact = self.config["crawl.contact"]
        if contact:
            agent = crawl.user_agent
            agent = agent.split(" (+", 1)[0] if agent.endswith(")") else agent
            crawl = crawl.evolve({"user_agent": f"{agent} (+{contact})"})
        return crawl

    def archive_settings(self) -> dict[str, Any]:
        """`[archive]`: the crawl reads these web archives as of a date (crawler/archive.py)."""
        import datetime as dt

        from crawler.archive import ArchiveConfigError, archive_run_settings
        from crawler.crawl_run import default_workers

        try:
            return archive_run_settings(
                list(self.config["archive.urls"]),
                dt.date.fromisoformat(self.config["archive.as_of"]),
                self.config["archive.window_days"],
                self.app.policy.section("archive"),
                self.config["workers"] or default_workers(),
            )
        except ArchiveConfigError as exc:
            raise BadInput(f"archive: {exc}") from exc

    def _job_crawl_run(self, job_key: str) -> int | None:
        """The crawl run this job made for `job_key` (also when killed before noting it)."""
        assert self.job is not None
        known = self.job.state.get(job_key)
        if known:
            return int(known)
        with self.app.db.session() as session:
            for run in session.scalars(
                select(CrawlRun)
                .where(CrawlRun.started_at >= self.job.started_at)
                .order_by(CrawlRun.id.desc())
            ):
                if (run.settings or {}).get("job_run") == [self.job.id, job_key]:
                    return run.id
        return None

    def step_crawl(self) -> dict[str, Any]:
        from crawler.crawl_run import JOBS, TaskSpec, create_run, progress
        from govaudit.registry_files import audited_entries

        run_id = self._job_crawl_run("crawl_run")
        if run_id is None:
            snapshot_id, entries = audited_entries(self.app)
            tasks = [TaskSpec("sites", e["domain"], e["domain"], e.get("agency")) for e in entries]
            tasks += [
                TaskSpec("open", a.agency, a.primary_domain, a.agency) for a in self.app.agencies
            ]
            assert self.job is not None
            from govaudit.run_settings import crawl_run_settings

            # WARC evidence (`crawl --warc`): `warc = true`, files in `warc_dir` (default the
            # data directory's warc/).
            settings = crawl_run_settings(
                self.app.policy,
                JOBS,
                self.crawl_settings(),
                keep_evidence=False,
                job_run=[self.job.id, "crawl_run"],
                warc=bool(self.config["warc"]),
                warc_dir=self.config["warc_dir"],
                archive=self.archive_settings() if self.config["archive.urls"] else None,
            )
            settings = json.loads(mask_passwords(json.dumps(settings, default=str)))
            run_id = create_run(self.app.db, snapshot_id, settings, tasks)
            self._save(crawl_run=run_id)
            self.log.info("crawl: crawl run %s: %s tasks (sites, open)", run_id, len(tasks))
        else:
            self._save(crawl_run=run_id)
            self.log.info("crawl: continuing crawl run %s", run_id)
        status = self.crawl(run_id, list(JOBS))
        self.units("crawl").from_tasks(self.app.db, run_id)
        prog = progress(self.app.db, run_id)
        if status != "finished":
            raise JobFailed(
                f"crawl run {run_id} did not finish ({prog.done + prog.failed}/{prog.total} "
                "tasks): a crawler process failed"
            )
        counts = {"tasks": prog.total, "done": prog.done, "failed": prog.failed}
        counts["pages"] = prog.pages
        if self.config["crawl.websites"]:
            from govaudit.website_crawl import job_website_crawl

            websites = job_website_crawl(self, run_id)
            if error := websites.pop("error"):
                raise JobFailed(error)
            counts["websites"] = websites
        return counts

    def crawl(self, run_id: int, jobs: list[str]) -> str:
        """The one place the job starts crawler processes (a distributed crawl plugs in here).

        A finished crawl run is not crawled again; an unfinished one goes on with its pending
        tasks (crawler/crawl_run.py's resume).
        """
        from crawler.crawl_run import default_workers, execute

        with self.app.db.session() as session:
            run = session.get(CrawlRun, run_id)
            assert run is not None
            if run.status == "finished":
                return "finished"
        workers = self.config["workers"] or default_workers()
        os.environ["GOVAUDIT_SCRAPY_LOG_LEVEL"] = self.config["log.scrapy_level"]
        if self.config["log.file"]:
            os.environ["GOVAUDIT_SCRAPY_LOG_FILE"] = self.config["log.file"]
        tick = self.on_tick(f"run {run_id}")
        try:
            if self.config["distributed"]:
                from crawler.distributed import coordinate, is_postgresql

                if not is_postgresql(self.app.db.url):
                    raise JobFailed("distributed = true needs a PostgreSQL database (db = ...)")
                return coordinate(
                    self.app.db, run_id, jobs, int(self.config["batch_size"]), on_tick=tick
                )
            return execute(self.app.db, run_id, jobs, workers, self.app.verbose, on_tick=tick)
        finally:
            close = getattr(tick, "close", None)
            if close is not None:
                close()

    def step_rdap(self) -> dict[str, Any] | None:
        from crawler.crawl_run import TaskSpec, create_run
        from govaudit.rdap_lookup import rdap_base_url, rdap_candidates

        if not self.rdap:
            self.log.info("rdap: skipped (--no-rdap or rdap = false)")
            return {"skipped": True}
        run_id = self._job_crawl_run("rdap_run")
        if run_id is None:
            snapshot_id, names = rdap_candidates(self.app, only_unknown=True)
            if not names:
                return {"asked": 0}
            base = rdap_base_url(self.app, None)
            assert self.job is not None
            from govaudit.run_settings import run_settings

            settings = run_settings(
                ["rdap"],
                crawl=self.crawl_settings(),
                rdap_url=base,
                job_run=[self.job.id, "rdap_run"],
            )
            run_id = create_run(
                self.app.db, snapshot_id, settings, [TaskSpec("rdap", n, n, None) for n in names]
            )
            self.log.info("rdap: run %s: %s domains from %s", run_id, len(names), base)
        self._save(rdap_run=run_id)
        status = self.crawl(run_id, ["rdap"])
        failed = self.units("rdap").from_tasks(self.app.db, run_id, lambda job, key: key)
        with self.app.db.session() as session:
            counts = dict(
                session.execute(
                    select(RdapResult.state, func.count())
                    .where(RdapResult.run_id == run_id)
                    .group_by(RdapResult.state)
                ).all()
            )
            for domain, state, error in session.execute(
                select(RdapResult.domain, RdapResult.state, RdapResult.error)
                .where(
                    RdapResult.run_id == run_id,
                    RdapResult.state.not_in(["registered", "not-registered"]),
                )
                .order_by(RdapResult.id)
            ):
                reason = f"{state} ({error})" if error else state
                self.log.warning("rdap: failed unit %s: %s", domain, reason)
        if status != "finished":
            raise JobFailed(f"rdap run {run_id} did not finish: a crawler process failed")
        answers = {str(k): v for k, v in sorted(counts.items())}
        return {
            "asked": sum(counts.values()) + failed,
            **answers,
            **({"failed": failed} if failed else {}),
        }

    def step_dns(self) -> dict[str, Any] | None:
        """Email and DNS of every audited domain (`govaudit dns`, on by default: `dns =
        false` skips it). A domain whose DNS did not answer is couldn't check, not a failed
        job; a run cut short continues with its pending domains."""
        from govaudit.dns_job import create_dns_run, dns_options, dns_targets, execute_dns_run

        if not self.config["dns"]:
            self.log.info("dns: skipped (dns = false)")
            return {"skipped": True}
        run_id = self._job_crawl_run("dns_run")
        if run_id is None:
            options = dns_options(
                self.config["dns_nameservers"],
                float(self.config["dns_timeout"]),
                int(self.config["dns_concurrency"]),
                where="dns_nameservers:",
                workers=self.config["workers"],
            )
            snapshot_id, targets = dns_targets(self.app)
            if not targets:
                return {"domains": 0}
            assert self.job is not None
            run_id = create_dns_run(
                self.app, snapshot_id, targets, options, {"job_run": [self.job.id, "dns_run"]}
            )
            self.log.info(
                "dns: run %s: %s domains via %s",
                run_id,
                len(targets),
                ", ".join(options["nameservers"]),
            )
        else:
            self.log.info("dns: continuing run %s", run_id)
        self._save(dns_run=run_id)
        counts = execute_dns_run(self.app, run_id)
        for row in counts.pop("unchecked"):
            self.log.warning("dns: couldn't check %s: %s", row["domain"], row["reason"])
        failed = self.units("dns").from_tasks(self.app.db, run_id, lambda job, key: key)
        if counts["pending"]:
            raise JobFailed(f"dns run {run_id} did not finish ({counts['pending']} pending)")
        return {**counts, **({"failed": failed} if failed else {})}

    def step_a11y(self) -> dict[str, Any] | None:
        """Accessibility of the crawl's active homepages and /open pages (`govaudit a11y`).

        An optional observation: without a browser on the machine the step is skipped with a
        warning (the audit then has no accessibility facts), never a failed job.
        """
        from crawler.a11y import chromium_missing
        from govaudit.a11y_job import (
            a11y_options,
            a11y_targets,
            create_a11y_run,
            execute_a11y_run,
        )

        if not self.a11y:
            self.log.info("a11y: skipped (--quick or a11y = false)")
            return {"skipped": True}
        if self.config["archive.urls"]:
            # A browser would load today's pages, not the archived ones the crawl judged.
            self.log.info("a11y: skipped: the crawl read web archives ([archive])")
            return {"skipped": True, "reason": "archive crawl"}
        missing = chromium_missing()
        if missing:
            self.log.warning("a11y: skipped: %s (or set a11y = false)", missing)
            return {"skipped": True, "reason": missing}
        options = a11y_options(
            self.app,
            concurrency=int(self.config["a11y_concurrency"]),
            timeout=float(self.config["a11y_timeout"]),
        )
        run_id = self._job_crawl_run("a11y_run")
        if run_id is None:
            assert self.job is not None
            snapshot_id, targets = a11y_targets(self.app, self.job.state.get("crawl_run"))
            if not targets:
                self.log.info("a11y: no active site or /open page to check")
                return {"pages": 0}
            run_id = create_a11y_run(
                self.app,
                snapshot_id,
                targets,
                options,
                {"job_run": [self.job.id, "a11y_run"]},
            )
            self.log.info("a11y: run %s: %s pages", run_id, len(targets))
        else:
            self.log.info("a11y: continuing run %s", run_id)
        self._save(a11y_run=run_id)
        counts = execute_a11y_run(self.app, run_id, options)
        self.units("a11y").from_tasks(self.app.db, run_id, lambda job, key: key.partition(" ")[2])
        with self.app.db.session() as session:
            from audit.a11y import INTERNAL_ERROR, a11y_pages

            for page in a11y_pages(session, run_id):
                if page["state"] != "checked" and page["reason"] != INTERNAL_ERROR:
                    self.log.warning("a11y: couldn't check %s: %s", page["url"], page["reason"])
        if counts["pending"]:
            raise JobFailed(f"a11y run {run_id} did not finish ({counts['pending']} pending)")
        return counts

    def step_audit(self) -> dict[str, Any]:
        from collections import Counter

        from audit.audit_run import run_audit
        from audit.config_files import SEEDS_DIR

        assert self.job is not None
        crawl_run = self.job.state.get("crawl_run")
        audit_id = self.job.state.get("audit_run")
        if audit_id is None:
            # A killed attempt may have stored its audit run before the job noted it.
            with self.app.db.session() as session:
                audit_id = session.scalar(
                    select(AuditRun.id)
                    .where(
                        AuditRun.crawl_run_id == crawl_run,
                        AuditRun.started_at >= self.job.started_at,
                    )
                    .order_by(AuditRun.id.desc())
                    .limit(1)
                )
            if audit_id is not None:
                self.log.info("audit: using audit run %s stored by the killed attempt", audit_id)
        if audit_id is None:
            waivers_file = str(self.app.waivers_path or SEEDS_DIR / "waivers.csv")
            audit_id, drafts, _data = run_audit(
                self.app.db, self.app.policy, self.app.waivers, crawl_run, waivers_file
            )
            by_rule = Counter(d.rule for d in drafts)
            self.log.info(
                "audit: audit run %s: %s",
                audit_id,
                ", ".join(f"{r} {n}" for r, n in sorted(by_rule.items())) or "no findings",
            )
            _hold("audit-written", self.log)
        self._save(audit_run=audit_id)
        return {"audit_run": audit_id, **finding_changes(self.app, audit_id)}

    def step_report(self) -> dict[str, Any]:
        from reports.render import render_report

        assert self.job is not None
        out = Path(self.config["output"])
        stamp = self.job.state.get("report_dir")
        if stamp is None:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")
            self._save(report_dir=stamp)
        folder = out / "runs" / stamp
        latest = out / "latest"
        if latest.exists() and not latest.is_symlink():
            raise BadInput(f"{latest}: exists and is not a symlink; move it away")
        index = render_report(
            self.app.db,
            folder,
            run_id=self.job.state.get("crawl_run"),
            audit_run_id=self.job.state.get("audit_run"),
            policy=self.app.policy,
            agencies=self.app.agencies,
        )
        _hold("report-written", self.log)
        switch_latest(out, Path("runs") / stamp)
        self._save(report_path=str(index))
        self.log.info("report: %s; %s -> runs/%s", index, latest, stamp)
        return {"folder": str(folder)}

    def step_prune(self) -> dict[str, Any]:
        from govaudit.retention import prune

        result = prune(self.app.db, int(self.config["retention"]), log=self.log.info)
        self.log.info("prune: %s", result.summary())
        return result.as_json()


def switch_latest(out: Path, target: Path) -> None:
    """Point OUT/latest at `target` (relative to OUT) in one rename: a web server serving
    OUT/latest/ sees the old report or the new one, never a mixture."""
    tmp = out / f".latest.{os.getpid()}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, out / "latest")


def finding_changes(app: App, audit_id: int) -> dict[str, int]:
    """Findings of an audit run, and how many are new or resolved since the previous one."""

    def keys(session: Any, run_id: int) -> set[tuple[str, str, str, str]]:
        return {
            (rule, domain or "", agency or "", window or "")
            for rule, domain, agency, window in session.execute(
                select(Finding.rule, Finding.domain, Finding.agency, Finding.window).where(
                    Finding.audit_run_id == run_id
                )
            )
        }

    with app.db.session() as session:
        total = session.scalar(
            select(func.count()).select_from(Finding).where(Finding.audit_run_id == audit_id)
        )
        current = keys(session, audit_id)
        previous_id = session.scalar(
            select(AuditRun.id).where(AuditRun.id < audit_id).order_by(AuditRun.id.desc()).limit(1)
        )
        previous = keys(session, previous_id) if previous_id is not None else set()
    return {
        "total": int(total or 0),
        "new": len(current - previous),
        "resolved": len(previous - current),
    }


def _failure_text(exc: BaseException) -> str:
    """A failure in one line: a message of ours as it is, any other error with its type."""
    if isinstance(exc, BadInput):
        return exc.message
    if isinstance(exc, JobFailed):
        return first_line(str(exc), 500)
    return one_line(exc)


def _counts_text(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if not isinstance(v, list | dict))
