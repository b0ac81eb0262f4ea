"""nbgrader's vocabulary for the course's cells, on top of `nbgrader.utils`: grade ids, cell kinds,
points and solution regions. Build, repair, integrity, the worker, the judge, the catalogue and the
assignments table read a cell's nbgrader metadata only through here.

A cell is an nbformat NotebookNode or the plain dict of one (as read from JSON). Kinds, in the
words of nbgrader's create-assignment toolbar:

    answer      a solution cell ("Autograded answer"; a markdown one is a written answer)
    test        a graded code cell that is not an answer ("Autograder tests")
    written     a graded markdown answer ("Manually graded answer"), scored by a person
    locked      a read-only cell (nbgrader puts its source back when grading)
"""

import textwrap

import nbformat
from nbgrader import utils

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"


def _node(cell):
    return cell if isinstance(cell, nbformat.NotebookNode) else nbformat.from_dict(cell)


def meta(cell):
    """The cell's nbgrader metadata: dict (empty for a cell nbgrader does not know)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell):
    """The cell's nbgrader grade id, or None."""
    return meta(cell).get("grade_id")


def points(cell):
    """Points of a graded cell: float (0 for an ungraded one)."""
    return float(meta(cell).get("points", 0)) if utils.is_grade(_node(cell)) else 0.0


def is_graded(cell):
    """A cell that carries points (a test, or an answer a person grades)."""
    return bool(utils.is_grade(_node(cell)))


def is_answer(cell):
    """A solution cell (code or markdown)."""
    return bool(utils.is_solution(_node(cell)))


def is_test(cell):
    """An autograded test: a graded code cell that holds no answer."""
    node = _node(cell)
    return node.cell_type == "code" and bool(utils.is_grade(node)) and not utils.is_solution(node)


def is_written(cell):
    """A written answer a person grades: a graded markdown solution cell."""
    node = _node(cell)
    return node.cell_type == "markdown" and bool(utils.is_grade(node)) and bool(utils.is_solution(node))


def is_locked(cell):
    """A cell the student may not change (nbgrader's rule: tests are locked too)."""
    return bool(utils.is_locked(_node(cell)))


def solution_regions(nb):
    """{region name: dedented code or text} of every BEGIN/END SOLUTION region of a master
    notebook; a region is named by the text after BEGIN SOLUTION, else by its cell's grade id."""
    regions = {}
    for cell in nb.cells:
        name, lines = None, None
        for line in cell.source.split("\n"):
            if BEGIN in line:
                name = line.split(BEGIN, 1)[1].strip() or grade_id(cell)
                lines = []
            elif END in line and lines is not None:
                regions[name] = textwrap.dedent("\n".join(lines))
                name, lines = None, None
            elif lines is not None:
                lines.append(line)
    return regions
