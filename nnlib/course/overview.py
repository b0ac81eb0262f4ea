"""The README's table of assignments, written from the master notebooks by `course build`.

One row per assignment: its folder, the seed tutorial it is built from (the master notebook's
metadata `course.seed`, e.g. "000"), its title (the notebook's first heading, after
"Assignment N —") and its graded cells in order with their points: autograded tests by grade id
(without "test_"), written answers marked "(written)". The table sits in README.md between
BEGIN and END; what is between them is replaced, the rest of the file is left alone.

    write_table(root) -> bool          True when README.md changed
    table(root) -> str                 the table's markdown
"""

import re
from dataclasses import dataclass
from pathlib import Path

from nnlib.course import cells, config, submissions

BEGIN = "<!-- assignments: written by `course build` from the master notebooks (edit those, not this table) -->"
END = "<!-- end of assignments -->"


class OverviewError(ValueError):
    """A master notebook lacks what the table needs, or README.md lacks the table's markers."""


@dataclass(frozen=True)
class Row:
    """assignment: folder name; seed: e.g. "000"; title: str; graded: [(label, points, written)]."""

    assignment: str
    seed: str
    title: str
    graded: list


def _title(nb, where):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.match(r"#\s+(?:Assignment\s+\d+\s*[—-]\s*)?(.+)", cell.source.strip())
            if match:
                return match.group(1).strip()
    raise OverviewError(f"{where}: no first-level heading to take the title from")


def _seed(nb, where):
    seed = nb.metadata.get("course", {}).get("seed")
    if not isinstance(seed, str):
        raise OverviewError(f'{where}: the notebook\'s metadata has no "course": {{"seed": "NNN"}} '
                            "(the tutorial of ../shared/seeds it is built from)")
    return seed


def rows(root):
    """[Row] of every assignment under root/source, in order."""
    out = []
    for assignment in config.assignments(root):
        for name in config.notebooks(root, assignment):
            where = f"source/{assignment}/{name}"
            nb = submissions.read(Path(root) / "source" / assignment / name)
            graded = [(re.sub(r"^test_", "", cells.grade_id(c)), cells.points(c), cells.is_written(c))
                      for c in nb.cells if cells.is_graded(c)]
            out.append(Row(assignment, _seed(nb, where), _title(nb, where), graded))
    return out


def _points(x):
    return f"{x:g}"


def table(root):
    """The markdown table of the assignments (without the markers)."""
    lines = ["| assignment | seed | title | graded cells (points) | autograded + written |",
             "|---|---|---|---|---|"]
    for row in rows(root):
        parts = ", ".join(f"`{label}` {_points(p)}" + (" (written)" if written else "")
                          for label, p, written in row.graded)
        auto = sum(p for _, p, written in row.graded if not written)
        manual = sum(p for _, p, written in row.graded if written)
        lines.append(f"| `{row.assignment}` | `{row.seed}` | {row.title} | {parts} | "
                     f"{_points(auto)} + {_points(manual)} |")
    return "\n".join(lines)


def current(readme_text):
    """What README.md holds between the markers: str."""
    if readme_text.count(BEGIN) != 1 or readme_text.count(END) != 1:
        raise OverviewError(f"README.md should hold the lines {BEGIN!r} and {END!r} once each")
    return readme_text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def write_table(root):
    """Put the table into root/README.md between the markers; True when that changed the file."""
    path = Path(root) / "README.md"
    text = path.read_text()
    new = table(root)
    if current(text) == new:
        return False
    head, rest = text.split(BEGIN, 1)
    path.write_text(f"{head}{BEGIN}\n{new}\n{END}{rest.split(END, 1)[1]}")
    return True
