"""The tasks of ex08_custom_function: writing a backward, checking gradients."""
from __future__ import annotations

from grader.taskrecord import ANY_AUTOGRAD, ANY_AUTOGRAD_RUNTIME, Hint, Task

M = "ex08_custom_function"
# softplus_grad as the exercise gives it (a test keeps it equal to the module's).
GIVEN_SOFTPLUS_GRAD = '''\
def softplus_grad(x, grad_output):
    x = x.detach().clone().requires_grad_(True)
    y = SmoothReLU.apply(x)
    y.backward(gradient=grad_output.detach().to(y.dtype))
    return x.grad.detach().clone()
'''
TASKS = (
    # The rule concerns the methods autograd runs of SmoothReLU only: softplus_grad's
    # own backward pass is the point of the task. backward may not differentiate
    # forward again, nor may an edited forward (or setup_context) do it and save the
    # slope for backward. At run time only calls made while one of them runs count.
    Task(M, "softplus_grad", 8, "softplus_grad(x, grad_output)",
         "SmoothReLU's backward, written by hand: grad_output · σ(x)",
         "softplus′(x) = σ(x), checked with torch.autograd.gradcheck",
         forbidden_scan=ANY_AUTOGRAD + ("torch.set_grad_enabled",), forbidden_runtime=ANY_AUTOGRAD_RUNTIME + ("torch.set_grad_enabled",),
         scope=tuple(f"SmoothReLU.{m}" for m in ("forward", "setup_context", "backward", "vjp", "jvp")),
         hints=("sign", "zeros",
                Hint("forgot_grad_output",
                     "It equals σ(x) itself: backward receives grad_output, the gradient flowing in from the result, and the chain rule applies it to the local derivative.",
                     "结果就是 σ(x) 本身：backward 接收的 grad_output 是从结果一侧传回来的梯度，应当由链式法则把它与局部导数结合起来。"),
                Hint("sigmoid_of_output",
                     "It looks like σ of forward's output, softplus(x): softplus′ is σ of the input x; save x in forward with ctx.save_for_backward and use it.",
                     "看起来求的是 forward 输出 softplus(x) 的 σ：softplus′ 是输入 x 的 σ；请在 forward 中用 ctx.save_for_backward 保存 x，并使用它。"),
                Hint("backward_returned_none",
                     "x.grad stayed None after the backward pass: SmoothReLU.backward must return the gradient with respect to x, grad_output · σ(x). Does it end with a return?",
                     "反向传播之后 x.grad 仍是 None：SmoothReLU.backward 必须返回对 x 的梯度 grad_output · σ(x)。它最后有 return 语句吗？"),
                Hint("unstable_sigmoid",
                     "For large |x| eˣ overflows and inf / inf is NaN: compute σ(x) in a form that never exponentiates a large positive number.",
                     "|x| 很大时 eˣ 会溢出，而 inf / inf 得到 NaN：请用一种永远不会对很大的正数取指数的形式来计算 σ(x)。")),
         exception_hints=(("none_grad", "backward_returned_none"),),
         given=GIVEN_SOFTPLUS_GRAD,
         zh={"SmoothReLU's backward, written by hand: grad_output · σ(x)": "亲手写出 SmoothReLU 的 backward：grad_output · σ(x)",
             "softplus′(x) = σ(x), checked with torch.autograd.gradcheck": "softplus′(x) = σ(x)，用 torch.autograd.gradcheck 检验",
             "the example: x = [-2, -1, 0, 1, 2] with grad_output = [1, 2, 0.5, -1, 3]": "示例：x = [-2, -1, 0, 1, 2]，grad_output = [1, 2, 0.5, -1, 3]",
             "torch.autograd.gradcheck in float64: a 0-d x, a vector, a matrix, large |x|": "float64 下的 torch.autograd.gradcheck：0 维的 x、向量、矩阵，以及很大的 |x|",
             "large |x| (±50, ±500) and many random points, float64 and float32: no overflow, no NaN": "很大的 |x|（±50、±500）以及大量随机点，float64 和 float32：不能溢出，不能出现 NaN",
             "a non-square matrix in float32": "float32 下的非方阵"}),
    Task(M, "numerical_grad", 6, "numerical_grad(f, x, eps=1e-6)",
         "the central-difference estimate of ∇f, entry by entry",
         "(f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε, the gradient check beside autograd",
         ANY_AUTOGRAD, ANY_AUTOGRAD_RUNTIME,
         catalogue=("two_dot", "cube_sum", "sin_prod", "quartic_form", "rosenbrock", "to_scalar"),
         hints=("sign", "zeros",
                Hint("forward_difference",
                     "It matches a one-sided difference (f(x + ε·eᵢ) − f(x)) / ε, whose error shrinks only like ε: take the central difference (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε, accurate to ε².",
                     "它与单侧差分 (f(x + ε·eᵢ) − f(x)) / ε 一致，其误差只随 ε 减小：请使用中心差分 (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε，其精度为 ε²。"),
                Hint("eps_ignored",
                     "It looks computed with another step than the eps passed in: use the eps argument.",
                     "看起来使用了与传入的 eps 不同的步长：请使用参数 eps。"),
                Hint("central_half_step",
                     "It is half the right answer: the two points must lie ε on either side of x (x ± ε·eᵢ, 2ε apart) for the division by 2ε to match.",
                     "结果是正确答案的一半：两个点应分别位于 x 两侧、各相距 ε（x ± ε·eᵢ，相距 2ε），除以 2ε 才与之相符。"),
                Hint("central_two_eps",
                     "It is twice the right answer: x + ε·eᵢ and x − ε·eᵢ are 2ε apart, so divide by 2ε.",
                     "结果是正确答案的两倍：x + ε·eᵢ 与 x − ε·eᵢ 相距 2ε，所以应除以 2ε。")),
         zh={"the central-difference estimate of ∇f, entry by entry": "逐个元素求 ∇f 的中心差分估计",
             "(f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε, the gradient check beside autograd": "(f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε，自动微分之外的梯度检验",
             "the example: x³ with ε = 1e-3; 2·xᵀx at x = torch.arange(4.0)": "示例：x³，ε = 1e-3；2·xᵀx，x = torch.arange(4.0)",
             "several functions with ε = 1e-3 and 1e-4 passed explicitly, a matrix-shaped x": "显式传入 ε = 1e-3 和 1e-4 的若干函数，以及矩阵形状的 x",
             "the default ε: a 0-d x, a single entry, a matrix": "默认的 ε：0 维的 x、只有一个元素的 x、矩阵",
             "plain detached result, x untouched, a function coupling the entries": "返回普通的已分离张量，x 保持不变，函数使各元素相互关联",
             "the central difference": "中心差分"}),
)
