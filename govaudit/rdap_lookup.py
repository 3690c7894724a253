"""What RDAP is asked and where: the service's base URL and the domains without an answer."""

from __future__ import annotations

from collections.abc import Sequence

from govaudit.app import App, fail_input


def rdap_base_url(app: App, given: str | None) -> str:
    """--rdap-url, else policy [rdap] base_url, else the IANA bootstrap copy in force."""
    import json as _json

    from audit.config_files import seed_path

    if given:
        return given
    cfg = app.policy.section("rdap")
    if cfg.get("base_url"):
        return str(cfg["base_url"])
    path = seed_path(str(cfg.get("bootstrap_file", "rdap-dns.json")))
    try:
        services = _json.loads(path.read_text(encoding="utf-8"))["services"]
    except (OSError, ValueError, KeyError) as exc:
        fail_input(f"{path}: not a usable RDAP bootstrap file ({exc})")
    for tlds, urls in services:
        if "gov" in tlds and urls:
            return str(urls[0])
    fail_input(f"{path}: no RDAP service for .gov")


def unknown_domains(app: App, names: Sequence[str]) -> list[str]:
    """The names with no conclusive cached answer (registered or not-registered)."""
    from sqlalchemy import select

    from audit.models import RdapResult

    with app.db.session() as session:
        known = set(
            session.scalars(
                select(RdapResult.domain)
                .where(RdapResult.state.in_(["registered", "not-registered"]))
                .distinct()
            )
        )
    return [n for n in names if n not in known]


def rdap_candidates(app: App, only_unknown: bool) -> tuple[int, list[str]]:
    """The newest snapshot's domains, the unlisted .gov domains crawls found, and the
    waivers' domains (those without a conclusive answer with `only_unknown`)."""
    from sqlalchemy import select

    from audit.domain_names import registrable_domain
    from audit.models import LinkObservation
    from govaudit.registry_files import audited_entries

    snapshot_id, entries = audited_entries(app)
    names = [e["domain"] for e in entries]
    with app.db.session() as session:
        hosts = session.scalars(
            select(LinkObservation.to_host).where(LinkObservation.kind == "gov-unlisted").distinct()
        )
        names += sorted({registrable_domain(h) for h in hosts if h})
    names += [w.domain for w in app.waivers]
    names = list(dict.fromkeys(n for n in names if n))
    return snapshot_id, unknown_domains(app, names) if only_unknown else names
