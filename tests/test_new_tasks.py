"""The five tasks added with ex08: honest styles other than the reference keep full
marks; the untouched stubs score nothing and say why."""
from __future__ import annotations

from .conftest import EXERCISES, by_task

NEW = ("ex03_vjp.vjps_on_one_graph", "ex05_control_flow.second_price_grad", "ex06_losses.broadcast_grad",
       "ex08_custom_function.softplus_grad", "ex08_custom_function.numerical_grad")

HONEST = {
    # torch.autograd.grad instead of backward, retain_graph on every call.
    "ex03_vjp": '''
def vjps_on_one_graph(f, x, vs):
    leaf = x.detach().clone().requires_grad_(True)
    y = f(leaf)
    return [torch.autograd.grad(y, leaf, v, retain_graph=True)[0].detach() for v in vs]
''',
    # A descending sort instead of topk.
    "ex05_control_flow": '''
def second_price_grad(bids):
    b = bids.detach().clone().requires_grad_(True)
    torch.sort(b, descending=True).values[1].backward()
    return b.grad.clone()
''',
    # nn.Linear and F.mse_loss: the layer's bias is broadcast the same way.
    "ex06_losses": '''
def broadcast_grad(X, W, b, Y):
    layer = torch.nn.Linear(W.shape[0], W.shape[1]).to(X.dtype)
    with torch.no_grad():
        layer.weight.copy_(W.T)
        layer.bias.copy_(b)
    torch.nn.functional.mse_loss(layer(X), Y).backward()
    return layer.weight.grad.T.clone(), layer.bias.grad.clone()
''',
    # σ written by hand without overflow; softplus_grad rewritten with autograd.grad,
    # which the rule allows outside backward; a perturbation made and undone in place
    # on a private copy.
    "ex08_custom_function": '''
def _sigma(x):
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * _sigma(x)


def softplus_grad(x, grad_output):
    leaf = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(SmoothReLU.apply(leaf), leaf, grad_output)
    return g.detach()


def numerical_grad(f, x, eps=1e-6):
    x = x.detach().clone()
    out = torch.empty_like(x)
    with torch.no_grad():
        for i in range(x.numel()):
            old = x.view(-1)[i].item()
            x.view(-1)[i] = old + eps
            plus = f(x)
            x.view(-1)[i] = old - eps
            minus = f(x)
            x.view(-1)[i] = old
            out.view(-1)[i] = (plus - minus) / (2 * eps)
    return out
''',
}


def test_honest_styles_keep_full_marks(grade, submission):
    report = grade(submission(append=HONEST), patterns=NEW)
    tasks = by_task(report)
    assert set(tasks) == set(NEW)
    for task_id, task in tasks.items():
        assert task["score"] == task["max_score"], (task_id, [c["feedback"] for c in task["checks"]])


def test_the_untouched_stubs_score_nothing(grade):
    report = grade(EXERCISES, patterns=NEW)
    tasks = by_task(report)
    assert all(t["score"] == 0 for t in tasks.values())
    # The fix-the-bug stub runs and fails with its bug's own hint; the others are stubs.
    assert tasks["ex03_vjp.vjps_on_one_graph"]["status"] == "error"
    assert {c["hint"] for c in tasks["ex03_vjp.vjps_on_one_graph"]["checks"]} == {"retain_graph"}
    for task_id in NEW[1:]:
        assert tasks[task_id]["status"] == "not_implemented", task_id


def test_a_backward_only_gradcheck_catches_is_named_as_such(grade, submission):
    """Right for every dense grad_output, wrong where an entry of it is 0: only
    gradcheck's one-hot grad_outputs see it, and the feedback says gradcheck did."""
    code = '''
class SmoothReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x) + 0.1 * (grad_output == 0)
'''
    report = grade(submission(append={"ex08_custom_function": code}),
                   patterns=("ex08_custom_function.softplus_grad",))
    (task,) = report["tasks"]
    assert task["status"] == "partial"
    lost = [c for c in task["checks"] if c["score"] < c["max_score"]]
    assert [c["id"] for c in lost] == ["softplus_gradcheck"]
    assert lost[0]["code"] == "wrong_values" and "gradcheck" in lost[0]["feedback"]
