import datetime as dt

import pytest

from core.parsing import loss_facts
from core.parsing.loss_facts import (
    NO_THIRD_PARTY,
    NO_WITNESS,
    claim_type_of,
    corrected_value_text,
    fields_named,
    fold,
    is_correction,
    is_question,
    negated_words,
    place_span,
    products_named,
    read_facts,
    story_damage,
    strip_correction_words,
    tells_a_loss,
)
from tests.adversarial_text import DICTATED_NUMBERS_AND_DATES, WRITTEN_ANSWERS, patterns_of, slow_texts

TUESDAY_24_NOV_2026 = dt.date(2026, 11, 24)


@pytest.mark.parametrize(
    "told, claim_type",
    [
        ("mon pare-brise est fissuré depuis ce matin", "bris_de_glace"),
        ("mon pare brize a pris un caillou sur l'autoroute", "bris_de_glace"),
        ("j'ai une fuite chez moi et le plafond de la voisine est abîmé", "degat_des_eaux"),
        ("le ballon d'eau chaude a lache cette nuit, ya de l'eau partout", "degat_des_eaux"),
        ("on s'est fait cambrioler pendant les vacances", "vol"),
        ("on m'a vole mon scooter devant le lycee", "vol"),
        ("une voiture m'a percuté au rond point hier", "accident_auto"),
        ("un mec a grille le feu rouge et m'a rentre dedans", "accident_auto"),
        ("la cuisine a pris feu hier soir", "incendie"),
        ("la grele a defonce la veranda", "catastrophe_naturelle"),
        ("un arbre est tombe sur le toit pendant la tempete", "catastrophe_naturelle"),
        ("mon fils a casse la vitrine du boulanger avec son ballon", "responsabilite_civile"),
    ],
)
def test_the_type_of_loss_is_read_from_the_customers_words(told, claim_type):
    assert claim_type_of(told) == claim_type


def test_a_red_light_is_no_fire():
    assert claim_type_of("il a grille le feu rouge et m'a percute") == "accident_auto"


@pytest.mark.parametrize(
    "told",
    [
        "mon pare-brise est fissuré depuis ce matin",
        "j'ai une fuite chez moi et le plafond de la voisine est abîmé",
        "Bonjour, hier soir vers 19h j'etais arrete au feu rouge rue de la Republique a Niort. Une voiture m'a "
        "percute a l'arriere. Le pare choc est enfonce et le coffre ne ferme plus.",
        "on m'a volé mon vélo devant la gare samedi dernier",
        "degat des eaux dans ma salle de bain depuis hier",
    ],
)
def test_a_loss_told_as_what_happened_is_a_story(told):
    assert tells_a_loss(told)


@pytest.mark.parametrize(
    "asked",
    [
        "suis-je couvert pour un bris de glace ?",
        "est ce que je suis couvert si on me vole mon velo",
        "où en est mon sinistre de dégât des eaux",
        "quand passe l'expert pour mon degat des eaux",
        "il me faut une attestation pour ma voiture apres l'accident",
        "je voudrais un devis pour assurer ma maison contre l'incendie",
        "que faire en cas de fuite d'eau ?",
        "je veux déclarer un sinistre",
        "bris de glace",
    ],
)
def test_questions_about_cover_claims_documents_or_quotes_are_no_story(asked):
    assert not tells_a_loss(asked)


def test_a_story_gives_every_fact_it_tells_in_the_customers_words():
    story = ("Bonjour, hier soir vers 19h j'etais arrete au feu rouge rue de la Republique a Niort. Une voiture m'a "
             "percute a l'arriere. Le pare choc est enfonce et le coffre ne ferme plus.")
    facts = read_facts(story, TUESDAY_24_NOV_2026)
    assert facts.claim_type == "accident_auto"
    assert facts.occurred_on == dt.date(2026, 11, 23) and facts.time_words == "vers 19h"
    assert facts.place == "au feu rouge rue de la Republique a Niort"
    assert facts.third_party == "Une voiture m'a percute a l'arriere"
    assert "Le pare choc est enfonce" in facts.damage


def test_a_neighbours_damaged_ceiling_is_a_third_party_and_damage():
    facts = read_facts("j'ai une fuite chez moi et le plafond de la voisine est abîmé", TUESDAY_24_NOV_2026)
    assert facts.place == "chez moi"
    assert facts.third_party == "le plafond de la voisine est abîmé"
    assert story_damage("j'ai une fuite chez moi et le plafond de la voisine est abîmé")


@pytest.mark.parametrize(
    "said, place",
    [
        ("dans la cuisine de mon appartement", "dans la cuisine de mon appartement"),
        ("on m'a volé mon vélo devant la gare samedi dernier", "devant la gare"),
        ("au 12 rue des Lilas hier vers 8h", "au 12 rue des Lilas"),
        ("c'etait sur le parking du Leclerc et j'ai rien vu", "sur le parking du Leclerc"),
        ("ça s'est passé à La Rochelle", "à La Rochelle"),
        ("a Niort, devant la boulangerie", "a Niort"),
        ("à bressuire chez ma mere", "à bressuire"),
    ],
)
def test_the_place_is_cut_from_the_message(said, place):
    assert place_span(said) == place


@pytest.mark.parametrize(
    "said",
    ["le tuyau sous l'évier a lâché", "il a volé mon sac", "en est mon dossier", "dans la nuit", "le 28"],
)
def test_a_verb_or_a_moment_is_no_place(said):
    assert place_span(said) is None


def test_a_bare_day_of_the_month_is_the_latest_past_one():
    assert read_facts("le 28", TUESDAY_24_NOV_2026).occurred_on == dt.date(2026, 10, 28)
    assert read_facts("c'etait le 28 vers 8h", TUESDAY_24_NOV_2026).occurred_on == dt.date(2026, 10, 28)


def test_an_answer_with_several_details_gives_each_its_part():
    facts = read_facts("le pare brise est fendu sur 20cm, pas de tiers, pas de temoin", TUESDAY_24_NOV_2026)
    assert facts.damage == "le pare brise est fendu sur 20cm"
    assert facts.third_party == NO_THIRD_PARTY and facts.witnesses == NO_WITNESS


def test_a_named_witness_is_kept_in_the_customers_words():
    facts = read_facts("la porte est enfoncee, ma voisine a tout vu", TUESDAY_24_NOV_2026)
    assert facts.witnesses == "ma voisine a tout vu" and facts.damage == "la porte est enfoncee"


@pytest.mark.parametrize(
    "said, value, negated",
    [
        ("ce n'était pas à Niort mais à La Rochelle", "à La Rochelle", "Niort"),
        ("c'etait pas a niort mais a la rochelle", "a la rochelle", "niort"),
        ("c'est pour la maison, pas la voiture", "c'est pour la maison", "voiture"),
    ],
)
def test_a_correction_gives_the_new_value_and_what_was_wrong(said, value, negated):
    assert is_correction(said)
    assert corrected_value_text(said).strip() == value
    assert negated_words(said) == negated


def test_the_product_said_to_be_wrong_is_left_out():
    assert products_named("c'est pour la maison, pas la voiture") == ["habitation"]


def test_correction_words_are_dropped_from_the_new_value():
    assert strip_correction_words("non attendez, c'était à La Rochelle") == "à La Rochelle"


@pytest.mark.parametrize(
    "said, fields",
    [("le lieu", ["claim_place"]), ("la date", ["claim_date"]), ("les temoins", ["claim_witnesses"]),
     ("ou en est mon degat des eaux", [])],
)
def test_fields_are_named_in_free_words(said, fields):
    assert fields_named(said) == fields


@pytest.mark.parametrize("said", ["au fait, c'est quoi ma franchise ?", "combien je vais toucher", "et pour l'expert ?"])
def test_questions_asked_in_passing_are_recognised(said):
    assert is_question(said)


def test_folding_keeps_one_character_for_one():
    text = "Dégât des eaux à l’étage — ÇA coule"
    assert len(fold(text)) == len(text) and fold(text).startswith("degat des eaux a l'etage")


FACT_PATTERNS = patterns_of(loss_facts) + [
    (f"{table}.{name}", pattern)
    for table in ("_CLAIM_TYPE_PATTERNS", "_FIELD_PATTERNS", "_PRODUCTS")
    for name, pattern in getattr(loss_facts, table)
]


@pytest.mark.parametrize("name, pattern", FACT_PATTERNS, ids=lambda value: str(value))
def test_every_fact_pattern_takes_linear_time_on_adversarial_text(name, pattern):
    assert slow_texts(pattern, {**DICTATED_NUMBERS_AND_DATES, **WRITTEN_ANSWERS}) == {}, name
