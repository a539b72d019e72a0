"""The package's shape stays livable: no import cycle among its modules (counting lazy
imports inside functions too: a cycle deferred to call time is still a cycle), no module
over 400 lines, no function over 60 lines of code."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "trtllm_mmfast"
MAX_MODULE_LINES = 400
MAX_FUNCTION_CODE_LINES = 60


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = path.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text())
        typing_only = {id(n) for block in ast.walk(tree) if _is_type_checking_block(block) for n in ast.walk(block)}
        for node in ast.walk(tree):  # lazy imports in functions too; not `if TYPE_CHECKING:` ones
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, path, node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_cycles():
    cycles = _cycles(_import_graph())  # a submodule importing its package's __init__ back counts too
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_modules_stay_small():
    big = {name: n for name, p in _modules().items() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert big == {}, f"modules over {MAX_MODULE_LINES} lines: {big}"


def _code_lines(fn: ast.AST, source: list[str]) -> int:
    body = fn.body  # type: ignore[attr-defined]
    start = body[1].lineno if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and len(body) > 1 else body[0].lineno
    lines = source[start - 1 : fn.end_lineno]  # type: ignore[attr-defined]
    return sum(1 for ln in lines if ln.strip() and not ln.strip().startswith("#"))


def test_functions_stay_short():
    long = {}
    for name, path in _modules().items():
        source = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(source))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(node, source)
                if n > MAX_FUNCTION_CODE_LINES:
                    long[f"{name}.{node.name}"] = n
    assert long == {}, f"functions over {MAX_FUNCTION_CODE_LINES} lines of code: {long}"


def test_the_checks_see_a_cycle_and_a_long_function(tmp_path):
    """The checks themselves can fail (on a made-up graph and function)."""
    assert _cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    fn = ast.parse("def f():\n" + "    x = 1\n" * 61).body[0]
    assert _code_lines(fn, ("def f():\n" + "    x = 1\n" * 61).splitlines()) == 61
