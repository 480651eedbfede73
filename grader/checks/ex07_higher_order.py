"""The tasks of ex07_higher_order: derivatives of derivatives."""
from __future__ import annotations

from grader.taskrecord import FORWARD_AD, FORWARD_AD_RUNTIME, FUNCTIONAL, FUNCTIONAL_RUNTIME, Hint, Task

M = "ex07_higher_order"
# Here "does not have a grad_fn" means the first derivative was taken without
# create_graph=True (elsewhere: an input that does not require grad).
NO_GRAPH = (("create_graph", "create_graph"),)
TASKS = (
    Task(M, "second_derivative", 4, "second_derivative(f, x)",
         "f″ elementwise with create_graph=True",
         "differentiate the derivative", FUNCTIONAL, FUNCTIONAL_RUNTIME,
         catalogue=("elementwise", "affine"),
         hints=("first_derivative", "create_graph", "grad_kept", "linear_zero"), exception_hints=NO_GRAPH,
         zh={"f″ elementwise with create_graph=True": "用 create_graph=True 逐元素求 f″",
             "differentiate the derivative": "对导数再求一次导",
             "x³ at [1, 2] (the docstring example) and sin at a few points": "[1, 2] 处的 x³（文档字符串中的示例），以及若干点处的 sin",
             "several elementwise functions in float64, inputs of several shapes": "多个逐元素函数，float64，多种形状的输入",
             "float32 inputs, matrix-shaped": "float32 输入，矩阵形状",
             "a linear f has f″ = 0 (zeros, not an error); plain detached result, x untouched": "线性 f 的 f″ = 0（应返回全 0，而不是报错）；返回普通的已分离张量，x 保持不变"}),
    Task(M, "hvp", 4, "hvp(f, x, v)",
         "the Hessian-vector product by double backward",
         "∇(∇f·v)", FUNCTIONAL, FUNCTIONAL_RUNTIME,
         catalogue=("square_times", "quartic_form", "rosenbrock", "weighted_square_sum", "sin_prod", "dot_with"),
         hints=("first_derivative", "create_graph", "grad_kept", "transposed", "linear_zero"), exception_hints=NO_GRAPH,
         zh={"the Hessian-vector product by double backward": "通过两次反向传播计算黑塞矩阵-向量积",
             "∇(∇f·v)": "∇(∇f·v)",
             "the docstring example: f = x0²·x1 at x = [1, 2]": "文档字符串中的示例：f = x0²·x1，x = [1, 2]",
             "dense, non-diagonal Hessians in float64, several sizes": "稠密、非对角的黑塞矩阵，float64，多种尺寸",
             "float32 inputs, a vector and a matrix-shaped x": "float32 输入，x 为向量和矩阵形状各一个",
             "a linear f gives zeros; plain detached result, x and v untouched": "线性 f 得到全 0；返回普通的已分离张量，x 和 v 保持不变"}),
    Task(M, "jvp_by_double_backward", 2, "jvp_by_double_backward(f, x, u)",
         "J·u from two reverse passes (the double-vjp trick)",
         "J·u = ∇_w (uᵀ(Jᵀw))", FORWARD_AD, FORWARD_AD_RUNTIME,
         catalogue=("product_first", "tanh_affine", "matrix_map"),
         hints=("wrt_no_grad", "create_graph",
                Hint("jtv_not_jv",
                     "It equals Jᵀ·u, a vector-Jacobian product: one reverse pass gives Jᵀ times a vector. Jᵀw is linear in w, and its own vector-Jacobian product brings J back.",
                     "结果等于 Jᵀ·u（向量-雅可比积）：一次反向传播得到的是 Jᵀ 乘一个向量。Jᵀw 对 w 是线性的，对它再求一次向量-雅可比积就能把 J 找回来。")), exception_hints=NO_GRAPH,
         zh={"J·u from two reverse passes (the double-vjp trick)": "用两次反向传播求 J·u（双重 vjp 技巧）",
             "J·u = ∇_w (uᵀ(Jᵀw))": "J·u = ∇_w (uᵀ(Jᵀw))",
             "the docstring example: f = [x0·x1, x0] at x = [2, 3]": "文档字符串中的示例：f = [x0·x1, x0]，x = [2, 3]",
             "non-symmetric and non-square Jacobians (R³ → R³, R³ → R⁵) in float64": "非对称及非方阵的雅可比矩阵（R³ → R³，R³ → R⁵），float64",
             "matrix-shaped input and output in float32; plain detached result, x and u untouched": "矩阵形状的输入和输出，float32；返回普通的已分离张量，x 和 u 保持不变"}),
)
