"""The judge (nnlib.course.judge) and what crosses between it and a kernel (nnlib.course.wire).

The tamper fixtures graded in the sandbox are in tests/test_hostile.py; every catalogue answer
goes through the judge in tests/test_catalogue.py. Here: the data format on its own, and the judge
against one live kernel (no sandbox) on small notebooks.
"""

import base64
import json
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient

from nnlib.course import agent, cells, judge, wire

ROOT = Path(__file__).resolve().parents[1]


def _round_trip(value, handle=None, resolve=None):
    return wire.decode(json.loads(json.dumps(wire.encode(value, handle))), resolve)


# ---- the data format ------------------------------------------------------------------------------------

def test_data_round_trips_with_its_types():
    """Do numbers, strings, containers, arrays and tensors come back equal and of the same types?"""
    value = {"a": [1, 2.5, float("nan"), None, True, "x"], 3: (np.arange(6).reshape(2, 3), np.float32(1.5)),
             "t": torch.ones(2, 2, dtype=torch.float64)}
    back = _round_trip(value)
    assert back["a"][:2] == [1, 2.5] and np.isnan(back["a"][2]) and back["a"][3:] == [None, True, "x"]
    assert isinstance(back[3], tuple) and back[3][0].dtype == np.int64 and back[3][0].shape == (2, 3)
    assert type(back[3][1]) is np.float32 and torch.equal(back["t"], value["t"])


def test_a_module_travels_with_its_tensors_and_aliases():
    """Does a network come back with the same weights, buffers and mode, and one tensor twice stay one?"""
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh()).eval()
    net[1].running_mean += 2.0
    back = _round_trip([net, net[0].weight])
    assert isinstance(back[0], torch.nn.Sequential) and not back[0].training
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), back[0].state_dict().values()))
    assert back[1] is back[0][0].weight


def test_reading_a_module_leaves_the_random_state_alone():
    """Does decoding a network leave torch's random generator where it was?"""
    tree = json.loads(json.dumps(wire.encode(torch.nn.Sequential(torch.nn.Linear(30, 20), torch.nn.BatchNorm1d(20)),
                                             None)))
    state = torch.random.get_rng_state()
    wire.decode(tree, None)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_an_nnlib_module_travels_by_its_structure():
    """Does one of nnlib's own module classes come back as that class with its weights?"""
    from nnlib.topics import deep_linear
    net = deep_linear.LNNet(3, 4, 5)
    back = _round_trip(net)
    assert type(back) is deep_linear.LNNet
    assert torch.equal(back(torch.ones(1, 3))[0], net(torch.ones(1, 3))[0].detach())


def test_a_record_travels_by_its_fields():
    """Does one of nnlib's frozen dataclasses come back as that class, its tensors as tensors?"""
    from nnlib.checks import Step
    step = Step(params=[torch.ones(2)], state=[[torch.zeros(2)]], leaves=True, kept=False)
    back = _round_trip([step])[0]
    assert type(back) is Step and back.leaves is True and back.kept is False
    assert torch.equal(back.params[0], step.params[0]) and torch.equal(back.state[0][0], step.state[0][0])


@pytest.mark.parametrize("tree, words", [
    ({"a": ["|O8", [1], base64.b64encode(b"\0" * 8).decode()]}, "not allowed"),          # object array
    ({"a": ["<f8", [3], base64.b64encode(b"\0" * 8).decode()]}, "do not fill"),           # short buffer
    ({"P": "cos\nsystem\n(S'echo hi'\ntR."}, "unknown node kind"),                         # a pickle
    ({"m": ["os:system", {"d": []}, False, [], []]}, "not a class of nnlib"),                     # any class
    ({"m": ["nnlib.course.judge:Link", {"d": []}, False, [], []]}, "not a class of nnlib"),
    ({"R": ["os:system", []]}, "not a class of nnlib"),
    ({"R": ["nnlib.models:MLP", []]}, "not a record class of nnlib"),                          # not a dataclass
    ({"R": ["nnlib.checks:Step", [["params", None]]]}, "has the fields"),
    ({"l": [{"l": [{"l": [{"l": []}]}]}]}, "nested deeper"),
])
def test_malformed_data_is_refused(tree, words):
    """Is data that would run code, or does not follow the format, refused with the reason?"""
    with pytest.raises(wire.WireError, match=words):
        wire.decode(tree, None, wire.Limits(max_depth=2))


def test_too_much_data_is_refused():
    """Is an answer larger than the judge's limit refused instead of read?"""
    tree = wire.encode(np.zeros(1000), None)
    with pytest.raises(wire.WireError, match="bytes"):
        wire.decode(tree, None, wire.Limits(max_bytes=100))


# ---- the judge against a kernel -----------------------------------------------------------------------

NOTEBOOK = """
import numpy as np, time, random, torch
def loss(y_prediction, y_true):
    return float(((y_true - y_prediction) ** 2).mean())
def scale_(w, c):
    w *= c
def replace_first(items):
    items[0] = torch.zeros(2)
def forever(x):
    while True:
        time.sleep(0.01)
def draws(n):
    return np.random.rand(n)
class Net:
    def __init__(self, w):
        self.w = w
    def forward(self, x):
        return self.w * x
"""


@pytest.fixture(scope="module")
def kernel():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK), nbformat.v4.new_code_cell("")])
    client = NotebookClient(nb, timeout=20, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True)
    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)
        yield client


def _get(client, name, timeout=20):
    return judge.Link(client, 1, timeout).request(op="get", name=name)


def test_a_function_is_called_on_the_judges_data(kernel):
    """Does a notebook function run in the kernel on what the judge sends, and its result come back?"""
    loss = _get(kernel, "loss")
    assert judge.is_remote(loss)
    assert loss(np.array([1.0, 2.0]), np.array([1.0, 4.0])) == 2.0


def test_changes_in_place_come_back(kernel):
    """Does an answer that changes its argument in place change the judge's argument too?"""
    w = torch.ones(3)
    _get(kernel, "scale_")(w, 2.5)
    assert torch.equal(w, torch.full((3,), 2.5))


def test_a_replaced_list_item_is_replaced(kernel):
    """Is an answer that puts a new tensor in a list seen to replace it, not to change it in place?"""
    first = torch.ones(2)
    items = [first, torch.ones(2)]
    _get(kernel, "replace_first")(items)
    assert items[0] is not first and torch.equal(first, torch.ones(2)) and torch.equal(items[0], torch.zeros(2))


def test_objects_stay_in_the_kernel(kernel):
    """Is an instance of a notebook class a stand-in whose methods run in the kernel?"""
    net = _get(kernel, "Net")(3.0)
    assert judge.is_remote(net) and net.w == 3.0 and net.forward(2.0) == 6.0


def test_an_endless_answer_costs_its_time_only(kernel):
    """Does an answer that never returns end in a JudgeTimeout after the test's time, the kernel still usable?"""
    link = judge.Link(kernel, 1, 3)
    forever = link.request(op="get", name="forever")
    with pytest.raises(judge.JudgeTimeout, match="did not finish within 3 s"):
        forever(1)
    assert _get(kernel, "loss")(np.zeros(2), np.ones(2)) == 1.0


def test_a_missing_name_is_a_name_error(kernel):
    """Is a notebook name that does not exist reported as a NameError (a cell not run)?"""
    with pytest.raises(NameError, match="not_there"):
        _get(kernel, "not_there")


def test_the_judges_draws_do_not_move_the_notebooks_generators(kernel):
    """Does a test that makes the kernel draw random numbers leave its generators as they were?"""
    probe = nbformat.v4.new_code_cell("print(np.random.get_state()[1][:3].tolist(), torch.random.get_rng_state()[:8].tolist())")

    def state():
        cell = nbformat.v4.new_code_cell(probe.source)
        kernel.execute_cell(cell, 1)
        return cell.outputs[0]["text"]

    before = state()
    draws = []
    for _ in range(2):  # two tests, each with its own link (handles live for one test)
        link = judge.Link(kernel, 1, 20)
        link.request(op="enter", seed=0)
        draws.append(link.request(op="get", name="draws")(3))
        link.request(op="leave")
    first, second = draws
    assert state() == before
    assert np.array_equal(first, second)      # each test starts from the same random state


def test_a_forged_answer_is_only_data(kernel):
    """Does a kernel that answers the judge with malformed data make a JudgeFault, not run anything here?"""
    cell = nbformat.v4.new_code_cell(
        "import nnlib.course.agent as agent\n"
        "_real = agent._answer\n"
        "agent._answer = lambda request: {'ok': {'P': 'cos'}}")
    kernel.execute_cell(cell, 1)
    try:
        with pytest.raises(judge.JudgeFault, match="cannot read"):
            _get(kernel, "loss")
    finally:
        kernel.execute_cell(nbformat.v4.new_code_cell("agent._answer = _real"), 1)


def test_requests_after_the_first_run_no_cell(kernel):
    """Once the kernel has the agent, does the judge ask in messages of the agent's own type,
    running no cell, and still get every answer?"""
    _get(kernel, "loss")                                 # the agent is in the kernel
    kernel.execute_cell(nbformat.v4.new_code_cell(
        "_ran = []\nget_ipython().events.register('pre_run_cell', lambda info: _ran.append(info.raw_cell))"), 1)
    try:
        link = judge.Link(kernel, 1, 20)
        net = link.request(op="get", name="Net")(3.0)
        assert net.forward(2.0) == 6.0
        assert link.request(op="get", name="_ran") == []
    finally:
        kernel.execute_cell(nbformat.v4.new_code_cell("get_ipython().events.callbacks['pre_run_cell'].pop()"), 1)


def test_a_kernel_without_the_agents_handler_gives_no_answer(kernel):
    """Does a kernel whose handler of the judge's messages is gone make a JudgeFault in about a
    second, not a wait for the test's whole time, and answer again once it is back?"""
    _get(kernel, "loss")
    kernel.execute_cell(nbformat.v4.new_code_cell(
        "import nnlib.course.agent as agent\n"
        "_handler = get_ipython().kernel.shell_handlers.pop(agent.MSG_TYPE)"), 1)
    try:
        start = time.monotonic()
        with pytest.raises(judge.JudgeFault, match="went idle without answering"):
            _get(kernel, "loss", timeout=60)
        assert time.monotonic() - start < 10
    finally:
        kernel.execute_cell(nbformat.v4.new_code_cell(
            "get_ipython().kernel.shell_handlers[agent.MSG_TYPE] = _handler"), 1)
    assert _get(kernel, "loss")(np.zeros(2), np.ones(2)) == 1.0


def test_a_request_travels_beside_the_code(kernel):
    """Does a large argument reach the kernel in a message's data, no code run but the agent's call?"""
    kernel.execute_cell(nbformat.v4.new_code_cell(
        "_ran = []\nget_ipython().events.register('pre_run_cell', lambda info: _ran.append(info.raw_cell))"), 1)
    try:
        w = torch.arange(3_000_000, dtype=torch.float64)        # 24 MB
        _get(kernel, "scale_")(w, 2.0)
        assert torch.equal(w, 2.0 * torch.arange(3_000_000, dtype=torch.float64))
        ran = _get(kernel, "_ran")
        assert set(ran) <= {agent.CALL}
    finally:
        kernel.execute_cell(nbformat.v4.new_code_cell("get_ipython().events.callbacks['pre_run_cell'].pop()"), 1)


def test_a_test_reads_each_variable_once(kernel, monkeypatch):
    """Does one test ask the kernel for a variable once, every later read getting a fresh copy of that answer?"""
    kernel.execute_cell(nbformat.v4.new_code_cell("_w = np.ones(3)"), 1)
    link = judge.Link(kernel, 1, 20)
    asked = []
    real = judge.Link._ask
    monkeypatch.setattr(judge.Link, "_ask", lambda self, req: asked.append(req["op"]) or real(self, req))
    first = link.request(op="get", name="_w")
    first *= 0                                            # a check changing its copy changes nothing else
    again = link.request(op="get", name="_w")
    loss = link.request(op="get", name="loss")
    assert np.array_equal(again, np.ones(3)) and loss(np.zeros(2), np.ones(2)) == 1.0
    assert link.request(op="get", name="loss")(np.zeros(2), np.full(2, 2.0)) == 4.0
    assert asked == ["get", "get", "call", "call"]


def test_code_without_a_request_is_refused(kernel):
    """Does the agent's call run without a judge's request refuse, rather than act?"""
    cell = nbformat.v4.new_code_cell(agent.CALL)
    kernel.execute_cell(cell, 1)
    (answer,) = [o for o in cell.outputs if agent.MIME in o.get("data", {})]
    assert "no judge request" in json.loads(answer["data"][agent.MIME])["refused"]


# ---- the course's test cells -----------------------------------------------------------------------------

def _test_cells():
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cells.is_test(cell):
                yield path.parent.name, cell


@pytest.mark.parametrize("assignment, cell", list(_test_cells()),
                         ids=[c.metadata.nbgrader.grade_id for _, c in _test_cells()])
def test_every_test_cell_is_judged(assignment, cell):
    """Does every graded code cell of the master notebooks have a hidden test the judge can run, with
    every check function it names in its assignment's checks module?"""
    assert judge.is_judged(cell), "a graded test cell without a hidden test would be run in the kernel"
    module = judge.checks_module(assignment)
    calls = judge.parse_test(cell.source)
    names = set()
    for call in calls:
        names |= {n.func.attr for n in __import__("ast").walk(call) if judge._is_check_call(n)}
    assert all(callable(getattr(module, name, None)) for name in names), names


@pytest.mark.parametrize("sealed", [True, False])
def test_a_submissions_kernel_finds_the_answer_key_sealed(sealed):
    """Does GuardedExecute start kernels that cannot import the answer key when it grades students'
    submissions (seal_answer_key, set by the worker, with or without the sandbox), and that can when
    it builds the worked solutions?"""
    from nnlib.course.preprocessors import GuardedExecute
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "try:\n    import nnlib.answers\n    print('imported')\nexcept ImportError as exc:\n    print(exc)")])
    executor = GuardedExecute(seal_answer_key=sealed, timeout=60, kernel_name="python3")
    executor.preprocess(nb, {"metadata": {"path": str(ROOT)}})
    text = nb.cells[0].outputs[0]["text"]
    assert ("not available while grading" in text) if sealed else text == "imported\n"


# ---- checks that run several calls in the kernel ---------------------------------------------------------

MOMENTUM = '''
import torch
import nnlib.checks
from nnlib.checks import optimization as check
def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for par, vel, g in zip(params, grad_vel, grads):
            vel *= beta
            vel -= lr * g
            par.add_(vel)
'''
# The course's step runner replaced in the kernel by one that reports steps never taken.
FORGED_STEPS = '''
def forged(self, n_steps, params, *state, **options):
    return [nnlib.checks.Step(params=[p.detach().clone() for p in params], state=[list(s) for s in state],
                              leaves=True, kept=True)] * n_steps
nnlib.checks.Steps.__call__ = forged
'''


def test_a_forged_run_of_steps_is_only_data():
    """Does a notebook that replaces the kernel-side step runner (nnlib.checks.Steps) get what its forged
    records say: the judge compares every step with its own reference, so the same right answer that
    passes honestly fails once it forges (its own result, nothing else)?"""
    test = nbformat.v4.new_code_cell(
        '"""Is `momentum_update` right?"""\ncheck.selfcheck_momentum(momentum_update)\n'
        f'{judge.BEGIN}\ncheck.grade_momentum(momentum_update)\n{judge.END}',
        metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "test_momentum", "points": 3}})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(MOMENTUM), test,
                                         nbformat.v4.new_code_cell(FORGED_STEPS)])
    client = NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True)
    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)
        honest = judge.decide(client, test, 1, "a4_optimization")
        client.execute_cell(nb.cells[2], 2)
        forged = judge.decide(client, test, 1, "a4_optimization")
    assert honest.passed, honest.message
    assert not forged.passed and "still zero" in forged.message
