"""The tariff: premiums computed from a risk with versioned rules read from a data file
(tariff_rules.yml beside this module, or the file the setting TARIFF_RULES_FILE names;
docs/tariff.md).

    annual  = sum of the guarantees' base prices x each risk factor x the deductible's factor,
              rounded to the cent (half up)
    monthly = annual / 12, rounded to the cent (half up)

Pure: no database, no clock but the `today` it is given. A risk is checked member by member
(RiskRefused names each refused one with a French reason); what is not given takes the
rules' default, and the normalized risk says what was used (the vehicle's group, the
postcode's zone), so that a quote can be read back and priced again.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

RULES_FILE = Path(__file__).with_name("tariff_rules.yml")
CENT = Decimal("1")
UNKNOWN = "champ inconnu"
MISSING = "champ obligatoire"


class RulesError(ValueError):
    """The rules file does not follow docs/tariff.md."""


class RiskRefused(ValueError):
    """Some members of a risk are refused: {member: French reason}."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(", ".join(sorted(fields)))
        self.fields = dict(fields)


@dataclass(frozen=True)
class Guarantee:
    code: str
    label: str
    base_annual_eur: Decimal
    required: bool


@dataclass(frozen=True)
class Formula:
    code: str
    label: str
    summary: str
    guarantees: Tuple[str, ...]


@dataclass(frozen=True)
class Price:
    """A premium and how it was reached."""

    annual_cents: int
    monthly_cents: int
    base_cents: int  # the guarantees' base prices summed
    factors: Dict[str, float]  # name -> factor applied (deductible included)


@dataclass(frozen=True)
class Product:
    name: str
    label: str
    guarantees: Dict[str, Guarantee]
    formulas: Tuple[Formula, ...]
    default_deductible: int
    deductibles: Dict[int, Decimal]
    risk: Dict[str, Dict[str, Any]]
    one_of: Tuple[Tuple[str, ...], ...]
    factors: Dict[str, Any]
    raw: Dict[str, Any]

    def formula(self, code: str) -> Optional[Formula]:
        return next((formula for formula in self.formulas if formula.code == code), None)


@dataclass(frozen=True)
class Tariff:
    version: str
    quote_validity_days: int
    effective_dates: Dict[str, str]
    products: Dict[str, Product]

    # --- the risk -------------------------------------------------------------------

    def normalize(self, product_name: str, risk: Mapping[str, Any], today: date) -> Dict[str, Any]:
        """The risk checked, with the defaults and what the rules derive from it (vehicle
        group, rooms, zone); RiskRefused naming every refused member."""
        product = self.products[product_name]
        refused: Dict[str, str] = {}
        values: Dict[str, Any] = {}
        for name, value in risk.items():
            spec = product.risk.get(name)
            if spec is None:
                refused[name] = UNKNOWN
                continue
            if value is None:
                continue
            try:
                values[name] = _check(spec, value, product, today)
            except ValueError as reason:
                refused[name] = str(reason)
        for name, spec in product.risk.items():
            grouped = any(name in group for group in product.one_of)
            if name in values or name in refused or grouped:
                continue
            if "default" in spec:
                values[name] = spec["default"]
            elif spec["type"] != "deductible":
                refused[name] = MISSING
        for group in product.one_of:
            if not any(name in values or name in refused for name in group):
                refused[group[0]] = f"champ obligatoire (ou {', '.join(group[1:])})"
        if refused:
            raise RiskRefused(refused)
        values.setdefault("deductible_eur", product.default_deductible)
        if product_name == "auto":
            _derive_vehicle(product, values)
        elif product_name == "habitation":
            _derive_home(product, values)
        return values

    # --- prices ---------------------------------------------------------------------

    def risk_factors(self, product_name: str, risk: Mapping[str, Any], today: date) -> Dict[str, Decimal]:
        """Each factor of a normalized risk, by name, in the rules' order."""
        product = self.products[product_name]
        factors: Dict[str, Decimal] = {}
        for name, table in product.factors.items():
            if name == "vehicle_age":
                age = max(0, today.year - int(risk["vehicle_year"]))
                factors[name] = next(Decimal(str(band["factor"])) for band in table
                                     if band["max_age"] is None or age <= band["max_age"])
            elif name == "bonus_malus":
                factors[name] = Decimal(str(risk["bonus_malus"]))
            else:
                factors[name] = Decimal(str(table[_key(risk[name])]))
        return factors

    def price(self, product_name: str, risk: Mapping[str, Any], guarantees: Sequence[str],
              deductible_eur: int, today: date) -> Price:
        """The premium of `guarantees` (codes; those the tariff does not know add nothing)
        with `deductible_eur` for a normalized risk."""
        product = self.products[product_name]
        base = sum((product.guarantees[code].base_annual_eur for code in dict.fromkeys(guarantees)
                    if code in product.guarantees), Decimal(0))
        factors = self.risk_factors(product_name, risk, today)
        factors["deductible"] = product.deductibles[int(deductible_eur)]
        amount = base * 100
        for factor in factors.values():
            amount *= factor
        annual = int(amount.quantize(CENT, rounding=ROUND_HALF_UP))
        return Price(annual, monthly_cents(annual), int(base * 100),
                     {name: float(factor) for name, factor in factors.items()})

    def formulas(self, product_name: str, risk: Mapping[str, Any], today: date) -> List[dict]:
        """The quote's formulas for a normalized risk, from the least to the most covering."""
        product = self.products[product_name]
        deductible = int(risk["deductible_eur"])
        quoted = []
        for formula in product.formulas:
            price = self.price(product_name, risk, formula.guarantees, deductible, today)
            quoted.append({
                "code": formula.code, "label": formula.label, "summary": formula.summary,
                "guarantees": [product.guarantees[code].label for code in formula.guarantees],
                "deductible_eur": deductible,
                "annual_premium_cents": price.annual_cents,
                "monthly_premium_cents": price.monthly_cents,
            })
        return quoted


def monthly_cents(annual_cents: int) -> int:
    """A twelfth of an annual premium, rounded to the cent (half up)."""
    return int((Decimal(annual_cents) / 12).quantize(CENT, rounding=ROUND_HALF_UP))


def scaled_cents(amount_cents: int, numerator: int, denominator: int) -> int:
    """`amount_cents` x numerator / denominator, rounded to the cent (half up)."""
    if denominator == 0:
        return amount_cents
    return int((Decimal(amount_cents) * numerator / denominator).quantize(CENT, rounding=ROUND_HALF_UP))


# --- checking one member of a risk ---------------------------------------------------


def _check(spec: Mapping[str, Any], value: Any, product: Product, today: date) -> Any:
    kind = spec["type"]
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise ValueError("texte attendu")
        if len(value) > spec.get("max_length", 100) or re.search(r"[\x00-\x1f\x7f]", value):
            raise ValueError(f"{spec.get('max_length', 100)} caractères lisibles au plus")
        return value.strip()
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("nombre entier attendu")
        low, high = spec["min"], _bound(spec["max"], today)
        if not low <= value <= high:
            raise ValueError(f"entre {low} et {high}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError("nombre attendu")
        low, high = float(spec["min"]), float(spec["max"])
        if not low <= value <= high:
            raise ValueError(f"entre {_decimal(low)} et {_decimal(high)}")
        rounded = round(float(value), spec.get("decimals", 2))
        if abs(rounded - value) > 1e-9:
            raise ValueError(f"{spec.get('decimals', 2)} décimales au plus")
        return rounded
    if kind == "choice":
        if value not in spec["values"]:
            raise ValueError("valeur attendue parmi : " + ", ".join(spec["values"]))
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("true ou false attendu")
        return value
    if kind == "deductible":
        if isinstance(value, bool) or not isinstance(value, int) or value not in product.deductibles:
            raise ValueError("franchise attendue parmi : "
                             + ", ".join(str(level) for level in sorted(product.deductibles)))
        return value
    if kind == "postcode":
        if not isinstance(value, str) or not re.fullmatch(r"\d{5}", value) or _department(value) is None:
            raise ValueError("code postal français de 5 chiffres attendu")
        return value
    raise RulesError(f"unknown risk type {kind!r}")


def _bound(value: Any, today: date) -> int:
    return today.year if value == "current_year" else int(value)


def _decimal(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _department(postcode: str) -> Optional[str]:
    """The département of a French postcode (three digits overseas), None if none."""
    prefix = postcode[:2]
    if prefix == "97":
        return postcode[:3] if postcode[2] in "12346" else None  # overseas départements
    if prefix in ("00", "96", "98", "99"):
        return None
    return prefix


def _key(value: Any) -> str:
    return str(value).lower()


def _words(text: str) -> str:
    """Lower case, no accents, words separated by one space."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def _derive_vehicle(product: Product, values: Dict[str, Any]) -> None:
    groups = product.raw["vehicle_groups"]
    if "vehicle_group" in values:
        values["vehicle_group_from"] = "given"
        return
    model = f" {_words(values['vehicle_model'])} "
    matches = [(len(name), group) for name, group in groups["models"].items() if f" {name} " in model]
    if matches:
        values["vehicle_group"], values["vehicle_group_from"] = max(matches)[1], "model"
    else:
        values["vehicle_group"], values["vehicle_group_from"] = groups["default_group"], "default"


def _derive_home(product: Product, values: Dict[str, Any]) -> None:
    if "rooms" not in values:
        per_room = product.raw["surface_m2_per_room"]
        values["rooms"] = min(12, max(1, math.ceil(values["surface_m2"] / per_room)))
        values["rooms_from"] = "surface_m2"
    zones = product.raw["zones"]
    values["zone"] = zones["departments"].get(_department(values["postcode"]), zones["default_zone"])


# --- the rules file ------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def load_tariff(path: Optional[Path | str] = None) -> Tariff:
    """The tariff of a rules file (none: the reference tariff, RULES_FILE); RulesError names
    what is wrong. Read once per file and process."""
    path = Path(path or RULES_FILE)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulesError(f"{path}: {error}") from None
    try:
        return _tariff(raw)
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as error:
        raise RulesError(f"{path}: {type(error).__name__}: {error}") from None


def _tariff(raw: Dict[str, Any]) -> Tariff:
    products = {name: _product(name, spec) for name, spec in raw["products"].items()}
    effective = {str(k): str(v) for k, v in raw["effective_dates"].items()}
    if set(effective) != {"more_cover", "less_cover"} or not set(effective.values()) <= {
            "next_month", "next_due_date"}:
        raise ValueError("effective_dates: more_cover and less_cover, each next_month or next_due_date")
    if not str(raw["version"]).strip():
        raise ValueError("version is empty")
    return Tariff(str(raw["version"]), int(raw["quote_validity_days"]), effective, products)


def _product(name: str, spec: Dict[str, Any]) -> Product:
    guarantees = {
        str(code): Guarantee(str(code), str(g["label"]), Decimal(str(g["base_annual_eur"])),
                             bool(g.get("required", False)))
        for code, g in spec["guarantees"].items()
    }
    formulas = tuple(
        Formula(str(f["code"]), str(f["label"]), str(f["summary"]), tuple(map(str, f["guarantees"])))
        for f in spec["formulas"]
    )
    for formula in formulas:
        unknown = set(formula.guarantees) - set(guarantees)
        if unknown:
            raise ValueError(f"{name}.{formula.code}: unknown guarantees {sorted(unknown)}")
    if not 2 <= len(formulas) <= 3:
        raise ValueError(f"{name}: 2 or 3 formulas expected")
    deductibles = {int(level): Decimal(str(factor)) for level, factor in spec["deductibles"]["levels"].items()}
    default = int(spec["deductibles"]["default"])
    if default not in deductibles:
        raise ValueError(f"{name}: the default deductible is not a level")
    factors: Dict[str, Any] = {}
    for factor, table in spec["factors"].items():
        if isinstance(table, dict):
            table = {_key(key): value for key, value in table.items()}
        factors[str(factor)] = table
    raw = dict(spec)
    if "vehicle_groups" in raw:
        groups = raw["vehicle_groups"]
        raw["vehicle_groups"] = {"default_group": int(groups["default_group"]),
                                 "models": {_words(str(m)): int(g) for m, g in groups["models"].items()}}
    if "zones" in raw:
        zones = raw["zones"]
        raw["zones"] = {"default_zone": int(zones["default_zone"]),
                        "departments": {str(d): int(z) for d, z in zones["departments"].items()}}
    return Product(
        name=name, label=str(spec["label"]), guarantees=guarantees, formulas=formulas,
        default_deductible=default, deductibles=deductibles,
        risk={str(member): dict(member_spec) for member, member_spec in spec["risk"].items()},
        one_of=tuple(tuple(group) for group in spec.get("one_of", ())), factors=factors, raw=raw,
    )
