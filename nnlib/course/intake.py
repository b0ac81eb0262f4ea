"""Find submissions and check that they can be graded, before nbgrader sees them.

Layout: nbgrader's submitted layout, <submitted>/<student>/<assignment>/<notebook>.ipynb.
Each (student, assignment) becomes a Job; what cannot be graded becomes a reason, never a crash.
LMS downloads (archives, loose notebooks) are sorted into that layout first by collect_downloads,
one student at a time: a broken or hostile file is refused with a reason for its student.
"""

import json
import logging
import os
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from nnlib.course import archives


@dataclass
class Job:
    """One student's submission of one assignment."""

    student: str
    assignment: str
    folder: Path                                   # the student's submitted folder (read only)
    notebooks: list = field(default_factory=list)  # names that passed the checks, to be graded
    problems: list = field(default_factory=list)   # why a notebook could not be graded

    @property
    def key(self):
        return f"{self.assignment}/{self.student}"


def check_notebook(path):
    """None if `path` is a notebook nbgrader can grade, else the reason it is not."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return "not a text file (is it a notebook?)"
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if not isinstance(raw, dict) or not ("cells" in raw or "worksheets" in raw):
        return "valid JSON but not a notebook: it has no 'cells'"
    try:
        nb = nbformat.reads(text, as_version=4)   # upgrades older formats (nbformat 3: 'worksheets')
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several types for malformed notebooks
        return f"not a valid notebook: {str(exc).splitlines()[0]}"
    if not nb.cells:
        return "the notebook has no cells"
    return None


def find_jobs(submitted, expected):
    """Jobs for every student folder under `submitted`.

    expected: {assignment: [notebook file names]} from source/. A student folder without an
    assignment's folder gets no job for it; notebooks with other names are reported.
    """
    submitted = Path(submitted)
    jobs = []
    if not submitted.is_dir():
        raise FileNotFoundError(f"no submissions folder at {submitted}")
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for assignment, names in expected.items():
            folder = student_dir / assignment
            if not folder.is_dir():
                continue
            job = Job(student_dir.name, assignment, folder)
            present = {p.name for p in folder.glob("*.ipynb")}
            for name in names:
                if name not in present:
                    job.problems.append(f"{name}: missing (found {sorted(present) or 'no notebooks'})")
                    continue
                reason = check_notebook(folder / name)
                if reason:
                    job.problems.append(f"{name}: {reason}")
                else:
                    job.notebooks.append(name)
            jobs.append(job)
    return jobs


def default_pattern(names):
    """nbgrader zip_collect regexp for LMS file names `<student>_<anything>_<notebook>`.

    names: the assignment's notebook file names (the file_id must be one of them).
    """
    choices = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return rf".*/(?P<student_id>[^/_]+)_(?:[^/]*_)?(?P<file_id>{choices})$"


_NOT_PLAIN = "which is not a plain name (letters, digits, . _ @ + -, not starting with '.')"


def plain_id(student):
    """True if `student` (str) is a plain name that can be a folder of its own under submitted/."""
    return bool(student) and re.fullmatch(r"[\w@+-][\w.@+-]*", student) is not None


@dataclass
class Collected:
    """What collect_downloads did with each file of a download folder, for the grading output."""

    assignment: str
    students: list = field(default_factory=list)       # students with at least one notebook collected
    problems: dict = field(default_factory=dict)       # student -> [reason]: their files that were refused
    not_collected: list = field(default_factory=list)  # "file: why" for files that name no student

    def add_to(self, jobs, submitted):
        """`jobs` ([Job]) with each refusal added to its student's job, or as a job of its own.

        A student whose every file was refused gets a job without notebooks: ungradable, with the reasons.
        """
        by_student = {j.student: j for j in jobs if j.assignment == self.assignment}
        for student, reasons in sorted(self.problems.items()):
            job = by_student.get(student)
            if job is None:
                job = Job(student, self.assignment, Path(submitted) / student / self.assignment)
                jobs.append(job)
            job.problems[:0] = reasons
        return jobs


def collect_downloads(downloads, assignment, names, submitted, pattern=None):
    """Sort LMS downloads (archives and loose notebooks) into nbgrader's submitted layout -> Collected.

    Loose notebooks belong to the student their file name names (nbgrader's FileNameCollectorPlugin
    with `pattern`, a regexp with `student_id` and `file_id` groups; default `default_pattern(names)`).
    An archive whose name names a student (`<student>_...zip`) is that student's: a notebook in it
    named for someone else is refused; a file named just `<notebook>` counts for the archive's owner.
    An archive that names nobody (`submissions.zip`) is a bulk download: each file is sorted by its
    own name. Archives are read by nnlib.course.archives, within its limits. Every file ends
    collected, refused (a reason for its student, or a line in not_collected) or not collected.
    Each student named gets `<submitted>/<student>/<assignment>/` replaced by what was collected.
    """
    sorter = _Sorter(names, pattern)
    downloads = Path(downloads)
    if not downloads.is_dir():
        raise FileNotFoundError(f"no downloads folder at {downloads}")
    for path in _files(downloads):
        sorter.loose(path, path.relative_to(downloads).as_posix())
    return sorter.write(Path(submitted), assignment)


def _files(folder):
    """Every entry below `folder` that is not a folder (links to folders included, not followed), sorted."""
    found = []
    for root, dirs, files in os.walk(folder):
        linked = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        dirs[:] = sorted(set(dirs) - set(linked))
        found += [Path(root) / name for name in files + linked]
    return sorted(found)


def _quiet_log():
    """A logger for nbgrader's collector, whose 'did not match' warnings we report ourselves."""
    log = logging.getLogger("nnlib.course.intake.collector")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    return log


_KINDS_REFUSED = {"link": "is a symbolic link; not followed", "special": "is not a regular file; not read"}


class _Sorter:
    """Decides, file by file, whose notebook each download is; see collect_downloads."""

    def __init__(self, names, pattern):
        from nbgrader.plugins.zipcollect import FileNameCollectorPlugin
        self.names, self.pattern = list(names), pattern
        self.collector = FileNameCollectorPlugin(named_regexp=pattern or default_pattern(names), log=_quiet_log())
        self.taken = {}                       # student -> {notebook: (file, bytes)}
        self.problems = defaultdict(list)     # student -> [reason]
        self.not_collected = []               # ["file: why"]

    def owner(self, display):
        """Student id (str or None) the archive file name `display` names: the pattern's, else `<id>_`."""
        match = re.match(self.pattern, "/" + display) if self.pattern else None
        if match and match.groupdict().get("student_id") is not None:
            return match.group("student_id")
        match = re.match(r"([^/_]*)_", display.rsplit("/", 1)[-1])
        return match.group(1) if match else None

    def named(self, display):
        """The plain student id the file name `display` names, else None (for routing refusals)."""
        if archives.is_archive(display):
            student = self.owner(display)
        else:
            found = self.collector.collect("/" + display)
            student = found.get("student_id") if found else None
        return student if student and plain_id(student) else None

    def refuse(self, display, owner, why):
        """Record that `display` is not collected because `why`: its student's problem, else a listed line."""
        student = owner or self.named(display)
        line = f"{display}: {why}"
        if student:
            self.problems[student].append(line)
        else:
            self.not_collected.append(line)

    def loose(self, path, display):
        """Sort one file of the download folder (Path; display: its path relative to that folder)."""
        if path.is_symlink():
            return self.refuse(display, None, "is a symbolic link; not followed")
        if not path.is_file():
            return self.refuse(display, None, "is not a regular file; not read")
        if archives.is_archive(path.name):
            return self.archive(path, display, None, archives.Budget(), 0)
        if not path.name.endswith(".ipynb"):
            return self.not_collected.append(f"{display}: not a notebook or an archive")
        try:
            if path.stat().st_size > archives.MAX_BYTES:
                return self.refuse(display, None, f"larger than {archives.MAX_BYTES // 2**20} MiB; not read")
            data = path.read_bytes()
        except OSError as exc:
            return self.refuse(display, None, f"cannot be read: {exc.strerror}")
        self.notebook(display, None, data)

    def archive(self, source, display, container, budget, depth):
        """Sort the members of an archive (source: Path or bytes) found inside `container`'s archive (or None)."""
        owner = self.owner(display)
        if owner is not None and not plain_id(owner):
            return self.refuse(display, container, f"names student {owner!r}, {_NOT_PLAIN}; not opened")
        if container and owner not in (None, container):
            return self.refuse(display, container, f"is named for student {owner!r} but is inside "
                                                   f"{container}'s archive; not opened")
        if depth and owner is None and container is None:
            return self.refuse(display, None, "is an archive inside a bulk download that names no student; not opened")
        owner = container or owner
        if depth >= archives.MAX_DEPTH:
            return self.refuse(display, owner, f"archives nested more than {archives.MAX_DEPTH} deep; not opened")
        try:
            members = archives.read(source, display, budget,
                                    lambda name: name.endswith(".ipynb") or archives.is_archive(name))
        except archives.Refused as exc:
            return self.refuse(display, owner, str(exc))
        for member in members:
            self.member(member, f"{display}/{member.name}", owner, budget, depth)

    def member(self, member, display, owner, budget, depth):
        """Sort one archives.Member of `owner`'s archive (owner None: a bulk download)."""
        unsafe = archives.unsafe_name(member.name)
        if unsafe:
            self.refuse(display, owner, unsafe + "; not collected")
        elif member.kind in _KINDS_REFUSED:
            self.refuse(display, owner, _KINDS_REFUSED[member.kind])
        elif member.kind == "dir":
            return
        elif member.data is None:
            self.not_collected.append(f"{display}: not a notebook or an archive")
        elif archives.is_archive(member.name):
            self.archive(member.data, display, owner, budget, depth + 1)
        else:
            self.notebook(display, owner, member.data)

    def notebook(self, display, owner, data):
        """Collect the notebook `display` (bytes `data`) for its student, or say why not."""
        found = self.collector.collect("/" + display) or {}
        student, name = found.get("student_id"), found.get("file_id")
        if name not in self.names:
            base = display.rsplit("/", 1)[-1]
            if not (owner and base in self.names):
                return self.not_collected.append(
                    f"{display}: its name does not match the pattern for a notebook of the assignment "
                    f"({', '.join(self.names)})")
            student, name = owner, base
        if not (student and plain_id(student)):
            return self.refuse(display, owner, f"names student {student!r}, {_NOT_PLAIN}; not collected")
        if owner and student != owner:
            return self.refuse(display, owner, f"is named for student {student!r} but is inside {owner}'s "
                                               "archive; not collected")
        earlier = self.taken.setdefault(student, {}).get(name)
        if earlier:
            self.problems[student].append(f"{name}: more than one file ({earlier[0]}, {display}); "
                                          f"the last one, {display}, is graded")
        self.taken[student][name] = (display, data)

    def write(self, submitted, assignment):
        """Replace each named student's <submitted>/<student>/<assignment>/ by what was collected."""
        submitted.mkdir(parents=True, exist_ok=True)
        top = submitted.resolve()
        for student in sorted(set(self.taken) | set(self.problems)):
            folder = submitted / student / assignment
            try:
                if not folder.resolve().is_relative_to(top):
                    raise OSError(0, f"{folder} leads outside {submitted}")
                if folder.exists() or folder.is_symlink():
                    shutil.rmtree(folder)
                for name, (_, data) in self.taken.get(student, {}).items():
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / name).write_bytes(data)
            except OSError as exc:
                self.problems[student].append(f"could not be written to {folder}: {exc.strerror or exc}")
                self.taken.pop(student, None)
        return Collected(assignment, sorted(self.taken), {s: list(r) for s, r in sorted(self.problems.items())},
                         self.not_collected)
