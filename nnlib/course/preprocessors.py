"""nbconvert preprocessors that nbgrader_config.py plugs into nbgrader's pipelines, and the
exporter of the feedback pages."""

import os
import re
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter

from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, Execute
from traitlets import Bool, List, Unicode

from nnlib import reference
from nnlib.course import cells, judge
from nnlib.course.client import GradingKernelManager

EXERCISE = "{exercise}"


class NamedClearSolutions(ClearSolutions):
    """ClearSolutions whose code stub names the exercise it stands for.

    `{exercise}` in the stub becomes the text after BEGIN SOLUTION on the region's first line
    (`### BEGIN SOLUTION forward`), or the cell's grade_id when that is empty.
    """

    def _replace_solution_region(self, cell, language):
        grade_id = cells.grade_id(cell) or "this exercise"
        lines, new_lines = cell.source.split("\n"), []
        in_solution = replaced = False
        for line in lines:
            if self.begin_solution_delimeter in line:
                if in_solution:
                    raise RuntimeError(f"nested BEGIN SOLUTION in cell {grade_id}")
                in_solution = replaced = True
                name = line.split(self.begin_solution_delimeter, 1)[1].strip() or grade_id
                stub = self._raw_stubs[language] if cell.cell_type == "code" else self.text_stub
                indent = re.match(r"\s*", line).group(0)
                new_lines.extend(indent + s for s in stub.replace(EXERCISE, name).split("\n"))
            elif self.end_solution_delimeter in line:
                in_solution = False
            elif not in_solution:
                new_lines.append(line)
        if in_solution:
            raise RuntimeError(f"no END SOLUTION in cell {grade_id}")
        cell.source = "\n".join(new_lines)
        return replaced

    def preprocess_cell(self, cell, resources, index):
        grade_id = cells.grade_id(cell) or "this exercise"
        stubs = self._raw_stubs = self.code_stub
        self.code_stub = {k: v.replace(EXERCISE, grade_id) for k, v in stubs.items()}
        try:
            # whole-cell solutions use the stub directly: give it the grade_id
            return super().preprocess_cell(cell, resources, index)
        finally:
            self.code_stub = stubs


def sealed_env(env=None):
    """`env` (default: this process's) for a kernel that must find the answer key sealed."""
    return {**(os.environ if env is None else env), reference.SEALED_ENV: "1"}


class Stopwatch:
    """Seconds this process spent in named stages, summed over calls (time.perf_counter).

        with STOPWATCH("cells"): ...     # adds the block's time to "cells"
        STOPWATCH.take()                 # -> {stage: seconds} so far, and starts again from zero

    Cheap enough to run on every graded submission: the worker reads it after each job
    (nnlib.course.worker.Stages).
    """

    def __init__(self):
        self.seconds = defaultdict(float)

    @contextmanager
    def __call__(self, stage):
        start = perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += perf_counter() - start

    def add(self, stage, seconds):
        self.seconds[stage] += seconds

    def take(self):
        taken = dict(self.seconds)
        self.seconds.clear()
        return taken


STOPWATCH = Stopwatch()   # what this process's GuardedExecute and grading job spent where

KILLED = "KernelKilled"
KILLED_TEXT = ("this cell stopped the Python kernel while grading (os._exit, a crash, or the memory cap); "
               "it was left out and the rest of the notebook graded without it")


class GuardedExecute(Execute):
    """nbgrader's Execute that notes the cell it is about to run, can leave cells out, and has the
    judge decide hidden tests.

    A graded test cell with a hidden test is not run in the kernel: nnlib.course.judge decides it
    from this process and its outputs are the verdict.

    A cell that ends the kernel (os._exit, a crash in C code, the memory cap) ends nbgrader's run
    of the whole notebook. The grader reads `journal` ("<notebook> <cell index>" of the last cell
    started), then grades again with that cell in `skip_cells`: it is not run and gets an error
    output saying why, so its own test scores zero and every other cell is graded as usual.
    """

    journal = Unicode("", help="file that holds the notebook and index of the cell running").tag(config=True)
    skip_cells = List(Unicode(), help="'<notebook> <cell index>' of cells not to run").tag(config=True)
    judged = Bool(True, help="hidden tests decided by the judge (nnlib.course.judge), never run in the "
                             "kernel").tag(config=True)
    seal_answer_key = Bool(False, help="the kernel finds the answer key (nnlib.answers) sealed, as in the "
                                       "grading sandbox: set for students' submissions").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", GradingKernelManager)
        super().__init__(*args, **kwargs)

    # Where execution's time goes (STOPWATCH): starting the kernel and its client, the cells the
    # kernel runs, the judge's tests (of which the kernel's share), stopping the kernel.
    def start_new_kernel(self, **kwargs):
        if self.seal_answer_key:
            kwargs["env"] = sealed_env(kwargs.get("env"))
        with STOPWATCH("kernel_start"):
            return super().start_new_kernel(**kwargs)

    def start_new_kernel_client(self):
        with STOPWATCH("kernel_start"):
            return super().start_new_kernel_client()

    def _cleanup_kernel(self):
        with STOPWATCH("kernel_stop"):
            return super()._cleanup_kernel()

    def preprocess_cell(self, cell, resources, index):
        where = f"{resources.get('unique_key', '')} {index}"
        if cell.cell_type == "code" and where in self.skip_cells:
            cell.outputs = [new_output("error", ename=KILLED, evalue=KILLED_TEXT,
                                       traceback=[f"{KILLED}: {KILLED_TEXT}"])]
            return cell, resources
        if self.journal and cell.cell_type == "code":
            Path(self.journal).write_text(where)
        if self.judged and judge.is_judged(cell):
            assignment = resources.get("nbgrader", {}).get("assignment")
            with STOPWATCH("judge"):
                verdict = judge.decide(self, cell, index, assignment)
            STOPWATCH.add("judge_kernel", verdict.kernel_seconds)
            cell.outputs = verdict.outputs()
            cell.execution_count = None
            return cell, resources
        with STOPWATCH("cells"):
            return super().preprocess_cell(cell, resources, index)


class StripHiddenTests(ClearHiddenTests):
    """Remove hidden-test regions from the worked solutions students see after the deadline."""


PENDING_NOTE = ("Not graded yet: a person will grade this answer. Until then it counts 0 in the "
                "score above; the feedback is generated again once it is graded.")


class ShortenFeedback(Preprocessor):
    """Feedback without hidden test code: drop hidden regions, cut tracebacks to their last line.

    A written answer that waits for a person (nbgrader's needs_manual_grade, no manual score) gets
    a comment saying so, so that its 0 does not read as a grade.
    """

    enabled = True

    def preprocess(self, nb, resources):
        self._waiting = self._pending(resources.get("nbgrader", {}))
        return super().preprocess(nb, resources)

    @staticmethod
    def _pending(info):
        """grade_ids of the notebook's written answers waiting for a person: set."""
        from nbgrader.api import Gradebook
        if not info.get("db_url"):
            return set()
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            return {g.name for g in notebook.grades if g.needs_manual_grade and g.manual_score is None}

    def preprocess_cell(self, cell, resources, index):
        if cells.is_graded(cell) and cells.is_answer(cell) and cells.grade_id(cell) in self._waiting:
            meta = cells.meta(cell)
            given = meta.get("comment") or ""
            meta["comment"] = f"{PENDING_NOTE}\n\n{given}" if given else PENDING_NOTE
        if cell.cell_type != "code" or not cells.is_graded(cell):
            return cell, resources
        if "BEGIN HIDDEN TESTS" in cell.source:
            kept, hidden = [], False
            for line in cell.source.split("\n"):
                if "BEGIN HIDDEN TESTS" in line:
                    hidden = True
                    kept.append("# (hidden tests ran here)")
                elif "END HIDDEN TESTS" in line:
                    hidden = False
                elif not hidden:
                    kept.append(line)
            cell.source = "\n".join(kept)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class NormalizeOutputs(Preprocessor):
    """Make executed notebooks byte-stable: no timings, images or widget state.

    Figures keep their text form (`<Figure size ...>`), widgets their text repr, so a rebuild gives
    identical files and nbval can compare what is left. Consecutive stream outputs are joined
    (how a print arrives in messages depends on timing). Execution counts stay (a fresh kernel
    numbers cells 1, 2, ... the same way every time; nbval needs them).
    """

    enabled = True

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.outputs:
            if output.output_type in ("display_data", "execute_result"):
                output.data = {k: v for k, v in output.data.items() if k == "text/plain"}
                output.metadata = {}
        kept = []
        for o in cell.outputs:
            if o.output_type in ("display_data", "execute_result") and not o.data:
                continue
            if o.output_type == "stream" and kept and kept[-1].output_type == "stream" \
                    and kept[-1].name == o.name:
                kept[-1].text += o.text   # how the kernel split a print into messages is timing
                continue
            kept.append(o)
        cell.outputs = kept
        return cell, resources


# $$...$$ and \[...\] (display) or $...$ and \(...\) (inline), not preceded by a backslash.
MATH = re.compile(r"(?<!\\)(\$\$(?P<d1>.+?)\$\$|\\\[(?P<d2>.+?)\\\]|\$(?P<i1>[^$\n]+?)\$|\\\((?P<i2>.+?)\\\))", re.S)
# Code is left as written: fenced blocks, and inline code spans.
CODE = re.compile(r"(^```.*?^```[^\n]*$|^~~~.*?^~~~[^\n]*$|`[^`\n]*`)", re.S | re.M)


def latex_to_mathml(text):
    """Markdown `text` with its formulas as MathML, which browsers draw without MathJax or a network.

    A formula the converter cannot read is left as written (so MathJax, when the page can load
    it, still gets its chance). Code blocks and code spans are not touched.
    """
    from latex2mathml.converter import convert

    def formula(match):
        display = match.group("d1") or match.group("d2")
        latex = display or match.group("i1") or match.group("i2")
        try:
            mathml = convert(latex.strip(), display="block" if display else "inline")
        except Exception:   # noqa: BLE001 - latex2mathml raises many kinds; the formula stays as written
            return match.group(0)
        return f"\n\n{mathml}\n\n" if display else mathml

    pieces = CODE.split(text)
    return "".join(piece if i % 2 else MATH.sub(formula, piece) for i, piece in enumerate(pieces))


class OfflineMath(Preprocessor):
    """Formulas in markdown cells as MathML: feedback files and formgrader's pages show them with
    no MathJax from a CDN (offline, MathJax's formulas would stay raw LaTeX)."""

    enabled = True

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and ("$" in cell.source or "\\(" in cell.source or "\\[" in cell.source):
            cell.source = latex_to_mathml(cell.source)
        return cell, resources


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept in this process's memory.

    A bucket is found by template name and file and holds the checksum of the source it was
    compiled from, so a template that changes on disk is compiled again.
    """

    def __init__(self):
        self.code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTMLExporter whose templates are compiled once per process, not once per page.

    nbgrader makes a new exporter for every submission's feedback, and compiling the feedback
    template and those it extends took 0.18 s of each (bench_class.py --breakdown, "feedback HTML").
    """

    compiled = CompiledTemplates()

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = self.compiled
        return environment
