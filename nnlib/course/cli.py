"""The `course` command: build, grade, export, feedback, formgrader, demo, catalogue."""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from nnlib.course.config import find_root


def _build(args):
    from nnlib.course import overview
    from nnlib.course.build import build
    build(args.root, args.assignments or None)
    if overview.write_table(args.root):
        print("README.md: the table of assignments was rewritten from the master notebooks")


def _collect(args):
    """Sort LMS downloads into <out>/submitted before grading; -> (that folder, intake.Collected)."""
    from nnlib.course.config import notebooks
    from nnlib.course.intake import collect_downloads
    if len(args.assignments) != 1:
        raise SystemExit("--downloads needs exactly one ASSIGNMENT")
    submitted = Path(args.out or args.root) / "submitted"
    collected = collect_downloads(args.downloads, args.assignments[0],
                                  notebooks(args.root, args.assignments[0]), submitted, args.pattern)
    print(f"collected {len(collected.students)} student(s) from {args.downloads} into {submitted}; "
          f"{len(collected.problems)} with refused files, {len(collected.not_collected)} file(s) not collected")
    return submitted, collected


def _grade(args):
    from nnlib.course.grade import WITHOUT_ISOLATION, grade, require_sandbox, shown_url, table
    require_sandbox(not args.no_sandbox)
    start = time.perf_counter()
    collected = None
    if args.downloads:
        args.submitted, collected = _collect(args)
    results = grade(args.root, args.assignments or None, args.submitted, args.out, args.workers,
                    args.timeout, args.force, progress=not args.quiet, budget=args.budget,
                    memory_mb=args.memory_mb, fork_server=not args.no_fork_server,
                    sandboxed=not args.no_sandbox, disk_mb=args.disk_mb, collected=collected,
                    cluster=args.cluster, db_url=args.db, students=args.student)
    print(table(results))
    for line in collected.not_collected if collected else ():
        print(f"NOT COLLECTED: {line}")
    out = Path(args.out or args.root)
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    print(f"\n{len(results)} submission(s) in {time.perf_counter() - start:.1f} s: "
          + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if args.no_sandbox:
        print(f"WARNING: {WITHOUT_ISOLATION}")
    print(f"grades: {out / 'grades.csv'}   report: {out / 'report.html'}   feedback: {out / 'feedback'}   "
          f"gradebook: {shown_url(args.db) if args.db else out / 'gradebook.db'}")
    return 0


def _out_and_db(args):
    """The output folder (Path) and the class gradebook's URL (str) of export/feedback/formgrader."""
    from nnlib.course.config import load_config
    out = Path(args.out or args.root).resolve()
    url = args.db or f"sqlite:///{out / 'gradebook.db'}"
    if not args.db and not (out / "gradebook.db").is_file():
        raise SystemExit(f"no class gradebook at {out / 'gradebook.db'}: run `course grade --out {out}` first "
                         "(or give --db URL)")
    return out, url, load_config(args.root).CourseDirectory.course_id


def _export(args):
    from nnlib.course import export
    from nnlib.course.grade import shown_url
    out, url, course_id = _out_and_db(args)
    dest = Path(args.to or out / "grades.csv")
    n = export.write(dest, url, course_id, out, assignments=args.assignments or None)
    print(f"{n} submission(s) from {shown_url(url)} written to {dest}")
    return 0


def _feedback(args):
    """Feedback again from the class gradebook (after manual grading): nbgrader's generate_feedback."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from nnlib.course.config import assignments, load_config
    out, url, _ = _out_and_db(args)
    config = load_config(args.root, db_url=url, source_directory=str(Path(args.root) / "source"))
    config.CourseDirectory.root = str(out)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    failed = 0
    for a in args.assignments or assignments(args.root):
        if not (out / "autograded").is_dir() or not any((out / "autograded").glob(f"*/{a}")):
            continue
        done = api.generate_feedback(a, args.student) if args.student else api.generate_feedback(a)
        if not done["success"]:
            failed += 1
            print(f"feedback of {a} failed:\n{done.get('log', '')}\n{done.get('error', '')}")
        else:
            print(f"feedback of {a} written to {out / 'feedback'}")
    return 1 if failed else 0


def _formgrader(args):
    from nnlib.course import formgrader
    from nnlib.course.grade import write_out_config
    out = Path(args.out or args.root).resolve()
    if not (out / "gradebook.db").is_file() and not args.db:
        raise SystemExit(f"no class gradebook at {out / 'gradebook.db'}: run `course grade --out {out}` first")
    write_out_config(args.root, out, args.db)
    return formgrader.launch(out, args.port, open_browser=not args.no_browser)


def _demo(args):
    from nnlib.course.config import assignments
    from nnlib.course.demo import example_class
    from nnlib.course.grade import grade, table
    out = Path(args.root) / "build" / "demo"
    shutil.rmtree(out, ignore_errors=True)
    chosen = args.assignments or assignments(args.root)
    for a in chosen:   # from the committed release/ and source/ (tests keep them in step)
        example_class(args.root, a, out / "submitted")
    print(f"example submissions written to {out / 'submitted'}")
    results = grade(args.root, chosen, out / "submitted", out, args.workers, args.timeout, True,
                    progress=not args.quiet, budget=args.budget, memory_mb=args.memory_mb,
                    fork_server=not args.no_fork_server, sandboxed=not args.no_sandbox, disk_mb=args.disk_mb)
    print(table(results))
    print(f"\ngrades: {out / 'grades.csv'}   report: {out / 'report.html'}   feedback: {out / 'feedback'}")
    return 0


def _catalogue(args):
    from nnlib.course import catalogue
    found = catalogue.find(args.root)
    bad = 0
    for a in args.assignments or sorted(found):
        baseline, outcomes = catalogue.run(args.root, found[a])
        print(f"{a}: master notebook scores {baseline}")
        for o in outcomes:
            bad += not o.ok
            print(("ok   " if o.ok else "FAIL ") + o.describe())
    return 1 if bad else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="course", description=__doc__)
    parser.add_argument("--root", default=None, help="course folder (default: found from here)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="regenerate release/ and solutions/ from source/")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(func=_build)
    for name, func, text in (("grade", _grade, "autograde submissions, write feedback and grades.csv"),
                             ("demo", _demo, "grade example submissions end to end")):
        p = sub.add_parser(name, help=text)
        p.add_argument("assignments", nargs="*")
        p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
        p.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: nbgrader_config.py)")
        p.add_argument("--budget", type=int, default=900, help="seconds for one whole submission (default 900)")
        p.add_argument("--memory-mb", type=int, default=3072, help="memory cap of each kernel in MiB (default 3072)")
        p.add_argument("--disk-mb", type=int, default=512,
                       help="size of each kernel's private /tmp, its only writable place, MiB (default 512)")
        p.add_argument("--no-sandbox", action="store_true",
                       help="grade WITHOUT isolation where bubblewrap cannot run (said in the CSV and report)")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--no-fork-server", action="store_true",
                       help="start every kernel from scratch instead of forking it (slower)")
        if name == "grade":
            p.add_argument("--submitted", default=None, help="submissions folder (default: <root>/submitted)")
            p.add_argument("--out", default=None, help="output folder (default: the course root)")
            p.add_argument("--force", action="store_true", help="regrade even unchanged submissions")
            p.add_argument("--downloads", default=None,
                           help="folder of LMS downloads (zip files or notebooks named <student>_..._<notebook>)")
            p.add_argument("--pattern", default=None,
                           help="nbgrader zip_collect regexp with student_id and file_id groups")
            p.add_argument("--cluster", default=None, metavar="ADDRESS",
                           help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786) "
                                "instead of local workers")
            p.add_argument("--db", default=None, metavar="URL",
                           help="the class gradebook's SQLAlchemy URL, e.g. postgresql://user@host/course "
                                "(default: <out>/gradebook.db)")
            p.add_argument("--student", action="append", default=None, metavar="ID",
                           help="grade only this student (repeat for more)")
        else:
            p.set_defaults(timeout=60)   # a3's graded cells train the course's full epochs (up to ~17 s)
        p.set_defaults(func=func)
    for name, func, text in (
            ("export", _export, "write one CSV of the class gradebook: every submission, manual grades, pending answers"),
            ("feedback", _feedback, "generate feedback again from the class gradebook (after manual grading)"),
            ("formgrader", _formgrader, "open nbgrader's formgrader on the output folder (Autograde sandboxed)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("assignments", nargs="*") if name != "formgrader" else None
        p.add_argument("--out", default=None, help="output folder of course grade (default: the course root)")
        p.add_argument("--db", default=None, metavar="URL", help="the class gradebook's URL (default: <out>/gradebook.db)")
        if name == "export":
            p.add_argument("--to", default=None, help="CSV file to write (default: <out>/grades.csv)")
        if name == "feedback":
            p.add_argument("--student", default=None, metavar="ID", help="only this student")
        if name == "formgrader":
            p.add_argument("--port", type=int, default=None)
            p.add_argument("--no-browser", action="store_true")
        p.set_defaults(func=func)
    p = sub.add_parser("catalogue", help="run the wrong-answer catalogues in a shared kernel")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(func=_catalogue)
    args = parser.parse_args(argv)
    args.root = find_root(args.root)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
