"""The README's front page shows the published study's numbers, not a copy that drifted."""

from pathlib import Path

ROOT = Path(__file__).parents[1]


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]


def test_the_front_page_table_is_the_published_studys():
    front = (ROOT / "README.md").read_text(encoding="utf-8")
    section = front[front.index("## The offline study"):front.index("## Set-up and the commands")]
    shown = table_rows(section)
    published = set(table_rows((ROOT / "docs" / "study" / "README.md").read_text(encoding="utf-8")))
    assert len(shown) >= 4, "the front page lost its study table"
    assert [row for row in shown if row not in published] == []


def test_the_front_page_links_resolve():
    front = (ROOT / "README.md").read_text(encoding="utf-8")
    section = front[front.index("## The offline study"):front.index("## Set-up and the commands")]
    targets = [part.split(")")[0].split("#")[0] for part in section.split("](")[1:]]
    assert targets and [t for t in targets if not (ROOT / t).exists()] == []
