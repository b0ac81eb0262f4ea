"""Answers students write for assignment 5 (neural networks).

Wrong answers must lose points, right answers in other forms must keep them all;
tests/test_catalogue.py proves both, nnlib.course.catalogue explains the format.
"""

from nnlib.course.catalogue import Right, Wrong

NOTEBOOK = "neural_networks.ipynb"

TESTS = {
    "count_parameters": ["test_count_parameters"],
    "sigmoid": ["test_sigmoid"],
    "sigmoid_derivative": ["test_sigmoid_derivative"],
    "tanh": ["test_tanh"],
    "tanh_derivative": ["test_tanh_derivative"],
    "relu": ["test_relu"],
    "relu_derivative": ["test_relu_derivative"],
    "glorot_normal": ["test_glorot_normal"],
    "glorot_uniform": ["test_glorot_uniform"],
    "he_normal": ["test_he_normal"],
    "adam_update": ["test_adam"],
    "fit_early_stopping": ["test_early_stopping"],
}


def _linear_loop(body):
    """An initializer's body: `body` runs for every nn.Linear `layer`, with fan_in, fan_out set."""
    lines = ["with torch.no_grad():", "    for layer in model.modules():",
             "        if isinstance(layer, nn.Linear):", "            fan_out, fan_in = layer.weight.shape"]
    return "\n".join(lines + ["            " + line for line in body.strip("\n").split("\n")])


def _adam(update, zero=True, moments=None):
    head = "for p in params:\n    if p.grad is not None:\n        p.grad.zero_()\n" if zero else ""
    moments = moments or ("m.mul_(beta1).add_((1 - beta1) * p.grad)\n"
                          "v.mul_(beta2).add_((1 - beta2) * p.grad ** 2)\n")
    body = moments + update
    return (head + "loss.backward()\nwith torch.no_grad():\n    for p, m, v in zip(params, grad_m, grad_v):\n"
            + "\n".join("        " + line for line in body.strip("\n").split("\n")))


_CORRECTED = "m_hat = m / (1 - beta1 ** step)\nv_hat = v / (1 - beta2 ** step)\n"


def _stopping(improves="val_loss < best_loss", save="best_state = copy.deepcopy(model.state_dict())",
              stop="epochs_without_improvement >= patience", restore="model.load_state_dict(best_state)",
              reset="epochs_without_improvement = 0", watched="val_loss"):
    return f"""best_loss = float("inf")
best_state = None
epochs_without_improvement = 0
for epoch in range(max_epochs):
    train_loss = train_epoch(model)
    history["train_loss"].append(train_loss)
    val_loss = validation_loss(model)
    history["val_loss"].append(val_loss)
    if {improves.replace("val_loss", watched, 1)}:
        best_loss = {watched}
        {save}
        history["best_epoch"] = epoch
        {reset}
    else:
        epochs_without_improvement += 1
        if {stop}:
            break
{restore}"""


ANSWERS = [
    # ---- count_parameters
    Wrong("count_parameters", "biases counted for the input layer too",
          "n_weights = sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))\nn_biases = sum(layer_sizes)"),
    Wrong("count_parameters", "product of all layer sizes",
          "n_weights = int(np.prod(layer_sizes))\nn_biases = sum(layer_sizes[1:])"),
    Wrong("count_parameters", "output layer's biases forgotten",
          "n_weights = sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))\nn_biases = sum(layer_sizes[1:-1])"),
    Wrong("count_parameters", "bias links counted as weights too",
          "n_weights = sum((a + 1) * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))\nn_biases = sum(layer_sizes[1:])"),
    Wrong("count_parameters", "nodes counted instead of links",
          "n_weights = sum(layer_sizes)\nn_biases = sum(layer_sizes[1:])"),
    Wrong("count_parameters", "one square matrix per layer",
          "n_weights = sum(a * a for a in layer_sizes[:-1])\nn_biases = sum(layer_sizes[1:])"),
    Right("count_parameters", "a loop over layer pairs",
          "n_weights = n_biases = 0\nfor i in range(1, len(layer_sizes)):\n"
          "    n_weights += layer_sizes[i - 1] * layer_sizes[i]\n    n_biases += layer_sizes[i]"),
    Right("count_parameters", "numpy dot product",
          "sizes = np.array(layer_sizes)\nn_weights = int(sizes[:-1] @ sizes[1:])\nn_biases = int(sizes[1:].sum())"),
    Right("count_parameters", "counted from torch layers",
          "layers = [nn.Linear(a, b) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]\n"
          "n_weights = sum(l.weight.numel() for l in layers)\nn_biases = sum(l.bias.numel() for l in layers)"),
    # ---- sigmoid
    Wrong("sigmoid", "sign of the exponent flipped", "result = 1.0 / (1.0 + np.exp(z))"),
    Wrong("sigmoid", "math.exp is not vectorized", "import math\nresult = 1.0 / (1.0 + math.exp(-z))",
          message="raised TypeError"),
    Wrong("sigmoid", "tanh instead of the logistic function", "result = np.tanh(z)"),
    Wrong("sigmoid", "exp(-z) / (1 + exp(-z)), which is 1 - sigmoid", "result = np.exp(-z) / (1 + np.exp(-z))"),
    Right("sigmoid", "through tanh", "result = 0.5 * (1 + np.tanh(z / 2))"),
    Right("sigmoid", "exp(z) / (1 + exp(z))", "result = np.exp(z) / (1 + np.exp(z))"),
    Right("sigmoid", "scipy's expit", "from scipy.special import expit\nresult = expit(z)"),
    # ---- sigmoid_derivative
    Wrong("sigmoid_derivative", "sigma (1 + sigma)", "s = sigmoid(z)\nresult = s * (1 + s)",
          message="centred differences"),
    Wrong("sigmoid_derivative", "z (1 - z): the input where the activation belongs", "result = z * (1 - z)"),
    Wrong("sigmoid_derivative", "the sigmoid itself", "result = sigmoid(z)"),
    Wrong("sigmoid_derivative", "sign flipped", "s = sigmoid(z)\nresult = s * (s - 1)"),
    Right("sigmoid_derivative", "from the exponential", "result = np.exp(-z) / (1 + np.exp(-z)) ** 2"),
    Right("sigmoid_derivative", "sigma(z) sigma(-z)", "result = sigmoid(z) * sigmoid(-z)"),
    Right("sigmoid_derivative", "s - s**2", "s = sigmoid(z)\nresult = s - s ** 2"),
    # ---- tanh
    Wrong("tanh", "2 / (1 + exp(-z)) - 1: the factor 2 in the exponent dropped", "result = 2 / (1 + np.exp(-z)) - 1",
          message="slope 1"),
    Wrong("tanh", "sinh only", "result = np.sinh(z)"),
    Wrong("tanh", "the logistic function", "result = 1 / (1 + np.exp(-z))"),
    Right("tanh", "from exponentials", "result = (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))"),
    Right("tanh", "the lecture's formula", "result = 2 / (1 + np.exp(-2 * z)) - 1"),
    # ---- tanh_derivative
    Wrong("tanh_derivative", "1 - tanh, not squared", "result = 1 - tanh(z)"),
    Wrong("tanh_derivative", "1 - z**2: the input where the activation belongs", "result = 1 - z ** 2"),
    Wrong("tanh_derivative", "sign flipped", "result = tanh(z) ** 2 - 1"),
    Right("tanh_derivative", "1 / cosh^2", "result = 1 / np.cosh(z) ** 2"),
    Right("tanh_derivative", "factored", "t = tanh(z)\nresult = (1 - t) * (1 + t)"),
    # ---- relu
    Wrong("relu", "np.max reduces instead of comparing", "result = np.max(0, z)"),
    Wrong("relu", "built-in max on an array", "result = max(0, z)", message="raised ValueError"),
    Wrong("relu", "leaky ReLU", "result = np.maximum(0.01 * z, z)"),
    Wrong("relu", "absolute value", "result = np.abs(z)"),
    Right("relu", "mask", "result = z * (z > 0)"),
    Right("relu", "np.where", "result = np.where(z > 0, z, 0.0)"),
    Right("relu", "np.clip", "result = np.clip(z, 0, None)"),
    # ---- relu_derivative
    Wrong("relu_derivative", "relu itself", "result = np.maximum(0, z)"),
    Wrong("relu_derivative", "sign of z", "result = np.sign(z)"),
    Wrong("relu_derivative", "ones everywhere", "result = np.ones_like(z)"),
    Wrong("relu_derivative", "python if on an array", "result = 1.0 if z > 0 else 0.0", message="raised ValueError"),
    Right("relu_derivative", "boolean mask", "result = z > 0"),
    Right("relu_derivative", "heaviside, 1 at the kink", "result = np.heaviside(z, 1.0)"),
    Right("relu_derivative", "astype", "result = (z > 0).astype(float)"),
    # ---- glorot_normal
    Wrong("glorot_normal", "std 1 / (fan_in + fan_out)",
          _linear_loop("layer.weight.normal_(0.0, 1.0 / (fan_in + fan_out))\nlayer.bias.zero_()"),
          message="fan_in + fan_out"),
    Wrong("glorot_normal", "variance used as std (no square root)",
          _linear_loop("layer.weight.normal_(0.0, 2.0 / (fan_in + fan_out))\nlayer.bias.zero_()")),
    Wrong("glorot_normal", "uniform instead of normal",
          _linear_loop("s = np.sqrt(2.0 / (fan_in + fan_out))\nlayer.weight.uniform_(-s, s)\nlayer.bias.zero_()")),
    Wrong("glorot_normal", "new Parameter instead of in place",
          _linear_loop("layer.weight = nn.Parameter(torch.randn(fan_out, fan_in) * np.sqrt(2.0 / (fan_in + fan_out)))\n"
                       "layer.bias.zero_()"), message="IN PLACE"),
    Wrong("glorot_normal", "biases left as they were",
          _linear_loop("layer.weight.normal_(0.0, np.sqrt(2.0 / (fan_in + fan_out)))"), message="biases"),
    Wrong("glorot_normal", "sampled but never written back",
          _linear_loop("w = torch.randn(fan_out, fan_in) * np.sqrt(2.0 / (fan_in + fan_out))\nlayer.bias.zero_()"),
          message="unchanged"),
    Right("glorot_normal", "torch.nn.init", "for layer in model.modules():\n    if isinstance(layer, nn.Linear):\n"
          "        nn.init.xavier_normal_(layer.weight)\n        nn.init.zeros_(layer.bias)"),
    Right("glorot_normal", "copy_ from randn, in/out features",
          "with torch.no_grad():\n    for layer in model.modules():\n        if isinstance(layer, nn.Linear):\n"
          "            std = (2 / (layer.in_features + layer.out_features)) ** 0.5\n"
          "            layer.weight.copy_(torch.randn_like(layer.weight) * std)\n"
          "            layer.bias.copy_(torch.zeros_like(layer.bias))"),
    # ---- glorot_uniform
    Wrong("glorot_uniform", "the normal's std used as the bound",
          _linear_loop("a = np.sqrt(2.0 / (fan_in + fan_out))\nlayer.weight.uniform_(-a, a)\nlayer.bias.zero_()"),
          message="should have std"),
    Wrong("glorot_uniform", "U(0, a) instead of U(-a, a)",
          _linear_loop("a = np.sqrt(6.0 / (fan_in + fan_out))\nlayer.weight.uniform_(0, a)\nlayer.bias.zero_()")),
    Wrong("glorot_uniform", "normal instead of uniform",
          _linear_loop("layer.weight.normal_(0.0, np.sqrt(2.0 / (fan_in + fan_out)))\nlayer.bias.zero_()")),
    Wrong("glorot_uniform", "bound 1 / (fan_in + fan_out)",
          _linear_loop("a = 1.0 / (fan_in + fan_out)\nlayer.weight.uniform_(-a, a)\nlayer.bias.zero_()")),
    Right("glorot_uniform", "torch.nn.init", "for layer in model.modules():\n    if isinstance(layer, nn.Linear):\n"
          "        nn.init.xavier_uniform_(layer.weight)\n        nn.init.zeros_(layer.bias)"),
    Right("glorot_uniform", "scaled rand", _linear_loop(
        "a = (6 / (fan_in + fan_out)) ** 0.5\nlayer.weight.copy_((2 * torch.rand(fan_out, fan_in) - 1) * a)\n"
        "layer.bias.fill_(0.0)")),
    # ---- he_normal
    Wrong("he_normal", "fan_out instead of fan_in",
          _linear_loop("layer.weight.normal_(0.0, np.sqrt(2.0 / fan_out))\nlayer.bias.zero_()"),
          message="twice the std"),
    Wrong("he_normal", "fan_in read from the wrong axis of the weight",
          "with torch.no_grad():\n    for layer in model.modules():\n        if isinstance(layer, nn.Linear):\n"
          "            fan_in = layer.weight.shape[0]\n            layer.weight.normal_(0.0, np.sqrt(2.0 / fan_in))\n"
          "            layer.bias.zero_()"),
    Wrong("he_normal", "variance used as std",
          _linear_loop("layer.weight.normal_(0.0, 2.0 / fan_in)\nlayer.bias.zero_()")),
    Wrong("he_normal", "Glorot's formula", _linear_loop("layer.weight.normal_(0.0, np.sqrt(2.0 / (fan_in + fan_out)))\n"
                                                       "layer.bias.zero_()")),
    Wrong("he_normal", "factor 2 missing (LeCun)", _linear_loop("layer.weight.normal_(0.0, np.sqrt(1.0 / fan_in))\n"
                                                               "layer.bias.zero_()")),
    Right("he_normal", "torch.nn.init.kaiming_normal_", "for layer in model.modules():\n    if isinstance(layer, nn.Linear):\n"
          "        nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')\n        nn.init.zeros_(layer.bias)"),
    Right("he_normal", "in_features", "with torch.no_grad():\n    for layer in model.modules():\n"
          "        if isinstance(layer, nn.Linear):\n            layer.weight.normal_(0, (2 / layer.in_features) ** 0.5)\n"
          "            layer.bias.zero_()"),
    # ---- adam_update
    Wrong("adam_update", "no bias correction", _adam("p -= lr * m / (torch.sqrt(v) + epsilon)"),
          message="moves every weight by almost exactly lr"),
    Wrong("adam_update", "bias correction with beta, not beta ** step",
          _adam("m_hat = m / (1 - beta1)\nv_hat = v / (1 - beta2)\np -= lr * m_hat / (torch.sqrt(v_hat) + epsilon)"),
          message="after step 2"),
    Wrong("adam_update", "gradients never zeroed", _adam(_CORRECTED + "p -= lr * m_hat / (torch.sqrt(v_hat) + epsilon)",
                                                          zero=False)),
    Wrong("adam_update", "second moment of g, not g squared",
          _adam(_CORRECTED + "p -= lr * m_hat / (torch.sqrt(v_hat) + epsilon)",
                moments="m.mul_(beta1).add_((1 - beta1) * p.grad)\nv.mul_(beta2).add_((1 - beta2) * p.grad)\n")),
    Wrong("adam_update", "moments rebound locally, never stored",
          "for p in params:\n    if p.grad is not None:\n        p.grad.zero_()\nloss.backward()\n"
          "with torch.no_grad():\n    for i, p in enumerate(params):\n"
          "        m = beta1 * grad_m[i] + (1 - beta1) * p.grad\n        v = beta2 * grad_v[i] + (1 - beta2) * p.grad ** 2\n"
          "        m_hat = m / (1 - beta1 ** step)\n        v_hat = v / (1 - beta2 ** step)\n"
          "        p -= lr * m_hat / (torch.sqrt(v_hat) + epsilon)", message="grad_m (first moment)"),
    Wrong("adam_update", "step counted from 0",
          _adam("m_hat = m / (1 - beta1 ** (step - 1))\nv_hat = v / (1 - beta2 ** (step - 1))\n"
                "p -= lr * m_hat / (torch.sqrt(v_hat) + epsilon)")),
    Wrong("adam_update", "update outside torch.no_grad()",
          "for p in params:\n    if p.grad is not None:\n        p.grad.zero_()\nloss.backward()\n"
          "for p, m, v in zip(params, grad_m, grad_v):\n    m.mul_(beta1).add_((1 - beta1) * p.grad)\n"
          "    v.mul_(beta2).add_((1 - beta2) * p.grad ** 2)\n    m_hat = m / (1 - beta1 ** step)\n"
          "    v_hat = v / (1 - beta2 ** step)\n    p -= lr * m_hat / (torch.sqrt(v_hat) + epsilon)",
          message="raised RuntimeError"),
    Wrong("adam_update", "gradient ascent", _adam(_CORRECTED + "p += lr * m_hat / (torch.sqrt(v_hat) + epsilon)"),
          message="against its gradient"),
    Right("adam_update", "epsilon inside the square root, as on the lecture slide",
          _adam(_CORRECTED + "p -= lr * m_hat / torch.sqrt(v_hat + epsilon)")),
    Right("adam_update", "lerp_ and addcmul_, nnlib.optim.zero_grad",
          "from nnlib import optim\noptim.zero_grad(params)\nloss.backward()\nwith torch.no_grad():\n"
          "    for p, m, v in zip(params, grad_m, grad_v):\n        m.lerp_(p.grad, 1 - beta1)\n"
          "        v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)\n"
          "        p.addcdiv_(m / (1 - beta1 ** step), (v / (1 - beta2 ** step)).sqrt().add_(epsilon), value=-lr)"),
    Right("adam_update", "list entries replaced, grads set to None",
          "for p in params:\n    p.grad = None\nloss.backward()\nwith torch.no_grad():\n"
          "    for i, p in enumerate(params):\n        grad_m[i] = beta1 * grad_m[i] + (1 - beta1) * p.grad\n"
          "        grad_v[i] = beta2 * grad_v[i] + (1 - beta2) * p.grad * p.grad\n"
          "        step_size = lr * np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)\n"
          "        p.sub_(lr * (grad_m[i] / (1 - beta1 ** step)) / ((grad_v[i] / (1 - beta2 ** step)).sqrt() + epsilon))"),
    # ---- fit_early_stopping
    Wrong("fit_early_stopping", "keeps the last weights", _stopping(restore="pass"), message="best epoch"),
    Wrong("fit_early_stopping", "state_dict kept without a copy",
          _stopping(save="best_state = model.state_dict()"), message="COPY"),
    Wrong("fit_early_stopping", "a tie counts as an improvement", _stopping(improves="val_loss <= best_loss")),
    Wrong("fit_early_stopping", "patience counter never reset", _stopping(reset="pass")),
    Wrong("fit_early_stopping", "stops one epoch late", _stopping(stop="epochs_without_improvement > patience")),
    Wrong("fit_early_stopping", "watches the training loss", _stopping(watched="train_loss")),
    Wrong("fit_early_stopping", "compares with the previous epoch, not the best",
          """previous = float("inf")
best_loss = float("inf")
best_state = None
waited = 0
for epoch in range(max_epochs):
    history["train_loss"].append(train_epoch(model))
    val_loss = validation_loss(model)
    history["val_loss"].append(val_loss)
    if val_loss < best_loss:
        best_loss, best_state = val_loss, copy.deepcopy(model.state_dict())
        history["best_epoch"] = epoch
    if val_loss < previous:
        waited = 0
    else:
        waited += 1
        if waited >= patience:
            break
    previous = val_loss
model.load_state_dict(best_state)"""),
    Right("fit_early_stopping", "cloned tensors, stop by epoch arithmetic",
          """best = None
for epoch in range(max_epochs):
    history["train_loss"].append(float(train_epoch(model)))
    history["val_loss"].append(float(validation_loss(model)))
    if best is None or history["val_loss"][-1] < history["val_loss"][history["best_epoch"]]:
        history["best_epoch"] = epoch
        best = {k: v.detach().clone() for k, v in model.state_dict().items()}
    elif epoch - history["best_epoch"] >= patience:
        break
model.load_state_dict(best)"""),
    Right("fit_early_stopping", "a deep copy of the whole model",
          _stopping(save="best_model = copy.deepcopy(model)",
                    restore="model.load_state_dict(best_model.state_dict())")),
    Right("fit_early_stopping", "while loop with a countdown",
          """best_loss, best_state, epoch, left = float("inf"), None, 0, patience
while epoch < max_epochs and left > 0:
    history["train_loss"].append(train_epoch(model))
    history["val_loss"].append(validation_loss(model))
    if history["val_loss"][-1] < best_loss:
        best_loss, left = history["val_loss"][-1], patience
        best_state = copy.deepcopy(model.state_dict())
        history["best_epoch"] = epoch
    else:
        left -= 1
    epoch += 1
model.load_state_dict(best_state)"""),
]
