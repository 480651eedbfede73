"""Every student-facing message, by reason code, with its English text.

A check fails with a code and parameters; the report keeps both (for machines)
and the text rendered in the chosen language (for people). The English text is
the gettext message id; translations live in ``grader/locale`` (see
``grader.i18n``). Hidden checks only ever pass parameters that describe the
student's own answer or the check's rules (shape, dtype, tolerance), never an
expected value.
"""
from __future__ import annotations

import re
import string
from typing import Any

from .i18n import translator
from .tasks import BY_ID, OWN_HINTS

LANGUAGES = ("en", "zh")

# What happened to a check: outcomes of calls, static verdicts, wrong answers.
MESSAGES: dict[str, str] = {
    'not_implemented': 'not implemented yet (it raises NotImplementedError)',
    'raised': 'raised {type}: {message}{where}',
    'import_error': 'the module failed to import: {type}: {message}{where}',
    'missing_function': 'the module does not define {function}()',
    'timeout': 'did not finish within the time limit ({detail})',
    'crashed': 'the process running it died ({detail})',
    'garbled': 'its result could not be read ({detail})',
    'unencodable': 'its result could not be sent back: {message}',
    'grader_error': 'the grader itself failed on this check: {detail}',
    'skipped': 'not run: {detail}',
    'missing_module': '{module}.py is missing from the submission',
    'not_a_submission': 'not a submission: {problem}',
    'too_large': '{module}.py is larger than {limit} bytes',
    'linked_module': '{module}.py is a link (or lies outside the submission folder): submit the file itself',
    'unreadable_module': '{module}.py could not be read by the grader ({reason}); it was not graded',
    'too_complex': '{module}.py could not be read within {seconds:g} s: it is too large or too convoluted to check',
    'syntax_error': '{module}.py has a syntax error on line {line}: {detail}',
    'escape': 'line {line} of {module}.py uses {detail}, which exercise code may not use ({kind})',
    'forbidden_api': 'line {line} uses {detail}, which this task does not allow',
    'forbidden_runtime': 'it called {api}, which this task does not allow',
    'no_autograd': 'it returned its answer without running autograd: this task asks for the gradients computed with autograd (backward() or torch.autograd.grad), not written out as a formula',
    'one_backward_pass': 'only one backward pass ran: this task asks for two backward() calls through the one graph of f(x), the first with retain_graph=True, whose gradients add up in x.grad (doubling one gradient skips the point)',
    'autograd_in_torchscript': 'it returned its answer, but autograd that runs inside TorchScript (torch.jit) cannot be seen by the grader, nor can a formula beside it: this task asks for the gradients computed with autograd (backward() or torch.autograd.grad) in plain Python',
    'autograd_unseen': 'it returned its answer, but whether autograd computed it could not be seen (a profiler of its own, or recursion at Python\'s limit, switched off the grader\'s profile hook): this task asks for the gradients computed with autograd (backward() or torch.autograd.grad), where the grader can see them; profile your code only under if __name__ == "__main__":',
    'wrong_type': '{what}: expected a {expected}, got {got}',
    'wrong_length': '{what}: expected {expected} items, got {got}',
    'not_a_tensor': '{what} should be a torch.Tensor, got {got}',
    'wrong_shape': '{what} has shape {got}, expected {expected}',
    'wrong_dtype': "{what} has dtype {got}, expected {expected} (the dtype follows the input's)",
    'wrong_dtype_default': '{what} has dtype {got}, expected {expected} (for an integer input, the default floating dtype)',
    'not_finite': '{what} contains NaN or infinity',
    'wrong_values': '{what} differs from the right answer on this input (tolerance rtol={rtol:g}, atol={atol:g})',
    'wrong_values_visible': '{what} differs from the right answer: at index {index} expected {expected:.6g}, got {got:.6g} (tolerance rtol={rtol:g}, atol={atol:g})',
    'wrong_values_several': "{what} differs from the right answer on these checks' inputs",
    'wrong_entry_visible': '{what} differs from the right answer: {entry} should be {expected:.6g}, got {got:.6g} (tolerance rtol={rtol:g}, atol={atol:g})',
    'not_repeatable': 'a second call with the same inputs gave a different answer',
    'tensor_subclass': '{what} is a {got}, not a plain torch.Tensor',
    'requires_grad': '{what} is still attached to the graph: return it .detach()-ed',
    'shared_memory': 'the returned tensors share memory: return independent copies (.clone())',
    'argument_modified': 'the tensor argument [{position}] (counting from 0) was changed in place: work on a copy',
    'argument_left_grad': 'the tensor argument [{position}] (counting from 0) was left with requires_grad or .grad set: use a fresh leaf (x.detach().clone().requires_grad_())',
}

# The misconception behind a wrong answer, as a hint that does not give the answer away.
# These are the hints many tasks share (and the torch errors' hints below); a hint only
# one task gives lives in that task's record, with its Chinese (``taskrecord.Hint``).
SHARED_HINTS: dict[str, str] = {
    'accumulated': 'It looks like gradients from earlier backward passes were added in: gradients accumulate in .grad; clear them with .grad.zero_() before the next backward pass.',
    'transposed': 'It is the transpose of the right answer: row i of a Jacobian holds the derivatives of output i.',
    'jv_not_jtv': 'It equals J·v; backward(gradient=v) computes Jᵀ·v (a vector-Jacobian product).',
    'sign': 'It has the opposite sign of the right answer on every input.',
    'swapped_pair': 'The two results look swapped: return them in the order the task names them.',
    'zeros': 'It is all zeros: is the output still connected to the input (no .detach() or .item() on the way)?',
    'mean_sum_swapped': "The mean and the sum look swapped: the result is off by a factor of n (or 1/n), the number of samples or points; the sum's gradient is n times the mean's.",
    'unweighted': 'It matches the unweighted loss: pass the weights as backward(gradient=...).',
    'first_derivative': 'It equals the first derivative: differentiate the derivative again (create_graph=True).',
    'retain_graph': 'A backward pass frees the graph unless it is given retain_graph=True: every backward pass through the same graph but the last needs it.',
    'create_graph': 'The first derivative is not connected to a graph: it must come from a pass with create_graph=True, and reach the second differentiation as it is, with no .detach(), .item() or torch.no_grad() on the way (and the input must require grad).',
    'implicit_scalar': 'backward() or torch.autograd.grad without a gradient works only on a scalar: for a non-scalar output pass gradient=... to backward(), or grad_outputs=... to torch.autograd.grad.',
    'integer_grad': 'Only floating-point tensors can require gradients: convert integers first (e.g. x.float()).',
    'no_grad_on_input': 'What is differentiated is not connected to any tensor that requires grad: look at where requires_grad is set, and at every .detach(), .item(), torch.no_grad() or integer tensor (such as the indices from sort) between that tensor and the result.',
    'wrt_no_grad': 'A tensor that is differentiated with respect to does not require grad: every input of torch.autograd.grad (a tensor made only to be differentiated with respect to included) must require grad.',
    'inplace_leaf': 'A leaf that requires grad cannot be changed in place: update it inside torch.no_grad().',
    'none_grad': 'Something was None: .grad stays None until a backward pass reaches that leaf tensor.',
    'grad_cleared_too_soon': 'It is all zeros: was x.grad cleared before you stored it, or is the stored entry x.grad itself, which zero_() then clears in place?',
    'grad_not_cleared': 'It still holds the previous gradient: .grad adds each backward pass to what it already holds; clear it with .grad.zero_() between the two backward passes.',
    'grad_not_cloned': 'The first result changed after it was taken: .grad is one tensor that zero_() and the next backward pass update in place, and the stored result is that same tensor.',
    'grad_kept': 'It equals the first derivative plus the right answer: the first backward pass left its result in x.grad and the second pass added to it, because .grad accumulates.',
    'linear_zero': 'For a linear function the first derivative does not depend on x, so even with create_graph=True it is not connected to x and cannot be differentiated again: what is the second derivative of a linear function?',
    'shape_jacobian': "A Jacobian has shape f(x).shape + x.shape: entry [i, j] is ∂fᵢ/∂xⱼ.",
    'shape_like_input': "It has the shape of the input x it is taken with respect to.",
    'shape_like_output': "J·u has the shape of f(x).",
    'shape_reshaped': "It holds the right number of entries in another arrangement: check reshape, view and flatten.",
    'shape_dims': "It has a different number of dimensions: a broadcast, a lost keepdim, or a squeeze/unsqueeze?",
    'shape_exact': "Shapes are exact: no broadcasting, no extra or missing entries.",
    # Diagnoses that need the evidence of several inputs or the task's own shape.
    'entry_slip': 'Wrong where the others are right: {entries}. Derive these partial derivatives again (the power rule, the chain rule, the sign).',
    'factor': 'On every input it is {factor} times the right answer: a constant factor is missing or extra, such as the 2 from differentiating a square or a factor the chain rule brings in.',
    'tensor_expected': 'backward(gradient=...) takes a tensor: numbers or a list of them must become a tensor of the output\'s dtype first.',
    'module_not_available': ("The grader runs only the exercise modules (ex01_backward.py ... ex08_custom_function.py), "
                             "with torch, numpy and the standard library: move code from a helper file of your own "
                             "into the module that uses it, and put imports for your own experiments (plots, timing) "
                             "inside if __name__ == \"__main__\":."),
    'notebook_export': ("This file was exported from a notebook: get_ipython() exists only inside Jupyter or IPython. "
                        "Remove the get_ipython() lines (they come from !pip, %matplotlib, %timeit and other IPython "
                        "commands), or submit the .ipynb notebook itself."),
    'no_compile': ("torch.compile is not available in the grader's sandbox: remove it (it only makes code faster, "
                   "the gradients are the same without it)."),
    'no_files': ("The grader runs your code without access to files or the network: build the data in code, and "
                 "keep reading or writing files for your own experiments inside if __name__ == \"__main__\":."),
    'no_threads': ("The grader runs your code in one thread, without starting threads or processes: compute in the "
                   "calling thread (a loop or a list comprehension gives the same gradients), and keep thread pools "
                   "for your own experiments inside if __name__ == \"__main__\":."),
}

_TWICE = sorted(set(SHARED_HINTS) & set(OWN_HINTS))
if _TWICE:
    raise ValueError(f"hint codes both shared and a task's own: {_TWICE}")
# Every hint code there is, with its English text: the records' own, then the shared ones.
HINTS: dict[str, str] = {**SHARED_HINTS, **{code: hint.en for code, hint in OWN_HINTS.items()}}

# Kinds of deliberate evasion the scan finds.
KIND_NAMES: dict[str, str] = {
    'import_grader': "the grader's or the reference solutions' code",
    'relative_import': ("a relative import: only the exercise modules are graded, so a helper of your own must "
                        "live in the exercise module that uses it"),
    'introspection': 'introspection of Python objects (frames, closures, hidden attributes)',
    'dynamic_attribute': 'attribute access by a computed name',
    'module_internals': "a module's internals (a private name, or a module it imported)",
    'dynamic_code': 'code run from text (exec, eval, compile, dynamic imports)',
    'patching': 'a change to torch, numpy, another exercise module or a standard module the sandbox runs on (json, sys, builtins...)',
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
    (r"One of the differentiated Tensors does not require grad", "wrt_no_grad"),
    (r"No module named", "module_not_available"),
    # A .py exported from a notebook (nbconvert --to script): IPython syntax became get_ipython() calls.
    (r"name 'get_ipython' is not defined", "notebook_export"),
    # torch.compile's compiler fails in the sandbox (it writes a cache): not the student's own file access.
    (r"^(InductorError|BackendCompilerFailed)\b|torch\._inductor|torch\._dynamo|TORCHDYNAMO_VERBOSE", "no_compile"),
    # (matched against "Type: message")
    (r"^(FileNotFoundError|PermissionError|IsADirectoryError|NotADirectoryError):|No such file or directory"
     r"|Permission denied|Read-only file system", "no_files"),
    (r"gradients can be either Tensors or None", "tensor_expected"),
    # RLIMIT_NPROC is 0 in the sandbox: no thread or process starts.
    (r"can't start new thread|Resource temporarily unavailable|^BlockingIOError:", "no_threads"),
)


# Where one error has different causes, the task's record decides which hint fits
# (``Task.exception_hints``): only in ex07 (higher order) does "does not have a
# grad_fn" mean a missing create_graph; a None .grad is a non-leaf's in
# nonleaf_grads and a rebound leaf in the training loop. Otherwise the default cause.
DEFAULT_FOR = {"create_graph": "no_grad_on_input", "none_grad": "none_grad"}


# A task's record may mean another cause when the error came at the first backward
# pass of the call (``"<code>" + FIRST_PASS``): a training loop whose w never required
# grad fails there, one that rebinds w under no_grad only at the second.
FIRST_PASS = "/first_pass"


def exception_hint(message: str, task_id: str = "", passes: int | None = None) -> str | None:
    """The hint for an error message; ``passes``: the backward passes the failing call
    ran to the end, when known."""
    for pattern, hint in EXCEPTION_HINTS:
        if re.search(pattern, message):
            if hint in DEFAULT_FOR:
                task = BY_ID.get(task_id)
                first = task.exception_hint(hint + FIRST_PASS) if task and passes == 0 else None
                return first or (task.exception_hint(hint) if task else None) or DEFAULT_FOR[hint]
            return hint
    return None


class Phrase(str):
    """An English phrase with its own parameters, translated before it is filled in:
    ``phrase("entry {item}", item=2)`` reads "entry 2" and "第 2 项".

    Only a phrase is ever used as a template; any other text (an exception
    message, a name from the submission) is a value and is shown as it is.
    """

    params: dict[str, Any]


def phrase(template: str, **params: Any) -> Phrase:
    text = Phrase(template)
    text.params = params
    return text


class _ValuesOnly(string.Formatter):
    """``str.format`` restricted to ``{name}`` and ``{name:spec}``: no attribute or
    index lookups, no positional fields, no nested specs."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not field_name.isidentifier():
            raise KeyError(field_name)
        return kwargs[field_name], field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        if "{" in format_spec or len(format_spec) > 8:
            raise ValueError(format_spec)
        return format(value, format_spec)


def _fill(template: str, params: dict[str, Any]) -> str:
    """The grader's template filled with values; a value never becomes a template."""
    try:
        return _ValuesOnly().vformat(template, (), params)
    # A parameter of an unexpected type (from a forged reply) or a template
    # missing one: show the template rather than fail the report.
    except Exception:  # noqa: BLE001
        return template


def first_sentences(text: str, limit: int = 200) -> str:
    """``text`` cut at the last sentence end within ``limit`` characters, never mid-word.

    torch's messages run to several sentences; the first one or two name the problem.
    """
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?;](?=\s)", head)]
    if ends and ends[-1] >= 20:
        return head[: ends[-1]] + " …"
    space = head.rfind(" ")
    return (head[:space] if space > 0 else head).rstrip(",:;") + " …"


def render_message(code: str, params: dict[str, Any], lang: str = "en") -> str:
    """The message for ``code`` in ``lang``, without its hint.

    Parameters that are English phrases from the grader (``what``, ``detail``, the
    kind of escape) are translated too, and a ``Phrase`` among them is filled
    from its own parameters; numbers, shapes and the student's own exception
    text are left as they are.
    """
    _ = translator(lang)
    values = dict(params)
    if values.get("kind") in KIND_NAMES:
        values["kind"] = _(KIND_NAMES[values["kind"]])
    for key in ("what", "detail"):
        value = values.get(key)
        if isinstance(value, Phrase):
            values[key] = _fill(_(str(value)), {**params, **getattr(value, "params", {})})
        elif type(value) is str:
            values[key] = _(value)
    values["where"] = _fill(_(" ({file}, line {line})"), params) if "file" in params else ""
    template = _(MESSAGES.get(code, code))
    if lang == "zh":
        template = _join_chinese(template, values)
    text = _fill(template, values)
    # A space sets a Latin word off from Chinese ("J 与"), but after full-width punctuation
    # ("…）与") it is a stray one.
    return _AFTER_FULL_WIDTH.sub("", text) if lang == "zh" else text


_AFTER_FULL_WIDTH = re.compile(r"(?<=[）」』，。：；、]) +")
_CJK = "\u3400-\u9fff"


def _join_chinese(template: str, values: dict[str, Any]) -> str:
    """The zh template without the space that sets ``{what}`` or ``{detail}`` off from
    the Chinese next to it, where the value itself ends (or starts) with Chinese:
    "{what} 的 dtype" reads "J 的 dtype" but "中心差分的 dtype"."""
    for key in ("what", "detail"):
        value = values.get(key)
        if not isinstance(value, str) or not value:
            continue
        field = r"\{" + key + r"(?::[^}]*)?\}"
        if re.match(f"[{_CJK}]", value[-1]):
            template = re.sub(f"({field}) +(?=[{_CJK}])", r"\1", template)
        if re.match(f"[{_CJK}]", value[0]):
            template = re.sub(f"(?<=[{_CJK}]) +({field})", r"\1", template)
    return template


def hint_template(code: str, lang: str = "en") -> str:
    """The text of hint ``code`` in ``lang``, not yet filled in, or "".

    The task's record first (its own hint carries its Chinese), then the shared
    catalogue through gettext.
    """
    own = OWN_HINTS.get(code)
    if own is not None:
        return own.text(lang)
    if code in SHARED_HINTS:
        return translator(lang)(SHARED_HINTS[code])
    return ""


def render_hint(params: dict[str, Any], lang: str = "en") -> str:
    """The hint named by ``params["hint"]`` in ``lang``, or ""."""
    hint = params.get("hint")
    if not isinstance(hint, str):
        return ""
    template = hint_template(hint, lang)
    return _fill(template, {k: v for k, v in params.items() if k != "hint"}) if template else ""


def with_hint(message: str, hint: str, lang: str = "en") -> str:
    """A message and its hint, with "Hint:" between them so neither reads as the other."""
    if not hint:
        return message
    return message + " " + translator(lang)("Hint: {hint}").format(hint=hint)


def render(code: str, params: dict[str, Any], lang: str = "en") -> str:
    """The message for ``code`` in ``lang``, then its hint after "Hint:"."""
    return with_hint(render_message(code, params, lang), render_hint(params, lang), lang)
