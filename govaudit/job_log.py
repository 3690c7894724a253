"""The periodic job's log: UTC timestamps, one line per event, no password ever written.

A failure is one line at ERROR or WARNING on stderr and in the file; its traceback is a
DEBUG record that goes to the log file only (and to stderr only with --log-level DEBUG).
Tracebacks from the in-process crawler code (the accessibility checker) join the file too.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from audit.db import mask_passwords

LOGGER_NAME = "govaudit.run"
# Loggers of code the job runs in its own process whose tracebacks belong in the log file.
TRACEBACK_LOGGERS = ("crawler",)


class PasswordMask(logging.Filter):
    """Masks URL passwords in every record, whatever code logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = mask_passwords(record.getMessage())
        record.msg, record.args = message, None
        return True


class MaskedFormatter(logging.Formatter):
    """The whole formatted record masked, traceback included (an exception's text may
    quote a database URL)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_passwords(super().format(record))


class LevelOrTraceback(logging.Filter):
    """The log file: records at the configured level and above, and every traceback."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level or bool(record.exc_info)


def configure(level: str, log_file: Path | None) -> logging.Logger:
    """The job's logger: to stderr, and appended to `log_file` when given."""
    formatter = MaskedFormatter(
        "%(asctime)sZ %(levelname)s govaudit run: %(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    threshold = logging.getLevelName(level.upper())
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers.clear()
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(threshold)
    handlers: list[logging.Handler] = [stderr]
    file_handler: logging.Handler | None = None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.addFilter(LevelOrTraceback(threshold))
        handlers.append(file_handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(PasswordMask())
        logger.addHandler(handler)
    for name in TRACEBACK_LOGGERS:
        other = logging.getLogger(name)
        _drop_job_handlers(other)
        if file_handler is not None:
            other.setLevel(min(other.level or logging.DEBUG, logging.DEBUG))
            other.addHandler(file_handler)
    return logger


def log_traceback(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """The traceback of a failure already reported in one line: a DEBUG record (the file)."""
    logger.debug("traceback of %s:", what, exc_info=(type(exc), exc, exc.__traceback__))


def close(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)
    for name in TRACEBACK_LOGGERS:
        _drop_job_handlers(logging.getLogger(name))


def _drop_job_handlers(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        if any(isinstance(f, LevelOrTraceback) for f in handler.filters):
            logger.removeHandler(handler)
