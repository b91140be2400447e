"""What a customer asking for a quote says about the risk, read as they write it.

« une clio de 2019, je me gare dans la rue », « jeune permis », « bonus 0,68 » or « 50 % de
bonus », « appart 3 pieces a Niort 79000 », « je suis locataire »: the tariff's inputs
(the policy service's `POST /v1/quotes` risk), found in free words, several in one
message, in any order, with typos and without accents. What a message says is wrong
(« c'est une 308, pas une 208 », « non pas proprio, locataire ») is never read as a value.
Pure functions on text: no I/O.
"""

import dataclasses
import datetime as dt
import re
from typing import Any, Dict, List, Optional, Sequence

from core.parsing.contract_description import VEHICLE_MAKES, VEHICLE_MODELS, plain

AUTO, HABITATION = "auto", "habitation"
# Products the tariff does not price: the customer is sent to an adviser.
OTHER_PRODUCT = "autre"
AUTO_FIELDS = ("vehicle_model", "vehicle_year", "usage", "parking", "young_driver", "bonus_malus")
HABITATION_FIELDS = ("housing", "rooms", "postcode", "occupant")
FIRST_VEHICLE_YEAR = 1980
MIN_BONUS_MALUS, MAX_BONUS_MALUS = 0.50, 3.50
MAX_ROOMS = 12
# A licence younger than this is a young driver's (the tariff's rule).
YOUNG_DRIVER_YEARS = 3

_NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12,
}
_NUMBER = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"

_PRODUCT_WORDS = (
    (AUTO, r"\b(?:auto|autos|automobile|voiture|voitures|vehicule|bagnole|caisse|citadine|berline|4x4|suv)\b"),
    (HABITATION, r"\b(?:habitation|habitations|mrh|maison|appart|appartement|appartements|appartemment|apart"
                 r"|logement|studio|pavillon|villa|locataire|proprietaire|proprio|loyer|t[1-9]|f[1-9])\b"),
    (OTHER_PRODUCT, r"\b(?:moto|motos|scooter|scoot|quad|camping car|bateau|sante|mutuelle|prevoyance|obseques"
                    r"|assurance vie|emprunteur|pret|professionnel(?:le)? multirisque|decennale|chien|chat|animal)\b"),
)

# « je ne suis pas jeune conducteur », « pas proprio »: negations that are answers.
_YOUNG_YES = re.compile(r"\b(?:jeunes? (?:permis|conducteurs?|conductrices?|chauffeurs?)|permis (?:probatoire|tout neuf"
                        r"|tout frais|recent)|(?:vient|viens|venons) d avoir (?:mon|son|le) permis|permis a l essai"
                        r"|apprentissage anticipe|conduite accompagnee|premiere assurance|nouveau conducteur)\b")
_YOUNG_NO = re.compile(r"\b(?:(?:pas|plus) (?:un |une )?(?:de )?jeunes? (?:permis|conducteurs?|conductrices?)"
                       r"|conducteur (?:experimente|confirme)|pas jeune permis|permis depuis (?:longtemps|des annees|toujours))\b")
_LICENCE_YEARS = re.compile(r"\bpermis (?:depuis|il y a|ca fait|ca va faire)? *" + _NUMBER + r" (ans?|mois)\b"
                            r"|\b" + _NUMBER + r" (ans?|mois) de permis\b"
                            r"|\bpermis (?:depuis|en|obtenu en|passe en|eu en) ((?:19|20)\d{2})\b")
_BONUS_COEF = re.compile(r"\b(?:bonus|malus|coef\w*|crm|bonus malus|bonus-malus)\D{0,20}?([0-3](?:[.,]\d{1,2})?)\b(?! ?%)")
_BONUS_PERCENT = re.compile(r"\b(\d{1,2}) ?(?:%|pour ?cent|pourcent)\s*(?:de )?(bonus|malus)"
                            r"|\b(bonus|malus)\s*(?:de |a |est de )?(\d{1,2}) ?(?:%|pour ?cent|pourcent)")
_BONUS_MAX = re.compile(r"\b(?:bonus (?:max\w*|au max\w*|a fond|complet|plein)|50 ?% de bonus|meilleur bonus)\b")
_NO_BONUS = re.compile(r"\b(?:pas de (?:bonus|malus|bonus malus)|ni bonus ni malus|sans (?:bonus|malus)|coef\w* (?:de )?1\b(?![.,]\d)"
                       r"|bonus (?:de )?(?:1|1[.,]00?)\b(?![.,]\d))")
_USAGE_WORDS = (
    ("professionnel", r"\b(?:usage pro\w*|pro(?:fessionnel)?(?:le)? uniquement|pour (?:le|mon) (?:travail|boulot|taf)"
                      r" (?:avec|chez) (?:des|les) clients|tournees?|visites? (?:de|chez|aux) clients?|professionnel\w*"
                      r"|vehicule de (?:fonction|service)|commercial|vrp|pour mon activite|deplacements pro\w*)\b"),
    ("trajets", r"\b(?:trajets?|domicile travail|domicile ?travail|aller (?:au|a mon|a son) (?:travail|boulot|taf|bureau|usine)"
                r"|(?:pour|vers) (?:le|mon) (?:travail|boulot|taf|bureau)|tous les jours pour (?:le|mon) (?:travail|boulot)"
                r"|aller bosser|pour bosser)\b"),
    ("prive", r"\b(?:(?<!parking )(?<!place )(?<!garage )(?<!terrain )prive\w*|perso|personnel(?:le)?|loisirs?|balades?|week ?ends?|vacances|courses|que le week end"
              r"|juste pour moi|pas pour le travail|pas pour le boulot)\b"),
)
_PARKING_WORDS = (
    ("garage", r"\b(?:garage|garages|garee au garage|box|boxe|garage ferme|parking ferme|sous sol|souterrain)\b"),
    ("rue", r"\b(?:(?:dans|sur) la rue|en rue|rue|voie publique|dehors|trottoir|en bas de chez moi|devant chez moi"
            r"|stationnement public|place publique|dans le quartier)\b"),
    ("parking", r"\b(?:parking|parkings|parc|place (?:privee|de parking|attitree|reservee)|cour|jardin|allee|residence"
                r"|propriete|terrain|carport|devant la maison|chez moi)\b"),
)
_HOUSING_WORDS = (
    ("maison", r"\b(?:maison|maisons|pavillon|villa|longere|ferme|mas|chalet|maison individuelle)\b"),
    ("appartement", r"\b(?:appart\w*|apart\w*|studio|duplex|loft|immeuble|t[1-9]|f[1-9]|t[1-9] bis|chambre de bonne)\b"),
)
_OCCUPANT_WORDS = (
    ("locataire", r"\b(?:locataire|locataires|je loue|on loue|nous louons|en location|loue|colocation|colocataire|coloc"
                  r"|pas proprio|pas proprietaire)\b"),
    ("proprietaire", r"\b(?:proprietaire|proprietaires|proprio|proprios|j ai achete|on a achete|nous avons achete"
                     r"|a moi|acheteur|acquereur|primo accedant|pas locataire)\b"),
)
_ROOMS = re.compile(r"\b" + _NUMBER + r" ?(?:pieces?|pcs?|p)\b|\b[tf] ?(\d{1,2})\b(?! ?ans)")
_BEDROOMS = re.compile(r"\b" + _NUMBER + r" ?chambres?\b")
_STUDIO = re.compile(r"\bstudio\b")
_SURFACE = re.compile(r"\b(\d{1,4}) ?(?:m2|m²|m 2|metres? carres?|mettres? carres?|metre carre)")
_POSTCODE = re.compile(r"(?<![\d.,])((?:0[1-9]|[1-8]\d|9[0-5]|97)\d{3})(?!\d|[.,]\d)")
_YEAR = re.compile(r"(?<![\d.,])((?:19|20)\d{2})(?!\d|[.,]\d)")
_AGE = re.compile(r"\b(?:elle|il|la voiture|le vehicule|ma voiture|a|fait) ?(?:a|fait)? " + _NUMBER + r" ans\b")
_DEDUCTIBLE = re.compile(r"\bfranchise\D{0,15}?(\d{2,4})(?: ?(?:€|e|eur|euros))?\b|\b(\d{2,4}) ?(?:€|e|eur|euros) de franchise")
# What a message says is wrong: « pas une 208 », « non pas la rue », « et pas 2018 ».
_NEGATED = re.compile(r"\b(?:pas|plus) (?:une |un |la |le |l |de |du |d |en |dans |au |a |des )*"
                      r"([a-z0-9]+(?: [a-z0-9]+)?)(?= *(?:,|\.|;|mais|$))"
                      r"|\b(?:pas|plus) (?:une |un |la |le |l |de |du |d |en |dans |au |a )*([a-z0-9]+)\b(?= (?:mais|c est|plutot))")
_CORRECTION = re.compile(r"^(?:non|nan|pardon|erreur|oups|correction|je me suis trompe\w*|en fait|plutot|ah non)\b"
                         r"|\b(?:je voulais dire|pas une|pas un|pas la|pas le|pas en|je corrige|c est plutot|en fait)\b")


@dataclasses.dataclass
class RiskReading:
    """What one message says: the product and the tariff's inputs found (keys of the
    quote's risk), and whether it corrects an earlier answer."""

    product: Optional[str] = None
    values: Dict[str, Any] = dataclasses.field(default_factory=dict)
    correction: bool = False


def fold(text: str) -> str:
    """Lower case, no accents, apostrophes and dashes as spaces, « ² » kept."""
    return re.sub(r"\s+", " ", plain((text or "").replace("²", "2 "))).strip()


def _number(word: str) -> Optional[int]:
    if word is None:
        return None
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word)


def _first(table: Sequence, text: str) -> Optional[str]:
    """The value of the table's first pattern found in `text` (the earliest in the text wins)."""
    best = None
    for value, pattern in table:
        match = re.search(pattern, text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), value)
    return best[1] if best else None


def product_of(text: str) -> Optional[str]:
    """« auto », « habitation », « autre » (a product priced by an adviser), or None."""
    folded = fold(text)
    found = _first(_PRODUCT_WORDS, folded)
    if found is None and vehicle_model(folded):
        return AUTO
    return found


def vehicle_model(folded: str) -> Optional[str]:
    """« clio », « peugeot 308 », « 308 » (after « une », « la », « ma »), « renault » alone."""
    words = re.findall(r"[a-z0-9]+", folded)
    for index, word in enumerate(words):
        after = words[index + 1] if index + 1 < len(words) else ""
        before = words[index - 1] if index else ""
        if word in VEHICLE_MAKES:
            if after in VEHICLE_MODELS or re.fullmatch(r"[a-z]{0,2}\d{1,4}[a-z]?", after) and not _is_year_after(words, index + 1):
                return f"{word} {after}"
            return word
        if word in VEHICLE_MODELS and word not in ("ami", "note", "up", "ka", "born", "picasso") or (
                word in ("ami", "note", "up", "ka") and before in ("une", "ma", "la", "citroen")):
            return word
        if re.fullmatch(r"[a-z]?\d{2,4}|[a-z]{1,2}\d{1,2}", word) and before in ("une", "la", "ma", "sa", "cette") and not (
                re.fullmatch(r"(?:19|20)\d{2}", word) or re.fullmatch(r"[tf]\d", word)):
            return word
    return None


def _is_year_after(words: List[str], index: int) -> bool:
    """« peugeot 2008 de 2019 » names a model; « peugeot 2019 » a year."""
    word = words[index] if index < len(words) else ""
    if not re.fullmatch(r"(?:19|20)\d{2}", word):
        return False
    return word not in ("2008", "3008", "5008") or not any(_YEAR.fullmatch(w) for w in words[index + 1:])


def _without_negated(folded: str) -> str:
    """The text without what it says is wrong (« c'est une 308 pas une 208 » → « c'est une 308 »),
    keeping the negations that are answers (« pas jeune permis », « pas de bonus », « pas proprio »)."""
    kept = _YOUNG_NO.sub(" ", folded)
    kept = _NO_BONUS.sub(" ", kept)
    kept = re.sub(r"\bpas (?:proprio|proprietaire|locataire)\b", " ", kept)

    def drop(match: re.Match) -> str:
        return " " * (match.end() - match.start())

    return _NEGATED.sub(drop, kept)


def _vehicle_year(folded: str, today: dt.date) -> Optional[int]:
    for match in _YEAR.finditer(folded):
        before = folded[max(0, match.start() - 12):match.start()]
        if _licence_year(folded, match):
            continue
        if re.search(r"\b(?:peugeot|ds|citroen) $", before) and match.group(1) in ("2008", "3008", "5008"):
            continue
        year = int(match.group(1))
        if FIRST_VEHICLE_YEAR <= year <= today.year:
            return year
    age = _AGE.search(folded)
    if age and "permis" not in folded[max(0, age.start() - 15):age.end() + 15]:
        years = _number(age.group(1))
        if years is not None and today.year - years >= FIRST_VEHICLE_YEAR:
            return today.year - years
    if re.search(r"\b(?:neuve|neuf|toute neuve|sortie d usine|0 km)\b", folded):
        return today.year
    return None


def _clause_of(folded: str, start: int, end: int) -> str:
    """The clause around folded[start:end] (between commas, dots, « et »)."""
    left = max(folded.rfind(mark, 0, start) for mark in (",", ".", ";", " et ", " mais "))
    rights = [i for i in (folded.find(mark, end) for mark in (",", ".", ";", " et ", " mais ")) if i >= 0]
    return folded[left + 1:min(rights) if rights else len(folded)]


def _licence_year(folded: str, match: re.Match) -> bool:
    """« permis en 2024 », « je l'ai eu en 2018 mon permis »: the year of a licence, not of a car."""
    before = folded[max(0, match.start() - 20):match.start()]
    if re.search(r"\bpermis (?:depuis|en|de|du|obtenu en|passe en|eu en|date de|a|le)? *(?:l an |l annee |annee )?$", before):
        return True
    clause = _clause_of(folded, match.start(), match.end())
    return bool("permis" in clause and re.search(r"\b(?:eu|obtenu|passe|eue|obtenue)\b", clause)
                and re.search(r"\ben $", before))


def _young_driver(folded: str, today: dt.date) -> Optional[bool]:
    if _YOUNG_NO.search(folded):
        return False
    if _YOUNG_YES.search(folded):
        return True
    for year in _YEAR.finditer(folded):
        if _licence_year(folded, year):
            return today.year - int(year.group(1)) < YOUNG_DRIVER_YEARS
    match = _LICENCE_YEARS.search(folded)
    if match:
        if match.group(5):
            return today.year - int(match.group(5)) < YOUNG_DRIVER_YEARS
        amount, unit = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        value = _number(amount)
        if value is not None:
            years = value / 12 if unit.startswith("mois") else value
            return years < YOUNG_DRIVER_YEARS
    return None


def _bonus_malus(folded: str) -> Optional[float]:
    if _BONUS_MAX.search(folded):
        return MIN_BONUS_MALUS
    if _NO_BONUS.search(folded):
        return 1.0
    percent = _BONUS_PERCENT.search(folded)
    if percent:
        amount = int(percent.group(1) or percent.group(4))
        kind = percent.group(2) or percent.group(3)
        value = round(1 - amount / 100, 2) if kind == "bonus" else round(1 + amount / 100, 2)
        return value if MIN_BONUS_MALUS <= value <= MAX_BONUS_MALUS else None
    coefficient = _BONUS_COEF.search(folded)
    if coefficient:
        value = float(coefficient.group(1).replace(",", "."))
        return value if MIN_BONUS_MALUS <= value <= MAX_BONUS_MALUS else None
    return None


# A coefficient alone, as the bonus-malus question's example gives it: « 0,68 », « 0.5 », « 1 ».
_BARE_COEFFICIENT = re.compile(r"(?:c est |j ai |coef |)([0-3](?:[.,]\d{1,2})?)")


def bare_bonus_malus(text: str) -> Optional[float]:
    """A coefficient given alone in answer to the bonus-malus question; None otherwise."""
    match = _BARE_COEFFICIENT.fullmatch(fold(text).rstrip(" ."))
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    return value if MIN_BONUS_MALUS <= value <= MAX_BONUS_MALUS else None


def _rooms(folded: str) -> Optional[int]:
    match = _ROOMS.search(folded)
    if match:
        rooms = _number(match.group(1) or match.group(2))
        return rooms if rooms and 1 <= rooms <= MAX_ROOMS else None
    bedrooms = _BEDROOMS.search(folded)
    if bedrooms:
        rooms = (_number(bedrooms.group(1)) or 0) + 1  # the bedrooms and the living room
        return rooms if 2 <= rooms <= MAX_ROOMS else None
    if _STUDIO.search(folded):
        return 1
    return None


def read_risk(text: str, today: dt.date, product: Optional[str] = None) -> RiskReading:
    """The product and every tariff input `text` gives. `product`: the one being quoted,
    when known (« 3 pieces » says nothing to a car quote)."""
    folded = fold(text)
    reading = RiskReading(correction=bool(_CORRECTION.search(folded)))
    if not folded:
        return reading
    kept = _without_negated(folded)
    named = product_of(kept) or (product_of(folded) if product_of(folded) != OTHER_PRODUCT else None)
    if product in (AUTO, HABITATION):
        values = _inputs(kept, folded, product, today)
        if named in (AUTO, HABITATION, OTHER_PRODUCT) and named != product and not values:
            # « finalement c'est pour mon appart »: the other product, from now on.
            reading.product = named
            values = _inputs(kept, folded, named, today) if named != OTHER_PRODUCT else {}
        else:
            reading.product = product
    else:
        reading.product = named
        values = _inputs(kept, folded, named, today) if named != OTHER_PRODUCT else {}
    reading.values = values
    deductible = _DEDUCTIBLE.search(kept)
    if deductible and reading.product in (AUTO, HABITATION, None):
        values["deductible_eur"] = int(deductible.group(1) or deductible.group(2))
    return reading


def _inputs(kept: str, folded: str, product: Optional[str], today: dt.date) -> Dict[str, Any]:
    """The inputs of `product` (of both when None) in the folded text; `kept`: without what
    it says is wrong."""
    values: Dict[str, Any] = {}
    if product in (AUTO, None):
        model = vehicle_model(kept)
        year = _vehicle_year(kept, today)
        usage = _first(_USAGE_WORDS, kept)
        parking = _first(_PARKING_WORDS, kept)
        young = _young_driver(folded, today)
        bonus = _bonus_malus(folded)
        for name, value in (("vehicle_model", model), ("vehicle_year", year), ("usage", usage), ("parking", parking),
                            ("young_driver", young), ("bonus_malus", bonus)):
            if value is not None:
                values[name] = value
        if product is None and not (model or year or young is not None or bonus is not None):
            # « dans la rue », « garage » say nothing without a car.
            values.pop("parking", None)
            values.pop("usage", None)
    if product in (HABITATION, None):
        housing = _first(_HOUSING_WORDS, kept)
        occupant = _first(_OCCUPANT_WORDS, kept)
        if re.search(r"\bpas (?:proprio|proprietaire)\b", folded):
            occupant = "locataire"
        elif re.search(r"\bpas locataire\b", folded):
            occupant = "proprietaire"
        rooms = _rooms(kept)
        if rooms and housing is None and re.search(r"\b(?:studio|[tf] ?\d)\b", kept):
            housing = "appartement"
        surface = _SURFACE.search(kept)
        postcode = _POSTCODE.search(kept)
        for name, value in (("housing", housing), ("rooms", rooms), ("occupant", occupant),
                            ("surface_m2", int(surface.group(1)) if surface else None),
                            ("postcode", postcode.group(1) if postcode else None)):
            if value is not None:
                values[name] = value
    return values


def missing_fields(product: Optional[str], risk: Dict[str, Any]) -> List[str]:
    """The inputs still to ask for `product`, in the order they are asked (rooms or a surface)."""
    if product == AUTO:
        return [field for field in AUTO_FIELDS if risk.get(field) is None]
    if product == HABITATION:
        return [field for field in HABITATION_FIELDS if risk.get(field) is None
                and not (field == "rooms" and risk.get("surface_m2"))]
    return []


_ORDINALS = {"premiere": 1, "premier": 1, "1": 1, "un": 1, "une": 1, "deuxieme": 2, "seconde": 2, "second": 2, "2": 2,
             "deux": 2, "troisieme": 3, "3": 3, "trois": 3, "derniere": -1, "dernier": -1}


def formula_chosen(text: str, formulas: Sequence[Dict[str, str]]) -> Optional[str]:
    """The code of the formula `text` names among `formulas` ({"code", "label"}), by its
    name (« la tous risques », « tiers etendu »), its place (« la 2 », « la derniere ») or
    the cheapest/most complete; None when none or several fit."""
    folded = fold(text)
    if not folded or not formulas:
        return None
    named = []
    for formula in formulas:
        for name in {fold(formula.get("label") or ""), fold((formula.get("code") or "").replace("_", " "))}:
            # « tout risque » for « Tous risques »: each word with or without its last letter s/x.
            words = [re.escape(word.rstrip("sx")) + "[sxt]?" for word in name.split()]
            if words and re.search(r"\b" + " ".join(words) + r"\b", folded):
                named.append((len(name), formula["code"]))
    if named:
        named.sort(reverse=True)  # « tiers etendu » before « tiers »
        return named[0][1]
    if re.search(r"\b(?:moins chere?|la moins|premier prix|basique|minimum|la plus simple|pas chere?)\b", folded):
        return formulas[0]["code"]
    if re.search(r"\b(?:plus complete?|la meilleure|maximum|tout compris|la plus chere)\b", folded):
        return formulas[-1]["code"]
    if re.search(r"\b(?:milieu|intermediaire)\b", folded) and len(formulas) == 3:
        return formulas[1]["code"]
    words = re.findall(r"[a-z0-9]+", folded)
    if len(words) <= 4:
        for word in words:
            place = _ORDINALS.get(word)
            if place is not None and (place == -1 or place <= len(formulas)):
                return formulas[place - 1 if place > 0 else -1]["code"]
    return None
