"""nnlib.course.cells: nbgrader's vocabulary, read from cells as nbformat nodes or plain dicts."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nnlib.course import cells


def _cell(kind, source="", **nbgrader):
    make = new_code_cell if kind == "code" else new_markdown_cell
    return make(source, metadata={"nbgrader": nbgrader} if nbgrader else {})


def test_each_kind_of_cell_is_told_apart():
    """Are a test, an autograded answer, a written answer, a locked cell and a plain cell each what
    nbgrader's toolbar calls them, and nothing else?"""
    test = _cell("code", grade=True, solution=False, grade_id="test_loss", points=2)
    answer = _cell("code", grade=False, solution=True, grade_id="loss")
    written = _cell("markdown", grade=True, solution=True, grade_id="why", points=1)
    locked = _cell("code", grade=False, solution=False, locked=True, grade_id="setup")
    plain = _cell("code")
    kinds = {name: (cells.is_test(c), cells.is_answer(c), cells.is_written(c), cells.is_locked(c), cells.is_graded(c))
             for name, c in dict(test=test, answer=answer, written=written, locked=locked, plain=plain).items()}
    assert kinds == {"test": (True, False, False, True, True), "answer": (False, True, False, False, False),
                     "written": (False, True, True, False, True), "locked": (False, False, False, True, False),
                     "plain": (False, False, False, False, False)}
    assert [cells.points(c) for c in (test, answer, written)] == [2.0, 0.0, 1.0]
    assert [cells.grade_id(c) for c in (test, plain)] == ["test_loss", None]


def test_a_plain_dict_cell_reads_as_its_node():
    """Does a cell read from JSON (a dict, not a NotebookNode) give the same answers?"""
    node = _cell("code", grade=True, solution=False, grade_id="test_loss", points=2)
    raw = nbformat.from_dict(node)
    raw = dict(raw, metadata=dict(raw.metadata))
    assert (cells.is_test(raw), cells.grade_id(raw), cells.points(raw)) == (True, "test_loss", 2.0)


def test_solution_regions_are_named_and_dedented():
    """Is a region named by the text after BEGIN SOLUTION, else by its cell's grade id, and dedented?"""
    nb = new_notebook(cells=[
        new_code_cell("def f(x):\n    ### BEGIN SOLUTION forward\n    return 2 * x\n    ### END SOLUTION",
                      metadata={"nbgrader": {"solution": True, "grade_id": "f_cell"}}),
        new_code_cell("### BEGIN SOLUTION\ny = 1\n### END SOLUTION",
                      metadata={"nbgrader": {"solution": True, "grade_id": "y_cell"}}),
    ])
    assert cells.solution_regions(nb) == {"forward": "return 2 * x", "y_cell": "y = 1"}
