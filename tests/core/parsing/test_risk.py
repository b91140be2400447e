import datetime as dt

import pytest

from core.parsing.risk import formula_chosen, missing_fields, product_of, read_risk

TODAY = dt.date(2026, 12, 2)
FORMULAS = [{"code": "tiers", "label": "Tiers"}, {"code": "tiers_etendu", "label": "Tiers étendu"},
            {"code": "tous_risques", "label": "Tous risques"}]


@pytest.mark.parametrize("text, product", [
    ("je voudrais un devis auto", "auto"),
    ("combien pour assurer ma bagnole", "auto"),
    ("devis pour une Clio", "auto"),
    ("un devis habitation svp", "habitation"),
    ("assurer mon appart", "habitation"),
    ("je cherche une assurance pour ma maison", "habitation"),
    ("un devis pour assurer une moto", "autre"),
    ("une mutuelle santé", "autre"),
    ("je voudrais un devis", None),
])
def test_the_product_is_read_from_the_customers_words(text, product):
    assert product_of(text) == product


@pytest.mark.parametrize("text, values", [
    ("une Clio de 2019, je me gare dans la rue", {"vehicle_model": "clio", "vehicle_year": 2019, "parking": "rue"}),
    ("je veux assurer ma voiture une golf 2015 pour aller au boulot tous les jours, elle dort dans la rue",
     {"vehicle_model": "golf", "vehicle_year": 2015, "usage": "trajets", "parking": "rue"}),
    ("peugeot 2008 de 2021 au garage, permis depuis 10 ans",
     {"vehicle_model": "peugeot 2008", "vehicle_year": 2021, "parking": "garage", "young_driver": False}),
    ("une toyota yaris de 2022 stationnee sur un parking privé",
     {"vehicle_model": "toyota yaris", "vehicle_year": 2022, "parking": "parking"}),
    ("renault megane 2017 jeune permis bonus 1", {"vehicle_model": "renault megane", "vehicle_year": 2017,
                                                  "young_driver": True, "bonus_malus": 1.0}),
    ("une 208 qui a 6 ans", {"vehicle_model": "208", "vehicle_year": 2020}),
])
def test_several_car_facts_in_one_sentence(text, values):
    reading = read_risk(text, TODAY)
    assert reading.product == "auto"
    assert reading.values == values


@pytest.mark.parametrize("text, field, value", [
    ("garage", "parking", "garage"),
    ("dans un box fermé", "parking", "garage"),
    ("dehors devant chez moi", "parking", "rue"),
    ("sur ma place de parking", "parking", "parking"),
    ("dans la cour de la residence", "parking", "parking"),
    ("usage perso", "usage", "prive"),
    ("juste les week end et les vacances", "usage", "prive"),
    ("pour aller au taf", "usage", "trajets"),
    ("domicile-travail", "usage", "trajets"),
    ("je fais des tournees chez les clients", "usage", "professionnel"),
    ("jeune permis", "young_driver", True),
    ("jeune conducteur", "young_driver", True),
    ("permis en 2025", "young_driver", True),
    ("j'ai le permis depuis 8 mois", "young_driver", True),
    ("je l'ai eu en 2010 mon permis", "young_driver", False),
    ("non je suis pas jeune conducteur", "young_driver", False),
    ("bonus 0,68", "bonus_malus", 0.68),
    ("coef 0.85", "bonus_malus", 0.85),
    ("j'ai 50% de bonus", "bonus_malus", 0.5),
    ("bonus de 32 %", "bonus_malus", 0.68),
    ("bonus max", "bonus_malus", 0.5),
    ("malus 25%", "bonus_malus", 1.25),
    ("coef 1,25", "bonus_malus", 1.25),
    ("pas de bonus", "bonus_malus", 1.0),
    ("2019", "vehicle_year", 2019),
    ("elle est toute neuve", "vehicle_year", 2026),
    ("franchise 500 euros", "deductible_eur", 500),
])
def test_one_car_answer_in_free_words(text, field, value):
    assert read_risk(text, TODAY, product="auto").values.get(field) == value


@pytest.mark.parametrize("text, values", [
    ("non c'est une 308", {"vehicle_model": "308"}),
    ("c'est une 308 pas une 208", {"vehicle_model": "308"}),
    ("non pas la rue, au garage", {"parking": "garage"}),
    ("pardon elle est de 2018 pas 2019", {"vehicle_year": 2018}),
])
def test_a_correction_gives_the_new_value_never_the_wrong_one(text, values):
    reading = read_risk(text, TODAY, product="auto")
    assert reading.correction
    assert reading.values == values


@pytest.mark.parametrize("text, values", [
    ("appart 3 pieces a Niort 79000", {"housing": "appartement", "rooms": 3, "postcode": "79000"}),
    ("combien pour assurer ma maison de 5 pieces 17000 proprietaire",
     {"housing": "maison", "rooms": 5, "occupant": "proprietaire", "postcode": "17000"}),
    ("T2 de 45m2 a paris 75011 en location",
     {"housing": "appartement", "rooms": 2, "occupant": "locataire", "surface_m2": 45, "postcode": "75011"}),
    ("un studio que je loue", {"housing": "appartement", "rooms": 1, "occupant": "locataire"}),
    ("maison 4 chambres a 79000", {"housing": "maison", "rooms": 5, "postcode": "79000"}),
    ("je suis pas proprio je loue", {"occupant": "locataire"}),
])
def test_home_facts_in_free_words(text, values):
    reading = read_risk(text, TODAY)
    assert reading.product == "habitation"
    assert reading.values == values


@pytest.mark.parametrize("text, values", [
    ("4 pieces", {"rooms": 4}),
    ("trois pièces", {"rooms": 3}),
    ("proprio", {"occupant": "proprietaire"}),
    ("c'est a 17000 pas 79000", {"postcode": "17000"}),
    ("non 3 pieces pas 4", {"rooms": 3}),
    ("85 m²", {"surface_m2": 85}),
])
def test_one_home_answer_or_correction(text, values):
    assert read_risk(text, TODAY, product="habitation").values == values


@pytest.mark.parametrize("text", ["oui", "je sais pas", "c'est combien ?", "", "bonus 7", "2035", "1975"])
def test_words_that_give_no_input_give_none(text):
    assert read_risk(text, TODAY, product="auto").values == {}


def test_a_car_answer_says_nothing_to_a_home_quote():
    assert read_risk("garage", TODAY, product="habitation").values == {}


def test_what_is_still_to_ask_follows_the_product():
    assert missing_fields("auto", {"vehicle_model": "clio", "parking": "rue"}) == [
        "vehicle_year", "usage", "young_driver", "bonus_malus"]
    assert missing_fields("habitation", {"surface_m2": 60, "postcode": "79000"}) == ["housing", "occupant"]
    assert missing_fields(None, {}) == []


@pytest.mark.parametrize("text, code", [
    ("la tous risques", "tous_risques"),
    ("tout risque", "tous_risques"),
    ("tiers etendu", "tiers_etendu"),
    ("Tiers étendu svp", "tiers_etendu"),
    ("le tiers", "tiers"),
    ("la 2", "tiers_etendu"),
    ("la deuxieme", "tiers_etendu"),
    ("la derniere", "tous_risques"),
    ("la moins chere", "tiers"),
    ("la plus complete", "tous_risques"),
    ("ok", None),
    ("je vais reflechir", None),
])
def test_the_formula_chosen_by_name_place_or_price(text, code):
    assert formula_chosen(text, FORMULAS) == code


def test_a_car_parked_by_the_house_stays_a_car_quote():
    reading = read_risk("garee devant la maison", TODAY, product="auto")
    assert (reading.product, reading.values) == ("auto", {"parking": "parking"})


def test_the_other_product_named_alone_changes_the_quote():
    reading = read_risk("finalement c'est pour mon appart de 3 pieces", TODAY, product="auto")
    assert (reading.product, reading.values) == ("habitation", {"housing": "appartement", "rooms": 3})


def test_a_model_followed_by_a_comma_and_another_fact():
    assert read_risk("non c'est une 308, et je suis jeune permis", TODAY, product="auto").values == {
        "vehicle_model": "308", "young_driver": True}
