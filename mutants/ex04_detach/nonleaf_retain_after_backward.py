"""h.retain_grad() called after backward(): too late, h.grad is still None.

loses: ex04_detach.nonleaf_grads
status: failed
hint: nonleaf_grad
"""


def nonleaf_grads(x, W):
    x = x.detach().clone().requires_grad_(True)
    h = W.to(x.dtype) @ x
    out = torch.tanh(h).sum()
    out.backward()
    h.retain_grad()
    return x.grad.detach().clone(), h.grad
