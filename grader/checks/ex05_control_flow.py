"""The tasks of ex05_control_flow: gradients through Python control flow."""
from __future__ import annotations

from grader.taskrecord import Hint, Task

M = "ex05_control_flow"
TASKS = (
    Task(M, "control_flow_grad", 6, "control_flow_grad(a)",
         "∇ₐ Σ f(a) through d2l's while/if function",
         "d = f(a); a.grad == d / a",
         hints=("accumulated", "sign", "zeros", "implicit_scalar"),
         by_autograd=False,  # the contract asks for the value, not how: a formula is honest
         zh={"∇ₐ Σ f(a) through d2l's while/if function": "求 ∇ₐ Σ f(a)，其中 f 是 d2l 中含 while/if 的函数",
             "d = f(a); a.grad == d / a": "d = f(a); a.grad == d / a",
             "the d2l example: a scalar a, a.grad == d / a; then a vector in float64": "d2l 中的示例：标量 a，a.grad == d / a；然后是 float64 的向量",
             "vectors with a positive and a negative sum, float64": "元素和为正和为负的向量，float64",
             "matrices in float32, both branches of the if": "float32 矩阵，覆盖 if 的两个分支",
             "plain detached result, a untouched": "返回普通的已分离张量，a 保持不变"}),
    Task(M, "second_price_grad", 4, "second_price_grad(bids)",
         "∂price/∂bids of a second-price auction, through a sort",
         "d2l's exercise: the winner pays the second-highest bid",
         hints=("no_grad_on_input", "accumulated",
                Hint("winner_not_runner_up",
                     "The gradient sits at the highest bid: the price is the second-highest bid, so only the runner-up moves it.",
                     "梯度落在了最高出价上：价格是第二高的出价，只有第二名的出价会影响它。"),
                Hint("sorted_position",
                     "The gradient sits at position 1, the runner-up's place in the sorted order: make the original bids the leaf, so that the gradient flows back through the sort to the runner-up's own index.",
                     "梯度落在了位置 1，也就是第二名在排序结果中的位置：应当让原始出价作为叶子张量，这样梯度才会穿过排序，回到第二名自己的下标上。"),
                Hint("ascending_sort",
                     "The gradient sits at the second-lowest bid: torch.sort sorts in ascending order unless descending=True.",
                     "梯度落在了第二低的出价上：除非指定 descending=True，torch.sort 按升序排序。")),
         zh={"∂price/∂bids of a second-price auction, through a sort": "第二价格拍卖中价格对出价的梯度 ∂price/∂bids，穿过排序求得",
             "d2l's exercise: the winner pays the second-highest bid": "d2l 的练习：胜出者支付第二高的出价",
             "the example: bids [3, 7, 5, 1] pay 5, the third bid": "示例：出价 [3, 7, 5, 1] 时价格为 5，即第三个出价",
             "random bids of several lengths in float64": "float64 下若干种长度的随机出价",
             "two bids, and negative bids, in float32": "float32 下只有两个出价，以及出价为负的情形",
             "plain detached result, bids untouched": "返回普通的已分离张量，bids 保持不变"}),
    Task(M, "derivative_curve", 4, "derivative_curve(f, x)",
         "f′ at every point of x, by autograd",
         "plot sin and its derivative without computing it by hand",
         catalogue=("elementwise", "affine"),
         hints=("mean_sum_swapped", "implicit_scalar", "accumulated", "sign"),
         zh={"f′ at every point of x, by autograd": "用自动微分求 f′ 在 x 每个点上的值",
             "plot sin and its derivative without computing it by hand": "不手工推导，画出 sin 及其导数",
             "the d2l example: sin on torch.linspace(-3, 3, 50); then tanh in float64": "d2l 中的示例：torch.linspace(-3, 3, 50) 上的 sin；然后是 float64 的 tanh",
             "several functions on random points in float64": "多个函数，在随机点上求值，float64",
             "several functions, a linear one included, in float32": "多个函数（包括一个线性函数），float32",
             "plain detached result, x untouched": "返回普通的已分离张量，x 保持不变"}),
)
