"""What an attacker (or a broken client) sends, as hypothesis strategies.

- `hostile_text`: any Unicode, with the characters that break parsers more often than
  chance would draw them (control characters, lone surrogates, separators, quotes,
  braces, the `/intent` shortcut's slash, right-to-left marks, digits of other scripts);
  `shortcut_text`: Rasa's `/intent{...}` shortcut typed with slashes and spaces around.
- `json_values`: any JSON value, nested a few levels; `deep_json` and `wide_json`: raw
  JSON text nested thousands of levels, or holding thousands of items (written as text:
  Python's own encoder is recursive and would fail before the server does).
- `planted_personal_data`: text in which e-mails, phone numbers and IBANs are hidden among
  noise, with the values planted (to check that none survives masking).
"""
import json
from typing import Any, List, Tuple

from hypothesis import strategies as st

# Characters worth drawing more often than their share of Unicode.
SPECIAL_CHARACTERS = [
    "\x00", "\x01", "\x07", "\x1b", "\x7f", "\t", "\n", "\r", "\x0b", "\x0c", "\x85",
    "\ud800", "\udbff", "\udc00", "\udfff",  # lone surrogates
    "\u2028", "\u2029", "\u200b", "\u200d", "\ufeff", "\u202e", "\u00a0", "\u202f",
    "\ufffd", "\uffff", "\U0001f600", "\u0301",
    "/", "\\", '"', "'", "{", "}", "[", "]", "<", ">", "&", "%", "$", "@", "+", "-", ".", ":", "#", "*",
    "٣", "۷", "१", "０", "²",  # digits of other scripts: str.isdigit() and \d say yes
]

hostile_characters = st.characters() | st.sampled_from(SPECIAL_CHARACTERS)
hostile_text = st.text(hostile_characters, max_size=200)

# Inside JSON values, shorter texts: what matters there is the structure (and drawing long
# texts in every leaf would spend the time budget on generation).
json_text = st.text(hostile_characters, max_size=30)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10 ** 400), max_value=10 ** 400)  # beyond any float
    | st.floats(allow_nan=False, allow_infinity=False)
    | json_text
)

json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(json_text, children, max_size=4),
    max_leaves=12,
)

json_objects = st.dictionaries(json_text, json_values, max_size=4)


def json_bytes(value: Any) -> bytes:
    """`value` as a client would send it: JSON, non-ASCII escaped (so that lone surrogates
    travel as `\\ud800` escapes, the way an attacker sends them)."""
    return json.dumps(value).encode("ascii")


@st.composite
def deep_json(draw: st.DrawFn, min_depth: int = 1, max_depth: int = 10_000) -> str:
    """JSON text nested `depth` levels: arrays, objects or both."""
    depth = draw(st.integers(min_depth, max_depth))
    kind = draw(st.sampled_from(["array", "object", "mixed"]))
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"a":[' * (depth // 2) + "0" + "]}" * (depth // 2)


@st.composite
def wide_json(draw: st.DrawFn, max_items: int = 2_000) -> str:
    """A JSON array or object of many small items."""
    items = draw(st.integers(1, max_items))
    if draw(st.booleans()):
        return "[" + ",".join(["0"] * items) + "]"
    return "{" + ",".join(f'"k{n}":{n}' for n in range(items)) + "}"


# What someone typing Rasa's /intent{"slot": value} shortcut by hand tries: a slash, more
# slashes and spaces, an intent, slots.
shortcut_text = st.builds(
    lambda lead, intent, slots: "/" + lead + intent + slots,
    st.text(st.sampled_from("/ \t\n\u00a0\u200b"), max_size=6),
    st.sampled_from(["inform", "greet", "request_attestation", ""]),
    st.sampled_from(["", '{"claim_type": "vol"}', '{"authenticated_customer_id": "10000002"}', "{"]),
)

huge_text = st.builds(lambda piece, times: piece * times, st.sampled_from(["a", "é", "x ", "\U0001f600", "0"]),
                      st.integers(2_001, 20_000))


# --- personal data planted in noise --------------------------------------------------------

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_email_local = st.text(_LOWER + "0123456789._+-", min_size=1, max_size=20).map(lambda s: f"a{s}z")
_email_label = st.text(_LOWER + "0123456789-", min_size=1, max_size=12).map(lambda s: f"d{s}n")
emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    _email_local, _email_label, st.sampled_from(["fr", "com", "org", "net", "eu", "co.uk", "assurances"]),
)


def _french_phone(leading: int, rest: str, style: str) -> str:
    digits = f"0{leading}{rest}"
    pairs = [digits[i:i + 2] for i in range(0, 10, 2)]
    return {
        "spaced": " ".join(pairs),
        "dotted": ".".join(pairs),
        "dashed": "-".join(pairs),
        "compact": digits,
        "international": "+33 " + digits[1] + " " + " ".join(pairs[1:]),
        "international compact": "+33" + digits[1:],
        "international with zero": "+33 (0)" + digits[1] + " " + " ".join(pairs[1:]),
        "from abroad": "0033 " + digits[1] + " " + " ".join(pairs[1:]),
    }[style]


phones = st.builds(
    _french_phone,
    st.sampled_from([1, 2, 3, 4, 5, 6, 7, 9]),
    st.text("0123456789", min_size=8, max_size=8),
    st.sampled_from(["spaced", "dotted", "dashed", "compact", "international", "international compact",
                     "international with zero", "from abroad"]),
)
foreign_phones = st.sampled_from([
    "+44 20 7946 0958", "+32 470 12 34 56", "+49 30 1234567", "+41 44 668 18 00", "+1 415 555 2671",
])

# Length of the IBAN of each country (the masking knows these countries).
IBAN_LENGTHS = {"FR": 27, "MC": 27, "DE": 22, "BE": 16, "LU": 20, "ES": 24, "IT": 27, "PT": 25, "NL": 18}


def iban(country: str, bban: str, grouped: bool) -> str:
    """An IBAN with a valid checksum (ISO 13616), whole or in groups of four."""
    numeric = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    whole = f"{country}{98 - numeric % 97:02d}{bban}"
    return " ".join(whole[i:i + 4] for i in range(0, len(whole), 4)) if grouped else whole


ibans = st.sampled_from(sorted(IBAN_LENGTHS)).flatmap(lambda country: st.builds(
    iban, st.just(country),
    st.text("0123456789", min_size=IBAN_LENGTHS[country] - 4, max_size=IBAN_LENGTHS[country] - 4),
    st.booleans(),
))

personal_data = (emails.map(lambda v: ("e-mail", v)) | phones.map(lambda v: ("phone", v))
                 | foreign_phones.map(lambda v: ("phone", v)) | ibans.map(lambda v: ("IBAN", v)))

# How prose separates a value from the words around it.
PROSE_SEPARATORS = [" ", "\n", " : ", ", ", " (", ") ", "\t", " « ", " » ", " - ", "; ", " / "]
# Any text, framed by words so that it never extends a planted value (« 06 12 34 56 78 » and
# a noise starting with « 9 » would make an eleven-digit number, which is no phone number).
noise = st.text(st.characters(exclude_categories=("Cs",)), max_size=40).map(lambda text: f"mot{text}fin")


@st.composite
def planted_personal_data(draw: st.DrawFn) -> Tuple[str, List[Tuple[str, str]]]:
    """(text, [(kind, planted value)...]): one to four values among noise."""
    parts, planted = [draw(noise)], []
    for _ in range(draw(st.integers(1, 4))):
        kind, value = draw(personal_data)
        planted.append((kind, value))
        parts += [draw(st.sampled_from(PROSE_SEPARATORS)), value, draw(st.sampled_from(PROSE_SEPARATORS)),
                  draw(noise)]
    return "".join(parts), planted
