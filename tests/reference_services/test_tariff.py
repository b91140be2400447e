"""The tariff (reference_services/policy/tariff.py with tariff_rules.yml): each factor, each
deductible level, rounding, monthly against annual, and the refused risks — table-driven."""
from datetime import date
from decimal import Decimal

import pytest
import yaml

from reference_services.policy.tariff import RULES_FILE, RiskRefused, RulesError, load_tariff, monthly_cents

TODAY = date(2026, 12, 2)
TARIFF = load_tariff(RULES_FILE)
CAR = {"vehicle_group": 4, "vehicle_year": 2020, "bonus_malus": 1.0, "usage": "trajets", "parking": "parking",
       "young_driver": False, "deductible_eur": 300}
HOME = {"housing": "appartement", "rooms": 3, "postcode": "44000", "occupant": "proprietaire",
        "deductible_eur": 150}
AUTO_BASES = {"tiers": 465, "tiers_etendu": 690, "tous_risques": 1065}
HOME_BASES = {"essentielle": 247, "confort": 367, "confort_plus": 452}
# The reference risks' own factors (others are compared with them).
CAR_FACTOR = Decimal("1.00") * Decimal("1.00") * Decimal("0.95")  # group 4, age 6, parking
HOME_FACTOR = Decimal("1.15")  # zone 3 (Loire-Atlantique)


def annual(product, risk, formula):
    normalized = TARIFF.normalize(product, risk, TODAY)
    return next(f for f in TARIFF.formulas(product, normalized, TODAY) if f["code"] == formula)


def cents(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def test_the_rules_file_has_a_version_and_two_or_three_formulas_per_product():
    assert TARIFF.version == "2026-12-v1" and TARIFF.quote_validity_days == 30
    assert [f.code for f in TARIFF.products["auto"].formulas] == ["tiers", "tiers_etendu", "tous_risques"]
    assert [f.code for f in TARIFF.products["habitation"].formulas] == ["essentielle", "confort", "confort_plus"]


@pytest.mark.parametrize("formula, base", AUTO_BASES.items())
def test_a_car_formula_costs_its_guarantees_base_prices_times_the_risk_factors(formula, base):
    quoted = annual("auto", CAR, formula)
    assert quoted["annual_premium_cents"] == cents(Decimal(base * 100) * CAR_FACTOR)
    assert quoted["deductible_eur"] == 300


@pytest.mark.parametrize("formula, base", HOME_BASES.items())
def test_a_home_formula_costs_its_guarantees_base_prices_times_the_risk_factors(formula, base):
    assert annual("habitation", HOME, formula)["annual_premium_cents"] == cents(Decimal(base * 100) * HOME_FACTOR)


CAR_FACTORS = [
    # (member, value, factor against the reference car)
    ("vehicle_group", 1, "0.78"), ("vehicle_group", 3, "0.90"), ("vehicle_group", 8, "1.60"),
    ("vehicle_year", 2025, "1.10"), ("vehicle_year", 2024, "1.10"), ("vehicle_year", 2019, "1.00"),
    ("vehicle_year", 2012, "0.92"), ("vehicle_year", 2011, "0.85"), ("vehicle_year", 1980, "0.85"),
    ("bonus_malus", 0.5, "0.50"), ("bonus_malus", 0.68, "0.68"), ("bonus_malus", 1.25, "1.25"),
    ("bonus_malus", 3.5, "3.50"),
    ("usage", "prive", "0.95"), ("usage", "professionnel", "1.20"),
    ("parking", "garage", "0.90"), ("parking", "rue", "1.05"),
    ("young_driver", True, "1.60"),
    ("deductible_eur", 150, "1.10"), ("deductible_eur", 250, "1.03"), ("deductible_eur", 500, "0.93"),
    ("deductible_eur", 800, "0.87"),
]


@pytest.mark.parametrize("member, value, factor", CAR_FACTORS)
def test_each_car_factor_multiplies_the_premium(member, value, factor):
    reference = {"vehicle_group": "1.00", "vehicle_year": "1.00", "parking": "0.95"}
    others = CAR_FACTOR / Decimal(reference.get(member, "1.00"))
    quoted = annual("auto", {**CAR, member: value}, "tous_risques")
    assert quoted["annual_premium_cents"] == cents(Decimal(106500) * others * Decimal(factor))


HOME_FACTORS = [
    ("housing", "maison", "1.35"),
    ("rooms", 1, "0.70"), ("rooms", 2, "0.85"), ("rooms", 5, "1.30"), ("rooms", 12, "2.35"),
    ("postcode", "79000", "0.90"), ("postcode", "63000", "1.00"), ("postcode", "75011", "1.30"),
    ("postcode", "97400", "1.00"),
    ("occupant", "locataire", "0.85"),
    ("deductible_eur", 75, "1.08"), ("deductible_eur", 300, "0.93"), ("deductible_eur", 500, "0.88"),
]


@pytest.mark.parametrize("member, value, factor", HOME_FACTORS)
def test_each_home_factor_multiplies_the_premium(member, value, factor):
    others = HOME_FACTOR / (HOME_FACTOR if member == "postcode" else 1)
    quoted = annual("habitation", {**HOME, member: value}, "confort")
    assert quoted["annual_premium_cents"] == cents(Decimal(36700) * others * Decimal(factor))


@pytest.mark.parametrize("surface, rooms", [(9, 1), (25, 1), (26, 2), (75, 3), (76, 4), (1000, 12)])
def test_a_surface_counts_one_room_per_started_25_square_metres(surface, rooms):
    home = {k: v for k, v in HOME.items() if k != "rooms"}
    normalized = TARIFF.normalize("habitation", {**home, "surface_m2": surface}, TODAY)
    assert (normalized["rooms"], normalized["rooms_from"]) == (rooms, "surface_m2")


@pytest.mark.parametrize("model, group, source", [
    ("clio", 3, "model"), ("Renault Clio V", 3, "model"), ("PEUGEOT 208", 3, "model"),
    ("peugeot 2008", 4, "model"), ("Tesla Model 3", 6, "model"), ("Mégane", 4, "model"),
    ("une vieille deudeuche", 4, "default"), ("3008 hybride", 5, "model"),
])
def test_a_vehicle_model_is_mapped_to_its_group_and_an_unknown_one_to_the_default(model, group, source):
    car = {k: v for k, v in CAR.items() if k != "vehicle_group"}
    normalized = TARIFF.normalize("auto", {**car, "vehicle_model": model}, TODAY)
    assert (normalized["vehicle_group"], normalized["vehicle_group_from"]) == (group, source)


def test_a_given_vehicle_group_wins_over_the_model():
    normalized = TARIFF.normalize("auto", {**CAR, "vehicle_model": "clio", "vehicle_group": 7}, TODAY)
    assert (normalized["vehicle_group"], normalized["vehicle_group_from"]) == (7, "given")


def test_defaults_fill_what_is_optional():
    car = {k: CAR[k] for k in ("vehicle_group", "vehicle_year", "usage", "parking")}
    normalized = TARIFF.normalize("auto", car, TODAY)
    assert (normalized["bonus_malus"], normalized["young_driver"], normalized["deductible_eur"]) == (1.0, False, 300)
    home = {k: HOME[k] for k in ("housing", "rooms", "postcode", "occupant")}
    assert TARIFF.normalize("habitation", home, TODAY)["deductible_eur"] == 150


@pytest.mark.parametrize("annual_cents, monthly", [
    (120000, 10000), (58660, 4888), (58662, 4889), (6, 1), (5, 0), (18, 2), (30, 3), (1, 0),
])
def test_the_monthly_premium_is_a_twelfth_of_the_annual_rounded_half_up(annual_cents, monthly):
    assert monthly_cents(annual_cents) == monthly


def test_the_annual_premium_is_rounded_to_the_cent_half_up_and_the_quote_says_monthly_too():
    # 46500 x 0.78 x 1.10 x 0.5 x 0.95 x 0.9 x 1.6 x 0.87 = 24 667.3... cents
    risk = {**CAR, "vehicle_group": 1, "vehicle_year": 2025, "bonus_malus": 0.5, "usage": "prive",
            "parking": "garage", "young_driver": True, "deductible_eur": 800}
    quoted = annual("auto", risk, "tiers")
    exact = Decimal(46500) * Decimal("0.78") * Decimal("1.10") * Decimal("0.5") * Decimal("0.95") \
        * Decimal("0.90") * Decimal("1.60") * Decimal("0.87")
    assert quoted["annual_premium_cents"] == cents(exact)
    assert quoted["monthly_premium_cents"] == monthly_cents(quoted["annual_premium_cents"])


def test_the_demo_car_is_priced_near_its_stored_premium():
    risk = {"vehicle_model": "Peugeot 208", "vehicle_year": 2019, "bonus_malus": 0.68, "usage": "trajets",
            "parking": "garage", "deductible_eur": 300}
    assert abs(annual("auto", risk, "tous_risques")["monthly_premium_cents"] - 4890) < 50


REFUSED = [
    ("auto", {}, {"vehicle_year": "champ obligatoire", "usage": "champ obligatoire",
                  "parking": "champ obligatoire", "vehicle_model": "champ obligatoire (ou vehicle_group)"}),
    ("auto", {**CAR, "vehicle_year": 1979}, {"vehicle_year": "entre 1980 et 2026"}),
    ("auto", {**CAR, "vehicle_year": 2027}, {"vehicle_year": "entre 1980 et 2026"}),
    ("auto", {**CAR, "vehicle_year": "2019"}, {"vehicle_year": "nombre entier attendu"}),
    ("auto", {**CAR, "vehicle_year": True}, {"vehicle_year": "nombre entier attendu"}),
    ("auto", {**CAR, "vehicle_group": 9}, {"vehicle_group": "entre 1 et 8"}),
    ("auto", {**CAR, "bonus_malus": 0.49}, {"bonus_malus": "entre 0,50 et 3,50"}),
    ("auto", {**CAR, "bonus_malus": 0.685}, {"bonus_malus": "2 décimales au plus"}),
    ("auto", {**CAR, "bonus_malus": "0,68"}, {"bonus_malus": "nombre attendu"}),
    ("auto", {**CAR, "usage": "course"}, {"usage": "valeur attendue parmi : prive, trajets, professionnel"}),
    ("auto", {**CAR, "parking": "Garage"}, {"parking": "valeur attendue parmi : garage, parking, rue"}),
    ("auto", {**CAR, "young_driver": "oui"}, {"young_driver": "true ou false attendu"}),
    ("auto", {**CAR, "deductible_eur": 200}, {"deductible_eur": "franchise attendue parmi : 150, 250, 300, 500, 800"}),
    ("auto", {**CAR, "colour": "red"}, {"colour": "champ inconnu"}),
    ("auto", {**CAR, "vehicle_model": {"a": 1}}, {"vehicle_model": "texte attendu"}),
    ("auto", {**CAR, "vehicle_model": "x" * 61}, {"vehicle_model": "60 caractères lisibles au plus"}),
    ("habitation", {**HOME, "rooms": 0}, {"rooms": "entre 1 et 12"}),
    ("habitation", {**HOME, "rooms": None, "surface_m2": 8}, {"surface_m2": "entre 9 et 1000"}),
    ("habitation", {**HOME, "postcode": "7900"}, {"postcode": "code postal français de 5 chiffres attendu"}),
    ("habitation", {**HOME, "postcode": 79000}, {"postcode": "code postal français de 5 chiffres attendu"}),
    ("habitation", {**HOME, "postcode": "98000"}, {"postcode": "code postal français de 5 chiffres attendu"}),
    ("habitation", {**HOME, "housing": "chateau"}, {"housing": "valeur attendue parmi : appartement, maison"}),
    ("habitation", {**HOME, "deductible_eur": 100}, {"deductible_eur": "franchise attendue parmi : 75, 150, 300, 500"}),
    ("habitation", {"housing": "maison"}, {"rooms": "champ obligatoire (ou surface_m2)",
                                          "postcode": "champ obligatoire", "occupant": "champ obligatoire"}),
]


@pytest.mark.parametrize("product, risk, reasons", REFUSED)
def test_a_bad_risk_is_refused_member_by_member_with_a_french_reason(product, risk, reasons):
    with pytest.raises(RiskRefused) as refused:
        TARIFF.normalize(product, risk, TODAY)
    assert refused.value.fields == reasons


def test_another_rules_file_of_the_same_shape_prices_with_its_own_figures_and_version(tmp_path):
    rules = yaml.safe_load(RULES_FILE.read_text())
    rules["version"] = "assureur-2027"
    rules["products"]["auto"]["guarantees"]["responsabilite_civile_auto"]["base_annual_eur"] = 520
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True))
    tariff = load_tariff(path)
    normalized = tariff.normalize("auto", CAR, TODAY)
    tiers = tariff.formulas("auto", normalized, TODAY)[0]
    assert tariff.version == "assureur-2027"
    assert tiers["annual_premium_cents"] == cents(Decimal(56500) * CAR_FACTOR)


@pytest.mark.parametrize("breakage", ["unknown guarantee", "default deductible", "no version", "one formula", "not yaml"])
def test_a_broken_rules_file_is_refused_with_the_reason(tmp_path, breakage):
    rules = yaml.safe_load(RULES_FILE.read_text())
    auto = rules["products"]["auto"]
    if breakage == "unknown guarantee":
        auto["formulas"][0]["guarantees"].append("rayure")
    elif breakage == "default deductible":
        auto["deductibles"]["default"] = 333
    elif breakage == "no version":
        del rules["version"]
    elif breakage == "one formula":
        auto["formulas"] = auto["formulas"][:1]
    path = tmp_path / "rules.yml"
    path.write_text("products: [unclosed" if breakage == "not yaml" else yaml.safe_dump(rules))
    with pytest.raises(RulesError, match=str(path)):
        load_tariff(path)
