"""h.grad read without h.retain_grad(): it is None.

loses: ex04_detach.nonleaf_grads
status: failed
hint: nonleaf_grad
"""


def nonleaf_grads(x, W):
    x = x.detach().clone().requires_grad_(True)
    h = W @ x
    out = torch.tanh(h).sum()
    out.backward()
    return x.grad.detach().clone(), h.grad
