"""A synthetic class: many students whose answers come from an assignment's catalogue.

Each student answers every region with a right variant or a catalogued wrong answer, drawn at
random; some students instead hand in one of the bad inputs graders meet. For every student the
expected status and the expected score of each test cell are known in advance, from the
catalogue's outcomes in the shared kernel (nnlib.course.catalogue.run): tests and benchmarks
compare them with what `course grade` gives. Exact expectations assume that each test cell
depends on its own region only, as in assignment 1.
"""

import copy
import random
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from nnlib.course import cells, integrity, submissions

BAD_INPUTS = ("not_json", "no_cells", "wrong_name", "endless", "tamper", "warnings", "deleted_test", "reordered")


@dataclass
class Expected:
    student: str
    status: str
    scores: dict = field(default_factory=dict)   # test grade_id -> expected points
    kind: str = "answers"


def _index(nb, gid):
    return next(i for i, c in enumerate(nb.cells) if cells.grade_id(c) == gid)


def _write(folder, name, nb):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / name))


def make_class(root, cat, outcomes, n, submitted, seed=0, bad_every=0):
    """Write `n` students of `cat.assignment` under `submitted`; -> [Expected].

    cat: a Catalogue; outcomes: its [Outcome] from catalogue.run (same order as cat.answers);
    bad_every: every k-th student hands in a bad input instead (0: never).
    """
    root, submitted = Path(root), Path(submitted)
    rng = random.Random(seed)
    name = cat.notebook
    source = submissions.read(root / "source" / cat.assignment / name)
    release = submissions.read(root / "release" / cat.assignment / name)
    full = {test: top for o in outcomes for test, (_, top) in o.scores.items()}
    expected = []
    for i in range(n):
        student = f"student{i:03d}"
        folder = submitted / student / cat.assignment
        if bad_every and i % bad_every == bad_every - 1:
            kind = BAD_INPUTS[(i // bad_every) % len(BAD_INPUTS)]
            expected.append(_bad(kind, student, folder, name, release, source, full, next(iter(cat.tests))))
            continue
        answers, scores = {}, {}
        for region, tests in cat.tests.items():
            options = [(a, o) for a, o in zip(cat.answers, outcomes) if a.region == region]
            answer, outcome = rng.choice(options)
            answers[region] = answer.code
            for test in tests:
                scores[test] = outcome.scores[test][0]
        nb = submissions.solved(release, source, answers)
        _write(folder, name, nb)
        # an answer that imports the answer key (a catalogued wrong answer) is also listed for review
        status = "graded, flagged for review" if integrity.scan(nb, release) else "graded"
        expected.append(Expected(student, status, scores))
    return expected


def _bad(kind, student, folder, name, release, source, full, region):
    solved = submissions.solved(release, source)
    zeros = {t: 0.0 for t in full}
    if kind == "not_json":
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{ not json")
        return Expected(student, "ungradable", zeros, kind)
    if kind == "no_cells":
        _write(folder, name, nbformat.v4.new_notebook(metadata=release.metadata))
        return Expected(student, "ungradable", zeros, kind)
    if kind == "wrong_name":
        _write(folder, "Copy of " + name, solved)
        return Expected(student, "ungradable", zeros, kind)
    nb = copy.deepcopy(solved)
    if kind == "endless":
        nb.cells.insert(1, nbformat.v4.new_code_cell("while True:\n    pass"))
        status = "graded with problems"
    elif kind == "tamper":
        nb = submissions.solved(release, source, {
            region: cells.solution_regions(source)[region] + "\nimport numpy\nnumpy.allclose = lambda *a, **k: True"})
        _write(folder, name, nb)
        return Expected(student, "graded, flagged for review", dict(full), kind)
    elif kind == "warnings":
        # a right answer that makes numpy and a library warn each time it runs, tests included
        noisy = "import warnings\nwarnings.warn('this API is deprecated', DeprecationWarning)\n" \
                "warnings.warn('a library warning')\n_ = np.log(np.zeros(1))\n"
        nb = submissions.solved(release, source, {region: noisy + cells.solution_regions(source)[region]})
        nb.cells.insert(1, nbformat.v4.new_code_cell("import warnings\nwarnings.warn('a warning outside the tests')"))
        status = "graded"
    elif kind == "deleted_test":
        del nb.cells[_index(nb, next(iter(full)))]
        status = "graded with problems"
    else:  # reordered: the first test cell moved to the top
        nb.cells.insert(0, nb.cells.pop(_index(nb, next(iter(full)))))
        status = "graded with problems"
    _write(folder, name, nb)
    return Expected(student, status, dict(full), kind)
