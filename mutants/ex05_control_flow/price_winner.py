"""Differentiates the highest bid: the gradient lands at the winner, not the runner-up.

loses: ex05_control_flow.second_price_grad
status: failed
hint: winner_not_runner_up
"""


def second_price_grad(bids):
    bids = bids.detach().clone().requires_grad_(True)
    torch.topk(bids, 1).values[0].backward()
    return bids.grad.detach().clone()
