"""Registry of reference implementations of graded exercises.

A function decorated with `@reference` is the course's own answer to an exercise. Hidden tests
run a submission under `nnlib.checks.forbid_reference`, which fails it if any registered code
object runs: a student's answer must be their own work, not a call to the answer key.
"""

_CODES = {}


def reference(fn):
    """Mark `fn` as a reference answer (returns `fn` unchanged)."""
    _CODES[fn.__code__] = f"{fn.__module__}.{fn.__qualname__}"
    return fn


def registered():
    """Mapping code object -> dotted name of every reference answer."""
    return dict(_CODES)
