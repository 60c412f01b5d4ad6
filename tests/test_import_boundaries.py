"""The one rule of dependencies (DESIGN.md), enforced on every import statement of the source tree.

    cli -> mapa_train -> metadata -> wai;  wai_converters -> wai;  cli -> wai_converters, metadata, wai

`wai` imports none of the other packages, nothing imports `cli`, and `import wai`, `import wai_converters` and
`import metadata` never import torch. The static checks walk every file with `ast` (imports inside functions
count too: a deferred import is still a dependency); the subprocess checks confirm the torch rule at run time.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: What each package may import from the project (besides itself).
ALLOWED: dict[str, set[str]] = {
    "wai": set(),
    "wai_converters": {"wai"},
    "metadata": {"wai"},
    "mapa_train": {"metadata", "wai"},
    "cli": {"mapa_train", "metadata", "wai_converters", "wai"},
}
PACKAGES = tuple(ALLOWED)

#: Packages that must import without torch, and third-party modules that import torch when imported.
TORCH_FREE = ("wai", "wai_converters", "metadata")
TORCH_IMPORTERS = ("torch", "torchvision", "accelerate", "safetensors.torch", "timm", "kornia", "lightning")


@dataclass(frozen=True)
class Import:
    """One imported module name, where it is imported, and whether it runs when the importing module loads."""

    module: str  # the importing module, e.g. "wai.stages.runner"
    target: str  # the imported module, absolute, e.g. "wai.stages.slurm"
    file: str
    line: int
    at_import_time: bool  # False inside a function body or an `if TYPE_CHECKING:` block


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module of a `from ... import` (relative imports resolved against `module`)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> list[Import]:
    """Every import in the file at `path`."""
    module = module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, runtime: bool) -> None:
        for child in ast.iter_child_nodes(node):
            child_runtime = runtime
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                child_runtime = False
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_stmt(stmt, False)
                for stmt in child.orelse:
                    visit_stmt(stmt, runtime)
                continue
            visit_stmt(child, child_runtime, recurse=False)
            visit(child, child_runtime)

    def visit_stmt(node: ast.AST, runtime: bool, recurse: bool = True) -> None:
        rel = path.relative_to(REPO).as_posix()
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, rel, node.lineno, runtime))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, is_package)
            found.append(Import(module, base, rel, node.lineno, runtime))
            for alias in node.names:  # `from pkg import submodule` imports pkg.submodule
                if alias.name != "*":
                    found.append(Import(module, f"{base}.{alias.name}", rel, node.lineno, runtime))
        if recurse:
            visit(node, runtime)

    visit(tree, True)
    return found


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py") if "__pycache__" not in p.parts)


ALL_IMPORTS = [imp for path in source_files() for imp in imports_of(path)]
PROJECT_MODULES = {module_name(p) for p in source_files()}


def _top(name: str) -> str:
    return name.split(".")[0]


def test_the_walk_sees_the_packages() -> None:
    """Guards the guard: the walker finds files and imports of every package, including deferred ones."""
    seen = {_top(imp.module) for imp in ALL_IMPORTS}
    assert {"wai", "wai_converters", "cli", "mapa_train"} <= seen
    assert any(not imp.at_import_time for imp in ALL_IMPORTS if imp.module == "cli.mapa_train_cli")


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_what_the_rule_allows(package: str) -> None:
    bad = [
        f"{imp.file}:{imp.line}: {imp.module} imports {imp.target}"
        for imp in ALL_IMPORTS
        if _top(imp.module) == package
        and _top(imp.target) in PACKAGES
        and _top(imp.target) != package
        and _top(imp.target) not in ALLOWED[package]
    ]
    assert not bad, f"{package} may import only {sorted(ALLOWED[package]) or 'itself'}:\n" + "\n".join(bad)


def test_nothing_imports_cli() -> None:
    bad = [
        f"{imp.file}:{imp.line}: {imp.module} imports {imp.target}"
        for imp in ALL_IMPORTS
        if _top(imp.target) == "cli" and _top(imp.module) != "cli"
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", TORCH_FREE)
def test_torch_free_packages_import_nothing_that_loads_torch(package: str) -> None:
    bad = [
        f"{imp.file}:{imp.line}: {imp.module} imports {imp.target}"
        for imp in ALL_IMPORTS
        if _top(imp.module) == package
        and imp.at_import_time
        and any(imp.target == t or imp.target.startswith(t + ".") for t in TORCH_IMPORTERS)
    ]
    assert not bad, f"importing {package} would import torch:\n" + "\n".join(bad)


def _project_graph() -> dict[str, set[str]]:
    """module -> project modules it imports (package targets mean the package's __init__)."""
    graph: dict[str, set[str]] = {m: set() for m in PROJECT_MODULES}
    for imp in ALL_IMPORTS:
        if imp.target in PROJECT_MODULES and imp.target != imp.module:
            graph[imp.module].add(imp.target)
    return graph


def find_cycle(graph: dict[str, set[str]], nodes: set[str]) -> list[str] | None:
    """One import cycle among `nodes` (a list that starts and ends with the same module), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node] & nodes):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := dfs(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(nodes):
        if start not in state and (cycle := dfs(start)) is not None:
            return cycle
    return None


def test_find_cycle_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph, set(graph)) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}, {"a", "b"}) is None


def test_wai_stages_modules_do_not_import_each_other_in_a_circle() -> None:
    """Plain modules of `wai.stages` (its `__init__` only re-exports) form no import cycle, deferred ones included."""
    graph = _project_graph()
    nodes = {m for m in PROJECT_MODULES if m.startswith("wai.stages.")}
    assert find_cycle(graph, nodes) is None


@pytest.mark.parametrize(
    "module",
    [
        "wai",
        "wai.stages",
        "wai.validate",
        "wai.synthetic",
        "wai_converters.synthetic",
        "metadata",
        "cli.wai_cli",
    ],
)
def test_data_side_imports_no_torch(module: str) -> None:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", f"importing {module} imported torch"


def test_every_registered_converter_imports_without_torch() -> None:
    code = (
        "import sys\nfrom wai_converters.registry import CONVERTERS\n"
        "for entry in CONVERTERS.values():\n    entry.load()\nprint('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_installed_entry_points_run() -> None:
    for command in (["wai", "--help"], ["mapa-train", "--help"]):
        out = subprocess.run(command, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "Usage:" in out.stdout
