import re
from types import SimpleNamespace
from xml.etree import ElementTree

import pytest

from connectors import speech
from connectors.ivr_actions import menu_words, voice_reply
from connectors.speech import to_speech
from tests.adversarial_text import WRITTEN_ANSWERS, patterns_of, slow_texts
from tests.connectors.channel_server import project_domain

AGENT = SimpleNamespace(domain=project_domain())  # the keypad menu's words are domain responses


@pytest.mark.parametrize(
    "written, spoken",
    [
        # identifiers read in groups
        ("Votre sinistre est enregistré sous le numéro SIN-2026-000731.",
         "Votre sinistre est enregistré sous le numéro S I N, 2026, zéro zéro zéro, 731."),
        ("Contrat AUT-482913", "Contrat A U T, 482, 913."),
        ("Contrat : HAB-120034 – assurance habitation", "Contrat : H A B, 120, zéro 34, assurance habitation."),
        ("référence TRF-2026-000012", "référence T R F, 2026, zéro zéro zéro, zéro 12."),
        ("Peugeot 208 AB-123-CD", "Peugeot 208 A B, 123, C D."),
        ("Votre identifiant : 10000001.", "Votre identifiant : 10, zéro zéro, zéro zéro, zéro 1."),
        ("Appelez le 0825 07 11 22.", "Appelez le zéro 8, 25, zéro 7, 11, 22."),
        # amounts, times, numeric dates
        ("412,00 € versés au total", "412 euros versés au total."),
        ("Déjà versé : 1 234,50 €.", "Déjà versé : 1234 euros 50."),
        ("l'expert passera le 3 décembre 2026 à 10 h 00.", "l'expert passera le 3 décembre 2026 à 10 heures."),
        ("de 8 h 30 à 18 h, sous 24 à 48 h", "de 8 heures 30 à 18 heures, sous 24 à 48 heures."),
        ("(par exemple 12/03/1985)", "(par exemple 12 mars 1985)."),
        # addresses as they are said, masked data without its stars
        ("écrivez à contact@oyat-assurances.fr", "écrivez à contact arobase oyat tiret assurances point fr."),
        ("Allez sur connexion.oyat-assurances.fr", "Allez sur connexion point oyat tiret assurances point fr."),
        ("envoyé à m***@example.fr.", "envoyé à l'adresse e-mail de votre dossier."),
        ("par SMS au 06 ** ** ** 78.", "par SMS au numéro de votre dossier terminant par 78."),
        # no links, markdown or emoji
        ("Téléchargez-la ici : https://docs.example/v1/documents/ab12.pdf?signature=x\nValable 24 h.",
         "Téléchargez-la ici. Valable 24 heures."),
        ("**Important** : voir [la page](https://x.example) 🙂👍", "Important : voir la page."),
        # lists become sentences
        ("Et maintenant ?\n- Dossier ouvert sous 24 à 48 h.\n- Gardez vos factures",
         "Et maintenant ? Dossier ouvert sous 24 à 48 heures. Gardez vos factures."),
        ("1. Allez sur le site.\n2. Cliquez", "Allez sur le site. Cliquez."),
    ],
)
def test_written_answers_are_rewritten_for_the_ear(written, spoken):
    assert to_speech(written).text == spoken


def test_the_ssml_is_well_formed_french_with_identifiers_spelled():
    ssml = to_speech("Dossier SIN-2026-000731 : 412 € <versés> & clôturé.\nAu revoir.").ssml
    root = ElementTree.fromstring(ssml)
    assert root.tag == "speak" and root.attrib["{http://www.w3.org/XML/1998/namespace}lang"] == "fr-FR"
    assert '<say-as interpret-as="characters">SIN</say-as>' in ssml
    assert "&lt;versés&gt; &amp; clôturé" in ssml
    assert ssml.count('<break time="400ms"/>') == 1  # between the two lines


@pytest.mark.parametrize("written", ["🚗💥", "", "https://example.fr/page"])
def test_nothing_to_say_gives_an_empty_text(written):
    assert to_speech(written).text == ""


def test_menus_are_spoken_with_their_keypad_digits():
    assert menu_words(AGENT, ["Oui"]) == "Tapez 1 pour « Oui »."
    assert menu_words(AGENT, ["Vol", "Incendie"]) == "Tapez 1 pour « Vol » ou 2 pour « Incendie »."
    assert (menu_words(AGENT, ["Vol", "Incendie", "Autre"])
            == "Tapez 1 pour « Vol », 2 pour « Incendie » ou 3 pour « Autre ».")


def test_a_reply_is_ordered_say_actions_then_listen_with_the_menu():
    reply = voice_reply(
        [{"text": "Quel type ?", "buttons": [{"title": "Vol", "payload": '/inform{"claim_type": "vol"}'}]},
         {"image": "https://example.fr/photo.png"}],
        adviser_line="+33825071122", agent=AGENT,
    )
    assert [a["type"] for a in reply.actions] == ["say", "say", "listen"]
    assert reply.menu == {"1": '/inform{"claim_type": "vol"}'}
    assert reply.prompt == reply.actions[1:]
    for action in reply.actions[:2]:
        assert not re.search(r"https?://|[*_`]", action["text"] + action["ssml"])


def test_a_transfer_ends_the_reply_with_the_advisers_line_and_the_reference_in_a_sip_header_only():
    reply = voice_reply(
        [{"text": "Je vous passe un conseiller."},
         {"custom": {"ivr": "transfer", "reference": "TRF-2026-000012", "summary": "Derniers messages du client"}},
         {"text": "Quel est votre identifiant ?"}],
        adviser_line="+33825071122", agent=AGENT,
    )
    assert [a["type"] for a in reply.actions] == ["say", "transfer"]
    assert reply.actions[1]["target"] == "+33825071122"
    assert reply.actions[1]["sip_headers"] == {"X-Oyat-Handoff": "TRF-2026-000012"}
    assert "Derniers messages" not in str(reply.actions)
    assert reply.ends_call and reply.prompt == []


def test_a_hangup_instruction_ends_the_reply():
    reply = voice_reply([{"text": "Au revoir."}, {"custom": {"ivr": "hangup"}}], adviser_line="+33825071122",
                        agent=AGENT)
    assert [a["type"] for a in reply.actions] == ["say", "hangup"]


@pytest.mark.parametrize("name, pattern", patterns_of(speech), ids=lambda value: str(value))
def test_every_speech_pattern_takes_linear_time_on_adversarial_text(name, pattern):
    assert slow_texts(pattern, WRITTEN_ANSWERS) == {}, name


@pytest.mark.parametrize("written, spoken", [
    ("[" * 3000 + "le [guide](https://oyat.fr/guide)", "[" * 3000 + "le guide."),
    ("**important** et __noté__", "important et noté."),
    ("Montant : 1 250,00 €", "Montant : 1250 euros."),
    ("écrivez à a.b.c@oyat.fr", "écrivez à a point b point c arobase oyat point fr."),
])
def test_answers_after_the_linear_rewrite_are_spoken_as_before(written, spoken):
    assert to_speech(written).text == spoken
