"""Which guarantee covers which type of claim: the one place this rule lives."""
from __future__ import annotations

from typing import Iterable

from core.service_contract import ClaimType

CLAIM_TYPES = tuple(claim_type.value for claim_type in ClaimType)

# guarantee code -> claim types it lets the customer declare
GUARANTEE_COVERS: dict[str, frozenset[str]] = {
    # auto: an accident is always declared under the liability guarantee
    "responsabilite_civile_auto": frozenset({"accident_auto", "responsabilite_civile"}),
    "dommages_tous_accidents": frozenset({"accident_auto"}),
    "bris_de_glace": frozenset({"bris_de_glace"}),
    "vol_incendie": frozenset({"vol", "incendie"}),
    "catastrophes_naturelles": frozenset({"catastrophe_naturelle"}),
    "assistance": frozenset(),
    "garantie_conducteur": frozenset(),
    # habitation
    "incendie": frozenset({"incendie"}),
    "degats_des_eaux": frozenset({"degat_des_eaux"}),
    "vol_vandalisme": frozenset({"vol"}),
    "bris_de_glace_habitation": frozenset({"bris_de_glace"}),
    "tempete_grele_neige": frozenset({"catastrophe_naturelle"}),
    "responsabilite_civile_vie_privee": frozenset({"responsabilite_civile"}),
    # pro
    "responsabilite_civile_decennale": frozenset({"responsabilite_civile"}),
    "responsabilite_civile_professionnelle": frozenset({"responsabilite_civile"}),
    "protection_juridique": frozenset(),
    # prevoyance and sante are not property insurance: no claim of these types
    "capital_deces": frozenset(),
    "invalidite": frozenset(),
    "incapacite_de_travail": frozenset(),
    "hospitalisation": frozenset(),
    "soins_courants": frozenset(),
}

# Guarantees whose wording goes on special attestations.
SCHOOL_LIABILITY_GUARANTEE = "responsabilite_civile_vie_privee"
TEN_YEAR_LIABILITY_GUARANTEE = "responsabilite_civile_decennale"


def covered_claim_types(guarantee_codes: Iterable[str]) -> list[str]:
    """Claim types covered by these guarantees, in the canonical order."""
    covered: set[str] = set()
    for code in guarantee_codes:
        covered |= GUARANTEE_COVERS.get(code, frozenset())
    return [claim_type for claim_type in CLAIM_TYPES if claim_type in covered]


def covers(guarantee_codes: Iterable[str], claim_type: str) -> bool:
    """Whether one of the guarantees covers `claim_type`."""
    return claim_type in covered_claim_types(guarantee_codes)
