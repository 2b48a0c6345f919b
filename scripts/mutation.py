"""Mutation testing of the core modules against the fast tests in tests/unit.

Each mutant is one small change to a module's syntax tree:

- a comparison flipped (`<` → `>=`) or moved across its boundary (`<` → `<=`), `is`/`in` negated;
- an operator swapped (`+` ↔ `-`, `*` ↔ `/`, `//`, `**` → `*`, `and` ↔ `or`), a `not` dropped;
- a number moved by one or set to 0, a boolean flipped;
- a call standing alone as a statement dropped;
- a `return X` made `return None`.

Type annotations and strings are left alone. Each mutant runs in a forked child: the mutated
module is put in place of the real one and pytest runs the module's own test file with `-x`;
a mutant that survives it is run against the whole of tests/unit before it counts as a survivor.
A child that fails, crashes or outlives its time limit has killed its mutant.

    scripts/mutation                    # every module
    scripts/mutation -m memo -j 2 -v    # one module, two children at a time, every mutant listed
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "tests" / "unit"
# module → the test file that pins it (tried first, the whole of tests/unit after it).
MODULES = {
    "credentials": UNIT / "test_credentials.py",
    "renewal": UNIT / "test_renewal.py",
    "memo": UNIT / "test_memo.py",
    "cache_key": UNIT / "test_cache_key.py",
}
PACKAGE = "cred_export"
# module → where it lives in the package.
LOCATIONS = {
    "credentials": "credentials",
    "renewal": "renew.renewal",
    "memo": "fast.memo",
    "cache_key": "stores.cache_key",
}
CHILD_SECONDS = 30  # a mutant that makes a test hang is killed by this
MIN_SCORE = 90.0

_FLIPPED = {
    ast.Lt: (ast.GtE, ast.LtE),
    ast.LtE: (ast.Gt, ast.Lt),
    ast.Gt: (ast.LtE, ast.GtE),
    ast.GtE: (ast.Lt, ast.Gt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_SWAPPED = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
}
_SYMBOLS = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.And: "and",
    ast.Or: "or",
}
_ANNOTATIONS = {"annotation", "returns", "type_comment"}


@dataclass(frozen=True)
class Mutant:
    module: str
    site: int  # the mutated node's place in `_sites` order
    variant: int
    line: int
    change: str


@dataclass
class Outcome:
    mutant: Mutant
    killed: bool
    how: str  # "failed", "timed out", "crashed", "survived"
    by: str  # the first test that failed, if one did


class _FirstFailure:
    """A pytest plugin that notes the first failing test's id."""

    def __init__(self) -> None:
        self.nodeid = ""

    def pytest_runtest_logreport(self, report) -> None:  # type: ignore[no-untyped-def]
        if report.failed and not self.nodeid:
            self.nodeid = report.nodeid


def _sites(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.AST, str, int | None]]:
    """Every node with its parent, the parent's field and index in it; annotations skipped."""
    stack: list[tuple[ast.AST, ast.AST | None, str, int | None]] = [(tree, None, "", None)]
    while stack:
        node, parent, field, index = stack.pop(0)
        if parent is not None:
            yield node, parent, field, index
        children: list[tuple[ast.AST, ast.AST, str, int | None]] = []
        for name, value in ast.iter_fields(node):
            if name in _ANNOTATIONS:
                continue
            if isinstance(value, list):
                children += [
                    (item, node, name, i) for i, item in enumerate(value) if isinstance(item, ast.AST)
                ]
            elif isinstance(value, ast.AST):
                children.append((value, node, name, None))
        stack[0:0] = children


def _variants(node: ast.AST) -> list[tuple[str, ast.AST]]:
    """The mutants of one node: (what changed, the node to put in its place)."""
    out: list[tuple[str, ast.AST]] = []
    if isinstance(node, ast.Compare):
        for k, op in enumerate(node.ops):
            for new in _FLIPPED.get(type(op), ()):
                changed = copy.deepcopy(node)
                changed.ops[k] = new()
                out.append((f"{_SYMBOLS[type(op)]} → {_SYMBOLS[new]}", changed))
    elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _SWAPPED:
        new = _SWAPPED[type(node.op)]
        changed = copy.deepcopy(node)
        changed.op = new()
        out.append((f"{_SYMBOLS[type(node.op)]} → {_SYMBOLS[new]}", changed))
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        changed = copy.deepcopy(node)
        changed.op = new()
        out.append((f"{_SYMBOLS[type(node.op)]} → {_SYMBOLS[new]}", changed))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("`not` dropped", copy.deepcopy(node.operand)))
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        out.append((f"{node.value} → {not node.value}", ast.Constant(not node.value)))
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        seen = {node.value}
        for new_value in (node.value + 1, node.value - 1, 0):
            if new_value not in seen:
                seen.add(new_value)
                out.append((f"{node.value!r} → {new_value!r}", ast.Constant(type(node.value)(new_value))))
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        out.append((f"call dropped: {ast.unparse(node.value.func)}(…)", ast.Pass()))
    elif isinstance(node, ast.Return) and not _returns_none(node):
        out.append(("return None", ast.Return(ast.Constant(None))))
    return out


def _returns_none(node: ast.Return) -> bool:
    return node.value is None or (isinstance(node.value, ast.Constant) and node.value.value is None)


def mutants(module: str, tree: ast.AST) -> list[Mutant]:
    found = []
    for site, (node, *_) in enumerate(_sites(tree)):
        for variant, (change, _) in enumerate(_variants(node)):
            found.append(Mutant(module, site, variant, getattr(node, "lineno", 0), change))
    return found


def mutated(tree: ast.AST, mutant: Mutant) -> ast.Module:
    """A copy of `tree` with `mutant` applied."""
    tree = copy.deepcopy(tree)
    for site, (node, parent, field, index) in enumerate(_sites(tree)):
        if site == mutant.site:
            replacement = _variants(node)[mutant.variant][1]
            ast.copy_location(replacement, node)
            if index is None:
                setattr(parent, field, replacement)
            else:
                getattr(parent, field)[index] = replacement
            return ast.fix_missing_locations(tree)  # type: ignore[return-value]
    raise LookupError(mutant)


def _install(module: str, code: object) -> None:
    """Put the mutated module in place of the real one, in this (child) process."""
    import importlib
    import types

    import cred_export

    name = f"{PACKAGE}.{LOCATIONS[module]}"
    for loaded in [m for m in sys.modules if m.startswith(PACKAGE + ".")]:
        del sys.modules[loaded]
        if loaded.count(".") == 1 and hasattr(cred_export, loaded.split(".")[1]):
            delattr(cred_export, loaded.split(".")[1])
    parent_name, _, leaf = name.rpartition(".")
    parent = importlib.import_module(parent_name)
    replacement = types.ModuleType(name)
    replacement.__file__ = str(_source(module))
    replacement.__package__ = parent_name
    sys.modules[name] = replacement
    exec(code, replacement.__dict__)  # the mutant
    setattr(parent, leaf, replacement)


def _source(module: str) -> Path:
    return ROOT / PACKAGE / (LOCATIONS[module].replace(".", "/") + ".py")


def _run_child(module: str, code: object | None, tests: Path) -> tuple[int, int]:
    """Fork a child that runs pytest on `tests` with the mutant in place: its pid, and the pipe
    it writes the first failing test's id to."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid:
        os.close(writer)
        return pid, reader
    os.close(reader)
    status = 70
    failure = _FirstFailure()
    try:
        signal.alarm(CHILD_SECONDS)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        if code is not None:
            _install(module, code)
        import pytest

        arguments = [str(tests), "-x", "-q", "-p", "no:cacheprovider", "-p", "no:timeout", "-o", "addopts="]
        status = int(pytest.main(arguments, plugins=[failure]))
    finally:
        os.write(writer, failure.nodeid.encode()[:4000])
        os._exit(status)


def _first_failure(reader: int) -> str:
    with os.fdopen(reader, "rb") as pipe:
        return pipe.read().decode()


def _verdict(status: int) -> str:
    if os.WIFSIGNALED(status):
        return "timed out" if os.WTERMSIG(status) == signal.SIGALRM else "crashed"
    return "survived" if os.WEXITSTATUS(status) == 0 else "failed"


def _warm_up() -> None:
    """Import once, before forking, what every child's pytest would import again."""
    import hypothesis  # noqa: F401 (its pytest plugin loads it)
    import pytest  # noqa: F401

    sys.path.insert(0, str(ROOT / "tests"))
    import conftest  # noqa: F401 (tests/conftest.py and the harness it imports)


def run(selected: list[str], jobs: int, verbose: bool) -> bool:
    _warm_up()
    trees = {m: ast.parse(_source(m).read_text(), f"{m}.py") for m in selected}
    for module in selected:  # the tests must pass before any mutant can be judged
        pid, reader = _run_child(module, None, MODULES[module])
        _first_failure(reader)
        if _verdict(os.waitpid(pid, 0)[1]) != "survived":
            print(f"mutation: {MODULES[module].relative_to(ROOT)} fails without any mutant", file=sys.stderr)
            return False
    pending = [(m, MODULES[module]) for module in selected for m in mutants(module, trees[module])]
    running: dict[int, tuple[Mutant, Path, int]] = {}
    outcomes: list[Outcome] = []
    started = time.monotonic()
    while pending or running:
        while pending and len(running) < jobs:
            mutant, tests = pending.pop(0)
            source = str(_source(mutant.module))
            code = compile(mutated(trees[mutant.module], mutant), source, "exec")
            pid, reader = _run_child(mutant.module, code, tests)
            running[pid] = (mutant, tests, reader)
        pid, status = os.wait()
        mutant, tests, reader = running.pop(pid)
        how, by = _verdict(status), _first_failure(reader)
        if how == "survived" and tests != UNIT:
            pending.insert(0, (mutant, UNIT))  # the whole of tests/unit gets its chance
            continue
        outcomes.append(Outcome(mutant, how != "survived", how, by))
    return _report(selected, outcomes, time.monotonic() - started, verbose)


def _report(selected: list[str], outcomes: list[Outcome], seconds: float, verbose: bool) -> bool:
    passed = True
    print(f"{'module':<16} {'mutants':>7} {'killed':>7} {'score':>7}")
    for module in selected:
        mine = [o for o in outcomes if o.mutant.module == module]
        killed = sum(o.killed for o in mine)
        score = 100.0 * killed / len(mine) if mine else 100.0
        passed &= score >= MIN_SCORE
        print(f"{module + '.py':<16} {len(mine):>7} {killed:>7} {score:>6.1f}%")
    for outcome in sorted(outcomes, key=lambda o: (o.mutant.module, o.mutant.line)):
        if verbose or not outcome.killed:
            m = outcome.mutant
            by = f"  ({outcome.by})" if outcome.by else ""
            print(f"  {outcome.how:<9} {m.module}.py:{m.line}: {m.change}{by}")
    print(f"{len(outcomes)} mutants in {seconds:.0f} s; every module needs {MIN_SCORE:g}%")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description="Mutation scores of the core modules against tests/unit.")
    parser.add_argument("-m", "--module", action="append", choices=sorted(MODULES), help="only this module")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="children at a time (default 1)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every mutant, not only survivors")
    args = parser.parse_args()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))  # the modules under test are the work tree's, not an installed copy
    return 0 if run(args.module or list(MODULES), max(1, args.jobs), args.verbose) else 1


if __name__ == "__main__":
    sys.exit(main())
