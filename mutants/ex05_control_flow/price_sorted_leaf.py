"""Makes the sorted bids the leaf: the gradient is at position 1 of the sorted order.

loses: ex05_control_flow.second_price_grad
status: failed
hint: sorted_position
"""


def second_price_grad(bids):
    ranked = torch.sort(bids, descending=True).values.detach().clone().requires_grad_(True)
    ranked[1].backward()
    return ranked.grad.detach().clone()
