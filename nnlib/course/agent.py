"""The kernel's side of the judge: runs one request of nnlib.course.judge and answers in data.

The judge executes `CALL` in the grading kernel with the request in the execute_request message's
metadata (key `REQUEST`); `serve` reads it there, evaluates it on the notebook's objects and
publishes the answer as one display output of type `MIME` holding JSON in nnlib.course.wire's
format. Objects
that are not data stay here, in `_HANDLES`, and the judge names them by number.

Importing this module in a kernel also gives the kernel a message type of its own, `MSG_TYPE`:
the same request in the message's content, the answer in a `REPLY_TYPE` message on the shell
channel. That is how the judge asks once the agent is there, since an execute_request costs the
kernel about 3 ms (IPython's run_cell, the execute_input and display messages) and the judge asks
hundreds of times per submission.

This code runs among the student's code and can be changed by it: that changes only what the
judge is told about the student's own answers, which is what a student's code decides anyway.
Nothing here is trusted by the judge, and nothing secret is here.

Requests (a JSON object, `op` and its fields; `h`: a handle number; trees in wire format):
    {"op": "get", "name": s}                    a variable of the notebook
    {"op": "names"}                              the notebook's variable names
    {"op": "getattr", "h": h, "name": s}         an attribute
    {"op": "setattr", "h": h, "name": s, "value": tree}
    {"op": "call", "h": h, "args": tree, "kwargs": tree, "back": bool}
                                                 h(*args, **kwargs); with back, the arguments after
                                                 the call too (what it changed in place)
    {"op": "new", "path": "module:name", "args": tree, "kwargs": tree}
                                                 a judge fixture built here (only nnlib's modules)
    {"op": "swap", "h": h, "name": s, "path": "module:name"}
                                                 in function h's globals, `name` becomes that object
                                                 until "unswap"; answers a token
    {"op": "unswap", "token": n}
    {"op": "iter", "h": h} / {"op": "len", "h": h}
    {"op": "isinstance", "h": h, "path": "module:name"}
    {"op": "manual_seed", "seed": n}            torch.manual_seed(n)
    {"op": "enter", "seed": n} / {"op": "leave"}  around one test: the random states of random,
                                                 numpy and torch saved and seeded with n; put back,
                                                 and every handle forgotten
Answers: {"ok": tree}, {"raised": [exception type name, message]} when the student's code raised,
or {"refused": message} for a request this agent cannot carry out.
"""

import json
import sys
import warnings

from nnlib import seeding
from nnlib.course import wire

MIME = "application/x-nnlib-judge"
REQUEST = "nnlib_judge_request"
CALL = "__import__('nnlib.course.agent', fromlist=['serve']).serve()"
MSG_TYPE, REPLY_TYPE = "nnlib_judge_request", "nnlib_judge_reply"   # content: {"request": ...} / {"answer": JSON text}

_HANDLES = {}
_SWAPS = {}
_RNG = []


def _handle(obj):
    key = len(_HANDLES) + 1
    _HANDLES[key] = obj
    return key


def _resolve(key, _type_name=None):
    if key not in _HANDLES:
        raise wire.WireError(f"no object with handle {key}")
    return _HANDLES[key]


def _encode(value):
    return wire.encode(value, _handle)


def _decode(tree):
    return wire.decode(tree, _resolve)


def _namespace():
    from IPython import get_ipython

    return get_ipython().user_ns


def identities(value, path=()):
    """(path, object) of every object inside `value` that a call could change in place or replace:
    list and tuple items (by index), dict values (by key), a module's parameters (by name).
    Paths are tuples of int / str; what the judge needs to tell "changed" from "replaced"."""
    out = [(path, value)]
    if type(value) in (list, tuple):
        for i, item in enumerate(value):
            out += identities(item, path + (i,))
    elif type(value) is dict:
        for key, item in value.items():
            if isinstance(key, (int, str)):
                out += identities(item, path + (key,))
    elif hasattr(value, "named_parameters") and hasattr(value, "state_dict"):
        try:
            out += [(path + (name,), p) for name, p in value.named_parameters()]
        except Exception:  # a student's module whose parameters cannot be listed: nothing to track
            pass
    return out


class _Refused(Exception):
    pass


def _field(request, name):
    if not isinstance(request, dict) or name not in request:
        raise _Refused(f"the request has no {name!r}")
    return request[name]


def _run(request):
    op = _field(request, "op")
    if op == "get":
        ns = _namespace()
        if _field(request, "name") not in ns:
            raise NameError(f"name '{request['name']}' is not defined")
        return _encode(ns[_field(request, "name")])
    if op == "names":
        return _encode(sorted(k for k in _namespace() if isinstance(k, str) and not k.startswith("_")))
    if op == "enter":
        _RNG.append(seeding.states(imported_only=True))
        seeding.seed_all(int(_field(request, "seed")), imported_only=True)
        return None
    if op == "manual_seed":
        import torch

        torch.manual_seed(int(_field(request, "seed")))
        return None
    if op == "leave":
        _HANDLES.clear()
        if _RNG:
            seeding.restore(_RNG.pop())
        return None
    if op == "new":
        factory = wire.lookup(_field(request, "path"))
        return _encode(factory(*_decode(_field(request, "args")), **_decode(_field(request, "kwargs"))))
    if op == "unswap":
        namespace, name, had, old = _SWAPS.pop(_field(request, "token"))
        if had:
            namespace[name] = old
        else:
            namespace.pop(name, None)
        return None
    target = _resolve(_field(request, "h"))
    if op == "getattr":
        return _encode(getattr(target, _field(request, "name")))
    if op == "setattr":
        setattr(target, _field(request, "name"), _decode(_field(request, "value")))
        return None
    if op == "call":
        args, kwargs = _decode(_field(request, "args")), _decode(_field(request, "kwargs"))
        back = bool(request.get("back"))
        before = dict(identities([args, kwargs])) if back else None
        result = target(*args, **kwargs)
        if back:
            replaced = [list(p) for p, obj in identities([args, kwargs]) if before.get(p, obj) is not obj]
            return _encode([result, list(args), kwargs, replaced])
        return _encode(result)
    if op == "iter":
        return _encode(list(target))
    if op == "len":
        return len(target)
    if op == "isinstance":
        return isinstance(target, wire.lookup(_field(request, "path"), ("nnlib.", "torch.")))
    if op == "swap":
        namespace = getattr(target, "__globals__", None)
        if not isinstance(namespace, dict):
            raise _Refused(f"{type(target).__name__} has no globals to change")
        name = _field(request, "name")
        token = len(_SWAPS) + 1
        _SWAPS[token] = (namespace, name, name in namespace, namespace.get(name))
        namespace[name] = wire.lookup(_field(request, "path"))
        return token
    raise _Refused(f"unknown request {op!r}")


def _request():
    """The request of the execute_request being run (its metadata's `REQUEST`)."""
    from IPython import get_ipython

    request = get_ipython().kernel.get_parent().get("metadata", {}).get(REQUEST)
    if not isinstance(request, dict):
        raise _Refused("the execute_request carries no judge request")
    return request


def serve():
    """Carry out the request of the running execute_request and publish the answer."""
    from IPython.display import publish_display_data

    try:
        request = _request()
    except _Refused as exc:
        answer = {"refused": f"{type(exc).__name__}: {exc}"}
    else:
        answer = _answer(request)
    publish_display_data({MIME: json.dumps(answer)})


def _on_request(stream, idents, msg):
    """The kernel's handler of MSG_TYPE: answer the request of `msg` on the shell channel."""
    from IPython import get_ipython

    pyplot = sys.modules.get("matplotlib.pyplot")
    figures = set(pyplot.get_fignums()) if pyplot else set()
    answer = _answer(msg.get("content", {}).get("request"))
    for number in set(pyplot.get_fignums()) - figures if pyplot else ():
        pyplot.close(number)     # what the student's code drew, as an executed request's cell would
    get_ipython().kernel.session.send(stream, REPLY_TYPE, {"answer": json.dumps(answer)}, parent=msg, ident=idents)


def _install():
    """In a kernel (not in the judge's process, which imports this module too): handle MSG_TYPE."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is not None and isinstance(getattr(kernel, "shell_handlers", None), dict):
        kernel.shell_handlers[MSG_TYPE] = _on_request


def _answer(request):
    """{"ok": tree} | {"raised": [type name, message]} | {"refused": message} for one request."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                import numpy as np
                errstate = np.errstate(all="ignore")
            except ImportError:  # numpy is always there in a course kernel
                errstate = warnings.catch_warnings()
            with errstate:
                answer = {"ok": _run(request)}
    except (_Refused, wire.WireError) as exc:
        answer = {"refused": f"{type(exc).__name__}: {exc}"}
    except BaseException as exc:  # the student's code: reported as data, the judge decides
        answer = {"raised": [type(exc).__name__, str(exc)[:2000]]}
    return answer


_install()
