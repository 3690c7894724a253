"""Site definitions of the simulated web: loading, validating and compiling YAML site files.

A site file describes one web site (one or more host names) as data; the format is documented in
``docs/simulated-web.md``.  Loading compiles every page once (templates expanded, PDFs generated),
for the base definition and for every ``epochs`` override, so that serving a request is a lookup.

Every problem found while loading raises :class:`SiteError` with a one-line message naming the
file, the place in the file and the problem.
"""

from __future__ import annotations

import html
import ipaddress
import json
import mimetypes
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import yaml

from simweb.hostile import BEHAVIOURS as HOSTILE_BEHAVIOURS
from simweb.office import DOC_TYPE, DOCX_TYPE, RTF_TYPE, make_doc, make_docx, make_rtf
from simweb.pdf import make_pdf, make_scanned_pdf

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_SITES_DIR = DEMO_DIR / "sites"
DEMO_WORLD_FILE = DEMO_DIR / "world.yaml"

HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
JSON_TYPE = "application/json"
PDF_TYPE = "application/pdf"

SITE_KEYS = frozenset(
    {
        "description",
        "extends",
        "hosts",
        "schemes",
        "https_redirect",
        "redirect_host",
        "down",
        "tls",
        "delay",
        "status_all",
        "headers",
        "robots",
        "catch_all",
        "ignore_case",
        "vars",
        "pages",
        "epochs",
    }
)
EPOCH_KEYS = SITE_KEYS - {"hosts", "epochs", "extends"}
CONTENT_KEYS = (
    "body",
    "body_file",
    "text",
    "json",
    "pdf_text",
    "title",
    "hostile",
    "docx_text",
    "doc_text",
    "rtf_text",
    "scanned_pdf",
)
PAGE_KEYS = frozenset(
    {*CONTENT_KEYS, "status", "headers", "content_type", "redirect", "delay", "sequence", "vars"}
    | {"pdf_title"}
)
TEXT_SUFFIXES = frozenset({".html", ".htm", ".txt", ".xml", ".json", ".csv", ".css", ".js", ".md"})

_HOST_RE = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_TOKEN_RE = re.compile(
    r"\{\{\s*(?:>\s*(?P<include>[^{}]+?)|(?P<var>[A-Za-z_][A-Za-z0-9_.-]*))\s*\}\}"
)
_MAX_TEMPLATE_DEPTH = 16


class SiteError(ValueError):
    """A site definition that cannot be loaded; the message is one line naming file and problem."""


class _Problem(Exception):
    """Raised while compiling; turned into a :class:`SiteError` with the file name prefixed."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)


# --------------------------------------------------------------------------- compiled objects


@dataclass(frozen=True)
class Page:
    """One compiled response (a page, a catch-all page, or one item of a sequence)."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str | None = None
    redirect: str | None = None
    delay: float = 0.0
    sequence: tuple[Page, ...] = ()
    hostile: str | None = None  # a behaviour of simweb/hostile.py answers instead


# How a site's https answers: `ok` (a certificate from the instance's CA), `broken` (no TLS at
# all), or a certificate a verifying client must refuse: `expired`, `wrong-host` (issued for
# another name), `self-signed` (issued by nobody the client trusts).
TLS_MODES = ("ok", "broken", "expired", "wrong-host", "self-signed")


@dataclass(frozen=True)
class SiteState:
    """A site as it is at one epoch."""

    hosts: tuple[str, ...]
    schemes: frozenset[str] = frozenset({"http", "https"})
    https_redirect: bool = False
    redirect_host: Mapping[str, str] = field(default_factory=dict)
    down: bool = False
    tls: str = "ok"
    delay: float = 0.0
    status_all: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    robots: bytes | None = None
    catch_all: Page | None = None
    ignore_case: bool = False
    pages: Mapping[str, Page] = field(default_factory=dict)


@dataclass(frozen=True)
class Site:
    """A site definition: its name, host names, and its compiled state for each epoch."""

    name: str
    hosts: tuple[str, ...]
    states: tuple[tuple[int, SiteState], ...]
    source: Path | None = None
    description: str = ""

    def at(self, epoch: int) -> SiteState:
        """The state in force at ``epoch`` (the base state plus every override keyed <= epoch)."""
        current = self.states[0][1]
        for key, state in self.states:
            if key <= epoch:
                current = state
        return current

    @property
    def epochs(self) -> list[int]:
        return [key for key, _ in self.states[1:]]

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        name: str = "site",
        base_dir: str | Path | None = None,
        source: str | Path | None = None,
    ) -> Site:
        """Build a site from a definition mapping (the parsed content of a site file)."""
        src = Path(source) if source is not None else None
        label = str(src) if src is not None else f"site {name!r}"
        folder = Path(base_dir) if base_dir is not None else (src.parent if src else Path.cwd())
        try:
            if not isinstance(data, Mapping):
                raise _Problem("", f"a site definition must be a mapping, not {_kind(data)}")
            merged = _resolve_extends(dict(data), folder, [src.resolve()] if src else [])
            return _compile_site(merged, name=name, folder=folder, source=src)
        except _Problem as exc:
            raise SiteError(f"{label}: {exc}") from None


# --------------------------------------------------------------------------- loading


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteError(f"{path}: cannot read the file ({exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SiteError(f"{path}: invalid YAML{where}: {problem}") from None


def load_site_file(path: str | Path) -> Site:
    """Load one site file; the site is named after the file (without ``.yaml``)."""
    p = Path(path)
    data = _read_yaml(p)
    if data is None:
        raise SiteError(f"{p}: the file is empty")
    return Site.from_dict(data, name=p.stem, base_dir=p.parent, source=p)


def site_files(directory: str | Path) -> list[Path]:
    """The site files of a directory: ``*.yaml``/``*.yml`` not starting with ``_`` or ``.``."""
    d = Path(directory)
    files = [*d.glob("*.yaml"), *d.glob("*.yml")]
    return sorted(f for f in files if f.is_file() and not f.name.startswith(("_", ".")))


def load_sites(paths: str | Path | Iterable[str | Path]) -> list[Site]:
    """Load site files from directories and/or files."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    sites: list[Site] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            sites.extend(load_site_file(f) for f in site_files(p))
        elif p.is_file():
            sites.append(load_site_file(p))
        else:
            raise SiteError(f"{p}: no such file or directory")
    return sites


# --------------------------------------------------------------------------- merging


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a site override over a site definition.

    Mappings merge key by key (recursively); a ``null`` value removes the key; any other value
    replaces.  ``pages`` merge by path, each page replaced as a whole (``null`` removes it).
    """
    out = dict(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif key == "pages" and isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            pages = dict(out[key])
            for path, page in value.items():
                if page is None:
                    pages.pop(path, None)
                else:
                    pages[path] = page
            out[key] = pages
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge_plain(out[key], value)
        else:
            out[key] = value
    return out


def _merge_plain(base: Mapping[Any, Any], override: Mapping[Any, Any]) -> dict[Any, Any]:
    out = dict(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge_plain(out[key], value)
        else:
            out[key] = value
    return out


def _absolutize_page(page: Any, folder: Path) -> Any:
    if not isinstance(page, Mapping):
        return page
    out = dict(page)
    if isinstance(out.get("body_file"), str):
        out["body_file"] = str((folder / out["body_file"]).resolve())
    if isinstance(out.get("sequence"), list):
        out["sequence"] = [_absolutize_page(item, folder) for item in out["sequence"]]
    return out


def _absolutize(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Make the ``body_file`` paths of a base definition absolute (they are relative to it)."""
    out = dict(data)
    if isinstance(out.get("pages"), Mapping):
        out["pages"] = {k: _absolutize_page(v, folder) for k, v in out["pages"].items()}
    if "catch_all" in out:
        out["catch_all"] = _absolutize_page(out["catch_all"], folder)
    if isinstance(out.get("epochs"), Mapping):
        out["epochs"] = {
            k: _absolutize(dict(v), folder) if isinstance(v, Mapping) else v
            for k, v in out["epochs"].items()
        }
    return out


def _resolve_extends(data: dict[str, Any], folder: Path, chain: list[Path]) -> dict[str, Any]:
    ext = data.pop("extends", None)
    if ext is None:
        return data
    bases = [ext] if isinstance(ext, str) else ext
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise _Problem("extends", f"expected a file name or a list of them, not {_kind(ext)}")
    merged: dict[str, Any] = {}
    for rel in bases:
        path = (folder / rel).resolve()
        if path in chain:
            raise _Problem("extends", f"{rel!r} extends itself (cycle)")
        try:
            base = _read_yaml(path) if path.is_file() else None
        except SiteError as exc:
            raise _Problem("extends", str(exc)) from None
        if not path.is_file():
            raise _Problem("extends", f"{rel!r} not found")
        if not isinstance(base, Mapping):
            raise _Problem("extends", f"{rel!r} must contain a mapping, not {_kind(base)}")
        base = _resolve_extends(dict(base), path.parent, [*chain, path])
        merged = deep_merge(merged, _absolutize(base, path.parent))
    epochs_base = merged.get("epochs")
    result = deep_merge(merged, data)
    if isinstance(epochs_base, Mapping) and isinstance(data.get("epochs"), Mapping):
        result["epochs"] = {**epochs_base, **data["epochs"]}
    return result


# --------------------------------------------------------------------------- templates


def expand(
    text: str,
    variables: Mapping[str, str],
    folder: Path,
    where: str,
    *,
    vars_folder: Path | None = None,
    _depth: int = 0,
) -> str:
    """Expand ``{{name}}`` (a variable) and ``{{> file}}`` (an included file) in ``text``.

    An include is relative to ``folder`` (the folder of the text being expanded); the value of a
    variable is expanded relative to ``vars_folder`` (the folder of the site file).
    """
    if "{{" not in text:
        return text
    root = folder if vars_folder is None else vars_folder
    if _depth > _MAX_TEMPLATE_DEPTH:
        raise _Problem(where, "templates nested too deeply (a variable or include loop?)")

    def replace(match: re.Match[str]) -> str:
        include = match.group("include")
        if include is not None:
            path = (folder / include.strip()).resolve()
            try:
                content = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise _Problem(where, f"cannot include {include.strip()!r} ({exc})") from None
            return expand(
                content, variables, path.parent, where, vars_folder=root, _depth=_depth + 1
            )
        name = match.group("var")
        if name not in variables:
            raise _Problem(where, f"undefined template variable {name!r}")
        return expand(variables[name], variables, root, where, vars_folder=root, _depth=_depth + 1)

    return _TOKEN_RE.sub(replace, text)


def _vars(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _Problem(where, f"expected a mapping of variables, not {_kind(value)}")
    out: dict[str, str] = {}
    for key, val in value.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            raise _Problem(where, f"invalid variable name {key!r}")
        if isinstance(val, Mapping | list):
            raise _Problem(f"{where}.{key}", f"a variable must be a scalar, not {_kind(val)}")
        out[key] = (
            ""
            if val is None
            else ("true" if val is True else "false")
            if isinstance(val, bool)
            else str(val)
        )
    return out


# --------------------------------------------------------------------------- compiling


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Problem(where, f"expected true or false, not {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _Problem(where, f"expected a number of seconds >= 0, not {value!r}")
    return float(value)


def _status(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise _Problem(where, f"expected an HTTP status code (100-599), not {value!r}")
    return value


def _headers(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise _Problem(where, f"expected a mapping of header names to values, not {_kind(value)}")
    out = []
    for name, val in value.items():
        if not isinstance(name, str) or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
            raise _Problem(where, f"invalid header name {name!r}")
        if isinstance(val, Mapping | list) or val is None:
            raise _Problem(f"{where}.{name}", f"a header value must be a scalar, not {_kind(val)}")
        text = str(val)
        if "\r" in text or "\n" in text:
            raise _Problem(f"{where}.{name}", "a header value cannot contain a line break")
        out.append((name, text))
    return tuple(out)


def check_host(name: Any, where: str) -> str:
    """Validate and normalise a host name of a site (lower case, no trailing dot)."""
    if not isinstance(name, str):
        raise _Problem(where, f"expected a host name, not {_kind(name)}")
    host = name.strip().rstrip(".").lower()
    if is_ip_literal(host) or not _HOST_RE.match(host):
        raise _Problem(where, f"{name!r} is not a valid host name")
    if host == "localhost" or host.endswith(".localhost"):
        raise _Problem(where, f"{name!r} is not allowed as a host name")
    return host


def is_ip_literal(host: str) -> bool:
    """Whether a URL host is an IP address in any spelling (``10.1``, ``2130706433``, ``[::1]``).

    Following the WHATWG URL standard, a host whose last label is numeric (decimal, or hex with
    ``0x``) is parsed as an IPv4 address, so every such name counts as an IP literal.
    """
    h = host.strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    h = h.rstrip(".")
    if not h:
        return False
    try:
        ipaddress.ip_address(h)
        return True
    except ValueError:
        pass
    if ":" in h:
        return True  # something IPv6-like; never a host name
    last = h.split(".")[-1]
    return bool(re.fullmatch(r"0x[0-9a-f]*|[0-9]+", last))


class _Ctx:
    def __init__(self, folder: Path, variables: Mapping[str, str]) -> None:
        self.folder = folder
        self.vars = variables

    def text(self, value: Any, where: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _Problem(where, f"expected text, not {_kind(value)}")
        return expand(str(value), self.vars, self.folder, where)


def _compile_page(spec: Any, ctx: _Ctx, where: str, *, in_sequence: bool = False) -> Page:
    if isinstance(spec, str):
        spec = {"body": spec}
    if not isinstance(spec, Mapping):
        raise _Problem(where, f"a page must be a mapping or a string, not {_kind(spec)}")
    unknown = set(spec) - PAGE_KEYS
    if unknown:
        raise _Problem(
            where,
            f"unknown page key {sorted(map(str, unknown))[0]!r} (expected one of "
            f"{', '.join(sorted(PAGE_KEYS))})",
        )
    if "vars" in spec:
        ctx = _Ctx(ctx.folder, {**ctx.vars, **_vars(spec["vars"], f"{where}.vars")})

    if "sequence" in spec:
        if in_sequence:
            raise _Problem(f"{where}.sequence", "sequences cannot be nested")
        others = set(spec) - {"sequence", "vars"}
        if others:
            raise _Problem(where, f"a page with a sequence cannot also have {sorted(others)[0]!r}")
        seq = spec["sequence"]
        if not isinstance(seq, list) or not seq:
            raise _Problem(f"{where}.sequence", "expected a non-empty list of pages")
        items = tuple(
            _compile_page(item, ctx, f"{where}.sequence[{i}]", in_sequence=True)
            for i, item in enumerate(seq)
        )
        return Page(status=items[0].status, sequence=items)

    contents = [k for k in CONTENT_KEYS if k in spec]
    if len(contents) > 1:
        raise _Problem(where, f"give only one of {', '.join(contents)}")
    redirect = ctx.text(spec["redirect"], f"{where}.redirect") if "redirect" in spec else None
    if redirect is not None and not redirect:
        raise _Problem(f"{where}.redirect", "empty redirect target")
    default_status = 301 if redirect is not None else 200
    status = _status(spec.get("status", default_status), f"{where}.status")
    headers = _headers(spec.get("headers"), f"{where}.headers")
    headers = tuple((n, expand(v, ctx.vars, ctx.folder, f"{where}.headers")) for n, v in headers)
    delay = _number(spec.get("delay", 0), f"{where}.delay")
    content_type: str | None = None
    body = b""
    kind = contents[0] if contents else None
    if kind == "body":
        body = ctx.text(spec["body"], f"{where}.body").encode("utf-8")
        content_type = HTML_TYPE
    elif kind == "text":
        body = ctx.text(spec["text"], f"{where}.text").encode("utf-8")
        content_type = TEXT_TYPE
    elif kind == "title":
        title = html.escape(ctx.text(spec["title"], f"{where}.title"))
        body = _simple_html(title, f"<h1>{title}</h1>").encode("utf-8")
        content_type = HTML_TYPE
    elif kind == "json":
        try:
            body = json.dumps(spec["json"], indent=2, default=str).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise _Problem(f"{where}.json", f"cannot be written as JSON ({exc})") from None
        content_type = JSON_TYPE
    elif kind == "pdf_text":
        value = spec["pdf_text"]
        if isinstance(value, list):
            lines = [ctx.text(x, f"{where}.pdf_text") for x in value]
        else:
            lines = ctx.text(value, f"{where}.pdf_text").splitlines()
        title = spec.get("pdf_title")
        pdf_title = ctx.text(title, f"{where}.pdf_title") if title is not None else None
        body = make_pdf(lines, title=pdf_title)
        content_type = PDF_TYPE
    elif kind in ("docx_text", "doc_text", "rtf_text"):
        value = spec[kind]
        if isinstance(value, list):
            lines = [ctx.text(x, f"{where}.{kind}") for x in value]
        else:
            lines = ctx.text(value, f"{where}.{kind}").splitlines()
        writer, content_type = {
            "docx_text": (make_docx, DOCX_TYPE),
            "doc_text": (make_doc, DOC_TYPE),
            "rtf_text": (make_rtf, RTF_TYPE),
        }[kind]
        body = writer(lines)
    elif kind == "scanned_pdf":
        pages = spec["scanned_pdf"]
        if isinstance(pages, bool) or not isinstance(pages, int) or not 1 <= pages <= 100:
            raise _Problem(f"{where}.scanned_pdf", f"expected a number of pages, not {pages!r}")
        body = make_scanned_pdf(pages)
        content_type = PDF_TYPE
    elif kind == "body_file":
        body, content_type = _read_body_file(spec["body_file"], ctx, f"{where}.body_file")
    elif status >= 300 and status not in (304,):
        phrase = _phrase(status)
        body = _simple_html(
            f"{status} {phrase}",
            f"<h1>{phrase}</h1>"
            + (
                f'<p>Moved to <a href="{html.escape(redirect)}">{html.escape(redirect)}</a></p>'
                if redirect
                else ""
            ),
        ).encode("utf-8")
        content_type = HTML_TYPE
    if "pdf_title" in spec and kind != "pdf_text":
        raise _Problem(f"{where}.pdf_title", "pdf_title goes with pdf_text")
    if "content_type" in spec:
        content_type = ctx.text(spec["content_type"], f"{where}.content_type")
    hostile = spec.get("hostile")
    if hostile is not None and hostile not in HOSTILE_BEHAVIOURS:
        raise _Problem(f"{where}.hostile", f"unknown behaviour {hostile!r}")
    return Page(
        status=status,
        headers=headers,
        body=body,
        content_type=content_type,
        redirect=redirect,
        delay=delay,
        hostile=hostile,
    )


def _read_body_file(value: Any, ctx: _Ctx, where: str) -> tuple[bytes, str]:
    if not isinstance(value, str) or not value:
        raise _Problem(where, f"expected a file name, not {_kind(value)}")
    path = (ctx.folder / value).resolve()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _Problem(where, f"cannot read {value!r} ({exc.strerror or exc})") from None
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        ctype = HTML_TYPE
    elif suffix == ".txt":
        ctype = TEXT_TYPE
    elif suffix == ".json":
        ctype = JSON_TYPE
    elif suffix == ".xml":
        ctype = "application/xml"
    else:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if suffix in TEXT_SUFFIXES:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Problem(where, f"{value!r} is not UTF-8 text") from None
        raw = expand(text, ctx.vars, path.parent, where, vars_folder=ctx.folder).encode("utf-8")
    return raw, ctype


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _simple_html(title: str, body: str) -> str:
    """A minimal HTML page (``title`` and ``body`` are already HTML)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def not_found_page() -> Page:
    """The page answered for an unknown path when a site has no ``catch_all``."""
    body = _simple_html(
        "Page Not Found",
        "<h1>Page Not Found</h1>\n<p>The page you requested could not be found.</p>",
    )
    return Page(status=404, body=body.encode("utf-8"), content_type=HTML_TYPE)


def status_page(status: int) -> Page:
    """The page answered for every path of a site with ``status_all``."""
    phrase = "Access Denied" if status == 403 else _phrase(status)
    body = _simple_html(phrase, f"<h1>{phrase}</h1>\n<p>HTTP status {status}.</p>")
    return Page(status=status, body=body.encode("utf-8"), content_type=HTML_TYPE)


def _compile_state(
    data: Mapping[str, Any], hosts: tuple[str, ...], folder: Path, where: str
) -> SiteState:
    w = f"{where}." if where else ""
    variables = _vars(data.get("vars"), f"{w}vars")
    ctx = _Ctx(folder, variables)

    schemes_value = data.get("schemes", ["http", "https"])
    if isinstance(schemes_value, str):
        schemes_value = [schemes_value]
    if (
        not isinstance(schemes_value, list)
        or not schemes_value
        or not set(schemes_value) <= {"http", "https"}
    ):
        raise _Problem(
            f"{w}schemes", f"expected a list of http and/or https, not {schemes_value!r}"
        )
    schemes = frozenset(schemes_value)

    redirect_host: dict[str, str] = {}
    rh = data.get("redirect_host") or {}
    if not isinstance(rh, Mapping):
        raise _Problem(f"{w}redirect_host", f"expected a mapping host -> host, not {_kind(rh)}")
    for src, dst in rh.items():
        src_host = check_host(src, f"{w}redirect_host")
        if src_host not in hosts:
            raise _Problem(f"{w}redirect_host", f"{src!r} is not one of the site's hosts")
        if not isinstance(dst, str) or not dst:
            raise _Problem(f"{w}redirect_host.{src}", f"expected a host or URL, not {dst!r}")
        m = re.fullmatch(r"(?:(https?)://)?([^/:]+)/?", dst.strip())
        if not m:
            raise _Problem(
                f"{w}redirect_host.{src}",
                f"expected a host name or scheme://host, not {dst!r}",
            )
        target_host = check_host(m.group(2), f"{w}redirect_host.{src}")
        redirect_host[src_host] = f"{m.group(1)}://{target_host}" if m.group(1) else target_host

    tls = data.get("tls", "ok")
    if tls not in TLS_MODES:
        raise _Problem(
            f"{w}tls",
            f"expected ok or broken, or a bad certificate ({', '.join(TLS_MODES[2:])}), "
            f"not {tls!r}",
        )

    status_all = data.get("status_all")
    if status_all is not None:
        status_all = _status(status_all, f"{w}status_all")

    robots = data.get("robots")
    robots_bytes = ctx.text(robots, f"{w}robots").encode("utf-8") if robots is not None else None

    catch_all = data.get("catch_all")
    catch_page = _compile_page(catch_all, ctx, f"{w}catch_all") if catch_all is not None else None

    ignore_case = _bool(data.get("ignore_case", False), f"{w}ignore_case")
    pages_value = data.get("pages") or {}
    if not isinstance(pages_value, Mapping):
        raise _Problem(
            f"{w}pages", f"expected a mapping of paths to pages, not {_kind(pages_value)}"
        )
    pages: dict[str, Page] = {}
    for path, spec in pages_value.items():
        if not isinstance(path, str) or not path.startswith("/") or any(c.isspace() for c in path):
            raise _Problem(f"{w}pages", f"a page path must start with '/', not {path!r}")
        key = path.lower() if ignore_case else path
        pages[key] = _compile_page(spec, ctx, f"{w}pages.{path}")

    return SiteState(
        hosts=hosts,
        schemes=schemes,
        https_redirect=_bool(data.get("https_redirect", False), f"{w}https_redirect"),
        redirect_host=redirect_host,
        down=_bool(data.get("down", False), f"{w}down"),
        tls=tls,
        delay=_number(data.get("delay", 0), f"{w}delay"),
        status_all=status_all,
        headers=_headers(data.get("headers"), f"{w}headers"),
        robots=robots_bytes,
        catch_all=catch_page,
        ignore_case=ignore_case,
        pages=pages,
    )


def _compile_site(data: dict[str, Any], *, name: str, folder: Path, source: Path | None) -> Site:
    unknown = set(data) - SITE_KEYS
    if unknown:
        raise _Problem(
            "",
            f"unknown key {sorted(map(str, unknown))[0]!r} (expected one of "
            f"{', '.join(sorted(SITE_KEYS))})",
        )
    hosts_value = data.get("hosts")
    if isinstance(hosts_value, str):
        hosts_value = [hosts_value]
    if not isinstance(hosts_value, list) or not hosts_value:
        raise _Problem("hosts", "expected a non-empty list of host names")
    hosts = tuple(dict.fromkeys(check_host(h, "hosts") for h in hosts_value))
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise _Problem("description", f"expected text, not {_kind(description)}")

    states = [(0, _compile_state(data, hosts, folder, ""))]
    epochs = data.get("epochs") or {}
    if not isinstance(epochs, Mapping):
        raise _Problem(
            "epochs", f"expected a mapping of epoch numbers to overrides, not {_kind(epochs)}"
        )
    current = {k: v for k, v in data.items() if k != "epochs"}
    for key in sorted(epochs, key=lambda k: (not isinstance(k, int), str(k))):
        if isinstance(key, bool) or not isinstance(key, int) or key < 1:
            raise _Problem("epochs", f"an epoch must be a whole number >= 1, not {key!r}")
    for key in sorted(epochs):
        override = epochs[key]
        where = f"epochs.{key}"
        if not isinstance(override, Mapping):
            raise _Problem(where, f"expected a mapping of overrides, not {_kind(override)}")
        bad = set(override) - EPOCH_KEYS
        if bad:
            raise _Problem(where, f"key {sorted(map(str, bad))[0]!r} cannot change in an epoch")
        current = deep_merge(current, override)
        states.append((key, _compile_state(current, hosts, folder, where)))
    return Site(
        name=name,
        hosts=hosts,
        states=tuple(states),
        source=source,
        description=description.strip(),
    )
