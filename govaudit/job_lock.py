"""One `govaudit run` at a time per database: a lock that is a row of the database itself.

It holds across machines sharing a PostgreSQL database. Taking it is one INSERT (the primary
key makes a second one fail); taking over a stale holder is one UPDATE conditioned on the
holder's token, so two runs cannot both take it. A holder refreshes its heartbeat from a
thread; a holder whose process is gone (same host, dead pid) or whose heartbeat is older than
`stale_after` seconds is stale.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from audit.db import Database
from audit.models import JobLock, utcnow

LOCK_NAME = "run"
HEARTBEAT_SECONDS = 20.0
# Tokens this process holds: a row naming our own pid but none of these tokens was left by an
# earlier process that had our pid (a container restarted, pids reused), so it is stale.
_HELD: set[str] = set()


@dataclass
class Holder:
    host: str
    pid: int
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    job_run_id: int | None

    def describe(self) -> str:
        run = f"run {self.job_run_id} " if self.job_run_id else ""
        return (
            f"{run}held by host {self.host}, pid {self.pid}, since "
            f"{self.started_at.isoformat(timespec='seconds')}Z (heartbeat "
            f"{self.heartbeat_at.isoformat(timespec='seconds')}Z)"
        )


class Locked(RuntimeError):
    def __init__(self, holder: Holder) -> None:
        super().__init__(f"locked: another govaudit run is running: {holder.describe()}")
        self.holder = holder


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobLockHandle:
    """The lock, once taken: heartbeat in the background, release on exit."""

    def __init__(self, db: Database, token: str, took_over: Holder | None) -> None:
        self.db = db
        self.token = token
        self.took_over = took_over
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="job-lock-heartbeat", daemon=True)
        self._thread.start()
        _HELD.add(token)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                with self.db.session() as session:
                    session.execute(
                        update(JobLock)
                        .where(JobLock.name == LOCK_NAME, JobLock.token == self.token)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # a missed beat is retried; stale_after allows many
                continue

    def set_job_run(self, job_run_id: int) -> None:
        with self.db.session() as session:
            session.execute(
                update(JobLock)
                .where(JobLock.name == LOCK_NAME, JobLock.token == self.token)
                .values(job_run_id=job_run_id)
            )

    def release(self) -> None:
        _HELD.discard(self.token)
        self._stop.set()
        self._thread.join(timeout=5)
        with self.db.session() as session:
            session.execute(
                delete(JobLock).where(JobLock.name == LOCK_NAME, JobLock.token == self.token)
            )

    def __enter__(self) -> JobLockHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_stale(holder: Holder, token: str, stale_after: float, host: str) -> bool:
    if holder.host == host:
        if holder.pid == os.getpid() and token not in _HELD:
            return True
        if not _pid_alive(holder.pid):
            return True
    return (utcnow() - holder.heartbeat_at).total_seconds() > stale_after


def acquire(db: Database, stale_after: float = 900.0) -> JobLockHandle:
    """Take the lock or raise Locked naming the holder."""
    host, pid, token = socket.gethostname(), os.getpid(), uuid.uuid4().hex
    now = utcnow()
    mine = {"token": token, "host": host, "pid": pid, "started_at": now, "heartbeat_at": now}
    try:
        with db.session() as session:
            session.add(JobLock(name=LOCK_NAME, job_run_id=None, **mine))
        return JobLockHandle(db, token, None)
    except IntegrityError:
        pass
    with db.session() as session:
        row = session.scalars(select(JobLock).where(JobLock.name == LOCK_NAME)).first()
        if row is None:  # released in between: try once more from the start
            return acquire(db, stale_after)
        holder = Holder(row.host, row.pid, row.started_at, row.heartbeat_at, row.job_run_id)
        old_token = row.token
    if not is_stale(holder, old_token, stale_after, host):
        raise Locked(holder)
    with db.session() as session:
        taken = session.execute(
            update(JobLock)
            .where(JobLock.name == LOCK_NAME, JobLock.token == old_token)
            .values(job_run_id=None, **mine)
        ).rowcount
    if taken != 1:
        return acquire(db, stale_after)
    return JobLockHandle(db, token, holder)
