"""Every student-facing message, in English and Simplified Chinese, by reason code.

A check fails with a code and parameters; the report keeps both (for machines)
and the text rendered in the chosen language (for people). Hidden checks only
ever pass parameters that describe the student's own answer or the check's
rules (shape, dtype, tolerance), never an expected value.
"""
from __future__ import annotations

import re
from typing import Any

LANGUAGES = ("en", "zh")

MESSAGES: dict[str, tuple[str, str]] = {
    # Outcomes of a call into student code
    "not_implemented": ("not implemented yet (it raises NotImplementedError)",
                        "尚未实现（函数抛出 NotImplementedError）"),
    "raised": ("raised {type}: {message}{where}",
               "抛出了 {type}：{message}{where}"),
    "import_error": ("the module failed to import: {type}: {message}{where}",
                     "模块导入失败：{type}：{message}{where}"),
    "missing_function": ("the module does not define {function}()",
                         "模块中没有定义 {function}()"),
    "timeout": ("did not finish within the time limit ({detail})",
                "未在时间限制内完成（{detail}）"),
    "crashed": ("the process running it died ({detail})",
                "运行它的进程意外终止（{detail}）"),
    "garbled": ("its result could not be read ({detail})",
                "无法读取它的返回值（{detail}）"),
    "unencodable": ("its result could not be sent back: {message}",
                    "无法传回它的返回值：{message}"),
    "grader_error": ("the grader itself failed on this check: {detail}",
                     "评分程序本身在此检查上出错：{detail}"),
    "skipped": ("not run: {detail}", "未运行：{detail}"),
    # Static verdicts
    "missing_module": ("{module}.py is missing from the submission",
                       "提交中缺少 {module}.py"),
    "not_a_submission": ("not a submission: {problem}", "不是有效的提交：{problem}"),
    "too_large": ("{module}.py is larger than {limit} bytes", "{module}.py 超过 {limit} 字节"),
    "syntax_error": ("{module}.py has a syntax error on line {line}: {detail}",
                     "{module}.py 第 {line} 行有语法错误：{detail}"),
    "escape": ("line {line} of {module}.py uses {detail}, which exercise code may not use ({kind})",
               "{module}.py 第 {line} 行使用了 {detail}，练习代码不允许使用（{kind}）"),
    "forbidden_api": ("line {line} uses {detail}, which this task does not allow",
                      "第 {line} 行使用了 {detail}，本题不允许使用"),
    "forbidden_runtime": ("it called {api}, which this task does not allow",
                          "它调用了 {api}，本题不允许使用"),
    # Wrong answers
    "wrong_type": ("{what}: expected a {expected}, got {got}", "{what}：应为 {expected}，实际为 {got}"),
    "wrong_length": ("{what}: expected {expected} items, got {got}", "{what}：应有 {expected} 项，实际为 {got} 项"),
    "not_a_tensor": ("{what} should be a torch.Tensor, got {got}", "{what} 应为 torch.Tensor，实际为 {got}"),
    "wrong_shape": ("{what} has shape {got}, expected {expected}", "{what} 的形状为 {got}，应为 {expected}"),
    "wrong_dtype": ("{what} has dtype {got}, expected {expected} (the dtype follows the input's)",
                    "{what} 的 dtype 为 {got}，应为 {expected}（dtype 应与输入一致）"),
    "not_finite": ("{what} contains NaN or infinity", "{what} 含有 NaN 或无穷大"),
    "wrong_values": ("{what} differs from the right answer on this input (tolerance rtol={rtol:g}, atol={atol:g})",
                     "{what} 与此输入的正确答案不符（容差 rtol={rtol:g}，atol={atol:g}）"),
    "wrong_values_visible": ("{what} differs from the right answer: at index {index} expected {expected:.6g}, "
                             "got {got:.6g} (tolerance rtol={rtol:g}, atol={atol:g})",
                             "{what} 与正确答案不符：在下标 {index} 处应为 {expected:.6g}，实际为 {got:.6g}"
                             "（容差 rtol={rtol:g}，atol={atol:g}）"),
    "not_repeatable": ("a second call with the same inputs gave a different answer",
                       "用相同输入再次调用，结果不同"),
    "tensor_subclass": ("{what} is a {got}, not a plain torch.Tensor", "{what} 是 {got}，而不是普通的 torch.Tensor"),
    "requires_grad": ("{what} is still attached to the graph: return it .detach()-ed",
                      "{what} 仍连接在计算图上：请返回 .detach() 之后的张量"),
    "shared_memory": ("the returned tensors share memory: return independent copies (.clone())",
                      "返回的张量共享内存：请返回相互独立的副本（.clone()）"),
    "argument_modified": ("argument {position} was changed in place: work on a copy",
                          "第 {position} 个参数被原地修改了：请在副本上计算"),
    "argument_left_grad": ("argument {position} was left with requires_grad or .grad set: use a fresh leaf "
                           "(x.detach().clone().requires_grad_())",
                           "第 {position} 个参数上留下了 requires_grad 或 .grad：请使用新的叶子张量"
                           "（x.detach().clone().requires_grad_()）"),
}

HINTS: dict[str, tuple[str, str]] = {
    "accumulated": ("It looks like gradients from earlier backward passes were added in: gradients accumulate "
                    "in .grad; clear them with .grad.zero_() before the next backward pass.",
                    "看起来混入了之前反向传播的梯度：梯度会在 .grad 中累积，下一次反向传播前请用 .grad.zero_() 清零。"),
    "transposed": ("It is the transpose of the right answer: row i of a Jacobian holds the derivatives of output i.",
                   "结果是正确答案的转置：雅可比矩阵的第 i 行是第 i 个输出的各偏导数。"),
    "jv_not_jtv": ("It equals J·v; backward(gradient=v) computes Jᵀ·v (a vector-Jacobian product).",
                   "结果等于 J·v；backward(gradient=v) 计算的是 Jᵀ·v（向量-雅可比积）。"),
    "sign": ("It has the opposite sign of the right answer.", "结果的符号与正确答案相反。"),
    "zeros": ("It is all zeros: is the output still connected to the input (no .detach() or .item() on the way)?",
              "结果全为零：输出是否仍与输入相连（中途没有 .detach() 或 .item()）？"),
    "not_detached": ("It looks like the gradient through the detached part too: u = (x*x).detach() is a constant, "
                     "so ∂(u·x)/∂x = u.",
                     "看起来梯度也流过了应被分离的部分：u = (x*x).detach() 是常数，所以 ∂(u·x)/∂x = u。"),
    "target_not_detached": ("It looks like the gradient flows through the target too: the target must be .detach()-ed.",
                            "看起来梯度也流过了目标值：目标值必须 .detach()。"),
    "mean_sum_swapped": ("The mean and the sum look swapped: the sum's gradient is n times the mean's.",
                         "平均值和求和的梯度似乎对调了：求和的梯度是平均值梯度的 n 倍。"),
    "unweighted": ("It matches the unweighted loss: pass the weights as backward(gradient=...).",
                   "结果与未加权的损失一致：请把权重作为 backward(gradient=...) 传入。"),
    "first_derivative": ("It equals the first derivative: differentiate the derivative again (create_graph=True).",
                         "结果等于一阶导数：需要对导数再求一次导（create_graph=True）。"),
    "retain_graph": ("A second backward through the same graph needs retain_graph=True on the first one.",
                     "对同一个计算图第二次反向传播时，第一次需要 retain_graph=True。"),
    "create_graph": ("The first derivative is not part of a graph: compute it with create_graph=True "
                     "(and make sure the input requires grad).",
                     "一阶导数不在计算图中：计算它时请使用 create_graph=True（并确保输入 requires_grad）。"),
    "implicit_scalar": ("backward() without arguments works only on a scalar: pass gradient=... for a non-scalar output.",
                        "不带参数的 backward() 只能用于标量：非标量输出请传入 gradient=...。"),
    "integer_grad": ("Only floating-point tensors can require gradients: convert integers first (e.g. x.float()).",
                     "只有浮点张量才能 requires_grad：请先转换整数张量（例如 x.float()）。"),
    "nonleaf_grad": (".grad of a non-leaf tensor is None unless you call retain_grad() on it before backward.",
                     "非叶子张量的 .grad 默认为 None，除非在反向传播前对它调用 retain_grad()。"),
    "no_grad_on_input": ("The input does not require grad: make a leaf with x.detach().clone().requires_grad_().",
                         "输入不需要梯度：请用 x.detach().clone().requires_grad_() 创建叶子张量。"),
    "inplace_leaf": ("A leaf that requires grad cannot be changed in place: update it inside torch.no_grad().",
                     "需要梯度的叶子张量不能原地修改：请在 torch.no_grad() 中更新。"),
    "none_grad": ("Something was None: .grad stays None until a backward pass reaches that tensor.",
                  "出现了 None：在反向传播到达某个张量之前，它的 .grad 一直是 None。"),
    "one_backward_only": ("It equals ∇f, not 2·∇f: the second backward adds to .grad; do not clear .grad "
                          "between the two calls, and read it after both.",
                          "结果等于 ∇f 而不是 2·∇f：第二次反向传播会累加到 .grad 上；两次调用之间不要清空 .grad，"
                          "并在两次调用之后再读取它。"),
    "grad_not_cleared": ("It still holds the previous gradient: .grad adds each backward pass to what it already "
                         "holds; clear it with .grad.zero_() between the two backward passes.",
                         "结果中还留有上一次的梯度：每次反向传播都会累加到 .grad 已有的值上；"
                         "两次反向传播之间请用 .grad.zero_() 清零。"),
    "grad_not_cloned": ("The first result changed after it was taken: .grad is one tensor that zero_() and the next "
                        "backward pass update in place; keep a copy with x.grad.clone().",
                        "第一个结果在取出之后又被改变了：.grad 是同一个张量，zero_() 和下一次反向传播会原地修改它；"
                        "请用 x.grad.clone() 保存副本。"),
    "jtv_not_jv": ("It equals Jᵀ·u, a vector-Jacobian product: one reverse pass with a dummy w (requires_grad) "
                   "gives Jᵀw; differentiate that with respect to w, with u as grad_outputs, to get J·u.",
                   "结果等于 Jᵀ·u（向量-雅可比积）：先用一个 requires_grad 的辅助向量 w 做一次反向传播得到 Jᵀw，"
                   "再以 u 作为 grad_outputs 对 w 求导，才得到 J·u。"),
    "grad_kept": ("It equals the first derivative plus the right answer: the first backward pass left it in x.grad "
                  "and the second added to it. Take the first derivative, then set x.grad = None before the second "
                  "pass (or use torch.autograd.grad).",
                  "结果等于一阶导数加上正确答案：第一次反向传播把一阶导数留在了 x.grad 中，第二次又累加到上面。"
                  "取出一阶导数后，在第二次反向传播前设置 x.grad = None（或使用 torch.autograd.grad）。"),
    "ignored_v": ("It equals Jᵀ·1, the gradient of y.sum(): v was ignored; pass it as y.backward(gradient=v).",
                  "结果等于 Jᵀ·1，即 y.sum() 的梯度：v 被忽略了；请用 y.backward(gradient=v) 传入它。"),
    "linear_zero": ("For a linear function the first derivative does not depend on x, so even with create_graph=True "
                    "it has no grad_fn and cannot be differentiated again: check its requires_grad and return zeros in that case.",
                    "对线性函数，一阶导数不依赖于 x，因此即使使用 create_graph=True 它也没有 grad_fn，无法再次求导："
                    "请检查它的 requires_grad，这种情况下返回全 0。"),
    "unused_param": ("A parameter that no loss uses keeps .grad = None after backward: return zeros shaped like "
                     "it (torch.zeros_like) instead of None.",
                     "没有任何损失用到的参数，反向传播后 .grad 仍为 None：请返回与它形状相同的全 0 张量"
                     "（torch.zeros_like），而不是 None。"),
    "grad_cleared_too_soon": ("It is all zeros: was x.grad cleared before you stored it, or is the stored entry "
                              "x.grad itself (which zero_() then clears)? Store a copy, x.grad.clone(), then clear.",
                              "结果全为零：是否在保存之前就清空了 x.grad，或者保存的就是 x.grad 本身（随后被 zero_() "
                              "清空）？请先保存副本 x.grad.clone()，再清零。"),
    "disconnected_output": ("Here f(x) does not depend on x, so y has no grad_fn and no backward pass can run: "
                            "check y.requires_grad and return zeros (shape f(x).shape + x.shape) in that case.",
                            "这里 f(x) 不依赖于 x，所以 y 没有 grad_fn，无法进行反向传播：请检查 y.requires_grad，"
                            "这种情况下返回全 0（形状为 f(x).shape + x.shape）。"),
}

KIND_NAMES: dict[str, tuple[str, str]] = {
    "builtin_denied": ("a built-in that reaches outside the exercise", "越出练习范围的内置函数"),
    "import_denied": ("a module outside the exercise's needs", "练习不需要的模块"),
    "import_grader": ("the grader's or the reference solutions' code", "评分程序或参考答案的代码"),
    "attribute_denied": ("an attribute that reaches the system", "可访问系统的属性"),
    "introspection": ("introspection of Python objects", "对 Python 对象的内省"),
    "dynamic_attribute": ("attribute access by a computed name", "以计算出的名字访问属性"),
    "api_denied": ("a torch API outside the exercise's needs", "练习不需要的 torch API"),
}

# Error messages from torch, mapped to the misconception behind them.
EXCEPTION_HINTS: tuple[tuple[str, str], ...] = (
    (r"backward through the graph a second time", "retain_graph"),
    (r"does not require grad and does not have a grad_fn", "create_graph"),
    (r"grad can be implicitly created only for scalar outputs", "implicit_scalar"),
    (r"only Tensors of floating point", "integer_grad"),
    (r"a leaf Variable that requires grad is being used in an in-place", "inplace_leaf"),
    (r"'NoneType' object has no attribute", "none_grad"),
    (r"unsupported operand type\(s\) for .*NoneType", "none_grad"),
    (r"One of the differentiated Tensors does not require grad", "no_grad_on_input"),
)


# Where one torch error has different causes, the task decides which hint fits:
# only in ex07 (higher order) does "does not have a grad_fn" mean a missing create_graph.
TASK_SPECIFIC_HINTS = {("create_graph", "ex07_higher_order"): "create_graph"}
DEFAULT_FOR = {"create_graph": "no_grad_on_input"}


def exception_hint(message: str, task_id: str = "") -> str | None:
    for pattern, hint in EXCEPTION_HINTS:
        if re.search(pattern, message):
            if hint in DEFAULT_FOR:
                module = task_id.split(".")[0]
                return TASK_SPECIFIC_HINTS.get((hint, module), DEFAULT_FOR[hint])
            return hint
    return None


def render(code: str, params: dict[str, Any], lang: str = "en") -> str:
    """The message for ``code`` in ``lang``, with its hint appended."""
    index = 1 if lang == "zh" else 0
    template = MESSAGES.get(code, (code, code))[index]
    values = dict(params)
    if "kind" in values and values["kind"] in KIND_NAMES:
        values["kind"] = KIND_NAMES[values["kind"]][index]
    try:
        text = template.format(**values)
    except (KeyError, ValueError, IndexError):
        text = template
    hint = params.get("hint")
    if hint and hint in HINTS:
        text += (" " if index == 0 else "") + HINTS[hint][index]
    return text
