"""Two backward passes (one for x, then retain_grad and again for h): x.grad doubles.

loses: ex04_detach.nonleaf_grads
status: failed
hint: accumulated
"""


def nonleaf_grads(x, W):
    x = x.detach().clone().requires_grad_(True)
    h = W @ x
    out = torch.tanh(h).sum()
    out.backward(retain_graph=True)
    h.retain_grad()
    out.backward()
    return x.grad.detach().clone(), h.grad.detach().clone()
