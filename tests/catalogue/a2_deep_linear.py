"""Answers students write for assignment 2 (deep linear networks).

Wrong answers must lose points, right answers in other forms must keep them all;
tests/test_catalogue.py proves both, nnlib.course.catalogue explains the format.
"""

from nnlib.course.catalogue import Right, Wrong

NOTEBOOK = "deep_linear.ipynb"

TESTS = {
    "initializer": ["test_initializer"],
    "net_svd": ["test_net_svd"],
    "net_rsm": ["test_net_rsm"],
    "illusion": ["test_illusion"],
    "linear_regression": ["test_linear_regression"],
}


def _illusion(names, idx, feature, label):
    return (f"my_item_names = {names!r}\nmy_illusion_idx = {idx!r}\n"
            f"my_feature = {feature!r}\nmy_feature_label = {label!r}")


_NAMES = ["Goldfish", "Tuna", "Bat", "Canary", "Rose", "Daisy", "Pine", "Oak"]
_PRODUCT = "W_tot = torch.eye(in_dim)\nfor weight in model.parameters():\n    W_tot = weight.detach() @ W_tot\n"

ANSWERS = [
    # ---- ex_initializer_
    Wrong("initializer", "std gamma / sqrt(n_in)",
          "sigma = gamma / math.sqrt(n_in)\nnn.init.normal_(weight, mean=0.0, std=sigma)",
          message="standard deviation"),
    Wrong("initializer", "variance passed as the std",
          "sigma = gamma / math.sqrt(n_in + n_out)\nnn.init.normal_(weight, mean=0.0, std=sigma ** 2)"),
    Wrong("initializer", "std gamma / sqrt(n_out)",
          "sigma = gamma / math.sqrt(n_out)\nnn.init.normal_(weight, mean=0.0, std=sigma)"),
    Wrong("initializer", "product of the sizes under the root",
          "sigma = gamma / math.sqrt(n_in * n_out)\nnn.init.normal_(weight, mean=0.0, std=sigma)"),
    Wrong("initializer", "gamma forgotten",
          "sigma = 1 / math.sqrt(n_in + n_out)\nnn.init.normal_(weight, mean=0.0, std=sigma)"),
    Wrong("initializer", "Xavier normal with gain gamma (a factor sqrt(2) too wide)",
          "nn.init.xavier_normal_(weight, gain=gamma)"),
    Wrong("initializer", "uniform with the right std, not normal",
          "sigma = gamma / math.sqrt(n_in + n_out)\n"
          "nn.init.uniform_(weight, -math.sqrt(3) * sigma, math.sqrt(3) * sigma)",
          message="normally distributed"),
    Wrong("initializer", "new tensor bound to the loop variable, model unchanged",
          "sigma = gamma / math.sqrt(n_in + n_out)\nweight = torch.randn(n_out, n_in) * sigma",
          message="still holds its old values"),
    Wrong("initializer", "calls the answer key",
          "from nnlib.answers import deep_linear as key\nkey.initializer_(model, gamma)\nbreak",
          message="answer key"),
    Right("initializer", "tensor method normal_ under no_grad",
          "with torch.no_grad():\n    weight.normal_(0.0, gamma / (n_in + n_out) ** 0.5)"),
    Right("initializer", "Xavier normal with the gain rescaled",
          "nn.init.xavier_normal_(weight, gain=gamma / math.sqrt(2))"),
    Right("initializer", "copy of randn scaled by sigma",
          "sigma = gamma * (n_in + n_out) ** -0.5\nweight.data.copy_(torch.randn_like(weight) * sigma)"),
    # ---- ex_net_svd
    Wrong("net_svd", "V^T returned (torch.linalg.svd's Vh) as V",
          _PRODUCT + "U, S, V = torch.linalg.svd(W_tot, full_matrices=False)",
          message="reconstructed total weight"),
    Wrong("net_svd", "product in the wrong order (first layer on the left)",
          "W_tot = torch.eye(in_dim)\nfor weight in model.parameters():\n    W_tot = W_tot @ weight.detach().T\n"
          "U, S, V = torch.svd(W_tot)"),
    Wrong("net_svd", "product in the wrong order (W_tot @ weight)",
          "W_tot = torch.eye(in_dim)\nfor weight in model.parameters():\n    W_tot = W_tot @ weight.detach()\n"
          "U, S, V = torch.svd(W_tot)"),
    Wrong("net_svd", "only the last layer decomposed",
          "for weight in model.parameters():\n    W_tot = weight.detach()\nU, S, V = torch.svd(W_tot)"),
    Wrong("net_svd", "full matrices from torch.linalg.svd",
          _PRODUCT + "U, S, Vh = torch.linalg.svd(W_tot)\nV = Vh.T", message="should have shape"),
    Wrong("net_svd", "SVD of the sum of the weights' Gram matrices",
          "W_tot = sum(w.detach().T @ w.detach() for w in model.parameters() if w.shape[1] == in_dim)\n"
          "U, S, V = torch.svd(W_tot)"),
    Wrong("net_svd", "calls the answer key", "from nnlib.answers import deep_linear as key\nU, S, V = key.net_svd(model, in_dim)",
          message="answer key"),
    Right("net_svd", "torch.linalg.svd with Vh transposed",
          _PRODUCT + "U, S, Vh = torch.linalg.svd(W_tot, full_matrices=False)\nV = Vh.mT"),
    Right("net_svd", "multi_dot of the reversed weights, numpy SVD",
          "ws = [w.detach() for w in model.parameters()][::-1]\n"
          "W_tot = torch.linalg.multi_dot(ws) if len(ws) > 1 else ws[0]\n"
          "u, s, vh = np.linalg.svd(W_tot.double().numpy(), full_matrices=False)\n"
          "U, S, V = torch.from_numpy(u), torch.from_numpy(s), torch.from_numpy(vh.T)"),
    Right("net_svd", "explicit loop of matrix products",
          "W_tot = torch.eye(in_dim)\nfor weight in model.parameters():\n    w = weight.detach()\n"
          "    new = torch.zeros(w.shape[0], W_tot.shape[1])\n    for i in range(w.shape[0]):\n"
          "        for j in range(W_tot.shape[1]):\n            new[i, j] = (w[i] * W_tot[:, j]).sum()\n"
          "    W_tot = new\nU, S, V = torch.svd(W_tot)"),
    # ---- ex_net_rsm
    Wrong("net_rsm", "h^T h: unit by unit instead of item by item", "rsm = h.T @ h"),
    Wrong("net_rsm", "cosine-normalised similarity",
          "hn = h / h.norm(dim=1, keepdim=True)\nrsm = hn @ hn.T", message="not normalised"),
    Wrong("net_rsm", "element-wise square", "rsm = h * h"),
    Wrong("net_rsm", "correlation matrix (centred and normalised)", "rsm = torch.corrcoef(h)"),
    Wrong("net_rsm", "covariance (rows centred)", "hc = h - h.mean(dim=1, keepdim=True)\nrsm = hc @ hc.T"),
    Right("net_rsm", "torch.mm with h.t()", "rsm = torch.mm(h, h.t())"),
    Right("net_rsm", "einsum", "rsm = torch.einsum('ik,jk->ij', h, h)"),
    Right("net_rsm", "explicit loops over pairs of items",
          "n = h.shape[0]\nrsm = torch.zeros(n, n)\nfor i in range(n):\n    for j in range(n):\n"
          "        rsm[i, j] = torch.dot(h[i], h[j])"),
    # ---- illusion
    Wrong("illusion", "0/1 values instead of +-1", _illusion(_NAMES, 2, [1, 1, 0, 1, 0, 0, 0, 0], "lays_eggs"),
          message="+1 (has it) or -1"),
    Wrong("illusion", "index out of range (counted from 1)", _illusion(_NAMES, 8, [1, 1, 1, 1, 1, 1, 1, -1], "x"),
          message="0 to 7"),
    Wrong("illusion", "feature agrees with the item's relatives: no illusion",
          _illusion(["Goldfish", "Tuna", "Robin", "Penguin", "Rose", "Daisy", "Pine", "Oak"], 3,
                    [-1, -1, 1, -1, -1, -1, -1, -1], "can_fly"),
          message="no illusion arises"),
    Wrong("illusion", "item shares its value with its sibling",
          _illusion(_NAMES, 2, [1, 1, -1, -1, 1, 1, 1, 1], "is_bird"), message="nearest relative"),
    Wrong("illusion", "wrong length", _illusion(_NAMES, 2, [1, 1, -1, 1, -1, -1, -1], "lays_eggs"),
          message="shape (8,)"),
    Wrong("illusion", "the notebook's own example copied",
          _illusion(["Shark", "Tuna", "Robin", "Canary", "Rose", "Daisy", "Pine", "Oak"], 0,
                    [-1, 1, 1, 1, -1, -1, -1, -1], "has_bones"), message="of your own"),
    Wrong("illusion", "index given as the item's name", _illusion(_NAMES, "Bat", [1, 1, -1, 1, -1, -1, -1, -1], "lays_eggs"),
          message="integer"),
    Right("illusion", "penguin among flying animals",
          _illusion(["Eagle", "Penguin", "Bat", "Moth", "Rose", "Daisy", "Pine", "Oak"], 1,
                    [1, -1, 1, 1, -1, -1, -1, -1], "can_fly")),
    Right("illusion", "numpy feature and numpy index, plant side",
          "import numpy as np\nmy_item_names = ['Goldfish', 'Tuna', 'Robin', 'Canary', 'Rose', 'Daisy', 'Cactus', 'Oak']\n"
          "my_illusion_idx = np.int64(6)\nmy_feature = np.array([-1, -1, -1, -1, 1, 1, -1, 1])\n"
          "my_feature_label = 'has_broad_leaves'"),
    Right("illusion", "illusion from the whole tree, not the half",
          _illusion(["Whale", "Tuna", "Robin", "Canary", "Rose", "Daisy", "Pine", "Oak"], 0,
                    [-1, 1, -1, -1, 1, 1, 1, 1], "cold_blooded_or_plant")),
    # ---- linear_regression
    Wrong("linear_regression", "Gram matrix not inverted", "W = Y @ X.T @ (X @ X.T)"),
    Wrong("linear_regression", "Gram matrix left out", "W = Y @ X.T"),
    Wrong("linear_regression", "transposed solution (the samples-in-rows formula)",
          "W = np.linalg.inv(X @ X.T) @ X @ Y.T", message="expected shape"),
    Wrong("linear_regression", "element-wise inverse of the Gram matrix", "W = Y @ X.T @ (1 / (X @ X.T))"),
    Wrong("linear_regression", "inverse on the wrong side", "W = np.linalg.inv(X @ X.T) @ (Y @ X.T).T"),
    Wrong("linear_regression", "calls the answer key",
          "from nnlib.answers import deep_linear as key\nW = key.linear_regression(X, Y)", message="answer key"),
    Right("linear_regression", "pseudo-inverse", "W = Y @ np.linalg.pinv(X)"),
    Right("linear_regression", "solve the normal equations", "W = np.linalg.solve(X @ X.T, X @ Y.T).T"),
    Right("linear_regression", "lstsq", "W = np.linalg.lstsq(X.T, Y.T, rcond=None)[0].T"),
]
