"""h.grad.clone() without h.retain_grad(): h.grad is None, so .clone() raises.

loses: ex04_detach.nonleaf_grads
status: error
hint: nonleaf_grad
"""


def nonleaf_grads(x, W):
    x = x.detach().clone().requires_grad_(True)
    h = W.to(x.dtype) @ x
    out = torch.tanh(h).sum()
    out.backward()
    return x.grad.detach().clone(), h.grad.detach().clone()
