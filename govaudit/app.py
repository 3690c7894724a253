"""What every command shares: the database, the seeds in force, and how errors leave."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

# The store and the seeds (SQLAlchemy, tldextract) are imported when a command first uses
# them, so that `govaudit --help` and commands that need neither start without them.
if TYPE_CHECKING:
    from audit.agencies_file import AgencySeed
    from audit.db import Database
    from audit.policy_file import Policy
    from audit.waivers_file import Waiver


class BadInput(click.ClickException):
    """Bad usage or bad input: exit 2 with one clear line."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"govaudit: error: {self.message}", err=True)


class Failure(click.ClickException):
    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"govaudit: error: {self.message}", err=True)


def fail_input(message: str) -> NoReturn:
    raise BadInput(message)


def domain_options(raw_names: Iterable[str]) -> list[str]:
    """The registered .gov domains named by `--domain` options, normalised, each once, in the
    order given; a name that is not one is refused in one line naming the option."""
    from audit.domain_names import DomainError, normalise_gov_domain

    names: list[str] = []
    for raw in raw_names:
        try:
            names.append(normalise_gov_domain(raw))
        except DomainError as exc:
            fail_input(f"--domain {raw}: {exc}")
    return list(dict.fromkeys(names))


@dataclass
class App:
    db_url: str | None
    policy_path: Path | None
    agencies_path: Path | None
    waivers_path: Path | None
    verbose: int = 0
    # `--create-db-dir`: make a SQLite file's missing folder instead of refusing the URL.
    create_db_dir: bool = False
    # Where the database URL was given, for its error messages: `--db`, `GOVAUDIT_DB`, or a
    # job config's `FILE:LINE: db`.
    db_named_by: str = "--db"
    _db: Database | None = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        if self._db is None:
            from audit.db import Database

            self._db = Database(
                self.db_url, create_folder=self.create_db_dir, named_by=self.db_named_by
            )
        return self._db

    @cached_property
    def policy(self) -> Policy:
        from audit.config_files import SeedError
        from audit.policy_file import load_policy

        try:
            return load_policy(self.policy_path)
        except SeedError as exc:
            fail_input(str(exc))

    @cached_property
    def agencies(self) -> list[AgencySeed]:
        from audit.agencies_file import load_agencies
        from audit.config_files import SeedError

        try:
            return load_agencies(self.agencies_path)
        except SeedError as exc:
            fail_input(str(exc))

    @cached_property
    def waivers(self) -> list[Waiver]:
        from audit.config_files import SeedError
        from audit.waivers_file import load_waivers

        try:
            return load_waivers(self.waivers_path)
        except SeedError as exc:
            fail_input(str(exc))

    def check_files(self) -> None:
        """Read every file named by --policy, --agencies or --waivers now, so that a bad one
        is refused (exit 2, `file:line: what is wrong`) when the command starts, whether or
        not the command goes on to read it. The bundled seeds are read only when needed."""
        if self.policy_path is not None:
            _ = self.policy
        if self.agencies_path is not None:
            _ = self.agencies
        if self.waivers_path is not None:
            _ = self.waivers

    def use_seeds(self, policy: Path | None = None, waivers: Path | None = None) -> None:
        """Lay a command's own --policy/--waivers over the global ones (and check them now)."""
        if policy is not None:
            self.policy_path = policy
            self.__dict__.pop("policy", None)
            _ = self.policy
        if waivers is not None:
            self.waivers_path = waivers
            self.__dict__.pop("waivers", None)
            _ = self.waivers


pass_app = click.make_pass_decorator(App)


def existing_file(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise click.BadParameter(f"{value}: no such file", ctx=ctx, param=param)
    return path


def file_option(name: str, help_text: str) -> Any:
    return click.option(name, callback=existing_file, metavar="FILE", help=help_text)
