"""Right gradients, returned in the other order: (∂out/∂h, ∂out/∂x).

loses: ex04_detach.nonleaf_grads
status: failed
hint: swapped_pair
"""


def nonleaf_grads(x, W):
    x = x.detach().clone().requires_grad_(True)
    W = W.detach().to(x.dtype)
    h = W @ x
    h.retain_grad()
    torch.tanh(h).sum().backward()
    return h.grad.detach().clone(), x.grad.detach().clone()
