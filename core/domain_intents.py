"""The intents of the domain (domain/*.yml), read from the files every process ships
with: the services check a reviewer's choice against them, the console offers them."""
from pathlib import Path
from typing import List, Set

import yaml

DOMAIN_DIR = Path(__file__).resolve().parents[1] / "domain"


def domain_intents(domain_dir: Path = DOMAIN_DIR) -> List[str]:
    """The intents of the domain (every file of domain/), sorted."""
    intents: Set[str] = set()
    for path in sorted(domain_dir.glob("*.yml")):
        for intent in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or []:
            intents.add(next(iter(intent)) if isinstance(intent, dict) else str(intent))
    return sorted(intents)
