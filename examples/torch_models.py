"""Small torch modules for ``neuromanifold analyze --torch examples/torch_models.py:ClassName``.

Each class is constructed without arguments and declares ``input_shape`` (the shape of one sample).
``QuadraticNet`` and ``LightningAttention`` are the built-in families mlp(widths=(3,2,1), r=2) and
attention(d=2, dout=1, a=2, t=2) written as torch modules, so their functional dimension can be compared
with the certified ``dimension`` of the toolkit.
"""

import torch
from torch import nn


class ReLUNet(nn.Module):
    """x -> W2 relu(W1 x + b1) + b2, widths (2, 3, 1): 13 parameters, functional dimension <= 13 - 3."""

    input_shape = (2,)

    def __init__(self, widths=(2, 3, 1)):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


class GELUNet(nn.Module):
    """x -> W2 gelu(W1 x + b1) + b2, widths (2, 3, 1) (analytic, not piecewise polynomial)."""

    input_shape = (2,)

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1))

    def forward(self, x):
        return self.net(x)


class QuadraticNet(nn.Module):
    """mlp(widths=(3,2,1), r=2): x -> W2 (W1 x)^2, no biases (sums of two squares of linear forms)."""

    input_shape = (3,)

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(3, 2, bias=False)
        self.l2 = nn.Linear(2, 1, bias=False)

    def forward(self, x):
        return self.l2(self.l1(x) ** 2)


class LightningAttention(nn.Module):
    """attention(d=2, dout=1, a=2, t=2): X -> V X X^T K^T Q X for X in R^{d x t} (lightning self-attention)."""

    input_shape = (2, 2)  # (d, t)

    def __init__(self, d=2, dout=1, a=2):
        super().__init__()
        self.Q = nn.Parameter(torch.randn(a, d))
        self.K = nn.Parameter(torch.randn(a, d))
        self.V = nn.Parameter(torch.randn(dout, d))

    def forward(self, X):
        return self.V @ (X @ X.mT) @ (self.K.mT @ self.Q) @ X


class SoftmaxAttention(nn.Module):
    """One head of softmax self-attention on t = 3 tokens of dimension 2 (not polynomial)."""

    input_shape = (3, 2)  # (t, d)

    def __init__(self, d=2, a=2):
        super().__init__()
        self.q = nn.Linear(d, a, bias=False)
        self.k = nn.Linear(d, a, bias=False)
        self.v = nn.Linear(d, 1, bias=False)

    def forward(self, X):
        scores = self.q(X) @ self.k(X).mT
        return torch.softmax(scores, dim=-1) @ self.v(X)
