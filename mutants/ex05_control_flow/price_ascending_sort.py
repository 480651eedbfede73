"""torch.sort is ascending: values[1] is the second-lowest bid.

loses: ex05_control_flow.second_price_grad
status: failed
hint: ascending_sort
"""


def second_price_grad(bids):
    bids = bids.detach().clone().requires_grad_(True)
    torch.sort(bids).values[1].backward()
    return bids.grad.detach().clone()
