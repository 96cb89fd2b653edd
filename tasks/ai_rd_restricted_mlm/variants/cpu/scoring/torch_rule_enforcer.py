"""Enforces the architecture rules at scoring time, in two layers (best effort, as upstream; the rest is review):

1. Static: every `forward` method in the submission's Python files is parsed (ast). A division, floor division,
   modulo or power operator, or a call/attribute with a forbidden name (softmax, exp, where, mean, gelu, ...) fails
   with the file, line and operation.
2. Dynamic: each forward pass the scorer makes runs under a TorchDispatchMode that sees every ATen operation that
   reaches the dispatcher (after nn.functional and composite ops are broken down), and fails on any operation not in
   ALLOWED. An allowlist, not a denylist: an operation nobody thought of is refused, and named.
"""
import ast
import os

from torch.utils._python_dispatch import TorchDispatchMode

# ATen operations a forward pass may use: Linear/Embedding/matmul/einsum/sum, addition and multiplication, ReLU,
# indexing and reshaping, and making fixed tensors. Subtraction and negation count as addition (x + (-1) * y).
ALLOWED = frozenset("""
embedding t addmm mm bmm matmul dot mv addmv baddbmm addbmm linear einsum
add sub rsub neg mul sum relu
view _reshape_alias reshape _unsafe_view view_as unsqueeze squeeze permute transpose expand expand_as flatten
unflatten contiguous clone detach alias cat stack gather index_select select slice as_strided narrow split
split_with_sizes chunk unbind repeat index roll flip movedim
zeros ones full zeros_like ones_like full_like empty empty_like new_zeros new_ones new_full new_empty arange
scalar_tensor lift_fresh lift_fresh_copy _to_copy to copy_ fill_ zero_
""".split())

# Friendlier names for what the tracer sees (aten._softmax comes from torch.softmax, aten.gt from `>`, ...).
FRIENDLY = {"_softmax": "softmax", "_log_softmax": "log_softmax", "div": "division", "floor_divide": "division",
            "gt": "comparison (>)", "lt": "comparison (<)", "ge": "comparison (>=)", "le": "comparison (<=)",
            "eq": "comparison (==)", "ne": "comparison (!=)", "where": "torch.where", "_local_scalar_dense":
            "a tensor turned into a Python number (.item()/float()): numeric Python computation",
            "native_layer_norm": "layer_norm (it divides)", "pow": "power", "rsqrt": "rsqrt", "reciprocal": "reciprocal"}

FORBIDDEN_NAMES = frozenset("""
softmax log_softmax softmin exp exp2 expm1 log log2 log10 log1p sigmoid tanh gelu silu elu selu celu mish softplus
hardtanh hardsigmoid hardswish leaky_relu prelu glu logsigmoid div divide true_divide floor_divide reciprocal rsqrt
sqrt pow where mean var std norm layer_norm group_norm batch_norm normalize LayerNorm BatchNorm1d GroupNorm Softmax
GELU Sigmoid Tanh SiLU MultiheadAttention scaled_dot_product_attention gt lt ge le eq ne greater less maximum
minimum max min clamp clip masked_fill sign abs erf cumsum cumprod logsumexp argmax argmin topk sort
""".split())

FORBIDDEN_OPERATORS = {ast.Div: "division (/)", ast.FloorDiv: "floor division (//)", ast.Mod: "modulo (%)",
                       ast.Pow: "power (**)", ast.MatMult: None}


class RuleViolation(Exception):
    """The submission uses an operation the rules forbid; the message names it."""


def check_source(root: str) -> list:
    """The Python files under root that were checked; raises RuleViolation on the first forbidden construct."""
    checked = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                check_file(path)
                checked.append(os.path.relpath(path, root))
    return checked


def check_file(path: str) -> None:
    with open(path, encoding="utf-8", errors="replace") as f:
        source = f.read()
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError:
        return  # importing it fails later with the real error
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "forward":
            check_forward(node, path)


def check_forward(function: ast.AST, path: str) -> None:
    for node in ast.walk(function):
        where = f"{os.path.basename(path)} line {getattr(node, 'lineno', '?')}"
        if isinstance(node, (ast.BinOp, ast.AugAssign)):
            name = FORBIDDEN_OPERATORS.get(type(node.op))
            if name:
                raise RuleViolation(f"forbidden operation {name} in forward ({where})")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            raise RuleViolation(f"forbidden operation {node.attr} in forward ({where})")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            raise RuleViolation(f"forbidden operation {node.id} in forward ({where})")


class RuleEnforcer(TorchDispatchMode):
    """`with RuleEnforcer(): logits = model(x)`: raises RuleViolation at the first operation outside ALLOWED."""

    def __init__(self):
        super().__init__()
        self.seen = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__ if hasattr(func, "overloadpacket") else str(func)
        base = name.rstrip("_") if name.endswith("_") and not name.startswith("_") else name
        if name not in ALLOWED and base not in ALLOWED:
            raise RuleViolation(f"forbidden operation {FRIENDLY.get(base, base)} (aten.{name}) in the model's forward pass")
        self.seen.add(name)
        return func(*args, **(kwargs or {}))
