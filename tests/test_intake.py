"""Broken submissions are recognised before nbgrader sees them, with a reason."""

import csv
import html
import io
import stat
import tarfile
import zipfile

import nbformat
import pytest
from nbformat import v3

from nnlib.course import archives, grade, intake, submissions


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
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    nbformat.write(nb, str(downloads / "alice_attempt_2026-11-20_work.ipynb"))
    _zip(downloads / "batch.zip", {"bob_work.ipynb": _nb("bob"), "carol_homework.ipynb": _nb("carol")})
    collected = intake.collect_downloads(downloads, "a1", ["work.ipynb"], tmp_path / "submitted")
    assert collected.students == ["alice", "bob"] and collected.problems == {}
    assert (tmp_path / "submitted" / "bob" / "a1" / "work.ipynb").is_file()
    assert len(collected.not_collected) == 1 and collected.not_collected[0].startswith("batch.zip/carol_homework")


# Hostile downloads. Each fixture sits next to a good submission of alice's, which must stay hers.

NAMES = ["work.ipynb"]


def _nb(text):
    """Bytes of a small notebook whose only cell says `text` (to tell whose file ended where)."""
    cell = nbformat.v4.new_code_cell(repr(text), id="only")
    return nbformat.writes(nbformat.v4.new_notebook(cells=[cell])).encode()


def _zip(path, entries):
    """A real zip file at `path`; entries: {name as stored: bytes, or ('link', target) for a symlink}."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            if isinstance(data, tuple):
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                z.writestr(info, data[1])
            else:
                z.writestr(zipfile.ZipInfo(name), data)
    return path


def _downloads(tmp_path, **archives):
    """A download folder with alice's good notebook and the given {file name: zip entries}."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "alice_attempt_work.ipynb").write_bytes(_nb("alice"))
    for name, entries in archives.items():
        _zip(downloads / name, entries)
    return downloads


def _collect(tmp_path, downloads, pattern=None):
    return intake.collect_downloads(downloads, "a1", NAMES, tmp_path / "out" / "submitted", pattern)


def _alice_untouched(tmp_path, collected):
    assert "alice" in collected.students and "alice" not in collected.problems
    assert (tmp_path / "out" / "submitted" / "alice" / "a1" / "work.ipynb").read_bytes() == _nb("alice")


def _written(tmp_path):
    """Every file under tmp_path but the downloads: what intake wrote."""
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                  if p.is_file() and "downloads" not in p.parts)


def test_zip_with_dotdot_entry_costs_only_its_own_student(tmp_path):
    """Does a zip with a ../ entry cost only its own student, with a reason, and write nothing outside?"""
    downloads = _downloads(tmp_path, **{"bob_attempt.zip": {"../../bob_attempt_work.ipynb": _nb("bob")}})
    collected = _collect(tmp_path, downloads)
    _alice_untouched(tmp_path, collected)
    assert "bob" not in collected.students
    assert "climbs out of its folder with '..'" in collected.problems["bob"][0]
    assert _written(tmp_path) == ["out/submitted/alice/a1/work.ipynb"]


def test_zip_with_absolute_path_costs_only_its_own_student(tmp_path):
    """Is a zip entry with an absolute path refused for its student, never written where it points?"""
    target = tmp_path / "elsewhere" / "bob_attempt_work.ipynb"
    downloads = _downloads(tmp_path, **{"bob_attempt.zip": {str(target): _nb("bob")}})
    collected = _collect(tmp_path, downloads)
    _alice_untouched(tmp_path, collected)
    assert "has an absolute path" in collected.problems["bob"][0] and not target.exists()
    assert _written(tmp_path) == ["out/submitted/alice/a1/work.ipynb"]


def test_zip_with_symlink_costs_only_its_own_student(tmp_path):
    """Is a symbolic link inside a zip refused for its student, never followed?"""
    downloads = _downloads(tmp_path, **{"bob_attempt.zip": {"work.ipynb": ("link", "/etc/passwd")}})
    collected = _collect(tmp_path, downloads)
    _alice_untouched(tmp_path, collected)
    assert "symbolic link" in collected.problems["bob"][0] and "bob" not in collected.students


def test_zip_bombs_cost_only_their_own_student(tmp_path, monkeypatch):
    """Are archives beyond the size or file-count limit refused for their student, the others collected?"""
    monkeypatch.setattr(archives, "MAX_BYTES", 2**20)
    many = {f"junk/{i}.txt": b"" for i in range(archives.MAX_MEMBERS + 1)}
    downloads = _downloads(tmp_path, **{"bob_attempt.zip": {"work.ipynb": bytes(2 * 2**20)},
                                        "carol_attempt.zip": {"work.ipynb": _nb("carol"), **many}})
    collected = _collect(tmp_path, downloads)
    _alice_untouched(tmp_path, collected)
    assert "unpacks to more than 1 MiB" in collected.problems["bob"][0]
    assert f"holds more than {archives.MAX_MEMBERS} files" in collected.problems["carol"][0]
    assert collected.students == ["alice"]


def test_tar_with_dotdot_entry_and_link_costs_only_the_bad_members(tmp_path):
    """In a .tar.gz, are a ../ member and a link refused with reasons while its good notebook is collected?"""
    downloads = _downloads(tmp_path)
    with tarfile.open(downloads / "bob_attempt.tar.gz", "w:gz") as tar:
        for name, data in (("../evil.ipynb", _nb("evil")), ("work.ipynb", _nb("bob"))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("alice_attempt_work.ipynb")
        link.type, link.linkname = tarfile.SYMTYPE, "../../alice/a1/work.ipynb"
        tar.addfile(link)
    collected = _collect(tmp_path, downloads)
    _alice_untouched(tmp_path, collected)
    assert collected.students == ["alice", "bob"]
    reasons = "\n".join(collected.problems["bob"])
    assert "../evil.ipynb: climbs out" in reasons and "alice_attempt_work.ipynb: is a symbolic link" in reasons
    assert (tmp_path / "out" / "submitted" / "bob" / "a1" / "work.ipynb").read_bytes() == _nb("bob")


def test_file_that_is_not_an_archive_costs_only_its_own_student(tmp_path):
    """Is a .zip that is no zip at all refused for its student with a reason, the run going on?"""
    downloads = _downloads(tmp_path)
    (downloads / "bob_attempt.zip").write_text("this is not a zip file")
    collected = _collect(tmp_path, downloads)
    _alice_untouched(tmp_path, collected)
    assert "not a readable zip archive" in collected.problems["bob"][0]


def test_other_students_file_inside_a_zip_is_refused_not_copied_over_theirs(tmp_path):
    """Can a file named for alice inside bob's zip replace alice's submission? (It must not.)"""
    downloads = _downloads(tmp_path, **{"bob_attempt.zip": {"alice_attempt_work.ipynb": _nb("bob"),
                                                            "bob_attempt_work.ipynb": _nb("bob")}})
    collected = _collect(tmp_path, downloads)
    _alice_untouched(tmp_path, collected)
    assert collected.students == ["alice", "bob"]
    (reason,) = collected.problems["bob"]
    assert "bob_attempt.zip/alice_attempt_work.ipynb" in reason and "named for student 'alice'" in reason
    assert (tmp_path / "out" / "submitted" / "bob" / "a1" / "work.ipynb").read_bytes() == _nb("bob")


def test_notebook_inside_a_students_zip_counts_for_that_student(tmp_path):
    """Does `work.ipynb` inside bob's own zip count as bob's, and an archive in it named for alice not?"""
    inner = tmp_path / "alice_attempt.zip"
    _zip(inner, {"work.ipynb": _nb("bob")})
    downloads = _downloads(tmp_path, **{"bob_attempt.zip": {"sub/work.ipynb": _nb("bob"),
                                                            "alice_attempt.zip": inner.read_bytes()}})
    collected = _collect(tmp_path, downloads)
    _alice_untouched(tmp_path, collected)
    assert "bob" in collected.students and "named for student 'alice'" in collected.problems["bob"][0]


@pytest.mark.parametrize("file_name, pattern, student", [
    ("._attempt_work.ipynb", None, "."),
    (".._attempt_work.ipynb", None, ".."),
    ("a/b_work.ipynb", r"^/(?P<student_id>[^_]*)_(?P<file_id>work\.ipynb)$", "a/b"),
    ("_work.ipynb", r"^/(?P<student_id>[^_]*)_(?P<file_id>work\.ipynb)$", ""),
])
def test_ids_that_are_not_plain_names_are_refused(tmp_path, file_name, pattern, student):
    """Is a student id like `.`, `..`, `a/b` or empty refused with a reason, nothing written for it?"""
    downloads = tmp_path / "downloads"
    (downloads / file_name).parent.mkdir(parents=True, exist_ok=True)
    (downloads / file_name).write_bytes(_nb("mallory"))
    (downloads / "alice_work.ipynb").write_bytes(_nb("alice"))
    collected = _collect(tmp_path, downloads, pattern)
    _alice_untouched(tmp_path, collected)
    assert collected.students == ["alice"] and collected.problems == {}
    (line,) = collected.not_collected
    assert line.startswith(file_name) and f"names student {student!r}, which is not a plain name" in line
    assert _written(tmp_path) == ["out/submitted/alice/a1/work.ipynb"]


def test_every_downloaded_file_is_collected_refused_or_listed(tmp_path):
    """Does each file of a messy download end collected, refused with a reason or listed, none dropped?"""
    downloads = _downloads(tmp_path, **{"submissions.zip": {"bob_attempt_work.ipynb": _nb("bob"),
                                                            "notes.txt": b"hello",
                                                            "nested.zip": b"PK not really"}})
    (downloads / "readme.txt").write_text("instructions")
    (downloads / "link_attempt_work.ipynb").symlink_to(downloads / "alice_attempt_work.ipynb")
    collected = _collect(tmp_path, downloads)
    _alice_untouched(tmp_path, collected)
    assert collected.students == ["alice", "bob"]
    assert collected.problems == {"link": ["link_attempt_work.ipynb: is a symbolic link; not followed"]}
    listed = "\n".join(collected.not_collected)
    for name in ("readme.txt", "submissions.zip/notes.txt", "submissions.zip/nested.zip"):
        assert name in listed, name


def test_recollecting_replaces_a_students_earlier_files(tmp_path):
    """After a new download, is nothing of a student's earlier collection graded in its place?"""
    stale = tmp_path / "out" / "submitted" / "bob" / "a1" / "work.ipynb"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(_nb("bob, last week"))
    downloads = _downloads(tmp_path, **{"bob_attempt.zip": {"../work.ipynb": _nb("bob")}})
    collected = _collect(tmp_path, downloads)
    assert "bob" in collected.problems and not stale.exists()
    (job,) = collected.add_to([], tmp_path / "out" / "submitted")
    assert job.student == "bob" and job.notebooks == [] and job.problems == collected.problems["bob"]


def _v3(nb):
    """The notebook `nb` (v4) rebuilt with nbformat.v3, as an old Jupyter would have saved it: JSON text."""
    cells = [v3.new_code_cell(input=c.source, metadata=c.metadata) if c.cell_type == "code"
             else v3.new_text_cell(c.cell_type, source=c.source, metadata=c.metadata) for c in nb.cells]
    return v3.writes_json(v3.new_notebook(worksheets=[v3.new_worksheet(cells=cells)], metadata=nb.metadata))


def _solution(root):
    release = submissions.read(root / "release" / ASSIGNMENT / NOTEBOOK)
    return submissions.solved(release, submissions.read(root / "source" / ASSIGNMENT / NOTEBOOK))


def test_nbformat_v3_notebook_passes_the_checks(tmp_path, root):
    """Is the worked solution saved as nbformat 3 accepted (upgraded), not 'no cells'?"""
    path = tmp_path / NOTEBOOK
    path.write_text(_v3(_solution(root)))
    assert '"worksheets"' in path.read_text() and intake.check_notebook(path) is None


ASSIGNMENT, NOTEBOOK = "a1_hyperparameters", "hyperparameters.ipynb"


@pytest.fixture(scope="module")
def graded_downloads(tmp_path_factory, root):
    """One `course grade --downloads` run: alice's solution as nbformat 3, and hostile files around it."""
    tmp = tmp_path_factory.mktemp("downloads")
    downloads = tmp / "downloads"
    downloads.mkdir()
    (downloads / f"alice_attempt_{NOTEBOOK}").write_text(_v3(_solution(root)))
    blank = nbformat.writes(submissions.read(root / "release" / ASSIGNMENT / NOTEBOOK)).encode()
    _zip(downloads / "bob_attempt.zip", {f"../alice_attempt_{NOTEBOOK}": blank})
    _zip(downloads / "carol_attempt.zip", {f"alice_attempt_{NOTEBOOK}": blank})
    (downloads / f".._attempt_{NOTEBOOK}").write_bytes(blank)
    (downloads / "readme.txt").write_text("instructions")
    out = tmp / "out"
    collected = intake.collect_downloads(downloads, ASSIGNMENT, [NOTEBOOK], out / "submitted")
    results = grade.grade(root, [ASSIGNMENT], out / "submitted", out, workers=1, timeout=60, progress=False,
                          log=lambda *_: None, collected=collected)
    return out, {r.student: r for r in results}


def test_v3_solution_among_hostile_downloads_is_graded_normally(graded_downloads):
    """Does alice's nbformat 3 solution score full marks, untouched by the hostile files around it?"""
    _, results = graded_downloads
    alice = results["alice"]
    assert alice.status == grade.GRADED and alice.auto_score == alice.auto_max > 0, alice


def test_refusals_reach_the_grading_output(graded_downloads):
    """Does each refused student get an ungradable row with the reason, and each file naming nobody a line?"""
    out, results = graded_downloads
    assert set(results) == {"alice", "bob", "carol"}
    assert results["bob"].status == grade.UNGRADABLE and "climbs out" in results["bob"].reasons[0]
    assert results["carol"].status == grade.UNGRADABLE and "named for student 'alice'" in results["carol"].reasons[0]
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert "climbs out" in rows["bob"]["reasons"] and "named for student 'alice'" in rows["carol"]["reasons"]
    report = (out / "report.html").read_text()
    assert "Downloaded files not collected" in report and "readme.txt" in report
    assert html.escape(f".._attempt_{NOTEBOOK}: names student '..'") in report
