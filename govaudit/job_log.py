"""The periodic job's log: UTC timestamps, one line per event, no password ever written."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from audit.db import mask_passwords

LOGGER_NAME = "govaudit.run"


class PasswordMask(logging.Filter):
    """Masks URL passwords in every record, whatever code logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = mask_passwords(record.getMessage())
        record.msg, record.args = message, None
        return True


def configure(level: str, log_file: Path | None) -> logging.Logger:
    """The job's logger: to stderr, and appended to `log_file` when given."""
    formatter = logging.Formatter(
        "%(asctime)sZ %(levelname)s govaudit run: %(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers.clear()
    logger.setLevel(level)
    logger.propagate = False
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(PasswordMask())
        logger.addHandler(handler)
    return logger


def close(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)
