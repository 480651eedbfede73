"""The tasks of ex02_jacobian: Jacobian matrices."""
from __future__ import annotations

from grader.taskrecord import ANY_AUTOGRAD, ANY_AUTOGRAD_RUNTIME, BATCHED, BATCHED_RUNTIME, Hint, Task

M = "ex02_jacobian"
TASKS = (
    Task(M, "jacobian_by_hand", 4, "jacobian_by_hand(x)",
         "the Jacobian of [x₁² + x₂, x₁ + x₂³] in closed form",
         "f(x) = [x1² + x2, x1 + x2³]", ANY_AUTOGRAD, ANY_AUTOGRAD_RUNTIME,
         hints=("transposed", "sign", "entry_slip"),
         zh={"the Jacobian of [x₁² + x₂, x₁ + x₂³] in closed form": "写出 [x₁² + x₂, x₁ + x₂³] 的雅可比矩阵的解析式",
             "f(x) = [x1² + x2, x1 + x2³]": "f(x) = [x1² + x2, x1 + x2³]",
             "the notes' example: x = [2, 3] gives [[4, 1], [1, 27]]; then x = [-1, 0.5]": "笔记中的示例：x = [2, 3] 得到 [[4, 1], [1, 27]]；然后 x = [-1, 0.5]",
             "random points in float64": "随机点，float64",
             "random points in float32": "随机点，float32",
             "plain detached result, argument untouched (negative entries and zero)": "返回普通的已分离张量，参数保持不变（含负数和零）"}),
    Task(M, "jacobian_polar", 4, "jacobian_polar(p)",
         "the Jacobian of (r, θ) ↦ (r cos θ, r sin θ) in closed form",
         "polar to Cartesian coordinates", ANY_AUTOGRAD, ANY_AUTOGRAD_RUNTIME,
         hints=("transposed", "sign", "entry_slip"),
         zh={"the Jacobian of (r, θ) ↦ (r cos θ, r sin θ) in closed form": "写出 (r, θ) ↦ (r cos θ, r sin θ) 的雅可比矩阵的解析式",
             "polar to Cartesian coordinates": "极坐标到直角坐标的变换",
             "the notes' example p = (2, 0), then p = (1, π/3)": "笔记中的示例 p = (2, 0)，然后 p = (1, π/3)",
             "random (r, θ) in float64": "随机的 (r, θ)，float64",
             "random (r, θ) in float32": "随机的 (r, θ)，float32",
             "negative r and large θ; plain detached result, argument untouched": "负的 r 和较大的 θ；返回普通的已分离张量，参数保持不变"}),
    Task(M, "jacobian_from_vjps", 8, "jacobian_from_vjps(f, x)",
         "the full Jacobian from one vector-Jacobian product per output element",
         "J's rows are the VJPs with one-hot v", BATCHED, BATCHED_RUNTIME,
         catalogue=("seed_square_cube", "seed_jacobian_f", "tanh_affine", "matrix_map", "to_scalar",
                    "constant", "coupled"),
         hints=("transposed", "retain_graph", "shape_jacobian", "accumulated", "grad_cleared_too_soon",
                Hint("disconnected_output",
                     "Here f(x) does not depend on x, so y has no grad_fn and no backward pass can run: what is the Jacobian of a function that ignores its input?",
                     "这里 f(x) 不依赖于 x，所以 y 没有 grad_fn，无法进行反向传播：忽略输入的函数，它的雅可比矩阵是什么？")),
         zh={"the full Jacobian from one vector-Jacobian product per output element": "每个输出元素做一次向量-雅可比积，由此得到完整的雅可比矩阵",
             "J's rows are the VJPs with one-hot v": "J 的各行就是 v 取独热向量时的向量-雅可比积",
             "the notes' examples at x = [2, 3] ([x0², x1³] and [x₁² + x₂, x₁ + x₂³]), then tanh(A x + b) with a non-symmetric Jacobian": "笔记中的示例，x = [2, 3]（[x0², x1³] 和 [x₁² + x₂, x₁ + x₂³]），然后是雅可比矩阵不对称的 tanh(A x + b)",
             "non-symmetric Jacobians in float64: ℝ³ → ℝ³ and ℝ³ → ℝ⁵": "非对称的雅可比矩阵，float64：ℝ³ → ℝ³ 和 ℝ³ → ℝ⁵",
             "matrix in, matrix out in float32: J has shape f(x).shape + x.shape": "矩阵输入、矩阵输出，float32：J 的形状为 f(x).shape + x.shape",
             "a scalar output (J is the gradient), and an output that ignores x (J is 0)": "标量输出（J 就是梯度），以及与 x 无关的输出（J 为 0）",
             "plain detached result, argument untouched": "返回普通的已分离张量，参数保持不变"}),
)
