"""Find code in a submission that looks like tampering with grading, for a person to review.

Hidden tests are decided by the judge outside the kernel (nnlib.course.judge), so such code
changes no score; it still says something about the submission. The scan looks for code that
would rebind or patch the checks (`check`, `nnlib.checks`), the comparisons they use
(`numpy.allclose`, `numpy.testing`, `torch.allclose`), IPython's traceback display, the profiler
that detects calls to the reference, `sys.modules`; or read the hidden tests and the gradebook
from disk. `scan` reads every code cell the student wrote or changed (cells nbgrader restores
from the gradebook are skipped) and reports each such line. Cells are read as IPython runs them
(`python_of`): a shell line or magic cannot hide the rest of its cell, code handed to a magic that
runs it in the kernel is read too, and a cell that does not parse is listed for a person too
(`unparsable`). The grader flags a submission with findings for review; its scores stand.
"""

import ast
import re

from IPython.core.inputtransformer2 import TransformerManager

from nnlib.course import cells

# Names whose attributes (or themselves) student code must not overwrite.
PROTECTED_ROOTS = {"check", "checks", "nnlib", "builtins", "__builtins__"}
PROTECTED_PATHS = ("np.", "numpy.", "torch.allclose", "torch.isclose", "torch.equal", "torch.testing",
                   "sys.modules", "get_ipython", "IPython")
ALLOWED_WRITES = ("torch.backends.",)
SEALED_MODULES = ("nnlib.checks", "nnlib.reference", "nnlib.answers", "nnlib.course", "sqlite3")
SUSPECT_ATTRS = {"__code__", "showtraceback", "_showtraceback", "showsyntaxerror", "setprofile", "settrace",
                 "set_custom_exc", "__globals__",
                 # hooks that change how later cells are read, so the scan would no longer read them as run
                 "input_transformers_cleanup", "input_transformers_post", "input_transformer_manager",
                 "ast_transformers", "register_magic_function", "register_magics"}
SUSPECT_TEXT = re.compile(r"gradebook|\.db\b|BEGIN HIDDEN|\.ipynb", re.IGNORECASE)
# Magics that run the code they are given in the kernel itself (their code is scanned like a cell's).
KERNEL_MAGICS = {"time", "timeit", "prun", "capture", "debug"}
_MAGIC_CALLS = {"get_ipython.run_cell_magic", "get_ipython.run_line_magic"}
_TRANSFORMER = TransformerManager()


def _path(node):
    """Dotted path of a Name/Attribute/Subscript/Call chain: `a.b[0].c` -> 'a.b.c'."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            return ".".join(reversed(parts))
        else:
            return ".".join(reversed(parts))


def _protected(path):
    if not path or path.startswith(ALLOWED_WRITES):
        return False
    return path.split(".")[0] in PROTECTED_ROOTS or path.startswith(PROTECTED_PATHS)


def _targets(node):
    if isinstance(node, (ast.Assign, ast.Delete)):
        return node.targets
    if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
        return [node.target]
    return []


def _findings(tree):
    for node in ast.walk(tree):
        for target in _targets(node):
            for t in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]):
                path = _path(t)
                if isinstance(t, ast.Name) and t.id in PROTECTED_ROOTS:
                    yield node.lineno, f"rebinds `{t.id}`"
                elif not isinstance(t, ast.Name) and _protected(path):
                    yield node.lineno, f"overwrites `{path}`"
        if isinstance(node, ast.Call):
            name = _path(node.func)
            if name in ("setattr", "delattr", "vars") and node.args and _protected(_path(node.args[0])):
                yield node.lineno, f"{name}() on `{_path(node.args[0])}`"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.startswith(SEALED_MODULES) or name == "nnlib.checks":
                    yield node.lineno, f"imports `{name}`"
        if isinstance(node, ast.Attribute) and node.attr in SUSPECT_ATTRS:
            yield node.lineno, f"uses `{_path(node)}`"
        if isinstance(node, ast.Attribute) and _path(node) == "sys.modules":
            yield node.lineno, "uses `sys.modules`"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SUSPECT_TEXT.search(node.value):
            yield node.lineno, f"refers to {node.value[:60]!r}"


def python_of(source):
    """The Python code (str) IPython runs for the cell `source`: magics and shell lines become calls."""
    return _TRANSFORMER.transform_cell(source)


def _blank_lines_dropped(source):
    """How many leading blank lines IPython's transform drops from `source` (to keep line numbers)."""
    lines = source.split("\n")
    return next((i for i, line in enumerate(lines) if line.strip()), len(lines) - 1)


def _after_options(text):
    """The code of a line magic's argument `text` (str), options like `-n 10` dropped; None if unreadable."""
    tokens = text.split(" ")
    for i in range(len(tokens)):
        if i and not (tokens[i - 1].startswith("-") or (i > 1 and tokens[i - 2].startswith("-"))):
            return None   # only options and their values come before the code
        code = " ".join(tokens[i:])
        try:
            ast.parse(code)
            return code
        except (SyntaxError, ValueError):
            continue
    return None


def _magic_code(tree):
    """(line, code) for each piece of code a kernel magic runs (`%time x`, `%%capture` + body)."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _path(node.func) in _MAGIC_CALLS
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)):
            continue
        args = [a.value for a in node.args]
        if not args or args[0] not in KERNEL_MAGICS:
            continue
        if _path(node.func).endswith("run_cell_magic") and len(args) == 3:
            yield node.lineno, args[1], True
            yield node.lineno + 1, args[2], False
        elif len(args) == 2:
            yield node.lineno, args[1], True


def scan_source(source, depth=0):
    """[(line, finding)] for one cell's code, read as IPython runs it.

    Magics and shell lines are turned into the calls IPython makes (so they hide nothing), the code
    given to magics that run it in the kernel (`%%capture`, `%time`...) is scanned too, and a cell
    that still does not parse is left to `unparsable` (it cannot run: an honest syntax error is
    not tampering); magic code inside it that does not parse is a finding.
    """
    shift = _blank_lines_dropped(source)
    try:
        tree = ast.parse(python_of(source))
    except (SyntaxError, ValueError, RecursionError) as exc:
        if depth == 0:
            return []   # IPython cannot run it either: a problem for a person (unparsable), not tampering
        line = (getattr(exc, "lineno", None) or 1) + shift
        return [(line, f"does not parse as Python even as IPython reads it ({getattr(exc, 'msg', exc)}), "
                       "so it could not be checked")]
    found = {(line + shift, what) for line, what in _findings(tree)}
    for line, code, is_argument in _magic_code(tree):
        if depth >= 5:
            found.add((line + shift, "nests magics that run code more than 5 deep"))
            break
        if is_argument:
            code = _after_options(code)
            if code is None:
                found.add((line + shift, "gives a magic that runs code an argument that does not parse"))
                continue
        found |= {(line + shift + inner - 1, what) for inner, what in scan_source(code, depth + 1)}
    return sorted(found)


def _student_cells(nb, release_nb):
    """(where, cell) of the code cells a student wrote or changed; where: 'cell N (grade id)'."""
    given = {c.source for c in release_nb.cells if c.cell_type == "code"}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.source in given or cells.is_locked(cell) or cells.is_test(cell):
            continue
        yield f"cell {i + 1}" + (f" ({cells.grade_id(cell)})" if cells.grade_id(cell) else ""), cell


def scan(nb, release_nb):
    """Findings in the code cells a student wrote or changed: ['cell N (id) line L: what']."""
    return [f"{where} line {line}: {what}" for where, cell in _student_cells(nb, release_nb)
            for line, what in scan_source(cell.source)]


def unparsable(nb, release_nb):
    """Cells a student wrote or changed that do not parse even as IPython reads them, for a person.

    Such a cell stops with a SyntaxError when it runs (its tests fail on their own), and the scan
    cannot read it: ['cell N (id) line L: does not parse ...'].
    """
    report = []
    for where, cell in _student_cells(nb, release_nb):
        try:
            ast.parse(python_of(cell.source))
        except (SyntaxError, ValueError, RecursionError) as exc:
            line = (getattr(exc, "lineno", None) or 1) + _blank_lines_dropped(cell.source)
            report.append(f"{where} line {line}: does not parse as Python ({getattr(exc, 'msg', exc)}); "
                          "it could not run and was not checked for tampering")
    return report
