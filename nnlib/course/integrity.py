"""Find code in a submission that tampers with grading, before trusting its scores.

Student code shares the kernel with the hidden tests, so it could make them pass without a
right answer: rebind or patch the checks (`check`, `nnlib.checks`), the comparisons they use
(`numpy.allclose`, `numpy.testing`, `torch.allclose`), IPython's traceback display, the profiler
that detects calls to the reference, `sys.modules`; or read the hidden tests and the gradebook
from disk. `scan` reads every code cell the student wrote or changed (cells nbgrader restores
from the gradebook are skipped) and reports each such line. The grader turns findings into a
penalty with the reasons, for a person to review.
"""

import ast
import re

# Names whose attributes (or themselves) student code must not overwrite.
PROTECTED_ROOTS = {"check", "checks", "nnlib", "builtins", "__builtins__"}
PROTECTED_PATHS = ("np.", "numpy.", "torch.allclose", "torch.isclose", "torch.equal", "torch.testing",
                   "sys.modules", "get_ipython", "IPython")
ALLOWED_WRITES = ("torch.backends.",)
SEALED_MODULES = ("nnlib.checks", "nnlib.reference", "nnlib.course", "sqlite3")
SUSPECT_ATTRS = {"__code__", "showtraceback", "_showtraceback", "showsyntaxerror", "setprofile", "settrace",
                 "set_custom_exc", "__globals__"}
SUSPECT_TEXT = re.compile(r"gradebook|\.db\b|BEGIN HIDDEN|\.ipynb", re.IGNORECASE)


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
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
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


def scan_source(source):
    """[(line, finding)] for one cell's code (IPython magics and shell lines are ignored)."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []   # it cannot run either; its test cells fail on their own
    return sorted(set(_findings(tree)))


def scan(nb, release_nb):
    """Findings in the code cells a student wrote or changed: ['cell N (id) line L: what']."""
    given = {c.source for c in release_nb.cells if c.cell_type == "code"}
    report = []
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or cell.source in given or meta.get("locked") or \
                (meta.get("grade") and not meta.get("solution")):
            continue
        where = f"cell {i + 1}" + (f" ({meta['grade_id']})" if meta.get("grade_id") else "")
        report += [f"{where} line {line}: {what}" for line, what in scan_source(cell.source)]
    return report
