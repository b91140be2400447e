"""What a customer's message says about a loss, read the way customers tell it.

One reader for the story that opens a declaration (« j'ai une fuite chez moi et le
plafond de la voisine est abîmé ») and for every answer inside the claim form: the
type of loss, the date and time, the place, the damage, a third party, witnesses, a
product (« c'est pour la maison »), a field named for correction (« le lieu »), and
whether the message is a question or a correction. Pure functions on text: no I/O.

Matching runs on a folded copy of the text (lower case, no accents, same length), so
that every span found is cut from the customer's own words.
"""

import dataclasses
import datetime as dt
import re
import unicodedata
from typing import List, Optional, Tuple

from core.parsing.dates import resolve_french_date

# « Nobody else was involved », « nobody saw it »: what the reader finds, not words to
# store; the claim form stores the domain's words for them.
NO_THIRD_PARTY = "no_third_party"
NO_WITNESS = "no_witness"

# Most specific first: a window broken during a burglary is a theft, a windscreen
# broken in an accident is the accident.
_CLAIM_TYPE_WORDS: List[Tuple[str, str]] = [
    ("vol", r"\bvol(?:e|es|ee|ees|er|eur|eurs|s)?\b|\bcambriol\w*|\beffraction\b|\bdisparu(?:e|s|es)?\b.{0,40}\bvoiture\b"
            r"|\bpique\b.{0,30}\b(?:sac|velo|voiture|scooter|moto|telephone|portefeuille)\b"),
    ("incendie", r"\bincendie\w*|\b(?:pris|prend|prendre|mis le|met le|mettre le|un|le|du) feu\b(?!\s+(?:rouge|vert|orange|tricolore))"
                 r"|\bbrul(?:e|ee|es|ees|ure)\b|\bflammes?\b|\bfumee\b|\bcourt[- ]circuit\b"),
    ("degat_des_eaux", r"\bdegats? des? eaux?\b|\bdegats? d'eau\b|\bdde\b|(?<!delit de )\bfuite\w*|\binfiltration\w*"
                       r"|\bcanalisation\w*|\btuyau\w*|\bdeborde\w*|\bchauffe[- ]eau\b|\bballon d'eau\b|\bdegat des eaux\b"
                       r"|\bdegat eau\b|\bplafond\b.{0,40}\b(?:tache|taches|mouille|goutte|coule|gonfle|abime|effondre)\w*"
                       r"|\beau\b.{0,30}\b(?:coule|partout|plafond|mur|sol)\b|\binonde\w* par\b|\bchez (?:le|la|les) voisin\w*.{0,40}\beau\b"),
    ("catastrophe_naturelle", r"\btempete\w*|\bgrele\w*|\binondation\w*|\borage\w*|\bcrue\w*|\btornade\w*|\bouragan\w*"
                              r"|\bcoulee de boue\b|\bseisme\b|\btremblement de terre\b|\bsecheresse\b|\bcatastrophe naturelle\b"
                              r"|\bcoup de vent\b|\bvent violent\b|\barbre\b.{0,30}\btombe\w*"),
    ("accident_auto", r"\baccident\w*|\baccroch\w*|\bcollision\w*|\bpercut\w*|\bembouti\w*|\btamponn\w*|\bcarambolage\b"
                      r"|\bheurt\w*|\brentr\w* dedans\b|\brentr\w* dans (?:ma|ma voiture|mon|l'arriere|le cul)\b"
                      r"|\bgrill\w* (?:la priorite|le feu|un stop)\b|\bdelit de fuite\b|\bsorti\w* de (?:la )?route\b"
                      r"|\bfosse\b|\bmarche arriere\b|\bchoc\b|\bcarrosserie\b|\bpare[- ]?choc\w*|\bconstat\b"),
    ("bris_de_glace", r"\bpare[- ]?bri[sz]e?\b|\bbris de glace\b|\bvitre\w*|\blunette arriere\b|\bglace\w* (?:cassee|brisee|fissuree)\b"
                      r"|\bbaie vitree\b|\bfenetre\w*\b.{0,20}\b(?:cass|bris|fissur|fel)\w*|\bretro\w*\b.{0,20}\b(?:cass|bris|explos)\w*"
                      r"|\bimpact\b|\bgravillon\w*|\bcaillou\b"),
    ("responsabilite_civile", r"\bresponsabilite civile\b|\bdommages? a (?:autrui|un tiers)\b"
                              r"|\b(?:mon|ma) (?:fils|fille|enfant|chien|chat|gamin|gamine|petit)\b.{0,40}\b(?:casse|abime|mordu|renverse|raye|brise)\w*"
                              r"|\bj'ai (?:casse|abime|raye|renverse|endommage)\b.{0,60}\b(?:chez|du|de la|des|de mon|de ma) (?:voisin|voisine|voisins|ami|amie|collegue|proprio|proprietaire|magasin)\w*"),
]
CLAIM_TYPES = [name for name, _ in _CLAIM_TYPE_WORDS]
_CLAIM_TYPE_PATTERNS = [(name, re.compile(pattern)) for name, pattern in _CLAIM_TYPE_WORDS]

# Something happened: a verb in a past tense, a state (« est fissuré »), a moment.
_EVENT = re.compile(
    r"\b(?:j'ai|j ai|jai|on a|on m'a|on ma|il a|elle a|ils ont|elles ont|nous avons|a ete|ont ete|s'est|se sont|m'est|me suis"
    r"|est (?:tombe|arrive|casse|fissure|abime|inonde|brule|fele|fendu|explose|raye|enfonce|detruit|endommage|parti|gonfle|vole|rentre)"
    r"|sont (?:tombe|casse|abime|inonde|brule|raye|vole|endommage|partis)|suis (?:rentre|tombe|sorti|parti)"
    r"|depuis|hier|avant[- ]hier|ce matin|cette nuit|la nuit derniere|ce soir|tout a l'heure|ce week-?end|le week-?end dernier"
    r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|il y a \w+ (?:jours?|semaines?|heures?))\b"
)
# Weaker signs of a past event (« le tuyau a lâché »): enough in a statement, not in a question.
_PAST_PARTICIPLE = re.compile(
    r"\b\w+(?:e|ee|es|ees|i|is|u|ue|us)\s+(?:par|pendant|quand|lorsque)\b"
    r"|\b(?:a|ont|est|sont)\s+\w+(?:e|ee|es|ees|i|is|u|ue|us)\b"
)
# About an existing claim, a cover, a document or a quote: not a new loss being told.
_NOT_A_NEW_LOSS = re.compile(
    r"\bsin[- ]?\d{4}|\bmon dossier\b|\bmon sinistre\b|\bma declaration\b|\bou en est\b|\bsuivi\b|\bexpert\w*\b"
    r"|\brembours\w*|\bindemnis\w*|\battestation\b|\bdevis\b|\btarif\w*|\bsimulation\b|\bsouscri\w*|\bresili\w*"
    r"|\bcombien (?:ca coute|coute|je paie|je paye)\b|\bpour assurer\b|\bfaire assurer\b|\bassurer (?:ma|mon|une|un)\b"
    r"|\bdeja declare\w*\b|\bj'ai declare\b"
)
_COVER_QUESTION = re.compile(
    r"\b(?:suis[- ]je|je suis|est[- ]ce que je suis|suis je|on est|serais[- ]je|serai[- ]je)\s+(?:bien\s+)?(?:couvert|assure|garanti)\w*"
    r"|\b(?:couvre|couvert|couverte|garanti|garantie|garanties|pris en charge|prise en charge|rembourse)\w*\b.{0,60}\?"
    r"|\best[- ]ce que (?:mon|ma|l')\s*(?:contrat|assurance|garantie)\b|\best[- ]ce (?:couvert|pris en charge)\b"
    r"|\bque faire (?:en cas|si)\b|\ben cas de\b|\bsi (?:on me|jamais|j'ai un|j'avais|je casse|il y a)\b"
)
_QUESTION_START = re.compile(
    r"^(?:au fait|et|euh|sinon|dites|dis|bonjour|svp|juste)?[ ,]*(?:c'est quoi|c quoi|cest quoi|quel|quelle|quels|quelles|combien|comment|pourquoi"
    r"|est[- ]ce que|est ce que|vous pouvez|pouvez[- ]vous|tu peux|je peux|puis[- ]je|suis[- ]je|ai[- ]je|dois[- ]je|faut[- ]il|a quoi|ca sert|quand est[- ]ce)\b"
)

_MONTHS = r"janvier|fevrier|fevr?|mars|avril|avr|mai|juin|juillet|juil|aout|septembre|sept|octobre|oct|novembre|nov|decembre|dec"
_WEEKDAYS = r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
_NUMBER_WORDS = r"\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quinze|quelques"
_DATE = re.compile(
    r"\b(?:avant[- ]hier|hier|aujourd'?hui|ce matin|ce midi|ce soir|cet apres[- ]midi|cette nuit|la nuit derniere|tout a l'heure"
    rf"|(?:ce|le) week-?end(?: dernier)?|la semaine derniere|il y a (?:{_NUMBER_WORDS}) (?:jours?|semaines?|mois|heures?)"
    rf"|(?:{_WEEKDAYS})(?: derni(?:er|ere))?(?: (?:1er|premier|\d{{1,2}})(?: (?:{_MONTHS})\.?)?(?: \d{{4}})?)?"
    rf"|(?:le |du |au )?(?:1er|premier|\d{{1,2}}) (?:{_MONTHS})\.?(?: \d{{4}})?"
    r"|(?:le |du )(?:1er|premier|\d{1,2})(?![\d/.:h,]|\s*(?:h|heures?|ans?|euros?|€|%|m|km|cm|min|minutes?|rue|avenue|bd|boulevard|place|chemin|allee|impasse|route)\b)"
    r"|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?(?![\d/])"
    r")"
)
_TIME = re.compile(
    r"\b(?:vers |a |aux alentours de |autour de |sur les coups de |en fin de |en debut de )?(?:\d{1,2} ?h(?:eures?)?(?: ?\d{2})?|midi|minuit)(?![\w])"
    r"|\b(?:en fin d'apres[- ]midi|en fin de (?:matinee|journee|soiree)|dans la nuit|en pleine nuit|dans la (?:matinee|soiree|journee)"
    r"|ce matin|ce soir|cette nuit|cet apres[- ]midi|le matin|le soir|la nuit)\b"
)

_STREET = r"rue|avenue|av|boulevard|bd|place|chemin|impasse|allee|route|quai|cours|rond[- ]point|autoroute|nationale|departementale"
_PLACE = re.compile(
    rf"\b\d{{1,4}}(?: ?(?:bis|ter))?,? (?:{_STREET})\b[^,.;!?\n]*"
    rf"|\b(?:{_STREET})\b (?:de |du |des |d'|de la |de l')?[^,.;!?\n]+"
    r"|\b(?:sur|dans) (?:l'autoroute|l'a\d+|la (?:rocade|nationale|departementale|n\d+|d\d+))\b[^,.;!?\n]*"
    r"|\bsur (?:le|la|l'|un|une|mon|ma) (?:parking|route|pont|rond[- ]point|place|trottoir|chemin|voie|bretelle|aire|periph\w*|parking)\b[^,.;!?\n]*"
    r"|\bdans (?:ma|mon|la|le|l'|les|notre|nos|un|une|mes) (?!nuit|matinee|soiree|journee|apres[- ]midi|semaine|mois|annee|cas\b|foulee|precipitation|panique|virage de la vie)[^,.;!?\n]+"
    r"|\bchez (?:moi|nous|ma|mon|mes|la|le|les|l'|un|une)\b[^,.;!?\n]*"
    r"|\bdevant (?:chez|le|la|l'|les|ma|mon)\b[^,.;!?\n]*|\ben face (?:de|du|des)\b[^,.;!?\n]*|\bpres (?:de|du|des)\b[^,.;!?\n]*"
    r"|\bau (?:parking|garage|sous-sol|bureau|centre commercial|supermarche|carrefour|feu)\b[^,.;!?\n]*"
    r"|\ba la (?:maison|gare|plage|sortie|station|pompe)\b[^,.;!?\n]*|\ba domicile\b"

)
# A town: « à Niort », « à la rochelle » (the accent says it is the preposition), or a
# capitalised name after « a », « au », « en » (« a Niort », « en Vendée »); run on the
# original text, whose case and accents tell a town from « il a lâché ».
_TOWN = re.compile(
    r"\b(?:à|a|au|aux|en)\s+(?:[A-ZÉÈÀÂÎÔ][\w'-]+)(?:[ -](?:(?:la|le|les|de|du|des|sur|sous|en|lès|l')[ -]?)?[A-ZÉÈÀÂÎÔ][\w'-]+)*"
    r"|(?<![\w])à\s+(?!la (?:suite|fin|place|place de|base|limite|main|hauteur|vitesse|maison)\b|l'heure|cause|côté|cote|peine"
    r"|moi|lui|nouveau|chaque|partir|travers|force|temps|peu|priori|fond|vrai|part|tout|toute|plein|pleine|reculons|midi"
    r"|minuit|gauche|droite|\d)(?:la |l')?[a-zéèêàâîôûç][\w'-]+(?: (?:sur|sous|en|la|le|les|de) [a-zéèêàâîôûç][\w'-]+)?",
)
# The end of a place: a date, a link to the next part of the sentence.
_PLACE_END = re.compile(
    r"\b(?:et|quand|alors|mais|pendant|car|parce|puis|lorsque|ou|donc|depuis|vers|ce matin|hier|cette nuit|avant[- ]hier|ce soir"
    r"|il y a|j'|je|il|elle|on|ils|elles|nous|qui|que|le conducteur|une voiture|un camion|a cause)\b"
    rf"|\b(?:{_WEEKDAYS})\b|\b(?:le|du) \d{{1,2}}\b|\b\d{{1,2}} ?h\b|\b\d{{1,2}}[/.]\d{{1,2}}"
)

_THIRD_PARTY = re.compile(
    r"\btiers\b|\bautre (?:conducteur|vehicule|voiture|automobiliste|personne)\b|\bl'autre (?:conducteur|vehicule|voiture|automobiliste)\b"
    r"|\ble conducteur\b|\bla conductrice\b|\bconstat\b|\bassureur\b|\b(?:le|la|mon|ma|mes|les|du|de la|des) voisin\w*"
    r"|\b(?:une|un) (?:voiture|camion|camionnette|moto|scooter|cycliste|pieton|bus|utilitaire|vehicule|automobiliste|chauffeur|livreur)\b"
    r"|\bm'a (?:percute|rentre|heurte|grille|accroche|embouti|tamponne|refuse|coupe|pousse)\w*"
)
_NO_THIRD_PARTY = re.compile(
    r"\b(?:aucun|pas de|sans|pas d'autre|aucun autre) (?:tiers|autre (?:vehicule|conducteur|personne)|vehicule|conducteur|autre personne)\b"
    r"|\bpersonne d'autre\b|\bpersonne (?:n'est|n'etait|d'implique)\b|\bj'etais seule?\b|\bje suis (?:le|la) seule?\b|\bseule? en cause\b"
    r"|^(?:non|nan|aucun|aucune|personne|non personne|non aucun|rien|nope|non merci|pas de tiers)[ .!]*$"
)
_WITNESS = re.compile(r"\btemoins?\b|\bont (?:tout )?vu\b|\ba (?:tout )?vu la scene\b|\ba (?:tout )?vu\b|\ba assiste\b|\bpassants?\b")
_NO_WITNESS = re.compile(
    r"\b(?:pas de|aucun|sans|pas d'|aucuns?) ?temoins?\b|\bpersonne (?:n'a|na) (?:rien )?vu\b|\bpas de temoin\b|\bpersonne a vu\b"
    r"|^(?:non|nan|aucun|aucune|personne|non personne|non aucun|rien|nope|non merci)[ .!]*$"
)
_DAMAGE = re.compile(
    r"\b(?:abime|casse|fissure|fele|fendu|brise|explose|detruit|endommage|gonfle|noirci|tache|degat|dommage|enfonce|raye|bossel"
    r"|cabosse|blesse|blessure|inonde|trempe|moisi|ecaille|arrache|tordu|hs|hors service|mort|morte|fichu|foutu|perdu|emporte"
    r"|disparu|degrade|pete|niquee?|troue|effondre|demoli|carbonise|brule|fondu|coule|mouille|humide|fuit|goutte|degouline)\w*"
    r"|\bplus de (?:portable|ordi|tele|velo|voiture)\b|\bvole[es]*\b|\b(?:bijoux|ordinateur|tele|televiseur|telephone|portable|velo|sac)\b"
)

_CORRECTION = re.compile(
    r"^(?:non+|nan|nn|euh+ ?non|pardon|attendez|attends|oups|erreur|correction|je me suis trompee?|je me suis gourr?ee?"
    r"|en fait|plutot|finalement|rectification|je rectifie|je corrige|ah non|mince|zut)\b"
    r"|\b(?:ce n'etait pas|c'etait pas|cetait pas|ce n'est pas|c'est pas|cest pas|pas a|pas au|pas en|pas le|pas la|pas les|pas l')\b.{0,60}\bmais\b"
    r"|\bpas (?:la|le|l'|les|ma|mon|mes) \w+\b[ .!]*$|\bplutot\b|\bje voulais dire\b|\bje me suis trompee?\b|\bc'etait en fait\b"
    r"|\bil faut (?:corriger|changer|modifier)\b|\b(?:corriger|changer|modifier|rectifier)\b"
)
_BUT = re.compile(r"\bmais\b|\bplutot\b|\bje voulais dire\b|\ben fait\b|\bc'etait\b|\bc'est\b")

FIELD_NAMES: List[Tuple[str, str]] = [
    ("claim_place", r"\b(?:le |l')?(?:lieu|endroit|adresse|ville|rue|emplacement)\b"),
    ("claim_date", r"\b(?:la )?(?:date|jour|heure)\b"),
    ("claim_type", r"\b(?:le )?type(?: de sinistre)?\b|\bla nature\b|\bla categorie\b"),
    ("claim_contract", r"\b(?:le )?contrat\b"),
    ("claim_circumstances", r"\b(?:les )?circonstances?\b|\bce qui s'est passe\b|\ble recit\b|\bla description\b|\bl'histoire\b"),
    ("claim_damage", r"\b(?:les )?(?:degats?|dommages?)\b(?! des? eaux?| d'eau)"),
    ("claim_third_party", r"\b(?:le )?tiers\b|\bl'autre (?:conducteur|personne)\b|\bconstat\b"),
    ("claim_witnesses", r"\b(?:les )?temoins?\b"),
]
_FIELD_PATTERNS = [(field, re.compile(pattern)) for field, pattern in FIELD_NAMES]

_PRODUCTS = [
    ("habitation", re.compile(r"\b(?:maison|appartement|appart|apart|logement|habitation|domicile|studio|chez moi|mrh)\b")),
    ("auto", re.compile(r"\b(?:voiture|auto|automobile|vehicule|bagnole|caisse|moto|scooter|clio|peugeot|208|renault"
                        r"|pare[- ]?bri[sz]e?|lunette arriere|retroviseur|retro|pare[- ]?chocs?|carrosserie|portiere|capot)\b")),
]

_NO_WORDS = re.compile(r"^(?:non+|nan|no|nope|aucun|aucune|personne|rien|non personne|non aucun|non merci|pas du tout)[ .!]*$")
_CLAUSE_SPLIT = re.compile(r"[.!?;\n]+|,|\s(?:et|mais|-)\s")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;\n])\s*")


def fold(text: str) -> str:
    """Lower case without accents, one character for one: spans found in the folded
    text cut the same characters from the original."""
    folded = []
    for char in text:
        base = unicodedata.normalize("NFD", char)[0].lower()[:1] or " "
        folded.append({"’": "'", "`": "'"}.get(base, base))
    return "".join(folded)


def _clean(span: str) -> str:
    return re.sub(r"\s+", " ", span).strip(" ,.;:!?-\n\t")


def claim_type_match(text: str) -> Optional[Tuple[str, int, int]]:
    """The type of loss the words of `text` name, with where they are; None when none does."""
    folded = fold(text)
    for name, pattern in _CLAIM_TYPE_PATTERNS:
        match = pattern.search(folded)
        if match:
            return name, match.start(), match.end()
    return None


def claim_type_of(text: str) -> Optional[str]:
    """The type of loss the words of `text` name, None when none does."""
    match = claim_type_match(text)
    return match[0] if match else None


def tells_a_loss(text: str) -> bool:
    """True when `text` tells a loss as something that happened (« mon pare-brise est
    fissuré depuis ce matin »), not a question about cover, an existing claim, an
    attestation or a quote."""
    folded = fold(text)
    if claim_type_of(text) is None or _NOT_A_NEW_LOSS.search(folded):
        return False
    if _COVER_QUESTION.search(folded) or (_QUESTION_START.search(folded.strip()) and "?" in folded):
        return False
    return bool(_EVENT.search(folded) or "?" not in folded and _PAST_PARTICIPLE.search(folded))


def is_question(text: str) -> bool:
    folded = fold(text).strip()
    return "?" in folded or bool(_QUESTION_START.search(folded))


def is_correction(text: str) -> bool:
    return bool(_CORRECTION.search(fold(text).strip()))


def said_no(text: str) -> bool:
    return bool(_NO_WORDS.match(fold(text).strip()))


def negated_words(text: str) -> Optional[str]:
    """What a correction says was wrong: « pas à Niort mais à La Rochelle » → « Niort »."""
    folded = fold(text)
    match = re.search(r"\bpas\s+(?:(?:a|au|aux|en|dans|sur|chez|le|la|les|l'|un|une|du|de)\s+)*(.+?)\s*(?:,|\bmais\b|\Z)", folded)
    if not match or len(match.group(1).strip()) < 2:
        return None
    return text[match.start(1):match.end(1)].strip()


def corrected_value_text(text: str) -> str:
    """The part of a correction that carries the new value: « ce n'était pas à Niort
    mais à La Rochelle » → « à La Rochelle »."""
    folded = fold(text)
    matches = list(_BUT.finditer(folded))
    if matches and re.search(r"\bpas\b", folded[: matches[-1].start()]):
        return text[matches[-1].end():]
    # « c'est pour la maison, pas la voiture »: the new value comes first.
    negated = re.search(r"[,;]?\s*\b(?:et )?pas (?:la|le|l'|les|ma|mon|mes|un|une|d'|de|du|a|au|en|dans|sur|chez)\b.*\Z", folded)
    if negated and negated.start() > 0:
        return text[: negated.start()]
    return text


def date_span(text: str) -> Optional[str]:
    match = _DATE.search(fold(text))
    return text[match.start():match.end()] if match else None


def time_span(text: str) -> Optional[str]:
    match = _TIME.search(fold(text))
    return _clean(text[match.start():match.end()]) if match else None


def place_span(text: str) -> Optional[str]:
    """The place named in `text` (« au 12 rue des Lilas », « sur le parking de Leclerc »,
    « à La Rochelle », « chez moi »), cut before what follows it."""
    folded = fold(text)
    best: Optional[Tuple[int, int]] = None
    spans = sorted([(m.start(), m.end()) for m in _PLACE.finditer(folded)]
                   + [(m.start(), m.end()) for m in _TOWN.finditer(text)])
    for start, end in spans:
        stop = _PLACE_END.search(folded, start + 3, end)
        if stop:
            end = stop.start()
        if end - start < 4:
            continue
        if best is not None and start < best[1]:
            continue  # a town inside the street found first
        if best is None or _is_address(folded[start:end]) and not _is_address(folded[best[0]:best[1]]):
            best = (start, end)
    if best is None:
        return None
    # The preposition before the name stays (« à Niort »), the number of a street too.
    before = re.search(r"(?:\b(?:a|au|en|sur|dans|chez|devant)\s+|\b\d{1,4},?\s+)$", folded[: best[0]])
    start = before.start() if before and not folded[best[0]:].startswith(("a ", "au ", "en ", "sur ", "dans ", "chez ")) else best[0]
    place = _clean(text[start:best[1]])
    return place or None


def _is_address(folded_span: str) -> bool:
    return bool(re.search(rf"\b(?:{_STREET})\b", folded_span))


def products_named(text: str) -> List[str]:
    """Products named in `text`, the first named first; a product said to be wrong
    (« pas la voiture ») is left out."""
    folded = fold(corrected_value_text(text))
    found = [(m.start(), product) for product, pattern in _PRODUCTS for m in [pattern.search(folded)] if m]
    return [product for _, product in sorted(found)]


def fields_named(text: str) -> List[str]:
    """Form fields the customer names (« le lieu », « la date »), in the form's order."""
    folded = fold(text)
    return [field for field, pattern in _FIELD_PATTERNS if pattern.search(folded)]


def clauses(text: str) -> List[str]:
    return [_clean(part) for part in _CLAUSE_SPLIT.split(text) if _clean(part)]


def _sentences(text: str) -> List[str]:
    return [_clean(part) for part in _SENTENCE_SPLIT.split(text) if _clean(part)]


@dataclasses.dataclass
class LossFacts:
    """The facts one message gives; None where it says nothing."""

    claim_type: Optional[str] = None
    occurred_on: Optional[dt.date] = None
    date_words: Optional[str] = None
    time_words: Optional[str] = None
    place: Optional[str] = None
    damage: Optional[str] = None
    third_party: Optional[str] = None
    witnesses: Optional[str] = None
    products: List[str] = dataclasses.field(default_factory=list)


def read_facts(text: str, today: dt.date) -> LossFacts:
    """Every fact `text` gives about a loss, each in the customer's own words."""
    facts = LossFacts(claim_type=claim_type_of(text), products=products_named(text))
    words = date_span(text)
    if words:
        occurred_on = resolve_french_date(words, today)
        if occurred_on is not None:
            facts.occurred_on, facts.date_words = occurred_on, words
    facts.time_words = time_span(text)
    facts.place = place_span(text)
    damage, third_party, witnesses = [], [], []
    for clause in clauses(text):
        kind = clause_kind(clause)
        if kind == "witnesses":
            witnesses.append(clause)
        elif kind in ("third_party", "no_third_party"):
            third_party.append(clause)
        if kind != "witnesses" and _DAMAGE.search(fold(clause)):
            damage.append(clause)
    if witnesses:
        facts.witnesses = NO_WITNESS if all(_NO_WITNESS.search(fold(c)) for c in witnesses) else ", ".join(witnesses)
    if third_party:
        facts.third_party = (NO_THIRD_PARTY if all(clause_kind(c) == "no_third_party" for c in third_party)
                             else ", ".join(third_party))
    if damage:
        facts.damage = ", ".join(damage)
    return facts


def clause_kind(clause: str) -> Optional[str]:
    """Which question a clause answers: "witnesses", "no_third_party", "third_party", or None."""
    folded = fold(clause).strip()
    if "temoin" in folded or _WITNESS.search(folded):
        return "witnesses"
    if _NO_THIRD_PARTY.search(folded) and not _NO_WORDS.match(folded):
        return "no_third_party"
    if _THIRD_PARTY.search(folded):
        return "third_party"
    return None


_CORRECTION_WORDS = re.compile(
    r"^(?:(?:non+|nan|nn|euh+|pardon|attendez|attends|oups|erreur|correction|en fait|plutot|finalement|ah|mince|zut"
    r"|je me suis trompee?|je voulais dire|je rectifie|je corrige|c'etait|c'est|cetait|ca s'est passe|c'etait en fait)\b[ ,.:!]*)+"
)


def strip_correction_words(text: str) -> str:
    """« non attendez, c'était à La Rochelle » → « à La Rochelle »."""
    match = _CORRECTION_WORDS.match(fold(text))
    return _clean(text[match.end():]) if match else _clean(text)


def story_damage(text: str) -> Optional[str]:
    """The sentences of a story that tell the damage (« le plafond de la voisine est abîmé »)."""
    told = [s for s in _sentences(text) if _DAMAGE.search(fold(s))]
    return " ".join(told) or None


def without_clauses(text: str, dropped: List[str]) -> str:
    """`text` without the clauses that answered other questions."""
    kept = [clause for clause in clauses(text) if clause not in dropped]
    return ", ".join(kept)
