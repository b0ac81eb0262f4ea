"""Make submissions from notebooks: fill the stubs of a release notebook with answers.

Answers are keyed by region name: the text after BEGIN SOLUTION in the master notebook
(`### BEGIN SOLUTION forward`), or the cell's grade_id for an unnamed region. In the release
version each region is a stub whose `raise NotImplementedError("<name>: ...")` names it.
"""

import copy
import re
import textwrap

import nbformat

from nnlib.course import cells

STUB_COMMENT = "# YOUR CODE HERE"
TEXT_STUB = "YOUR ANSWER HERE"


def _stub_pattern(name):
    return re.compile(r'^(?P<indent>[ \t]*)raise NotImplementedError\("' + re.escape(name) + r':')


def _fill_cell(cell, name, answer):
    """Replace the stub of region `name` in `cell` by `answer`; True if the stub was found."""
    if cell.cell_type == "markdown":
        if cells.grade_id(cell) == name and TEXT_STUB in cell.source:
            cell.source = cell.source.replace(TEXT_STUB, answer)
            return True
        return False
    lines = cell.source.split("\n")
    pattern = _stub_pattern(name)
    for i, line in enumerate(lines):
        match = pattern.match(line)
        if match:
            indent = match.group("indent")
            start = i - 1 if i > 0 and lines[i - 1].strip() == STUB_COMMENT else i
            body = [indent + l if l.strip() else l for l in textwrap.dedent(answer).strip("\n").split("\n")]
            cell.source = "\n".join(lines[:start] + body + lines[i + 1:])
            return True
    return False


def fill(release_nb, answers):
    """A copy of `release_nb` with the stubs named in `answers` ({name: code}) replaced.

    Raises KeyError naming any answer whose stub is not in the notebook.
    """
    nb = copy.deepcopy(release_nb)
    for name, answer in answers.items():
        if not any(_fill_cell(cell, name, answer) for cell in nb.cells):
            raise KeyError(f"no stub named {name!r} in the release notebook")
    return nb


def solved(release_nb, source_nb, overrides=None):
    """The release notebook answered with the master's solutions, except the `overrides`."""
    answers = cells.solution_regions(source_nb)
    answers.update(overrides or {})
    return fill(release_nb, answers)


def read(path):
    """nbformat.read with version 4."""
    return nbformat.read(str(path), as_version=4)
