"""Layering of the package (DESIGN.md §3), checked statically from the source with :mod:`ast`.

Every ``.py`` under ``optimiser/`` is parsed, and every ``import`` / ``from ... import``
in it is collected, at module level and inside functions and methods alike, with
whether it sits in an ``if TYPE_CHECKING:`` (or ``if typing.TYPE_CHECKING:``) block.
``from optimiser.x import y`` resolves to the module ``optimiser.x.y`` when that is a
module file, else to ``optimiser.x``; relative imports are resolved against the
importing module.

Rules
-----
layers
    base (``_errors``, ``_outputs``, ``problems``, ``policy``, ``geography``,
    ``disclosure``, ``suppression``, ``schema/``, ``_solver/``) < dataset < transport < allocation <
    scenarios < siting < reports = maps < cli, with ``optimiser/__init__.py`` and
    ``optimiser/__main__.py`` above them and ``app/`` (a client of the public API) on
    top. A module imports only from its own layer or lower ones; an upward import only
    under ``TYPE_CHECKING``. ``synth/`` may import base only (it is ranked between base
    and dataset, so anything above base is upward).
synth
    Nothing in the package imports ``optimiser.synth`` (not even under
    ``TYPE_CHECKING``) except ``optimiser/__init__.py`` and ``optimiser/dataset/init*``.
cycles
    The graph of every runtime import (module- and function-level) has no cycle.
façades
    ``from optimiser.<pkg> import name`` (any import that resolves to a subpackage's
    ``__init__``) is used only by ``optimiser/__init__.py``, ``optimiser/__main__.py``,
    ``optimiser/cli/__main__.py`` and the subpackage itself; other modules import the
    defining module.
function-level imports
    Outside ``optimiser/cli/`` (lazy imports for start-up time) no function imports
    from ``optimiser``: a deferred import is how a cycle gets hidden.

The checkers take the path of an ``optimiser`` folder, so :func:`test_checkers_catch_a_
synthetic_tree` runs them on a small tree with planted violations: the layering tests
cannot pass vacuously.
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "optimiser"

#: Ranks of the layers; a module may import from its own rank or a lower one.
RANKS: dict[str, float] = {
    "base": 0,
    "synth": 0.5,
    "dataset": 1,
    "transport": 2,
    "allocation": 3,
    "scenarios": 4,
    "siting": 5,
    "reports": 6,
    "maps": 6,
    "cli": 7,
    "api": 8,
    # the web app is a client of the public API (DESIGN §3: its pages call the public API)
    "app": 9,
}
BASE = frozenset(
    {
        "_errors",
        "_la_codes",
        "_outputs",
        "problems",
        "policy",
        "geography",
        "disclosure",
        "suppression",
        "schema",
        "_solver",
    }
)
#: Modules (besides a subpackage's own ``__init__``) that may import a subpackage's façade.
FACADE_USERS = frozenset({"optimiser", "optimiser.__main__", "optimiser.cli.__main__"})


@dataclass(frozen=True)
class ModuleTree:
    """The modules found under one ``optimiser`` folder.

    Attributes
    ----------
    files : dotted module name -> path of its file.
    packages : dotted names of the packages (folders with an ``__init__.py``).
    """

    files: dict[str, Path]
    packages: frozenset[str]


@dataclass(frozen=True)
class ImportRef:
    """One imported module: ``importer`` imports ``target`` at ``path:line``.

    ``names`` are the names taken from ``target`` (empty for ``import target``);
    ``facade`` is True when ``target`` is a package ``__init__``.
    """

    importer: str
    path: Path
    line: int
    statement: str
    target: str
    names: tuple[str, ...]
    in_function: bool
    type_checking: bool
    facade: bool

    def where(self, root: Path) -> str:
        """``file:line: statement`` with the file relative to ``root``."""
        try:
            rel = self.path.relative_to(root)
        except ValueError:
            rel = self.path
        return f"{rel.as_posix()}:{self.line}: {self.statement}"


def discover(package_dir: Path) -> ModuleTree:
    """Every module under ``package_dir`` (a folder named ``optimiser``), by dotted name."""
    files: dict[str, Path] = {}
    packages: set[str] = set()
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir.parent).with_suffix("")
        if "__pycache__" in rel.parts:
            continue
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
            packages.add(".".join(parts))
        files[".".join(parts)] = path
    return ModuleTree(files=files, packages=frozenset(packages))


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name; None when no layer is assigned to it."""
    parts = module.split(".")
    if parts[0] != "optimiser":
        return None
    if module in ("optimiser", "optimiser.__main__"):
        return "api"
    head = parts[1]
    if head in BASE:
        return "base"
    return head if head in RANKS and head not in ("base", "api") else None


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return (
        isinstance(test, ast.Attribute)
        and test.attr == "TYPE_CHECKING"
        and isinstance(test.value, ast.Name)
        and test.value.id == "typing"
    )


def _walk_imports(
    node: ast.AST, *, in_function: bool = False, type_checking: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import statement under ``node``, with (in a function?, under TYPE_CHECKING?)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function, type_checking
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _walk_imports(
                    ast.Module(body=[stmt], type_ignores=[]),
                    in_function=in_function,
                    type_checking=True,
                )
            for stmt in child.orelse:
                yield from _walk_imports(
                    ast.Module(body=[stmt], type_ignores=[]),
                    in_function=in_function,
                    type_checking=type_checking,
                )
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _walk_imports(child, in_function=True, type_checking=type_checking)
        elif isinstance(child, ast.expr):
            continue  # an expression holds no statement, so no import: not walked (speed)
        else:
            yield from _walk_imports(child, in_function=in_function, type_checking=type_checking)


def _absolute(node: ast.ImportFrom, importer: str, tree: ModuleTree) -> str:
    """The absolute module a ``from ... import`` reads from (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if importer not in tree.packages:
        base = base[:-1]  # a plain module's relative imports start at its package
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _known(name: str, tree: ModuleTree) -> str:
    """``name`` if it is a module of the tree, else its longest prefix that is."""
    parts = name.split(".")
    while parts and ".".join(parts) not in tree.files:
        parts.pop()
    return ".".join(parts) or name


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def source_segment(lines: list[str], node: ast.stmt) -> str:
    """``ast.get_source_segment(source, node)`` from ``lines = _LINE.findall(source)``.

    The same text (same line split, UTF-8 column offsets), but the file is split once,
    not once per import: Python 3.11 splits it character by character on every call,
    which made the first layering test take ~6 s of the suite.
    """
    first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    start, end = node.col_offset, node.end_col_offset
    if end is None:
        return ""
    if first == last:
        return lines[first].encode()[start:end].decode()
    head = lines[first].encode()[start:].decode()
    tail = lines[last].encode()[:end].decode()
    return "".join([head, *lines[first + 1 : last], tail])


def collect_imports(package_dir: Path) -> tuple[ModuleTree, list[ImportRef]]:
    """Every import of an ``optimiser`` module under ``package_dir``, resolved to modules."""
    tree = discover(package_dir)
    refs: list[ImportRef] = []
    for importer, path in tree.files.items():
        source = path.read_text(encoding="utf-8")
        module_ast = ast.parse(source, filename=str(path))
        lines = _LINE.findall(source)
        for node, in_function, type_checking in _walk_imports(module_ast):
            statement = " ".join(source_segment(lines, node).split())
            targets: dict[str, list[str]] = {}
            if isinstance(node, ast.Import):
                for alias in node.names:
                    targets.setdefault(_known(alias.name, tree), [])
            else:
                source_module = _absolute(node, importer, tree)
                for alias in node.names:
                    sub = f"{source_module}.{alias.name}"
                    if sub in tree.files:
                        targets.setdefault(sub, [])
                    else:
                        targets.setdefault(_known(source_module, tree), []).append(alias.name)
            for target, names in targets.items():
                if target != "optimiser" and not target.startswith("optimiser."):
                    continue
                refs.append(
                    ImportRef(
                        importer=importer,
                        path=path,
                        line=node.lineno,
                        statement=statement,
                        target=target,
                        names=tuple(names),
                        in_function=in_function,
                        type_checking=type_checking,
                        facade=target in tree.packages,
                    )
                )
    return tree, refs


# --- the checkers: each returns one line per offending import -------------------------------


def unassigned_modules(tree: ModuleTree) -> list[str]:
    """Modules with no layer (a new top-level module or subpackage needs a rank here)."""
    return [f"{name} ({path})" for name, path in tree.files.items() if layer_of(name) is None]


def upward_imports(refs: list[ImportRef], root: Path) -> list[str]:
    """Runtime imports from a higher layer than the importer's."""
    out = []
    for ref in refs:
        src, dst = layer_of(ref.importer), layer_of(ref.target)
        if ref.type_checking or src is None or dst is None:
            continue
        if RANKS[dst] > RANKS[src]:
            out.append(f"{ref.where(root)}  [{src} imports {dst}: {ref.target}]")
    return out


def synth_imports(refs: list[ImportRef], root: Path) -> list[str]:
    """Imports of ``optimiser.synth`` from outside synth, the public API and dataset/init."""
    out = []
    for ref in refs:
        if layer_of(ref.target) != "synth" or layer_of(ref.importer) == "synth":
            continue
        allowed = ref.importer == "optimiser" or (
            ref.importer == "optimiser.dataset.init"
            or ref.importer.startswith("optimiser.dataset.init.")
        )
        if not allowed:
            out.append(f"{ref.where(root)}  [{ref.importer} imports {ref.target}]")
    return out


def import_cycles(refs: list[ImportRef], root: Path, *, per_component: int = 20) -> list[str]:
    """Cycles in the graph of runtime imports, each as ``a -> b -> a`` with its edges."""
    graph: nx.DiGraph = nx.DiGraph()
    for ref in refs:
        if not ref.type_checking and not graph.has_edge(ref.importer, ref.target):
            graph.add_edge(ref.importer, ref.target, ref=ref)
    out = []
    for component in sorted(nx.strongly_connected_components(graph), key=min):
        sub = graph.subgraph(component)
        if len(component) == 1 and not sub.number_of_edges():
            continue
        cycles = sorted(
            (c for c in itertools.islice(nx.simple_cycles(sub), per_component)),
            key=lambda c: (len(c), c),
        )
        for cycle in cycles:
            start = cycle.index(min(cycle))
            cycle = cycle[start:] + cycle[:start]
            edges = [graph.edges[a, b]["ref"] for a, b in itertools.pairwise([*cycle, cycle[0]])]
            lines = "".join(f"\n      {edge.where(root)}" for edge in edges)
            out.append(" -> ".join([*cycle, cycle[0]]) + lines)
    return out


def facade_imports(refs: list[ImportRef], root: Path) -> list[str]:
    """Imports through a subpackage's ``__init__`` by a module that should import the definer."""
    out = []
    for ref in refs:
        if not ref.facade or ref.target == "optimiser":
            continue
        if ref.importer in FACADE_USERS or ref.importer == ref.target:
            continue
        what = ", ".join(ref.names) if ref.names else "the package"
        out.append(f"{ref.where(root)}  [{what} through the façade {ref.target}]")
    return out


def function_level_imports(refs: list[ImportRef], root: Path) -> list[str]:
    """``optimiser`` imports inside functions, outside ``optimiser/cli/``."""
    return [
        f"{ref.where(root)}  [in a function of {ref.importer}]"
        for ref in refs
        if ref.in_function
        and ref.importer != "optimiser.cli"
        and not ref.importer.startswith("optimiser.cli.")
    ]


def _report(title: str, lines: list[str]) -> str:
    return f"{len(lines)} {title}:\n" + "\n".join(f"  {line}" for line in lines)


# --- the package -------------------------------------------------------------------------------


@functools.cache
def _package() -> tuple[ModuleTree, list[ImportRef]]:
    """The real package's modules and imports (parsed once per session)."""
    tree, refs = collect_imports(PACKAGE_DIR)
    # the walk found the package, not an empty folder
    assert len(tree.files) > 50, sorted(tree.files)
    assert sum(not r.type_checking for r in refs) > 100, len(refs)
    return tree, refs


ROOT = PACKAGE_DIR.parent


def test_every_module_has_a_layer() -> None:
    tree, _ = _package()
    bad = unassigned_modules(tree)
    assert not bad, _report("modules with no layer (add them to RANKS / BASE)", bad)


def test_no_upward_imports() -> None:
    _, refs = _package()
    bad = upward_imports(refs, ROOT)
    assert not bad, _report("upward imports outside TYPE_CHECKING", bad)


def test_only_the_api_and_dataset_init_import_synth() -> None:
    _, refs = _package()
    bad = synth_imports(refs, ROOT)
    assert not bad, _report("imports of optimiser.synth", bad)


def test_no_import_cycles() -> None:
    _, refs = _package()
    bad = import_cycles(refs, ROOT)
    assert not bad, _report("import cycles", bad)


def test_modules_import_the_defining_module_not_a_facade() -> None:
    _, refs = _package()
    bad = facade_imports(refs, ROOT)
    assert not bad, _report("imports through a subpackage façade", bad)


def test_no_function_level_imports_outside_cli() -> None:
    _, refs = _package()
    bad = function_level_imports(refs, ROOT)
    assert not bad, _report("function-level optimiser imports outside optimiser/cli/", bad)


# --- the checkers themselves --------------------------------------------------------------------

_SYNTHETIC: dict[str, str] = {
    "__init__.py": "from optimiser.allocation import allocate\nfrom optimiser import synth\n",
    "_errors.py": "class OptimiserError(Exception):\n    pass\n",
    "dataset/__init__.py": "from optimiser.dataset.model import Dataset\n",
    # planted: an upward import (dataset -> allocation) at module level
    "dataset/model.py": (
        "from optimiser._errors import OptimiserError\n"
        "from optimiser.allocation.solve import allocate\n"
        "class Dataset:\n    pass\n"
    ),
    "transport/__init__.py": "",
    # allowed: an upward reference only under TYPE_CHECKING (both spellings)
    "transport/travel.py": (
        "from __future__ import annotations\n"
        "import typing\n"
        "from typing import TYPE_CHECKING\n"
        "from .rules import rule\n"
        "if TYPE_CHECKING:\n"
        "    from optimiser.scenarios.scenario import Scenario\n"
        "if typing.TYPE_CHECKING:\n"
        "    from optimiser.siting.plan import SitingResult\n"
        "def journey(s: Scenario) -> None:\n"
        "    return None\n"
    ),
    "transport/rules.py": "def rule() -> None:\n    return None\n",
    "allocation/__init__.py": "from optimiser.allocation.solve import allocate\n",
    # planted: a cycle solve -> arcs -> solve, closed by a method-level import
    "allocation/solve.py": (
        "from optimiser.allocation.arcs import arcs\ndef allocate():\n    pass\n"
    ),
    "allocation/arcs.py": (
        "def arcs():\n    pass\n"
        "class Builder:\n"
        "    def build(self):\n"
        "        from optimiser.allocation.solve import allocate\n"
        "        return allocate\n"
    ),
    "scenarios/__init__.py": "",
    # planted: a façade import of a name defined in allocation.solve
    "scenarios/scenario.py": (
        "from optimiser.allocation import allocate\nclass Scenario:\n    pass\n"
    ),
    "siting/__init__.py": "",
    "siting/plan.py": "class SitingResult:\n    pass\n",
    "synth/__init__.py": "from optimiser.synth.cohort import synth_children\n",
    "synth/cohort.py": (
        "from optimiser._errors import OptimiserError\ndef synth_children():\n    pass\n"
    ),
    "cli/__init__.py": "",
    # allowed: a lazy import in the CLI
    "cli/app.py": "def main():\n    from optimiser.allocation.solve import allocate\n",
    # planted: synth imported from the allocation layer, inside a function
    "allocation/kpis.py": "def kpis():\n    from optimiser.synth import cohort\n",
    # planted: a module outside any layer
    "extras.py": "",
}


def test_checkers_catch_a_synthetic_tree(tmp_path: Path) -> None:
    package_dir = tmp_path / "optimiser"
    for rel, text in _SYNTHETIC.items():
        path = package_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    tree, refs = collect_imports(package_dir)

    # relative imports resolve to the sibling module
    assert any(
        r.importer == "optimiser.transport.travel" and r.target == "optimiser.transport.rules"
        for r in refs
    )

    upward = upward_imports(refs, tmp_path)
    assert len(upward) == 1, upward
    assert "optimiser/dataset/model.py:2:" in upward[0]
    assert "dataset imports allocation" in upward[0]
    # the TYPE_CHECKING upward references are not flagged
    assert not any("scenarios.scenario" in line or "siting" in line for line in upward)
    tc = [r for r in refs if r.importer == "optimiser.transport.travel" and r.type_checking]
    assert {r.target for r in tc} == {"optimiser.scenarios.scenario", "optimiser.siting.plan"}

    cycles = import_cycles(refs, tmp_path)
    assert any(
        c.startswith(
            "optimiser.allocation.arcs -> optimiser.allocation.solve -> optimiser.allocation.arcs"
        )
        for c in cycles
    ), cycles
    assert "optimiser/allocation/arcs.py:5:" in "\n".join(cycles)

    facade = facade_imports(refs, tmp_path)
    assert len(facade) == 1, facade
    assert facade[0].startswith("optimiser/scenarios/scenario.py:1:")
    assert "allocate through the façade optimiser.allocation" in facade[0]

    functions = function_level_imports(refs, tmp_path)
    assert sorted(line.split(":")[0] for line in functions) == [
        "optimiser/allocation/arcs.py",
        "optimiser/allocation/kpis.py",
    ], functions

    synth = synth_imports(refs, tmp_path)
    assert len(synth) == 1, synth
    assert synth[0].startswith("optimiser/allocation/kpis.py:2:")

    assert unassigned_modules(tree) == [f"optimiser.extras ({package_dir / 'extras.py'})"]
