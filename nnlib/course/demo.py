"""Example submissions for a whole round trip, made from the master notebooks and catalogues.

Students (one folder each, in nbgrader's submitted layout):
    solution   every answer from the master notebook           -> full marks
    blank      the release notebook untouched                  -> zero
    mistakes   the first wrong answer of each region            -> partial credit, with reasons
    variants   the first right answer in another form per region -> full marks
    endless    the solution plus a cell that never finishes     -> that cell times out, rest graded
    not_json   a file that is not JSON                          -> ungradable, with the reason
    no_cells   a notebook without cells                         -> ungradable, with the reason
"""

from pathlib import Path

import nbformat

from nnlib.course import catalogue as catalogue_mod
from nnlib.course import submissions
from nnlib.course.config import notebooks


def _first(answers, region, wrong):
    return next((a.code for a in answers if a.region == region and a.wrong == wrong), None)


def _answers(cat, wrong):
    picked = {r: _first(cat.answers, r, wrong) for r in cat.tests}
    return {r: code for r, code in picked.items() if code is not None}


def example_class(root, assignment, submitted):
    """Write the example submissions of `assignment` under `submitted`; -> [student ids]."""
    root, submitted = Path(root), Path(submitted)
    cat = catalogue_mod.find(root).get(assignment)
    made = []
    for name in notebooks(root, assignment):
        source = submissions.read(root / "source" / assignment / name)
        release = submissions.read(root / "release" / assignment / name)
        versions = {
            "solution": submissions.solved(release, source),
            "blank": release,
        }
        if cat and cat.notebook == name:
            versions["mistakes"] = submissions.solved(release, source, _answers(cat, wrong=True))
            versions["variants"] = submissions.solved(release, source, _answers(cat, wrong=False))
        endless = submissions.solved(release, source)
        endless.cells.insert(1, nbformat.v4.new_code_cell("while True:\n    pass"))
        versions["endless"] = endless
        empty = nbformat.v4.new_notebook(metadata=release.metadata)
        versions["no_cells"] = empty
        for student, nb in versions.items():
            folder = submitted / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(folder / name))
            made.append(student)
        folder = submitted / "not_json" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text('{"cells": [ this was cut off during upload')
        made.append("not_json")
    return sorted(set(made))
