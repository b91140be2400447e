"""What a customer says about a contract when they do not give its number.

« celle de la Peugeot », « la 208 », « ab123cd », « mon ancien studio rue Carnot »,
« l'appart de Niort »: the words that describe a contract, read from the text
without knowing the customer's contracts. Matching them against the contracts is
actions.common.contracts' job; a description that matches none of them must not
fall back on another contract, so a car, a street or a plate is recognised here
even when the customer has none (« la Clio » is a car's description for a customer
whose only car is a Peugeot).
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import FrozenSet, Optional, Set, Tuple

from core.parsing.identifiers import find_contract_number, find_plates

# Car makes and models sold in France, as customers write them (lower case, no accent).
# Models that are numbers (208, 3008) count only after a make or an article (« la 208 »),
# since « 2008 » is a year as often as a Peugeot.
VEHICLE_MAKES = frozenset("""
    peugeot renault citroen dacia toyota volkswagen vw fiat ford opel nissan kia hyundai bmw mercedes audi
    skoda seat cupra tesla mini suzuki mazda honda volvo jeep ds alfa lancia mitsubishi smart porsche lexus
    jaguar land rover subaru chevrolet chrysler dodge mg byd alpine yamaha kawasaki ducati triumph piaggio
    vespa harley davidson ktm aprilia sym kymco
""".split())
VEHICLE_MODELS = frozenset("""
    clio megane twingo captur kadjar scenic zoe espace kangoo austral arkana koleos laguna modus
    sandero duster logan spring jogger lodgy dokker
    partner rifter expert traveller boxer berlingo picasso spacetourer jumpy jumper saxo xsara cactus ami
    yaris aygo corolla chr rav4 auris prius golf polo passat tiguan touran troc tcross taigo touareg up id3 id4
    panda tipo punto ducato fiesta focus kuga puma mondeo transit ka corsa astra mokka crossland grandland
    zafira insignia micra juke qashqai xtrail leaf note picanto rio ceed sportage niro stonic tucson kona
    ioniz ioniz5 i10 i20 i30 fabia octavia kamiq karoq kodiaq superb ibiza leon arona ateca tarraco formentor
    born model3 swift vitara ignis jimny cx3 cx5 mx5 civic jazz hrv crv xc40 xc60 xc90 renegade compass wrangler
    fortwo forfour cayenne macan
""".split())
_NUMBER_MODEL = re.compile(r"[0-9]{2,4}|[a-z]{1,2}[0-9]{1,2}|[0-9][a-z]{1,2}")
# Words after which a number is a car's model: « la 208 », « ma c3 » (a car is « la »; « le 28 »
# is a date).
_VEHICLE_ARTICLES = frozenset({"la", "ma", "sa", "ta", "une", "notre", "votre", "leur"})

# « rue Carnot », « avenue de la Gare », « bd Voltaire »: the name after the kind of way.
_WAYS = r"rue|avenue|av|bd|boulevard|chemin|allee|place|impasse|route|quai|cours|square|residence|lotissement|faubourg"
_ADDRESS_STOPWORDS = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "a", "au", "aux", "en", "et", "sur",
                                "saint", "st", "ste", "sainte"})
_STREET = re.compile(rf"\b(?:{_WAYS})\b((?:\s+[a-z0-9]+){{1,4}})")
_POSTCODE = re.compile(r"(?<![0-9])((?:0[1-9]|[1-8][0-9]|9[0-5]|97)[0-9]{3})(?![0-9])")

# « mon ancien studio », « le contrat résilié »: a contract that ended; « l'actuel »: one in force.
_FORMER = frozenset({"ancien", "ancienne", "anciens", "anciennes", "precedent", "precedente", "resilie", "resiliee",
                     "termine", "terminee"})
_CURRENT = frozenset({"actuel", "actuelle", "actuels", "actuelles"})


@dataclass(frozen=True)
class ContractDescription:
    """The describing words of a text, normalised (lower case, no accent)."""

    number: Optional[str]
    plates: Tuple[str, ...]
    # Every word of the text (identifiers taken out), to match the customer's own makes,
    # models, streets and towns, which no list here can hold.
    words: FrozenSet[str]
    vehicle_words: FrozenSet[str]
    # The names of the ways mentioned (« rue Carnot » → carnot), and the postcodes.
    street_names: FrozenSet[str]
    postcodes: FrozenSet[str]
    former: bool
    current: bool


def plain(text: str) -> str:
    """Lower case, without accents, apostrophes and dashes as spaces."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.sub(r"[’'`´\-_/]", " ", without_accents)


def words_of(text: str) -> Tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", plain(text)))


def describe(text: str) -> ContractDescription:
    """What `text` says about a contract."""
    text = text or ""
    number = find_contract_number(text)
    plates = tuple(find_plates(text))
    rest = plain(text)
    for plate in plates:
        rest = re.sub(r"[ .]?".join(re.escape(part.lower()) for part in plate.split("-")), " ", rest)
        rest = re.sub(r"\s*".join(re.escape(ch) for ch in plate.replace("-", "").lower()), " ", rest)
    if number:
        rest = re.sub(rf"{number[:3].lower()}\W*{number[4:7]}\W*{number[7:]}", " ", rest)
    words = tuple(re.findall(r"[a-z0-9]+", rest))
    return ContractDescription(
        number=number,
        plates=plates,
        words=frozenset(words),
        vehicle_words=frozenset(_vehicle_words(words)),
        street_names=frozenset(_street_names(rest)),
        postcodes=frozenset(_POSTCODE.findall(rest)),
        former=any(word in _FORMER for word in words) or _said_of_before(words),
        current=any(word in _CURRENT for word in words),
    )


def _vehicle_words(words: Tuple[str, ...]) -> Set[str]:
    found = set()
    for index, word in enumerate(words):
        before = words[index - 1] if index else ""
        if word in VEHICLE_MAKES or word in VEHICLE_MODELS:
            found.add(word)
        elif _NUMBER_MODEL.fullmatch(word) and (before in VEHICLE_MAKES or before in _VEHICLE_ARTICLES):
            if not re.fullmatch(r"(?:19|20)[0-9]{2}", word) or before in VEHICLE_MAKES:
                found.add(word)
    return found


def _street_names(text: str) -> Set[str]:
    names = set()
    for match in _STREET.finditer(text):
        significant = [w for w in match[1].split() if w not in _ADDRESS_STOPWORDS and not w.isdigit()]
        if significant:
            names.add(significant[0])
    return names


def _said_of_before(words: Tuple[str, ...]) -> bool:
    """« celui d'avant » (« avant le 12 » says nothing of the contract)."""
    return any(first == "d" and second == "avant" for first, second in zip(words, words[1:], strict=False))


def address_words(*parts: Optional[str]) -> FrozenSet[str]:
    """The words that name an address (street name, town, postcode), without the kind of
    way, numbers of the street and small words."""
    found = set()
    for part in parts:
        for word in words_of(part or ""):
            if word in _ADDRESS_STOPWORDS or re.fullmatch(_WAYS, word) or (word.isdigit() and len(word) != 5):
                continue
            found.add(word)
    return frozenset(found)


def vehicle_tokens(*parts: Optional[str]) -> FrozenSet[str]:
    return frozenset(word for part in parts for word in words_of(part or ""))
