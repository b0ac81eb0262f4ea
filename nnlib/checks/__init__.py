"""What the notebooks' self-checks and hidden tests call.

Each assignment has a module here (`nnlib.checks.hyperparameters`, ...) with two kinds of
function per exercise:

    selfcheck_<name>(answer)   visible to students: properties of a right answer; says what is
                               off without giving the answer away.
    grade_<name>(answer)       run by the hidden tests: compares with the reference on random
                               inputs, and refuses answers that call the reference.

Both raise `CheckFailed` (an AssertionError) whose message says what was checked, what was
expected and what came back, and print one line when the check passes. In a notebook a
CheckFailed shows as that message alone ("CheckFailed: loss: expected ..., got ..."): no
traceback through this package, whose frames tell a student nothing. This module holds the
helpers they share.
"""

import contextlib
import functools
import importlib
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from nnlib import arrays, reference, seeding


class CheckFailed(AssertionError):
    """A check found a wrong answer; the message is meant for the student.

    IPython shows an exception that has `_render_traceback_` by the lines that method returns,
    instead of a traceback (and of the exceptions it was raised while handling). A failing check
    is thus one line in the notebook, in the error output nbgrader keeps, and in what
    `nbgrader validate` prints.
    """

    def _render_traceback_(self):
        return f"{type(self).__name__}: {self}".splitlines()


# Said by verify_untouched (a self-check in the student's kernel).
REPLACED = "was replaced by code in this notebook"
# Functions the checks rely on, as they were when the checks were imported.
_ORIGINALS = {"numpy.allclose": np.allclose, "numpy.isclose": np.isclose,
              "numpy.testing.assert_allclose": np.testing.assert_allclose}


def _resolve(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name, None)


def verify_untouched():
    """CheckFailed if code in the notebook replaced a function the checks rely on."""
    __tracebackhide__ = True
    if "torch" in sys.modules and "torch.allclose" not in _ORIGINALS:
        _ORIGINALS["torch.allclose"] = sys.modules["torch"].allclose
    for dotted, original in _ORIGINALS.items():
        if _resolve(dotted) is not original:
            fail(f"{dotted} {REPLACED}; the self-checks cannot be trusted until the code that "
                 "changes it is removed (the hidden tests are decided elsewhere and do not use it).")


def fail(message):
    """Raise CheckFailed(message)."""
    __tracebackhide__ = True
    raise CheckFailed(message)


def defined(namespace, *names):
    """The values of `names` in a notebook's `namespace` (its globals()), or CheckFailed naming the missing.

    For answers that are variables rather than functions: while the answer cell still raises
    NotImplementedError the names do not exist, and the test cell would stop on a NameError that
    does not say which cell to finish. One name gives its value, several a tuple.
    """
    __tracebackhide__ = True
    missing = [name for name in names if name not in namespace]
    if missing:
        fail(f"{', '.join(missing)} not defined yet: finish the answer cell above "
             "(replace its raise NotImplementedError line) and run it")
    values = tuple(namespace[name] for name in names)
    return values[0] if len(values) == 1 else values


def neutral(check):
    """Decorator: `check` leaves the notebook's random generators as it found them.

    A self-check runs in the student's kernel, between cells that draw random numbers; while
    grading it does not (the judge runs it in its own process). What it draws, or what the answer
    it calls draws, must therefore not move the notebook's random, numpy or torch generators, or
    the cells after it would compute other numbers for the student than for the grader.
    """
    @functools.wraps(check)
    def run(*args, **kwargs):
        __tracebackhide__ = True
        with seeding.kept(imported_only=True):
            return check(*args, **kwargs)
    return run


def optional(selfcheck):
    """Decorator: `selfcheck` belongs to an optional exercise, so it reports and never fails.

    An optional exercise left out, or not yet right, must not read as a failure, neither in the
    notebook nor in nbgrader's Validate (which fails every test cell with an error). The decorated
    self-check prints what the plain one would raise, marked optional, and returns normally. The
    exercise's hidden test still scores it.
    """
    @functools.wraps(selfcheck)
    def report(*args, **kwargs):
        __tracebackhide__ = True
        try:
            return selfcheck(*args, **kwargs)
        except CheckFailed as failed:
            print(f"OPTIONAL exercise, not counted as a failure: {failed}")
    return report


def passed(message):
    """Print a one-line success message."""
    print(f"PASSED: {message}")


def small_number(value, floor):
    """`value` in scientific notation, or "below <floor>" when it is smaller.

    For errors that a right answer leaves at the level of floating-point round-off (a centred
    difference, two ways of computing the same thing): their digits change with the CPU's
    instruction set and the math libraries' code paths, so they are not printed.
    """
    if not value < floor:  # NaN included
        return f"{value:.2e}"
    mantissa, exponent = f"{floor:e}".split("e")
    return f"below {float(mantissa):g}e{int(exponent)}"


def _fmt(value):
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=5, threshold=8, edgeitems=3):
            return f"array of shape {value.shape}: {value}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def to_array(what, value):
    """`value` as a float numpy array, or CheckFailed naming `what`."""
    __tracebackhide__ = True
    try:
        return arrays.to_numpy(value, float)
    except (TypeError, ValueError):
        fail(f"{what} should be numbers, got {type(value).__name__}: {_fmt(value)}")


def expect_scalar(what, value):
    """`value` as a Python float if it is a single number, else CheckFailed."""
    __tracebackhide__ = True
    arr = to_array(what, value)
    if arr.size != 1:
        fail(f"{what} should be a single number, got {_fmt(arr)}")
    return float(arr.reshape(()))


def expect_close(what, got, expected, rtol=1e-6, atol=1e-9, hint=""):
    """CheckFailed unless `got` matches `expected` in shape and value (numpy allclose rules)."""
    __tracebackhide__ = True
    got_arr = to_array(what, got)
    expected = np.asarray(expected, dtype=float)
    if got_arr.shape != expected.shape:
        fail(f"{what}: expected shape {expected.shape}, got shape {got_arr.shape}. {hint}".strip())
    if not np.allclose(got_arr, expected, rtol=rtol, atol=atol, equal_nan=False):
        fail(f"{what}: expected {_fmt(expected if expected.ndim else float(expected))}, "
             f"got {_fmt(got_arr if got_arr.ndim else float(got_arr))}. {hint}".strip())


@contextlib.contextmanager
def forbid_reference(what):
    """Fail with a clear message if any registered reference answer runs inside the block."""
    __tracebackhide__ = True
    codes = reference.registered()
    called = []

    def profiler(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            called.append(codes[frame.f_code])

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        yield
    finally:
        sys.setprofile(previous)
    if called:
        fail(f"{what} calls the course's answer key ({called[0]}). "
             "Write the computation yourself: the answer key is what it is graded against, not a helper.")


def call(what, fn, *args, **kwargs):
    """Run a student's `fn(*args, **kwargs)` quietly and refusing the reference answers.

    Warnings are silenced (nbgrader would count them against a test cell); an exception from
    the student's code becomes a CheckFailed that names `what` and the exception.
    """
    __tracebackhide__ = True
    remote = is_remote(fn)
    if not remote:  # in the judge, the student's code runs in another process
        verify_untouched()
        if not callable(fn):
            fail(f"{what} should be a function, got {type(fn).__name__}")
    guard = contextlib.nullcontext() if remote else forbid_reference(what)
    with guard, warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs)
        except NotImplementedError:
            fail(f"{what} is not written yet: it still raises NotImplementedError.")
        except CheckFailed:
            raise
        except SystemExit:
            fail(f"{what} called sys.exit(); an answer must return its result instead.")
        except MemoryError:
            fail(f"{what} ran out of memory (MemoryError): it allocates far more than this exercise needs.")
        except Exception as exc:  # the student's error, reported with its type and message
            if getattr(exc, "judge_message", None):  # the judge stopped it (out of time)
                fail(f"{what} {exc.judge_message}")
            fail(f"{what} raised {type(exc).__name__}" + (f": {exc}" if str(exc) else ""))


def is_remote(obj):
    """True for the judge's stand-in of a notebook object (its code runs in the grading kernel)."""
    return getattr(type(obj), "__judge_remote__", False) is True


def _path(obj):
    return f"{obj.__module__}:{obj.__qualname__}"


@contextlib.contextmanager
def swap_global(fn, name, replacement):
    """Inside the block, `name` in the globals of the student's function `fn` is `replacement`.

    For grading one exercise on its own: a method that calls the student's `loss` gets a correct
    one, so a mistake there is not counted twice. replacement: a module-level function of nnlib
    (through the judge it is imported in the kernel). Put back after the block.
    """
    if is_remote(fn):
        with fn.judge_swap_global(name, _path(replacement)):
            yield
        return
    namespace = getattr(fn, "__globals__", {})
    had, old = name in namespace, namespace.get(name)
    namespace[name] = replacement
    try:
        yield
    finally:
        if had:
            namespace[name] = old
        else:
            namespace.pop(name, None)


def seed_torch(answer, seed):
    """torch.manual_seed(seed) where `answer` lives (the grading kernel, for the judge's stand-in)
    and here: for a check that redoes the notebook's own seeded draws with the student's functions."""
    import torch

    torch.manual_seed(seed)
    if is_remote(answer):
        answer.judge_manual_seed(seed)


def beside(answer, factory, *args, **kwargs):
    """`factory(*args, **kwargs)` made where `answer` lives: here, or in the grading kernel when
    `answer` is the judge's stand-in (factory: a module-level class or function of nnlib)."""
    if is_remote(answer):
        return answer.judge_build(_path(factory), *args, **kwargs)
    return factory(*args, **kwargs)


@dataclass(frozen=True)
class Step:
    """What one optimizer step left (a record of `Steps`; it travels from the grading kernel).

    params: [tensor], copies of the parameters after the step (detached)
    state: [[tensor]], per state argument, copies of its items after the step (an item that is no
        tensor is kept as it is)
    leaves: every parameter is still a leaf tensor that requires grad
    kept: the parameter list still holds the tensors it held before the first step
    """

    params: list
    state: list
    leaves: bool
    kept: bool


class Steps:
    """Optimizer steps as the course states them, `update(loss, params, *state, **hyper)`, each
    with the loss computed from the very parameters it is given, several in a row in one call:

        Steps(update, loss, *loss_args)(n_steps, params, *state, **options, **hyper) -> [Step]

    loss: "module:name" of a loss class of nnlib, made with `loss_args` (e.g. a seed), called as
    loss(params) -> scalar tensor. Made beside the student's update (see `steps`), the whole run
    happens where the update lives: through the judge, one request however many steps.
    params: [leaf tensor requiring grad]; state: lists of tensors, e.g. velocities.
    Options: new_lists (default True): each step gets new lists holding the same tensors, so only
    what is changed in place persists; False: the same lists every step. stale_grad: a number
    every parameter's .grad is filled with before each step (as after an earlier backward), or
    None. count_from: pass the step number after the state (count_from, count_from + 1, ...), or
    None. The caller's params and state hold the last step's values afterwards.
    """

    def __init__(self, update, loss, *loss_args):
        module, _, name = loss.partition(":")
        self.update = update
        self.loss = getattr(importlib.import_module(module), name)(*loss_args)

    def __call__(self, n_steps, params, *state, new_lists=True, stale_grad=None, count_from=None, **hyper):
        import torch

        first = list(params)
        record = []
        for k in range(n_steps):
            if stale_grad is not None:
                for p in params:
                    p.grad = torch.full_like(p, stale_grad)
            count = () if count_from is None else (count_from + k,)
            args = (list(params), *map(list, state)) if new_lists else (params, *state)
            self.update(self.loss(params), *args, *count, **hyper)
            record.append(Step(params=[_copy(p) for p in params], state=[[_copy(s) for s in st] for st in state],
                               leaves=all(torch.is_tensor(p) and p.is_leaf and p.requires_grad for p in params),
                               kept=len(params) == len(first) and all(a is b for a, b in zip(params, first))))
        return record


def _copy(value):
    import torch

    return value.detach().clone() if torch.is_tensor(value) else value


def steps(update, loss_class, *loss_args):
    """Steps of the student's `update` and `loss_class(*loss_args)`, made where `update` lives."""
    return beside(update, Steps, update, _path(loss_class), *loss_args)


class Repeat:
    """A function called several times on the same arguments, in one call:

        Repeat(fn)(n, *args, **kwargs) -> [fn(*args, **kwargs), ...] (n results)

    Made beside the student's function (see `repeat`), the calls happen where it lives: through the
    judge, one request for all n (e.g. many draws of a random sampler).
    """

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, n, *args, **kwargs):
        return [self.fn(*args, **kwargs) for _ in range(n)]


def repeat(fn):
    """Repeat of the student's `fn`, made where `fn` lives."""
    return beside(fn, Repeat, fn)


def listed(what, value, n, kind=object):
    """`value` (what a Steps or Repeat run returned) checked to be a list of n `kind`s."""
    __tracebackhide__ = True
    if not (type(value) is list and len(value) == n and all(isinstance(v, kind) for v in value)):
        fail(f"{what}: expected {n} results of {n} calls, got {type(value).__name__}")
    return value


class _AnswerKey:
    """One module of the answer key, imported when first used (never when a notebook imports the
    checks: the grading sandbox has no answer key, and its kernels never run a hidden test)."""

    def __init__(self, topic):
        self._name = f"nnlib.answers.{topic}"

    def __getattr__(self, name):
        return getattr(importlib.import_module(self._name), name)


def answer_key(topic):
    """The answer key of one assignment (`nnlib.answers.<topic>`), loaded on first use."""
    return _AnswerKey(topic)


def rng(seed):
    """A numpy Generator for test inputs, independent of the notebook's global RNG."""
    return np.random.default_rng(seed)
