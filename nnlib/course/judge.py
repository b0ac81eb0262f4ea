"""The judge: decides every graded test cell outside the student's kernel.

A graded test cell of a master notebook is a docstring, a visible self-check and its hidden test:

    '''Is `loss` the mean of squared errors?'''
    check.selfcheck_loss(loss)
    ### BEGIN HIDDEN TESTS
    check.grade_loss(loss)        # or check.grade_x(a, "name"), check.grade_x(globals()), ...
    ### END HIDDEN TESTS

While grading, such a cell is not run in the kernel. The judge, in the grading worker's own
process (outside the sandbox, out of the kernel's reach), evaluates its `check.` calls itself with
the assignment's checks module (`nnlib.checks.<topic>` for assignment `aN_<topic>`), the notebook's
names standing for `Remote` objects. Calling a stand-in sends its arguments to the kernel as data
(nnlib.course.wire: nothing runs on reading), the kernel's agent (nnlib.course.agent) calls the
student's object, and the result comes back as data, with what the call changed in its arguments.
The answer key, the comparison and the verdict are computed here. The cell's outputs become the
verdict (`Verdict.outputs`): what the checks printed and a passing line, one error line saying what
is off, or the partial score, which nbgrader's own rule then scores.

    verdict = decide(client, cell, index, assignment)   client: a started nbclient.NotebookClient,
                                                        cell: the course's test cell at client.nb[index]
"""

import ast
import contextlib
import copy
import importlib
import io
import json
import re
import time
import weakref
from dataclasses import dataclass, field
from queue import Empty

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError

from nnlib import seeding
from nnlib.checks import is_remote  # noqa: F401 (the mark checks read: Remote.__judge_remote__)
from nnlib.course import agent, cells, wire

_CALL_CELL = nbformat.v4.new_code_cell(agent.CALL)   # the cell every request runs, checked once

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SEED = 0             # random states of the kernel and the judge at the start of every test


# ---- what a hidden test asks -----------------------------------------------------------------------

def hidden_region(source):
    """The code between the hidden-test markers, or None when the cell has none."""
    if BEGIN not in source or END not in source:
        return None
    return source.split(BEGIN, 1)[1].split(END, 1)[0]


def parse_test(source):
    """The check calls of a test cell, in order: [ast.Call]; ValueError when the cell holds anything
    else than a docstring and calls `check.<name>(...)` (its self-check, then, between the hidden
    test markers, `check.grade_<name>(...)`) whose arguments are notebook names, constants,
    `globals()`, `globals().get("name")`, other `check.<name>(...)` calls and `*` of those."""
    code = "\n".join(line for line in source.split("\n") if line.strip() not in (BEGIN, END))
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ValueError(f"test cell does not parse: {exc}") from None
    calls = []
    for i, statement in enumerate(tree.body):
        if i == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
                and isinstance(statement.value.value, str):
            continue  # the docstring saying what is checked
        if not (isinstance(statement, ast.Expr) and _is_check_call(statement.value)):
            raise ValueError(f"a test cell may only call check.<name>(...), not {ast.unparse(statement)}")
        _validate(statement.value)
        calls.append(statement.value)
    if not calls or not calls[-1].func.attr.startswith("grade_"):
        raise ValueError("a test cell must end with its hidden test, check.grade_<name>(...)")
    return calls


def _is_check_call(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "check" and not node.keywords)


def _is_globals(node):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "globals" \
        and not node.args and not node.keywords


def _is_globals_get(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and _is_globals(node.func.value) and len(node.args) == 1 and not node.keywords
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))


def _validate(node):
    if isinstance(node, (ast.Name, ast.Constant)) or _is_globals(node) or _is_globals_get(node):
        return
    if isinstance(node, ast.Starred):
        return _validate(node.value)
    if _is_check_call(node):
        for arg in node.args:
            _validate(arg)
        return
    raise ValueError(f"test argument {ast.unparse(node)} is not a name, a constant, globals(), "
                     "globals().get(name) or check.<name>(...)")


def checks_module(assignment):
    """`nnlib.checks.<topic>` for assignment `aN_<topic>`."""
    match = re.fullmatch(r"a\d+_(\w+)", assignment or "")
    if not match:
        raise ValueError(f"no checks module for assignment {assignment!r}")
    return importlib.import_module(f"nnlib.checks.{match.group(1)}")


# ---- talking to the kernel ----------------------------------------------------------------------------

class JudgeFault(Exception):
    """The kernel did not answer the judge as it should (its agent broken, data malformed)."""


class JudgeTimeout(TimeoutError):
    """The student's code ran out of the test's time; `judge_message` says so."""

    def __init__(self, seconds):
        super().__init__(f"did not finish within {seconds:g} s (the time this test gives it)")
        self.judge_message = str(self)


_RAISED_TYPES = {"NotImplementedError": NotImplementedError, "SystemExit": SystemExit,
                 "MemoryError": MemoryError, "NameError": NameError, "AttributeError": AttributeError}


def _raised(type_name, message):
    """An exception of the student's type name (a class made here when it is not a builtin one)."""
    cls = _RAISED_TYPES.get(type_name)
    if cls is None:
        name = type_name if type_name.isidentifier() else "Error"
        cls = type(name, (Exception,), {"__module__": "notebook"})
    return cls(message)


@dataclass(frozen=True)
class _NoAnswer:
    """A request the kernel did not answer; why: what it said instead, if anything."""

    why: str


_AGENT_IN = weakref.WeakSet()   # kernel clients whose kernel has imported the agent
INTERRUPT_GRACE = 5.0           # seconds an interrupted kernel has to answer
LATE_REPLY = 1.0                # seconds an answer may come after the kernel went idle
POLL = 0.05                     # seconds between looks at whether a silent kernel is still alive


class Link:
    """Requests to a kernel's agent through a started nbclient client.

    index: the test cell's index in client.nb (nbclient files what it runs there; put back after);
    timeout: seconds of kernel time the whole test may use (each request gets what is left).

    A test reads the notebook as it was when the test started: the answer to each "get" (a
    variable: data, or the handle of an object that stays in the kernel) and to "names" is asked
    once per Link and read anew from that answer on every later ask, so the self-check and the
    hidden test looking at the same variables cost one request each.
    """

    READ_ONCE = ("get", "names")

    def __init__(self, client, index, timeout, limits=wire.Limits()):
        self.client = client
        self.index = index
        self.budget = float(timeout)
        self.limits = limits
        self.used = 0.0
        self._read = {}          # (op, name) -> the answer's tree, for the ops of READ_ONCE

    def request(self, **req):
        """The decoded answer of one request; raises what the student's code raised."""
        key = (req.get("op"), req.get("name"))
        if key[0] in self.READ_ONCE:
            if key not in self._read:
                self._read[key] = self._ask(req)
            return self._decode(self._read[key])
        return self._decode(self._ask(req))

    def _decode(self, tree):
        try:
            return wire.decode(tree, lambda key, type_name: Remote(self, key, str(type_name)), self.limits)
        except wire.WireError as exc:
            raise JudgeFault(f"the kernel sent data the judge cannot read: {exc}") from None

    def _ask(self, req):
        """The tree of the kernel's answer to one request; raises what the student's code raised.

        The first request to a kernel executes agent.CALL, which imports the agent; the agent then
        takes requests as messages of its own type (agent.MSG_TYPE), a third of the cost.
        """
        left = self.budget - self.used
        if left <= 0:
            raise JudgeTimeout(self.budget)
        kc = self.client.kc
        start = time.monotonic()
        try:
            if kc in _AGENT_IN:
                text = run_sync(self._by_message)(req, left)
            else:
                text = self._by_cell(req, left)
                if isinstance(text, str):
                    _AGENT_IN.add(kc)
        finally:
            self.used += time.monotonic() - start
        return self._answer(text)

    def _by_cell(self, req, left):
        """The answer's JSON text to `req` executed as agent.CALL in the test cell's place."""
        cell = copy.deepcopy(_CALL_CELL)   # not new_code_cell: its schema check each time
        session = self.client.kc.session
        saved, original, metadata = self.client.timeout, self.client.nb.cells[self.index], session.metadata
        self.client.timeout = max(1, int(left + 0.999))
        # The request rides in the execute_request's metadata, not in its code: IPython reads code
        # at about 6 MB/s; the message is read by json (bench_judge.py: 25 MB/s end to end).
        session.metadata = {**metadata, agent.REQUEST: req}
        try:
            self.client.execute_cell(cell, self.index, store_history=False)
        finally:
            session.metadata = metadata
            self.client.nb.cells[self.index] = original
            self.client.timeout = saved
        answers = [o for o in cell.outputs if o.get("output_type") == "display_data" and agent.MIME in o.get("data", {})]
        if not answers:
            errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.get("output_type") == "error"]
            return _NoAnswer(errors[0][:200] if errors else "")
        return answers[-1]["data"][agent.MIME]

    async def _by_message(self, req, left):
        """The answer's JSON text to `req` sent as an agent.MSG_TYPE message.

        After `left` seconds the kernel is interrupted (the agent then answers KeyboardInterrupt);
        if it has not answered INTERRUPT_GRACE seconds later, or LATE_REPLY seconds after it went
        idle (its handler gone), there is no answer. Raises DeadKernelError when the kernel dies meanwhile.
        """
        kc = self.client.kc
        msg = kc.session.msg(agent.MSG_TYPE, {"request": req})
        kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        deadline, interrupted, idle = time.monotonic() + left, False, None
        while True:
            now = time.monotonic()
            if idle is not None and now > idle + LATE_REPLY:
                return _NoAnswer("the kernel went idle without answering")
            if now > deadline:
                if interrupted:
                    return _NoAnswer("")
                await self.client.km.interrupt_kernel()
                interrupted, deadline = True, now + INTERRUPT_GRACE
            try:
                reply = await kc.shell_channel.get_msg(timeout=min(POLL, max(0.0, deadline - now)))
            except Empty:
                if not await kc.is_alive():
                    raise DeadKernelError("Kernel died") from None
                idle = idle or await self._idle_seen(kc, msg_id)
                continue
            if reply["parent_header"].get("msg_id") == msg_id and reply["msg_type"] == agent.REPLY_TYPE:
                return reply["content"].get("answer")

    @staticmethod
    async def _idle_seen(kc, msg_id):
        """Read what IOPub holds now: the time if the kernel went idle after msg_id, else None."""
        while True:
            try:
                msg = await kc.iopub_channel.get_msg(timeout=0)
            except Empty:
                return None
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                    and msg["content"].get("execution_state") == "idle"):
                return time.monotonic()

    def _answer(self, text):
        """The tree of an answer's JSON text; raises what the student's code raised."""
        if isinstance(text, _NoAnswer):
            if self.used >= self.budget:
                raise JudgeTimeout(self.budget)
            raise JudgeFault("the kernel gave the judge no answer" + (f" ({text.why})" if text.why else ""))
        try:
            answer = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise JudgeFault(f"the kernel's answer is not JSON: {exc}") from None
        if not isinstance(answer, dict) or len(answer) != 1:
            raise JudgeFault("the kernel's answer is malformed")
        (kind, body), = answer.items()
        if kind == "raised":
            if not (isinstance(body, list) and len(body) == 2 and all(isinstance(x, str) for x in body)):
                raise JudgeFault("the kernel's answer is malformed")
            if body[0] == "KeyboardInterrupt" and self.used >= self.budget - 0.5:
                raise JudgeTimeout(self.budget)
            raise _raised(*body)
        if kind == "refused":
            raise JudgeFault(f"the kernel refused a request: {str(body)[:200]}")
        if kind != "ok":
            raise JudgeFault("the kernel's answer is malformed")
        return body

    def send(self, value):
        """`value` as a tree for a request: data, or handles of Remote objects."""
        def handle(obj):
            if isinstance(obj, Remote):
                return object.__getattribute__(obj, "_key")
            raise JudgeFault(f"the judge cannot send a {type(obj).__name__} to the kernel")
        return wire.encode(value, handle)


def _write_back(original, new, replaced=frozenset(), path=()):
    """Make `original` (an argument the judge sent) hold what the kernel's copy holds now.

    replaced: paths (tuples of index/key/parameter name, from the top argument list) of objects the
    kernel's call replaced rather than changed: they are replaced here too, so a check that an
    answer works in place sees the same as in the kernel.
    """
    import numpy as np
    import torch

    if isinstance(original, torch.nn.Module) and isinstance(new, torch.nn.Module):
        if type(original) is type(new):
            original.load_state_dict(new.state_dict(), strict=False)
            original.train(new.training)
            for name, param in new.named_parameters():
                if path + (name,) in replaced:
                    owner, _, leaf = name.rpartition(".")
                    setattr(original.get_submodule(owner) if owner else original, leaf, param)
        return
    if torch.is_tensor(original) and torch.is_tensor(new):
        with torch.no_grad():
            if original.shape == new.shape and original.dtype == new.dtype:
                original.copy_(new)
            else:
                original.data = new.data
        if original.is_leaf:
            original.grad = None if new.grad is None else new.grad.clone()
        return
    if isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
        if original.shape == new.shape and original.flags.writeable:
            original[...] = new
        return
    if isinstance(original, list) and isinstance(new, list):
        if len(original) == len(new):
            for i, (a, b) in enumerate(zip(original, new)):
                if _mutable(a) and type(a) is type(b) and path + (i,) not in replaced:
                    _write_back(a, b, replaced, path + (i,))
                else:
                    original[i] = b
        else:
            original[:] = new
        return
    if isinstance(original, dict) and isinstance(new, dict):
        for key in list(original):
            if key not in new:
                del original[key]
        for key, value in new.items():
            old = original.get(key)
            if key in original and _mutable(old) and type(old) is type(value) and path + (key,) not in replaced:
                _write_back(old, value, replaced, path + (key,))
            else:
                original[key] = value


def _mutable(value):
    import numpy as np
    import torch

    return isinstance(value, (list, dict, np.ndarray, torch.Tensor, torch.nn.Module))


class Remote:
    """An object of the notebook, seen from the judge: calls and attributes go to the kernel.

    Calling it sends the arguments as data and returns the result as data (or another Remote for
    what is not data); arguments it changed in place are changed here too.
    """

    __judge_remote__ = True

    def __init__(self, link, key, type_name):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_type", type_name)

    def __repr__(self):
        return f"<{object.__getattribute__(self, '_type')} of the notebook>"

    def __getattr__(self, name):
        link = object.__getattribute__(self, "_link")
        return link.request(op="getattr", h=object.__getattribute__(self, "_key"), name=name)

    def __setattr__(self, name, value):
        link = object.__getattribute__(self, "_link")
        link.request(op="setattr", h=object.__getattribute__(self, "_key"), name=name, value=link.send(value))

    def __call__(self, *args, **kwargs):
        link = object.__getattribute__(self, "_link")
        result, args_after, kwargs_after, replaced = link.request(
            op="call", h=object.__getattribute__(self, "_key"), args=link.send(list(args)),
            kwargs=link.send(dict(kwargs)), back=True)
        replaced = {tuple(p) for p in replaced}
        for i, (original, new) in enumerate(zip(args, args_after)):
            if _mutable(original):
                _write_back(original, new, replaced, (0, i))
        for name, original in kwargs.items():
            if _mutable(original) and name in kwargs_after:
                _write_back(original, kwargs_after[name], replaced, (1, name))
        return result

    def __iter__(self):
        link = object.__getattribute__(self, "_link")
        return iter(link.request(op="iter", h=object.__getattribute__(self, "_key")))

    def __len__(self):
        link = object.__getattribute__(self, "_link")
        return link.request(op="len", h=object.__getattribute__(self, "_key"))

    def __getitem__(self, key):
        return self.__getattr__("__getitem__")(key)

    def __bool__(self):
        return True

    def judge_swap_global(self, name, path):
        """Context: in this function's globals, `name` is the kernel's object at `path` inside."""
        return _Swap(object.__getattribute__(self, "_link"), object.__getattribute__(self, "_key"), name, path)

    def judge_build(self, path, *args, **kwargs):
        """The fixture `path` ("nnlib.module:name") built in this object's kernel with these arguments."""
        link = object.__getattribute__(self, "_link")
        return link.request(op="new", path=path, args=link.send(list(args)), kwargs=link.send(dict(kwargs)))

    def judge_manual_seed(self, seed):
        """torch.manual_seed(seed) in this object's kernel."""
        link = object.__getattribute__(self, "_link")
        link.request(op="manual_seed", seed=int(seed))

    def judge_isinstance(self, path):
        """isinstance in the kernel; path: "module:name" of one of nnlib's or torch's classes."""
        link = object.__getattribute__(self, "_link")
        return link.request(op="isinstance", h=object.__getattribute__(self, "_key"), path=path)


class _Swap(contextlib.AbstractContextManager):
    def __init__(self, link, key, name, path):
        self.link, self.key, self.name, self.path = link, key, name, path

    def __enter__(self):
        self.token = self.link.request(op="swap", h=self.key, name=self.name, path=self.path)
        return self

    def __exit__(self, *exc):
        self.link.request(op="unswap", token=self.token)


class RemoteNamespace:
    """The notebook's globals() seen from the judge: a read-only mapping of variable names."""

    def __init__(self, link):
        self._link = link
        self._names = None

    def _all(self):
        if self._names is None:
            self._names = set(self._link.request(op="names"))
        return self._names

    def __contains__(self, name):
        return name in self._all()

    def __getitem__(self, name):
        if name not in self._all():
            raise KeyError(name)
        return self._link.request(op="get", name=name)

    def get(self, name, default=None):
        return self[name] if name in self else default

    def keys(self):
        return set(self._all())

    def __iter__(self):
        return iter(sorted(self._all()))


# ---- verdicts ---------------------------------------------------------------------------------------------

@dataclass
class Verdict:
    """What the judge decided for one test cell.

    passed: no check failed; score: the partial score the grade function returned (None: all or
    nothing); message: the failure, for the student; printed: what the grade function printed.
    """

    passed: bool
    score: float = None
    message: str = ""
    printed: str = ""
    kind: str = "CheckFailed"
    notes: list = field(default_factory=list)
    kernel_seconds: float = 0.0   # of the test's time, how much went to requests to the kernel

    def outputs(self):
        """The cell's outputs, scored by nbgrader's rule (an error: zero; a number: that score)."""
        outs = []
        if self.printed:
            outs.append(nbformat.v4.new_output("stream", name="stdout", text=self.printed))
        if not self.passed:
            outs.append(nbformat.v4.new_output("error", ename=self.kind, evalue=self.message,
                                               traceback=[f"{self.kind}: {self.message}"]))
        elif self.score is not None:
            outs.append(nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(self.score))},
                                               execution_count=None))
        return outs


def is_judged(cell):
    """True for a graded code cell with a hidden test: the judge decides it."""
    return cells.is_test(cell) and hidden_region(cell.source) is not None


def decide(client, cell, index, assignment, timeout=None):
    """Run the checks of `cell` (a graded test cell of the course, at `index` of client.nb: its
    self-check, then its hidden test) against the kernel of `client`; -> Verdict, whose score is
    what the hidden test returned. Raises nbclient's DeadKernelError when the kernel
    dies meanwhile."""
    from nnlib.checks import CheckFailed

    calls = parse_test(cell.source)
    link = Link(client, index, timeout if timeout is not None else client.timeout)
    evaluate = _Evaluation(link, checks_module(assignment))
    printed = io.StringIO()
    try:
        link.request(op="enter", seed=SEED)
        with contextlib.redirect_stdout(printed), _judge_rng():
            for call in calls:
                score = evaluate(call)
    except CheckFailed as exc:
        verdict = Verdict(False, message=str(exc), printed=printed.getvalue())
    except JudgeFault as exc:
        verdict = Verdict(False, message=f"this test could not be judged: {exc}", printed=printed.getvalue(),
                          kind="JudgeFault")
    except DeadKernelError:
        raise
    except Exception as exc:  # raised by the student's objects outside a checked call: the test fails
        verdict = Verdict(False, message=getattr(exc, "judge_message", None) or str(exc),
                          printed=printed.getvalue(), kind=type(exc).__name__)
    else:
        verdict = Verdict(True, None if score is None else float(score), printed=printed.getvalue())
    link.budget = link.used + 10  # tidying up is not the student's time
    with contextlib.suppress(JudgeFault, JudgeTimeout):
        link.request(op="leave")
    verdict.kernel_seconds = link.used
    return verdict


class _Evaluation:
    """evaluate(node): the value of a test cell's expression (see parse_test), computed in the
    judge; the notebook's names are asked of the kernel through `link`, once each."""

    def __init__(self, link, module):
        self.link, self.module = link, module
        self.values = {}
        self.namespace = RemoteNamespace(link)

    def __call__(self, node):
        from nnlib.checks import CheckFailed

        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in self.values:
                self.values[node.id] = _notebook_value(self.link, node.id)
            value = self.values[node.id]
            if isinstance(value, _Missing):
                raise CheckFailed(value.message)
            return value
        if _is_globals(node):
            return self.namespace
        if _is_globals_get(node):
            return self.namespace.get(node.args[0].value)
        function = getattr(self.module, node.func.attr, None)
        if function is None:
            raise ValueError(f"{self.module.__name__} has no {node.func.attr}")
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.extend(self(arg.value))
            else:
                args.append(self(arg))
        return function(*args)


@dataclass(frozen=True)
class _Missing:
    message: str


def _notebook_value(link, name):
    """The notebook's `name` as data or a Remote; _Missing when the notebook has no such name."""
    try:
        return link.request(op="get", name=name)
    except NameError:
        return _Missing(f"`{name}` is not defined: run (or write) the cell that defines it before this test.")


def _judge_rng():
    """Each test starts from the same random state of this process, and leaves it as it was."""
    return seeding.kept(SEED)
