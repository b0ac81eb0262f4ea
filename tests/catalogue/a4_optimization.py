"""Answers students write for assignment 4 (optimization techniques).

Wrong answers must lose points, right answers in other forms must keep them all;
tests/test_catalogue.py proves both, nnlib.course.catalogue explains the format.
"""

from nnlib.course.catalogue import Right, Wrong

NOTEBOOK = "optimization.ipynb"

TESTS = {
    "momentum_update": ["test_momentum"],
    "sample_minibatch": ["test_sample_minibatch"],
    "rmsprop_update": ["test_rmsprop"],
    "bonus": ["test_bonus"],
}

_PREP = "zero_grad(params)\nloss.backward()\n"

_BONUS_LOOP_SETTINGS = "MAX_EPOCHS = {epochs}\nLR = {lr}\nBATCH_SIZE = {batch}\n"

ANSWERS = [
    # ---- momentum_update
    Wrong("momentum_update", "velocity rebound to a new tensor (loop variable)",
          _PREP + "for par, vel in zip(params, grad_vel):\n    vel = -lr * par.grad.data + beta * vel\n    par.data += vel",
          message="IN PLACE"),
    Wrong("momentum_update", "velocity replaced in the list instead of updated",
          _PREP + "for i, par in enumerate(params):\n    grad_vel[i] = -lr * par.grad.data + beta * grad_vel[i]\n"
                  "    par.data += grad_vel[i]",
          message="IN PLACE"),
    Wrong("momentum_update", "sign error in the velocity",
          _PREP + "for par, vel in zip(params, grad_vel):\n    vel.data = lr * par.grad.data + beta * vel.data\n"
                  "    par.data += vel.data"),
    Wrong("momentum_update", "sign error in the parameter update",
          _PREP + "for par, vel in zip(params, grad_vel):\n    vel.data = -lr * par.grad.data + beta * vel.data\n"
                  "    par.data -= vel.data"),
    Wrong("momentum_update", "gradients not zeroed",
          "loss.backward()\nfor par, vel in zip(params, grad_vel):\n    vel.data = -lr * par.grad.data + beta * vel.data\n"
          "    par.data += vel.data",
          message="zero the gradients"),
    Wrong("momentum_update", "old velocity not scaled by beta",
          _PREP + "for par, vel in zip(params, grad_vel):\n    vel.data = -lr * par.grad.data + vel.data\n"
                  "    par.data += vel.data"),
    Wrong("momentum_update", "parameter stepped with the old velocity",
          _PREP + "for par, vel in zip(params, grad_vel):\n    par.data += vel.data\n"
                  "    vel.data = -lr * par.grad.data + beta * vel.data"),
    Wrong("momentum_update", "update recorded in autograd",
          _PREP + "for par, vel in zip(params, grad_vel):\n    vel.data = -lr * par.grad.data + beta * vel.data\n"
                  "    par += vel",
          message="raised RuntimeError"),
    Wrong("momentum_update", "calls the answer key",
          "from nnlib.answers import optimization as key\nkey.momentum_update(loss, params, grad_vel, lr=lr, beta=beta)",
          message="answer key"),
    Right("momentum_update", ".data, as in the course",
          _PREP + "for par, vel in zip(params, grad_vel):\n    vel.data = -lr * par.grad.data + beta * vel.data\n"
                  "    par.data += vel.data"),
    Right("momentum_update", "torch.no_grad with copy_, gradients reset to None",
          "for p in params:\n    p.grad = None\nloss.backward()\nwith torch.no_grad():\n"
          "    for par, vel in zip(params, grad_vel):\n        vel.copy_(beta * vel - lr * par.grad)\n        par += vel"),
    Right("momentum_update", "torch.autograd.grad, never touching .grad",
          "grads = torch.autograd.grad(loss, params)\nwith torch.no_grad():\n"
          "    for par, vel, g in zip(params, grad_vel, grads):\n        vel *= beta\n        vel -= lr * g\n"
          "        par.add_(vel)"),
    # ---- sample_minibatch
    Wrong("sample_minibatch", "the first num_points rows",
          "batch_inputs = input_data[:num_points]\nbatch_targets = target_data[:num_points]",
          message="first 100 rows"),
    Wrong("sample_minibatch", "inputs and targets sampled with different indices",
          "batch_inputs = input_data[torch.randint(len(input_data), (num_points,))]\n"
          "batch_targets = target_data[torch.randint(len(target_data), (num_points,))]",
          message="different rows"),
    Wrong("sample_minibatch", "batch size fixed at 100",
          "batch_indices = torch.randint(len(input_data), (100,))\n"
          "batch_inputs, batch_targets = input_data[batch_indices], target_data[batch_indices]",
          message="expected shapes"),
    Wrong("sample_minibatch", "indices drawn below num_points instead of below N",
          "batch_indices = torch.randint(num_points, (num_points,))\n"
          "batch_inputs, batch_targets = input_data[batch_indices], target_data[batch_indices]",
          message="ALL rows"),
    Wrong("sample_minibatch", "last row never drawn (off by one)",
          "batch_indices = torch.randint(0, len(input_data) - 1, (num_points,))\n"
          "batch_inputs, batch_targets = input_data[batch_indices], target_data[batch_indices]",
          message="ALL rows"),
    Wrong("sample_minibatch", "a random window of consecutive rows",
          "start = int(torch.randint(len(input_data) - num_points + 1, (1,)))\n"
          "batch_inputs = input_data[start:start + num_points]\nbatch_targets = target_data[start:start + num_points]"),
    Wrong("sample_minibatch", "the generator re-seeded on every call",
          "torch.manual_seed(0)\nbatch_indices = torch.randint(len(input_data), (num_points,))\n"
          "batch_inputs, batch_targets = input_data[batch_indices], target_data[batch_indices]",
          message="same minibatch"),
    Right("sample_minibatch", "torch.randperm (without replacement)",
          "batch_indices = torch.randperm(len(input_data))[:num_points]\n"
          "batch_inputs = input_data[batch_indices]\nbatch_targets = target_data[batch_indices]"),
    Right("sample_minibatch", "numpy's random choice",
          "batch_indices = np.random.choice(len(input_data), num_points)\n"
          "batch_inputs = input_data[batch_indices]\nbatch_targets = target_data[batch_indices]"),
    Right("sample_minibatch", "Python's random.choices",
          "import random\nbatch_indices = random.choices(range(len(input_data)), k=num_points)\n"
          "batch_inputs, batch_targets = input_data[batch_indices], target_data[batch_indices]"),
    # ---- rmsprop_update
    Wrong("rmsprop_update", "alpha and 1 - alpha swapped",
          _PREP + "for par, gsq in zip(params, grad_sq):\n"
                  "    gsq.data = (1 - alpha) * gsq.data + alpha * par.grad.data ** 2\n"
                  "    par.data -= lr * par.grad.data / (gsq.data + epsilon) ** 0.5"),
    Wrong("rmsprop_update", "gradient not squared",
          _PREP + "for par, gsq in zip(params, grad_sq):\n"
                  "    gsq.data = alpha * gsq.data + (1 - alpha) * par.grad.data\n"
                  "    par.data -= lr * par.grad.data / (gsq.data + epsilon) ** 0.5"),
    Wrong("rmsprop_update", "dividing by v instead of its root",
          _PREP + "for par, gsq in zip(params, grad_sq):\n"
                  "    gsq.data = alpha * gsq.data + (1 - alpha) * par.grad.data ** 2\n"
                  "    par.data -= lr * par.grad.data / (gsq.data + epsilon)"),
    Wrong("rmsprop_update", "sign error",
          _PREP + "for par, gsq in zip(params, grad_sq):\n"
                  "    gsq.data = alpha * gsq.data + (1 - alpha) * par.grad.data ** 2\n"
                  "    par.data += lr * par.grad.data / (gsq.data + epsilon) ** 0.5"),
    Wrong("rmsprop_update", "gradients not zeroed",
          "loss.backward()\nfor par, gsq in zip(params, grad_sq):\n"
          "    gsq.data = alpha * gsq.data + (1 - alpha) * par.grad.data ** 2\n"
          "    par.data -= lr * par.grad.data / (gsq.data + epsilon) ** 0.5",
          message="zero the gradients"),
    Wrong("rmsprop_update", "average rebound to a new tensor",
          _PREP + "for par, gsq in zip(params, grad_sq):\n"
                  "    gsq = alpha * gsq + (1 - alpha) * par.grad.data ** 2\n"
                  "    par.data -= lr * par.grad.data / (gsq + epsilon) ** 0.5",
          message="IN PLACE"),
    Wrong("rmsprop_update", "step divided by the old average",
          _PREP + "for par, gsq in zip(params, grad_sq):\n"
                  "    par.data -= lr * par.grad.data / (gsq.data + epsilon) ** 0.5\n"
                  "    gsq.data = alpha * gsq.data + (1 - alpha) * par.grad.data ** 2"),
    Right("rmsprop_update", "epsilon outside the root, as torch.optim.RMSprop",
          _PREP + "for par, gsq in zip(params, grad_sq):\n"
                  "    gsq.data = alpha * gsq.data + (1 - alpha) * par.grad.data ** 2\n"
                  "    par.data -= lr * par.grad.data / (gsq.data.sqrt() + epsilon)"),
    Right("rmsprop_update", "in-place torch ops under no_grad",
          _PREP + "with torch.no_grad():\n    for par, gsq in zip(params, grad_sq):\n"
                  "        gsq.mul_(alpha).addcmul_(par.grad, par.grad, value=1 - alpha)\n"
                  "        par.addcdiv_(par.grad, (gsq + epsilon).sqrt(), value=-lr)"),
    Right("rmsprop_update", ".data with ** 0.5, epsilon inside",
          _PREP + "for par, gsq in zip(params, grad_sq):\n"
                  "    gsq.data = alpha * gsq.data + (1 - alpha) * par.grad.data ** 2\n"
                  "    par.data -= lr * (par.grad.data / (1e-8 + gsq.data) ** 0.5)"),
    # ---- bonus
    Wrong("bonus", "the course's starting settings (2 epochs, lr 1e-5)",
          _BONUS_LOOP_SETTINGS.format(epochs=2, lr=1e-5, batch=64)
          + "my_model = MLP(in_dim=dataset.in_dim, out_dim=10, hidden_dims=[200, 100, 50])\n"
            "optimizer = torch.optim.Adam(my_model.parameters(), lr=LR)"),
    Wrong("bonus", "optimizer over another model's parameters",
          _BONUS_LOOP_SETTINGS.format(epochs=20, lr=1e-3, batch=64)
          + "my_model = MLP(in_dim=dataset.in_dim, out_dim=10, hidden_dims=[200, 100, 50])\n"
            "optimizer = torch.optim.Adam(MLP(in_dim=dataset.in_dim, out_dim=10, hidden_dims=[200, 100, 50]).parameters(), lr=LR)"),
    Wrong("bonus", "SGD with a learning rate that diverges",
          _BONUS_LOOP_SETTINGS.format(epochs=10, lr=5.0, batch=64)
          + "my_model = MLP(in_dim=dataset.in_dim, out_dim=10, hidden_dims=[200, 100, 50])\n"
            "optimizer = torch.optim.SGD(my_model.parameters(), lr=LR, momentum=0.9)"),
    Wrong("bonus", "a model that looks up the notebook's test images",
          _BONUS_LOOP_SETTINGS.format(epochs=1, lr=1e-3, batch=64)
          + "class Lookup(torch.nn.Module):\n"
            "    def __init__(self, X, y):\n"
            "        super().__init__()\n"
            "        self.X, self.y = X, y\n"
            "        self.w = torch.nn.Parameter(torch.zeros(1))\n"
            "    def forward(self, x):\n"
            "        distance, match = torch.cdist(x.reshape(len(x), -1), self.X).min(dim=1)\n"
            "        out = torch.full((len(x), 10), -30.0) + self.w\n"
            "        known = distance < 1e-2  # the same image (up to round-off)\n"
            "        out[known, self.y[match[known]]] = 0.0\n"
            "        return out\n"
            "my_model = Lookup(dataset.X_test, dataset.y_test)\n"
            "optimizer = torch.optim.SGD(my_model.parameters(), lr=LR)"),
    Right("bonus", "SGD with momentum",
          _BONUS_LOOP_SETTINGS.format(epochs=30, lr=0.05, batch=64)
          + "my_model = MLP(in_dim=dataset.in_dim, out_dim=10, hidden_dims=[200, 100, 50])\n"
            "optimizer = torch.optim.SGD(my_model.parameters(), lr=LR, momentum=0.9)"),
    Right("bonus", "RMSprop on one wide hidden layer",
          _BONUS_LOOP_SETTINGS.format(epochs=20, lr=1e-3, batch=32)
          + "my_model = MLP(in_dim=dataset.in_dim, out_dim=10, hidden_dims=[200])\n"
            "optimizer = torch.optim.RMSprop(my_model.parameters(), lr=LR, alpha=0.99)"),
]
