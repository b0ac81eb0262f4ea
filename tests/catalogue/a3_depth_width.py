"""Answers students write for assignment 3 (depth versus width).

Wrong answers must lose points, right answers in other forms must keep them all;
tests/test_catalogue.py proves both, nnlib.course.catalogue explains the format.
"""

from nnlib.course.catalogue import Right, Wrong

NOTEBOOK = "depth_width.ipynb"

TESTS = {
    "get_num_params": ["test_get_num_params"],
    "initialize_layers": ["test_initialize_layers"],
    "make_data": ["test_make_data"],
    "train_model": ["test_train_model"],
    "compute_loss": ["test_compute_loss"],
    "teacher_setup": ["test_teacher_setup"],
    "deep_student": ["test_deep_student"],
    "width_sweep": ["test_width_sweep"],
    "size_prediction": ["test_size_prediction"],
    "quasi_setup": ["test_quasi_setup"],
    "quasi_student": ["test_quasi_student"],
}

_TRAIN = """loss_fn = torch.nn.MSELoss()
optimizer = torch.optim.Adam(net.parameters(), lr=lr)
Es = np.zeros(n_epochs)
for n in (tqdm(range(n_epochs)) if progressbar else range(n_epochs)):
    loss = loss_fn(net(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    Es[n] = loss.item()"""

_SETUP = """torch.manual_seed(-1)
n_in = 5
W_teacher, D_teacher = 5, 5
sigma_teacher = 2
teacher = models.make_MLP(n_in, W_teacher, D_teacher)
initialize_layers(teacher, sigma_teacher)
N_train, N_test = 4000, 1000
X_train, y_train = make_data(teacher, n_in, N_train)
X_test, y_test = make_data(teacher, n_in, N_test)"""

_DEEP = """Es_deep = []
for phase in range(4):
    Es_deep.append(train_model(student, X_train, y_train, n_epochs_deep, lr))
    lr /= 3
Es_deep = np.concatenate(Es_deep)
loss_deep = compute_loss(student, X_test, y_test) / float(y_test.var())"""

_SWEEP = """shallow = models.make_MLP(n_in, W_student, D_student)
Es_shallow_train[index] = train_model(shallow, X_train, y_train, n_epochs, lr, progressbar=False)
Es_shallow_train[index] /= float(y_test.var())
Es_shallow_test[index] = compute_loss(shallow, X_test, y_test) / float(y_test.var())
shallow_students.append(shallow)"""

_QSETUP = """torch.manual_seed(-1)
sigma_teacher_ql = 0.4
teacher_ql = models.make_MLP(n_in, W_teacher, D_teacher)
initialize_layers(teacher_ql, sigma_teacher_ql)
X_train_ql, y_train_ql = make_data(teacher_ql, n_in, N_train)
X_test_ql, y_test_ql = make_data(teacher_ql, n_in, N_test)"""

_QSTUDENT = """student_ql = models.make_MLP(n_in, 10, 2)
initialize_layers(student_ql, sigma_teacher_ql)
Es_ql_train = train_model(student_ql, X_train_ql, y_train_ql, n_epochs_ql, lr) / float(y_test_ql.var())
loss_ql = compute_loss(student_ql, X_test_ql, y_test_ql) / float(y_test_ql.var())"""


def _sub(base, old, new):
    assert old in base, old
    return base.replace(old, new)


ANSWERS = [
    # ---- get_num_params
    Wrong("get_num_params", "(D-1) W^2 hidden parameters", "return n_in * W + (D - 1) * W ** 2 + W",
          message="should be 33"),
    Wrong("get_num_params", "output layer forgotten", "return n_in * W + (D - 2) * W ** 2"),
    Wrong("get_num_params", "biases counted", "return n_in * W + W + (D - 2) * (W ** 2 + W) + W + 1"),
    Wrong("get_num_params", "D hidden W x W layers", "return n_in * W + D * W ** 2 + W"),
    Wrong("get_num_params", "the visible value hard-coded", "return 33", message="expected"),
    Right("get_num_params", "counting the parameters of a built model",
          "return sum(p.numel() for p in models.make_MLP(n_in, W, D).parameters())"),
    Right("get_num_params", "sum over consecutive layer sizes",
          "sizes = [n_in] + [W] * (D - 1) + [1]\nreturn sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))"),
    Right("get_num_params", "factored", "return W * (n_in + 1 + (D - 2) * W)"),
    # ---- initialize_layers
    Wrong("initialize_layers", "fan-out instead of fan-in",
          "for param in net.parameters():\n    torch.nn.init.normal_(param, std=sigma / np.sqrt(param.shape[0]))",
          message="fan-in"),
    Wrong("initialize_layers", "std sigma / n_in",
          "for param in net.parameters():\n    torch.nn.init.normal_(param, std=sigma / param.shape[1])"),
    Wrong("initialize_layers", "sigma taken as a variance",
          "for param in net.parameters():\n    torch.nn.init.normal_(param, std=np.sqrt(sigma / param.shape[1]))"),
    Wrong("initialize_layers", "uniform with the right spread",
          "for param in net.parameters():\n    a = np.sqrt(3) * sigma / np.sqrt(param.shape[1])\n"
          "    torch.nn.init.uniform_(param, -a, a)", message="normally distributed"),
    Wrong("initialize_layers", "the network's input size for every layer",
          "n_in = next(net.parameters()).shape[1]\nfor param in net.parameters():\n"
          "    torch.nn.init.normal_(param, std=sigma / np.sqrt(n_in))"),
    Wrong("initialize_layers", "not in place: the loop variable rebound",
          "for param in net.parameters():\n    param = torch.randn(param.shape) * sigma / np.sqrt(param.shape[1])",
          message="was not changed"),
    Wrong("initialize_layers", "only the first layer",
          "param = next(net.parameters())\ntorch.nn.init.normal_(param, std=sigma / np.sqrt(param.shape[1]))"),
    Right("initialize_layers", "in-place tensor method under no_grad",
          "with torch.no_grad():\n    for p in net.parameters():\n        p.normal_(0.0, sigma / p.shape[1] ** 0.5)"),
    Right("initialize_layers", "numpy draws copied in",
          "with torch.no_grad():\n    for p in net.parameters():\n"
          "        p.copy_(torch.from_numpy(np.random.normal(0, sigma / np.sqrt(p.shape[1]), size=tuple(p.shape))))"),
    Right("initialize_layers", "over the Linear modules, nn.init with in_features",
          "for layer in net:\n    if isinstance(layer, torch.nn.Linear):\n"
          "        torch.nn.init.normal_(layer.weight, 0.0, sigma / np.sqrt(layer.in_features))"),
    Right("initialize_layers", "nn.init as the text names it",
          "for param in net.parameters():\n    nn.init.normal_(param, mean=0.0, std=sigma / np.sqrt(param.shape[1]))"),
    Right("initialize_layers", "copy_ of scaled randn_like",
          "with torch.no_grad():\n    for p in net.parameters():\n"
          "        p.copy_(torch.randn_like(p) * sigma / np.sqrt(p.shape[1]))"),
    # ---- make_data
    Wrong("make_data", "uniform instead of normal inputs", "X = torch.rand(n_examples, n_in)\ny = net(X).detach()",
          message="standard normal"),
    Wrong("make_data", "outputs not detached", "X = torch.randn(n_examples, n_in)\ny = net(X)", message="detach"),
    Wrong("make_data", "inputs transposed", "X = torch.randn(n_in, n_examples)\ny = net(X.T).detach()"),
    Wrong("make_data", "generator re-seeded inside", "torch.manual_seed(0)\nX = torch.randn(n_examples, n_in)\n"
          "y = net(X).detach()", message="same inputs"),
    Wrong("make_data", "inputs scaled by 1/sqrt(n_in)",
          "X = torch.randn(n_examples, n_in) / np.sqrt(n_in)\ny = net(X).detach()"),
    Wrong("make_data", "outputs as a numpy array", "X = torch.randn(n_examples, n_in)\ny = net(X).detach().numpy()",
          message="torch tensor"),
    Right("make_data", "torch.normal and no_grad",
          "X = torch.normal(0.0, 1.0, size=(n_examples, n_in))\nwith torch.no_grad():\n    y = net(X)"),
    Right("make_data", "numpy inputs converted", "X = torch.from_numpy(np.random.randn(n_examples, n_in)).float()\n"
          "y = net(X).detach()"),
    Right("make_data", ".data of the outputs", "X = torch.randn(n_examples, n_in)\ny = net(X).data.clone()"),
    # ---- train_model
    Wrong("train_model", "SGD instead of Adam", _sub(_TRAIN, "torch.optim.Adam", "torch.optim.SGD")),
    Wrong("train_model", "gradients never zeroed", _sub(_TRAIN, "    optimizer.zero_grad()\n", "")),
    Wrong("train_model", "sum-reduced loss", _sub(_TRAIN, "MSELoss()", "MSELoss(reduction='sum')"),
          message="SUM of squared errors"),
    Wrong("train_model", "optimizer made anew every epoch",
          _sub(_sub(_TRAIN, "optimizer = torch.optim.Adam(net.parameters(), lr=lr)\n", ""),
               "    loss = loss_fn", "    optimizer = torch.optim.Adam(net.parameters(), lr=lr)\n    loss = loss_fn")),
    Wrong("train_model", "learning rate ignored", _sub(_TRAIN, "net.parameters(), lr=lr", "net.parameters()")),
    Wrong("train_model", "losses kept as a list of tensors",
          _sub(_sub(_TRAIN, "Es = np.zeros(n_epochs)", "Es = []"), "Es[n] = loss.item()", "Es.append(loss)"),
          message="numpy array"),
    Wrong("train_model", "loss recorded after the step",
          _sub(_TRAIN, "Es[n] = loss.item()", "Es[n] = loss_fn(net(X), y).item()")),
    Right("train_model", "nn.MSELoss() as the text names it",
          _sub(_TRAIN, "loss_fn = torch.nn.MSELoss()", "loss_fn = nn.MSELoss()")),
    Right("train_model", "zeroing after the step, through the net",
          _sub(_sub(_TRAIN, "    optimizer.zero_grad()\n", ""), "optimizer.step()\n", "optimizer.step()\n    net.zero_grad()\n")),
    Right("train_model", "tqdm disable, hand-written mean squared error, tensor of losses",
          "optimizer = torch.optim.Adam(net.parameters(), lr=lr)\nEs = torch.zeros(n_epochs)\n"
          "for n in tqdm(range(n_epochs), disable=not progressbar):\n    optimizer.zero_grad()\n"
          "    loss = ((net(X) - y) ** 2).mean()\n    loss.backward()\n    optimizer.step()\n"
          "    Es[n] = loss.detach()\nEs = Es.numpy()"),
    # ---- compute_loss
    Wrong("compute_loss", "returns a tensor", "return torch.nn.functional.mse_loss(net(X), y)",
          message="float"),
    Wrong("compute_loss", "sum of squares", "return float(((net(X) - y) ** 2).sum())"),
    Wrong("compute_loss", "root mean square", "return float(torch.sqrt(torch.mean((net(X) - y) ** 2)))"),
    Wrong("compute_loss", "mean absolute error", "return float(torch.mean(torch.abs(net(X) - y)))"),
    Right("compute_loss", "MSELoss and .item()", "loss_fn = torch.nn.MSELoss()\nreturn loss_fn(net(X), y).item()"),
    Right("compute_loss", "detach, then float", "return float(((y - net(X)) ** 2).mean().detach())"),
    # ---- teacher_setup
    Wrong("teacher_setup", "the quasi-linear sigma", _sub(_SETUP, "sigma_teacher = 2", "sigma_teacher = 0.4"),
          message="should be 2"),
    Wrong("teacher_setup", "no seed", _sub(_SETUP, "torch.manual_seed(-1)\n", ""),
          message="not the draws of the set-up"),
    Wrong("teacher_setup", "train and test sizes swapped", _sub(_SETUP, "4000, 1000", "1000, 4000")),
    Wrong("teacher_setup", "teacher never initialised", _sub(_SETUP, "initialize_layers(teacher, sigma_teacher)\n", "")),
    Wrong("teacher_setup", "test set cut from the training set",
          _sub(_SETUP, "X_test, y_test = make_data(teacher, n_in, N_test)",
               "X_test, y_test = X_train[:N_test], y_train[:N_test]")),
    Wrong("teacher_setup", "test set drawn first",
          _sub(_SETUP, "X_train, y_train = make_data(teacher, n_in, N_train)\nX_test, y_test = make_data(teacher, n_in, N_test)",
               "X_test, y_test = make_data(teacher, n_in, N_test)\nX_train, y_train = make_data(teacher, n_in, N_train)"),
          message="not the draws of the set-up"),
    Right("teacher_setup", "keyword arguments and a float sigma",
          _sub(_sub(_SETUP, "sigma_teacher = 2", "sigma_teacher = 2.0"),
               "models.make_MLP(n_in, W_teacher, D_teacher)", "models.make_MLP(n_in=n_in, W=W_teacher, D=D_teacher)")),
    # ---- deep_student
    Wrong("deep_student", "a new student for every phase",
          _sub(_DEEP, "for phase in range(4):\n", "for phase in range(4):\n    student = models.make_MLP(n_in, 5, 5)\n"),
          message="same student"),
    Wrong("deep_student", "error on the training set",
          _sub(_DEEP, "compute_loss(student, X_test, y_test)", "compute_loss(student, X_train, y_train)"),
          message="loss_deep: expected"),
    Wrong("deep_student", "training losses divided by the variance too",
          _sub(_DEEP, "Es_deep = np.concatenate(Es_deep)", "Es_deep = np.concatenate(Es_deep) / float(y_test.var())"),
          message="should record the training losses"),
    Wrong("deep_student", "shorter phases to save time", "n_epochs_deep = 300\n" + _DEEP,
          message="the course's number of epochs"),
    Wrong("deep_student", "error not divided by the variance", _sub(_DEEP, " / float(y_test.var())", "")),
    Wrong("deep_student", "phases kept as a 2-D array", _sub(_DEEP, "np.concatenate(Es_deep)", "np.array(Es_deep)"),
          message="shape"),
    Right("deep_student", "np.append and an explicit lr update",
          "Es_deep = np.array([])\nfor phase in range(4):\n"
          "    Es_deep = np.append(Es_deep, train_model(student, X_train, y_train, n_epochs_deep, lr, progressbar=False))\n"
          "    lr = lr / 3\nwith torch.no_grad():\n"
          "    loss_deep = (((student(X_test) - y_test) ** 2).mean() / y_test.var()).item()"),
    # ---- width_sweep
    Wrong("width_sweep", "the teacher's depth for every student",
          _sub(_SWEEP, "make_MLP(n_in, W_student, D_student)", "make_MLP(n_in, W_student, D_teacher)")),
    Wrong("width_sweep", "test error measured on the training set",
          _sub(_SWEEP, "compute_loss(shallow, X_test, y_test)", "compute_loss(shallow, X_train, y_train)"),
          message="Es_shallow_test[0] (width 5): expected"),
    Wrong("width_sweep", "test error not relative", _sub(_SWEEP, "compute_loss(shallow, X_test, y_test) / float(y_test.var())",
                                                         "compute_loss(shallow, X_test, y_test)")),
    Wrong("width_sweep", "students not kept", _sub(_SWEEP, "\nshallow_students.append(shallow)", ""),
          message="should hold the 4 trained students"),
    Wrong("width_sweep", "training losses not divided", _sub(_SWEEP, "Es_shallow_train[index] /= float(y_test.var())\n", ""),
          message="should record the training losses"),
    Right("width_sweep", "torch expression, training losses over the training variance",
          "shallow = models.make_MLP(n_in, int(W_student), D_student)\n"
          "Es_shallow_train[index] = train_model(shallow, X_train, y_train, n_epochs, lr, progressbar=False) / y_train.var().item()\n"
          "with torch.no_grad():\n"
          "    Es_shallow_test[index] = ((shallow(X_test) - y_test) ** 2).mean().item() / y_test.var().item()\n"
          "shallow_students.append(shallow)"),
    # ---- size_prediction
    Wrong("size_prediction", "axes swapped",
          "m, b = np.polyfit(np.log(Es_shallow_test), np.log(Ws_student), 1)\n"
          "predicted_width = np.exp((np.log(error_target) - b) / m)", message="the slope m: expected"),
    Wrong("size_prediction", "no logarithms",
          "m, b = np.polyfit(Ws_student, Es_shallow_test, 1)\npredicted_width = (error_target - b) / m"),
    Wrong("size_prediction", "line evaluated instead of solved",
          "m, b = np.polyfit(np.log(Ws_student), np.log(Es_shallow_test), 1)\n"
          "predicted_width = np.exp(m * np.log(error_target) + b)", message="predicted_width"),
    Wrong("size_prediction", "training errors instead of test errors",
          "m, b = np.polyfit(np.log(Ws_student), np.log(Es_shallow_train[:, -1]), 1)\n"
          "predicted_width = np.exp((np.log(error_target) - b) / m)", message="the slope m: expected"),
    Wrong("size_prediction", "fit to the two widest students only",
          "m, b = np.polyfit(np.log(Ws_student[2:]), np.log(Es_shallow_test[2:]), 1)\n"
          "predicted_width = np.exp((np.log(error_target) - b) / m)", message="the slope m: expected"),
    Right("size_prediction", "base-10 logarithms throughout",
          "m, b = np.polyfit(np.log10(Ws_student), np.log10(Es_shallow_test), 1)\n"
          "predicted_width = 10 ** ((np.log10(error_target) - b) / m)"),
    Right("size_prediction", "least squares by hand",
          "A = np.stack([np.log(Ws_student), np.ones(len(Ws_student))], axis=1)\n"
          "(m, b), *_ = np.linalg.lstsq(A, np.log(Es_shallow_test), rcond=None)\n"
          "predicted_width = float(np.exp((np.log(error_target) - b) / m))"),
    # ---- quasi_setup
    Wrong("quasi_setup", "sigma 2 copied from exercise 5", _sub(_QSETUP, "sigma_teacher_ql = 0.4", "sigma_teacher_ql = 2"),
          message="should be 0.4"),
    Wrong("quasi_setup", "no seed", _sub(_QSETUP, "torch.manual_seed(-1)\n", ""), message="not the draws of the set-up"),
    Wrong("quasi_setup", "data labelled by the chaotic teacher",
          _sub(_QSETUP, "make_data(teacher_ql, n_in, N_train)", "make_data(teacher, n_in, N_train)")),
    Right("quasi_setup", "sigma as a fraction, keyword arguments",
          _sub(_sub(_QSETUP, "sigma_teacher_ql = 0.4", "sigma_teacher_ql = 2 / 5"),
               "make_data(teacher_ql, n_in, N_test)", "make_data(net=teacher_ql, n_in=n_in, n_examples=N_test)")),
    # ---- quasi_student
    Wrong("quasi_student", "two hidden layers", _sub(_QSTUDENT, "make_MLP(n_in, 10, 2)", "make_MLP(n_in, 10, 3)")),
    Wrong("quasi_student", "width 5", _sub(_QSTUDENT, "make_MLP(n_in, 10, 2)", "make_MLP(n_in, 5, 2)")),
    Wrong("quasi_student", "error not relative", _sub(_QSTUDENT, "compute_loss(student_ql, X_test_ql, y_test_ql) / float(y_test_ql.var())",
                                                      "compute_loss(student_ql, X_test_ql, y_test_ql)")),
    Wrong("quasi_student", "trained on the chaotic teacher's data",
          _sub(_QSTUDENT, "train_model(student_ql, X_train_ql, y_train_ql", "train_model(student_ql, X_train, y_train"),
          message="far easier"),
    Wrong("quasi_student", "training losses not divided by the variance",
          _sub(_QSTUDENT, " / float(y_test_ql.var())\nloss_ql", "\nloss_ql"), message="should record the training losses"),
    Right("quasi_student", "torch expression, no progress bar",
          "student_ql = models.make_MLP(n_in, W=10, D=2)\ninitialize_layers(student_ql, sigma_teacher_ql)\n"
          "Es_ql_train = train_model(student_ql, X_train_ql, y_train_ql, n_epochs_ql, lr, progressbar=False)\n"
          "Es_ql_train = Es_ql_train / y_test_ql.var().item()\nwith torch.no_grad():\n"
          "    loss_ql = float(((student_ql(X_test_ql) - y_test_ql) ** 2).mean() / y_test_ql.var())"),
]
