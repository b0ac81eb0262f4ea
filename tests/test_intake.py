"""Broken submissions are recognised before nbgrader sees them, with a reason."""

import nbformat
import pytest

from nnlib.course import intake


@pytest.mark.parametrize("content, reason", [
    (b'{"cells": [', "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not a text file"),
    (b'{"hello": 1}', "not a notebook"),
    (b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "has no cells"),
    (b'{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "not a valid notebook"),
])
def test_bad_notebooks_get_a_reason(tmp_path, content, reason):
    """Does each kind of broken file get a reason that says what is wrong?"""
    path = tmp_path / "nb.ipynb"
    path.write_bytes(content)
    assert reason in intake.check_notebook(path)


def test_good_notebook_passes(tmp_path):
    """Is a valid notebook with cells accepted?"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    assert intake.check_notebook(tmp_path / "nb.ipynb") is None


def test_missing_and_misnamed_notebooks_are_reported(tmp_path):
    """Is a notebook under the wrong name reported as missing, naming what was found?"""
    folder = tmp_path / "alice" / "a1"
    folder.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), str(folder / "Copy1.ipynb"))
    (job,) = intake.find_jobs(tmp_path, {"a1": ["work.ipynb"]})
    assert job.notebooks == [] and "work.ipynb: missing" in job.problems[0] and "Copy1.ipynb" in job.problems[0]


def test_lms_downloads_are_sorted_by_student_and_nothing_is_lost(tmp_path):
    """Are zip files and loose notebooks sorted into the submitted layout, unmatched files reported?"""
    import zipfile
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    nbformat.write(nb, str(downloads / "alice_attempt_2026-11-20_work.ipynb"))
    nbformat.write(nb, str(tmp_path / "bob_work.ipynb"))
    nbformat.write(nb, str(tmp_path / "carol_homework.ipynb"))
    with zipfile.ZipFile(downloads / "batch.zip", "w") as z:
        z.write(tmp_path / "bob_work.ipynb", "bob_work.ipynb")
        z.write(tmp_path / "carol_homework.ipynb", "carol_homework.ipynb")
    students, unmatched = intake.collect_downloads(downloads, "a1", ["work.ipynb"], tmp_path / "submitted")
    assert students == ["alice", "bob"]
    assert (tmp_path / "submitted" / "bob" / "a1" / "work.ipynb").is_file()
    assert unmatched == ["batch/carol_homework.ipynb"]
