"""The one import-linter contract type the project adds (see ``.importlinter``): ``acyclic_modules``,
no import circle between modules. The built-in ``acyclic_siblings`` judges packages as wholes, so
it cannot tell two domains that use each other's modules (allowed) from two modules that import
each other (a circle). Imports inside functions count: grimp sees them too."""
from __future__ import annotations

from collections import deque

from importlinter import Contract, ContractCheck, fields, output


class AcyclicModulesContract(Contract):
    """No module of ``packages`` (or their descendants) reaches itself through its imports."""

    type_name = "acyclic_modules"
    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        modules = set()
        for package in self.packages:  # type: ignore[attr-defined]
            modules |= {package} | graph.find_descendants(package)
        imports = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
        circles = [_one_circle(group, imports) for group in _strongly_connected(imports)]
        return ContractCheck(kept=not circles, metadata={"circles": sorted(circles)})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for circle in check.metadata["circles"]:
            output.print_error("Import circle: " + " -> ".join(circle + [circle[0]]), bold=False)
            output.new_line()


def _strongly_connected(imports: dict[str, set[str]]) -> list[set[str]]:
    """The groups of two or more modules that all reach each other (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for root in sorted(imports):
        if root in index:
            continue
        work = [(root, iter(sorted(imports[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def _one_circle(group: set[str], imports: dict[str, set[str]]) -> list[str]:
    """The shortest circle through the group's first module (breadth-first, inside the group)."""
    start = min(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(imports[node] & group):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1]
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    return sorted(group)
