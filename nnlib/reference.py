"""Registry of reference implementations of graded exercises.

A function decorated with `@reference` is the course's own answer to an exercise; they all live
in the answer key, `nnlib.answers`. Self-checks run a student's answer under
`nnlib.checks.forbid_reference`, which fails it if any registered code object runs: a student's
answer must be their own work. While grading, the key is not there at all.
"""

# What a grading kernel is told when an answer imports the answer key (nnlib.answers).
SEALED_MESSAGE = ("nnlib.answers, the course's answer key, is not available while grading: "
                  "an answer must compute its result itself, not call the course's")
# Set in a kernel's environment, it seals nnlib.answers outside the sandbox too (catalogue runs).
SEALED_ENV = "NNLIB_ANSWERS_SEALED"

_CODES = {}


def reference(fn):
    """Mark `fn` as a reference answer (returns `fn` unchanged)."""
    _CODES[fn.__code__] = f"{fn.__module__}.{fn.__qualname__}"
    return fn


def registered():
    """Mapping code object -> dotted name of every reference answer (of the whole answer key,
    loaded here if it can be; empty where it is sealed)."""
    try:
        import nnlib.answers  # noqa: F401 (registers every answer)
    except ImportError:
        pass  # sealed: no answer can run here, so none needs refusing
    return dict(_CODES)
