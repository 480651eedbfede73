"""sort(...)[1] is the indices, not the values: an integer tensor, so backward raises.

loses: ex05_control_flow.second_price_grad
status: error
hint: no_grad_on_input
"""


def second_price_grad(bids):
    bids = bids.detach().clone().requires_grad_(True)
    price = bids.sort(descending=True)[1][1]
    price.backward()
    return bids.grad.clone()
