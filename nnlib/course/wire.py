"""Plain data between a grading kernel and the judge: JSON that cannot run code when read.

The judge (nnlib.course.judge) asks the kernel for values and results of the student's code; the
kernel's agent (nnlib.course.agent) answers in this format. Reading it builds only numbers,
strings, lists, tuples, dicts, numpy arrays, torch tensors, torch modules made of the layers
listed in `LAYERS` and of nnlib's own module classes, and nnlib's own frozen dataclasses (records
such as nnlib.checks.Step); anything else stays in the kernel and travels as a handle (an int) that
the judge can use in a later request. There is no pickle on either side.

    encode(value, handle) -> JSON-able tree     handle(obj) -> int, for what is not data
    decode(tree, resolve, limits) -> value      resolve(int) -> object, for handles

Tree nodes: JSON null/bool/int/str as themselves; everything else a one-key dict:
    {"f": "1.5" | "nan" | ...}              float (as text: JSON has no NaN)
    {"l": [...]}, {"t": [...]}              list, tuple
    {"d": [[key, value], ...]}              dict (any data keys)
    {"a": [dtype, shape, base64]}           numpy array (numeric or bool dtypes only)
    {"T": [dtype, shape, base64, requires_grad, param, leaf, grad]}  torch tensor (param: an
                                            nn.Parameter; leaf: False for a result of recorded
                                            operations; grad: its .grad as a "T" node, or null)
    {"m": [layer, kwargs, training, [[name, tensor], ...], [[name, module], ...]]}  torch module:
                                            a torch.nn layer of LAYERS by its constructor arguments,
                                            or a module class of nnlib ("nnlib.topics.deep_linear:LNNet") by its
                                            plain attributes, children and tensors
    {"R": [record, [[field, value], ...]]}  a frozen dataclass of nnlib ("nnlib.checks:Step") by its fields
    {"h": [id, type name]}                  handle
    {"r": n}                                the n-th array/tensor/module already seen (aliasing kept)
"""

import base64
import dataclasses
import importlib
import math
from dataclasses import dataclass

import numpy as np

# Layers rebuilt from their constructor arguments and state: what the course's networks use.
LAYERS = {
    "Sequential": (), "ModuleList": (), "ModuleDict": (),
    "Linear": ("in_features", "out_features", "bias"),
    "ReLU": (), "Tanh": (), "Sigmoid": (), "Identity": (), "Flatten": ("start_dim", "end_dim"),
    "Softmax": ("dim",), "LogSoftmax": ("dim",), "LeakyReLU": ("negative_slope",),
    "Dropout": ("p",), "BatchNorm1d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "MSELoss": ("reduction",), "CrossEntropyLoss": ("reduction",),
}
DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64"}
TORCH_DTYPES = DTYPES | {"bfloat16"}


class WireError(ValueError):
    """The data does not follow this format, or is beyond the limits."""


@dataclass(frozen=True)
class Limits:
    """How much a reader accepts: total bytes of arrays, nesting depth, items in containers."""

    max_bytes: int = 256 * 2 ** 20
    max_depth: int = 32
    max_items: int = 1_000_000


# ---- encoding (in the kernel, and in the judge for arguments) ------------------------------------

def _is_torch(obj, name):
    torch = _torch_if_loaded()
    return torch is not None and isinstance(obj, getattr(torch, name) if name != "Module" else torch.nn.Module)


def _torch_if_loaded():
    import sys
    return sys.modules.get("torch")


def _b64(buffer):
    return base64.b64encode(buffer).decode("ascii")


class _Encoder:
    def __init__(self, handle):
        self.handle = handle
        self.seen = {}       # id(obj) -> index, for arrays, tensors and modules
        self.keep = []       # keeps encoded objects alive so their ids stay unique

    def _remember(self, obj):
        self.seen[id(obj)] = len(self.seen)
        self.keep.append(obj)

    def __call__(self, obj):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and type(obj) in (int,):
            return obj
        if type(obj) is float:
            return {"f": repr(obj)}
        if id(obj) in self.seen:
            return {"r": self.seen[id(obj)]}
        if isinstance(obj, np.ndarray) and obj.dtype.name in DTYPES:
            self._remember(obj)
            arr = np.ascontiguousarray(obj)
            return {"a": [arr.dtype.str, list(arr.shape), _b64(arr.tobytes())]}
        if isinstance(obj, np.generic) and obj.dtype.name in DTYPES:
            return {"a": [obj.dtype.str, None, _b64(np.asarray(obj).tobytes())]}
        if _is_torch(obj, "Tensor") and str(obj.dtype).replace("torch.", "") in TORCH_DTYPES \
                and obj.layout == _torch_if_loaded().strided and obj.device.type == "cpu":
            self._remember(obj)
            t = obj.detach().contiguous()
            name = str(t.dtype).replace("torch.", "")
            data = t.view(_torch_if_loaded().int16) if name == "bfloat16" else t
            grad = obj.grad if obj.is_leaf else None
            return {"T": [name, list(t.shape), _b64(data.numpy().tobytes()), bool(obj.requires_grad),
                          isinstance(obj, _torch_if_loaded().nn.Parameter), bool(obj.is_leaf),
                          None if grad is None else self(grad)]}
        if _is_torch(obj, "Module") and (_is_layer(type(obj)) or _is_course_module(type(obj))):
            self._remember(obj)
            return {"m": self._module(obj)}
        if type(obj) in (list, tuple):
            return {"l" if type(obj) is list else "t": [self(x) for x in obj]}
        if type(obj) is dict:
            return {"d": [[self(k), self(v)] for k, v in obj.items()]}
        if _is_torch(obj, "Size"):
            return {"t": [int(x) for x in obj]}
        if _is_record(type(obj)):
            return {"R": [_path(type(obj)), [[f.name, self(getattr(obj, f.name))] for f in dataclasses.fields(obj)]]}
        return {"h": [self.handle(obj), type(obj).__name__]}

    def _module(self, module):
        cls = type(module)
        if _is_layer(cls):
            name = cls.__name__
            kwargs = {arg: (module.bias is not None if arg == "bias" else getattr(module, arg))
                      for arg in LAYERS[name]}
        else:
            name = _path(cls)
            kwargs = {k: v for k, v in vars(module).items()
                      if not k.startswith("_") and k != "training" and _plain(v)}
        own = [[n, self(t)] for n, t in list(module.named_parameters(recurse=False))
               + list(module.named_buffers(recurse=False)) if t is not None]
        children = [[n, self(m)] for n, m in module.named_children()]
        return [name, self(kwargs), bool(module.training), own, children]


def _is_layer(cls):
    return cls.__name__ in LAYERS and cls.__module__.startswith("torch.nn")


def _is_course_module(cls):
    """A module class of nnlib's own (e.g. nnlib.topics.deep_linear.LNNet): travels by its structure."""
    return cls.__module__.startswith("nnlib.") and "<" not in cls.__qualname__


def _is_record(cls):
    """A frozen dataclass of nnlib's own (e.g. nnlib.checks.Step): travels by its fields."""
    return (dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
            and _is_course_module(cls) and not cls.__module__.startswith("nnlib.course"))


def _path(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def lookup(path, prefixes=("nnlib.",)):
    """The object at "module:name" (name may be dotted) of a module whose name starts with one of
    `prefixes`; WireError for any other path, or one that names nothing."""
    module_name, _, qualname = path.partition(":") if isinstance(path, str) else ("", "", "")
    if not module_name.startswith(prefixes):
        raise WireError(f"{path!r} is not one of the objects the judge may name")
    try:
        obj = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise WireError(f"no object {path!r}") from None
    return obj


def _nnlib_class(path):
    """The class at "nnlib.module:Name" outside nnlib.course (whose classes never travel)."""
    if not isinstance(path, str) or path.startswith("nnlib.course"):
        raise WireError(f"{path!r} is not a class of nnlib")
    try:
        cls = lookup(path)
    except WireError as exc:
        raise WireError(f"{path!r} is not a class of nnlib ({exc})") from None
    if not isinstance(cls, type):
        raise WireError(f"{path!r} is not a class")
    return cls


def _plain(value):
    if value is None or type(value) in (bool, int, float, str):
        return True
    return type(value) in (list, tuple) and all(_plain(v) for v in value)


def encode(obj, handle):
    """`obj` as a JSON-able tree; `handle(x) -> int` is asked for what is not data."""
    return _Encoder(handle)(obj)


# ---- decoding -------------------------------------------------------------------------------------

class _Decoder:
    def __init__(self, resolve, limits):
        self.resolve = resolve
        self.limits = limits
        self.seen = []
        self.bytes = 0
        self.items = 0

    def _count(self, n=1):
        self.items += n
        if self.items > self.limits.max_items:
            raise WireError(f"more than {self.limits.max_items} items")

    def _buffer(self, text, dtype, shape):
        if not isinstance(text, str):
            raise WireError("array data is not text")
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        self.bytes += len(raw)
        if self.bytes > self.limits.max_bytes:
            raise WireError(f"more than {self.limits.max_bytes} bytes of arrays")
        dt = np.dtype(dtype)
        if dt.name not in DTYPES or dt.hasobject:
            raise WireError(f"array type {dtype!r} is not allowed")
        arr = np.frombuffer(raw, dtype=dt)
        if shape is None:
            if arr.size != 1:
                raise WireError("a scalar holds more than one value")
            return arr[0]
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)):
            raise WireError(f"bad array shape {shape!r}")
        if math.prod(shape) != arr.size:
            raise WireError(f"{arr.size} values do not fill shape {tuple(shape)}")
        return arr.reshape(shape).copy()

    def __call__(self, node, depth=0):
        if depth > self.limits.max_depth:
            raise WireError(f"nested deeper than {self.limits.max_depth}")
        self._count()
        if node is None or isinstance(node, (bool, str)) or type(node) is int:
            return node
        if not (isinstance(node, dict) and len(node) == 1):
            raise WireError(f"not a node of this format: {str(node)[:80]}")
        (kind, body), = node.items()
        if kind == "f":
            return float(body)
        if kind in ("l", "t"):
            if not isinstance(body, list):
                raise WireError("a list node without a list")
            items = [self(x, depth + 1) for x in body]
            return items if kind == "l" else tuple(items)
        if kind == "d":
            out = {}
            for pair in body:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise WireError("a dict item is not a pair")
                key = self(pair[0], depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise WireError(f"unhashable dict key of type {type(key).__name__}") from None
                out[key] = self(pair[1], depth + 1)
            return out
        if kind == "r":
            if type(body) is not int or not 0 <= body < len(self.seen):
                raise WireError(f"reference to unknown object {body!r}")
            return self.seen[body]
        if kind == "a":
            dtype, shape, text = body
            arr = self._buffer(text, dtype, shape)
            if shape is not None:
                self.seen.append(arr)
            return arr
        if kind == "T":
            return self._tensor(body, depth)
        if kind == "m":
            slot = len(self.seen)
            self.seen.append(None)
            module = self._module(body, depth)
            self.seen[slot] = module
            return module
        if kind == "R":
            return self._record(body, depth)
        if kind == "h":
            ident, _ = body
            if type(ident) is not int:
                raise WireError("a handle is not an int")
            return self.resolve(ident, body[1])
        raise WireError(f"unknown node kind {kind!r}")

    def _tensor(self, body, depth):
        import torch
        name, shape, text, grad, param, leaf, grad_value = body
        if name not in TORCH_DTYPES:
            raise WireError(f"tensor type {name!r} is not allowed")
        arr = self._buffer(text, "int16" if name == "bfloat16" else name, shape)
        t = torch.from_numpy(arr)
        if name == "bfloat16":
            t = t.view(torch.bfloat16)
        if param:
            t = torch.nn.Parameter(t, requires_grad=bool(grad))
        elif grad and t.is_floating_point():
            t.requires_grad_(True)
            if not leaf:   # a result of autograd-recorded operations: one again here
                t = t * 1
        self.seen.append(t)
        if grad_value is not None:
            value = self(grad_value, depth + 1)
            if not torch.is_tensor(value) or value.shape != t.shape or not t.is_leaf:
                raise WireError("a tensor's .grad does not match it")
            t.grad = value.detach()
        return t

    def _record(self, body, depth):
        path, pairs = body
        cls = _nnlib_class(path)
        if not _is_record(cls):
            raise WireError(f"{path!r} is not a record class of nnlib")
        values = {}
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise WireError(f"a field of {path} is not a (name, value) pair")
            values[pair[0]] = self(pair[1], depth + 1)
        names = [f.name for f in dataclasses.fields(cls)]
        if sorted(values) != sorted(names):
            raise WireError(f"{path} has the fields {names}, got {sorted(values)}")
        return cls(**values)

    def _module(self, body, depth):
        import torch
        name, kwargs, training, own, children = body
        kwargs = self(kwargs, depth + 1)
        if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
            raise WireError(f"bad arguments for {name}")
        module = self._layer(name, kwargs) if name in LAYERS else self._course_module(name, kwargs)
        tensors = [(tensor_name, self(tensor, depth + 1)) for tensor_name, tensor in own]  # encoder's order
        for child_name, child in children:
            value = self(child, depth + 1)
            if not isinstance(value, torch.nn.Module) or not isinstance(child_name, str) or "." in child_name:
                raise WireError(f"child {child_name!r} of {name} is not a module")
            module.add_module(child_name, value)
        for tensor_name, value in tensors:
            if not isinstance(tensor_name, str) or not torch.is_tensor(value):
                raise WireError(f"{name}.{tensor_name} is not a tensor")
            if "." in tensor_name or tensor_name in module._modules:
                raise WireError(f"bad tensor name {tensor_name!r} in {name}")
            if tensor_name in module._buffers or not isinstance(value, torch.nn.Parameter):
                module._parameters.pop(tensor_name, None)
                module.register_buffer(tensor_name, value)
            else:
                module._buffers.pop(tensor_name, None)
                module._parameters[tensor_name] = value
        module.train(bool(training))
        return module


    @staticmethod
    def _layer(name, kwargs):
        import torch
        if set(kwargs) - set(LAYERS[name]):
            raise WireError(f"bad arguments for {name}")
        # made with the torch RNG forked, so reading a module never moves it (its random initial
        # values are replaced by the tensors sent); torch.nn.utils.skip_init would avoid drawing
        # them, but its first use in a process costs 0.25 s, drawing a layer of 10^6 weights 5 ms
        with torch.random.fork_rng(devices=[]):
            return getattr(torch.nn, name)(**kwargs)

    @staticmethod
    def _course_module(path, attributes):
        """An nnlib module class rebuilt without its __init__: attributes, then children and tensors."""
        import torch
        cls = _nnlib_class(path)
        if not issubclass(cls, torch.nn.Module):
            raise WireError(f"{path!r} is not a torch module class")
        module = cls.__new__(cls)
        torch.nn.Module.__init__(module)
        for key, value in attributes.items():
            if key.startswith("_") or not _plain(value):
                raise WireError(f"bad attribute {key!r} of {path}")
            object.__setattr__(module, key, value)
        return module


def decode(tree, resolve, limits=Limits()):
    """The value a tree stands for; `resolve(id, type name)` gives the object of a handle."""
    try:
        return _Decoder(resolve, limits)(tree)
    except WireError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RuntimeError) as exc:
        raise WireError(f"malformed data: {type(exc).__name__}: {exc}") from None
