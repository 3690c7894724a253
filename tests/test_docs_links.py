"""No link of the docs may break (issue 24, item 2): every relative link and image of README.md,
CONTRIBUTING.md and docs/**/*.md names a file of the repository, and every `#anchor` names a
heading (or an `<a id>`) of the page it points at, as GitHub renders anchors.

Fast and offline: links to other sites (http, https, mailto) are not followed; links inside
code (fenced blocks, `code spans`) are not links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def documents(root: Path = REPO) -> list[Path]:
    found = [root / "README.md", root / "CONTRIBUTING.md", *sorted(root.glob("docs/**/*.md"))]
    return [p for p in found if p.is_file()]


FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"""<a\s[^>]*\b(?:id|name)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
# [text](target "title") and ![alt](target); the text may hold one level of brackets and
# line breaks.
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:...


def unfenced(text: str) -> list[str]:
    """The text's lines, those of fenced code blocks (fences included) blanked."""
    lines = text.split("\n")
    fence: str | None = None
    for i, line in enumerate(lines):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)[0] * 3
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            continue
        lines[i] = ""
    return lines


def prose(text: str) -> str:
    """The text without code: fenced blocks blanked (line numbers kept), code spans removed."""
    return CODE_SPAN.sub(lambda m: "\n" * m.group(0).count("\n"), "\n".join(unfenced(text)))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: the text as shown (links by their text, no markup),
    lower case, punctuation dropped except `-` and `_`, each space a `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every anchor of a Markdown page: its headings' slugs (a repeated one gets -1, -2...)
    and its HTML `id`/`name` anchors."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    text = path.read_text(encoding="utf-8")
    for line in unfenced(text):
        heading = HEADING.match(line)
        if heading:
            slug = github_slug(heading.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    found.update(HTML_ANCHOR.findall(text))
    return frozenset(found)


@dataclass(frozen=True)
class Link:
    doc: Path
    line: int
    target: str


def links(doc: Path) -> list[Link]:
    text = prose(doc.read_text(encoding="utf-8"))
    found = []
    for pattern in (INLINE_LINK, REFERENCE_DEFINITION, HTML_LINK):
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start(1)) + 1
            found.append(Link(doc, line, match.group(1)))
    return sorted(found, key=lambda link: link.line)


def broken(link: Link, root: Path = REPO) -> str | None:
    """Why a link does not resolve, or None when it does."""
    if EXTERNAL.match(link.target):
        return None
    path_part, _, anchor = link.target.partition("#")
    if path_part:
        target = (link.doc.parent / path_part).resolve()
        if not target.is_relative_to(root.resolve()):
            return f"{path_part} is outside the repository"
        if not target.exists():
            return f"{path_part}: no such file"
    else:
        target = link.doc
    if not anchor:
        return None
    if target.suffix != ".md" or not target.is_file():
        return f"#{anchor}: anchors are checked only in Markdown pages, not in {target.name}"
    if anchor not in anchors(target):
        return f"#{anchor}: no such heading in {target.relative_to(root.resolve())}"
    return None


def problems(root: Path = REPO) -> list[str]:
    out = []
    for doc in documents(root):
        for link in links(doc):
            why = broken(link, root)
            if why:
                out.append(f"{doc.relative_to(root)}:{link.line}: ({link.target}) {why}")
    return out


def test_every_relative_link_and_anchor_of_the_docs_resolves() -> None:
    checked = [link for doc in documents() for link in links(doc)]
    relative = [link for link in checked if not EXTERNAL.match(link.target)]
    # The pages link to each other (README -> docs/, docs/ -> README and each other).
    assert len(relative) > 50
    assert any("#" in link.target for link in relative)
    assert problems() == []


def test_every_page_the_readme_points_to_links_back_to_it() -> None:
    """A reader who follows the README to a page can find the way back."""
    readme = REPO / "README.md"
    for link in links(readme):
        path_part = link.target.partition("#")[0]
        if EXTERNAL.match(link.target) or not path_part.startswith("docs/"):
            continue
        page = (REPO / path_part).resolve()
        if page.suffix != ".md":
            continue
        assert any(
            (page.parent / other.target.partition("#")[0]).resolve() == readme
            for other in links(page)
            if not EXTERNAL.match(other.target)
        ), f"{path_part} has no link back to the README"


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("The periodic job: `govaudit run`", "the-periodic-job-govaudit-run"),
        (
            "Distributed path (`crawl --distributed` + `govaudit worker`)",
            "distributed-path-crawl---distributed--govaudit-worker",
        ),
        ("Email and DNS: how a domain is judged", "email-and-dns-how-a-domain-is-judged"),
        ("`export a11y`", "export-a11y"),
        ("See [the glossary](docs/glossary.md) *now*", "see-the-glossary-now"),
        ("Plans as archived near 2011-10-24", "plans-as-archived-near-2011-10-24"),
        ("Déjà vu_2", "déjà-vu_2"),
    ],
)
def test_anchors_are_made_as_github_makes_them(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_broken_links_and_anchors_are_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(
        "# Title\n\n## Same\n\n## Same\n\n"
        "[ok](docs/page.md#section-two) [ok](#same-1) [ok](https://example.gov/none)\n"
        "[gone](docs/missing.md) [bad anchor](docs/page.md#nowhere)\n"
        "`[in code](docs/missing-too.md)`\n\n"
        "```sh\n[in a block](docs/missing-three.md)\n```\n"
        "[wrapped\ntext](#same-2) ![image](docs/none.png)\n"
        '<a href="../outside.md">up</a>\n',
        encoding="utf-8",
    )
    (tmp_path / "docs" / "page.md").write_text(
        "# Page\n\n## Section `two`\n\n[back](../README.md#title)\n", encoding="utf-8"
    )
    found = problems(tmp_path)
    assert found == [
        "README.md:8: (docs/missing.md) docs/missing.md: no such file",
        "README.md:8: (docs/page.md#nowhere) #nowhere: no such heading in docs/page.md",
        "README.md:15: (#same-2) #same-2: no such heading in README.md",
        "README.md:15: (docs/none.png) docs/none.png: no such file",
        "README.md:16: (../outside.md) ../outside.md is outside the repository",
    ]
