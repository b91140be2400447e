"""The packages follow the processes (README, "Architecture"): each top-level package
imports only the packages below it, so that each process can be packaged alone and the
insurer's reference services can be swapped for its real ones (their HTTP contract,
core/service_contract.py, is the only link)."""

import ast
from collections import defaultdict
from pathlib import Path
from typing import Dict, Set

from tests.conftest import REPO_ROOT

# What each package may import of ours (imports inside functions included).
MAY_IMPORT: Dict[str, Set[str]] = {
    "core": set(),
    "actions": {"core"},
    "reference_services": {"core"},
    "connectors": {"core"},
    "bot": {"connectors", "core"},
    "devtools": {"connectors", "core"},
    "web": {"core", "devtools"},
    "operations": {"bot", "core", "reference_services"},
    "harness": {"core"},
    "bench": {"bot", "core", "devtools", "harness"},
    "scripts": {"bot", "core"},
}
# The assistant: every process but the reference services.
ASSISTANT = ("core", "actions", "connectors", "bot", "devtools", "web")


def imported_packages(package: str) -> Dict[str, Set[str]]:
    """Our top-level packages imported by each module of `package`."""
    imports: Dict[str, Set[str]] = defaultdict(set)
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in MAY_IMPORT and top != package:
                    imports[module].add(top)
    return imports


def test_every_top_level_package_is_declared():
    packages = {path.parent.name for path in REPO_ROOT.glob("*/__init__.py")} - {"tests"} | {"scripts"}
    assert packages == set(MAY_IMPORT)


def test_each_package_imports_only_the_packages_below_it():
    wrong = {
        module: sorted(tops - MAY_IMPORT[package])
        for package in MAY_IMPORT
        for module, tops in imported_packages(package).items()
        if tops - MAY_IMPORT[package]
    }
    assert wrong == {}


def test_no_import_cycle_between_packages():
    graph = {package: set().union(*imported_packages(package).values()) for package in MAY_IMPORT}

    def reaches(start: str, target: str, seen: Set[str]) -> bool:
        return any(step == target or (step not in seen and reaches(step, target, seen | {step}))
                   for step in graph[start])

    assert [package for package in graph if reaches(package, package, {package})] == []


def test_no_assistant_module_imports_the_reference_services():
    importing = sorted(module for package in ASSISTANT for module, tops in imported_packages(package).items()
                       if "reference_services" in tops)
    assert importing == []


def test_the_rasa_configuration_names_only_the_rasa_servers_own_code():
    """config.yml's components and endpoints' stores are loaded by the Rasa server by module
    path: they must be in bot/ (the Rasa server's package)."""
    named = []
    for file in ("config.yml", "endpoints.yml", "endpoints.production.yml"):
        for line in (REPO_ROOT / file).read_text().splitlines():
            value = line.split(":", 1)[-1].strip()
            if "." in value and value.split(".")[0] in MAY_IMPORT:
                named.append(value)
    assert named and all(value.startswith("bot.") for value in named), named


def test_the_reference_services_have_their_own_package_path():
    assert not (Path(REPO_ROOT) / "bot" / "policy").exists()
