"""Long adversarial texts for the patterns that run on what customers send.

A regular expression that backtracks (nested quantifiers, alternatives that overlap,
a scan to the end of the text repeated from each position) takes seconds or hours on
a few kilobytes crafted for it, and it runs inside a server's turn. Each pattern of a
module is run on every text of its family, 100 KB long: a linear pattern takes
milliseconds (0.17 s at most, measured on a loaded 2-core machine), more than ten
times under TIME_BOUND_SECONDS, while a quadratic one takes minutes.
"""
import re
import time
from types import ModuleType
from typing import Dict, List, Tuple

LENGTH = 100_000
TIME_BOUND_SECONDS = 2.0


def _repeat(piece: str, end: str) -> str:
    return piece * (LENGTH // len(piece)) + end


# Runs of one character class, separators repeated, openings never closed, each made
# for one shape of backtracking; every text ends on what makes a match fail.
ANY_TEXT: Dict[str, str] = {
    "letters": _repeat("a", "!"),
    "digits": _repeat("1", "x"),
    "spaces after a digit": "1" + _repeat(" ", "x"),
    "spaces after a word": "naissance" + _repeat(" ", "x"),
    "unicode spaces": "1" + _repeat("\u2003", "x"),
    "spaced digits": _repeat("1 ", "x"),
    "spaced digit groups": _repeat("1 000 ", "x"),
    "dotted words": _repeat("a.", "!"),
    "dashed words": _repeat("a-", "!"),
    "new lines": _repeat("1\n", "x"),
    "at signs": _repeat("a@", "!"),
    "an address with no domain": "a@" + _repeat("b", "!"),
    "a domain with no end": "a@b" + _repeat(".c", "-"),
    "phone numbers": _repeat("06 12 34 56 78 ", "x"),
    "hours": _repeat("1 h ", "x"),
}
PERSONAL_DATA = {
    **ANY_TEXT,
    "jwt starts": _repeat("eyJ-", "!"),
    "jwt parts": _repeat("eyJaaaa.", "!"),
    "bearer": _repeat("Bearer ", "!"),
    "secret parameters": _repeat("token=", "&"),
    "iban starts": _repeat("FR76 ", "x"),
    "street numbers": _repeat("1 , ", "x"),
    "streets": _repeat("1 rue ", "x"),
    "street then spaces": "1 rue a b c d e" + _repeat(" ", "!"),
    "postcode then capitals": "1 rue a 75001" + _repeat(" A", "!"),
    "birth words": _repeat("naissance est le ", "x"),
    "born": _repeat("née le ", "x"),
    "codes": _repeat("code 1 2 3 4 5 ", "x"),
    "months": _repeat("1 janvier ", "x"),
    "plus signs": _repeat("+33 ", "x"),
    "international numbers then digits": _repeat("+44 20 7946 0958 1 ", "x"),
    "plus then spaced digits": _repeat("+1 1 1 1 1 1 1 ", "x"),
    "hex words": _repeat("a1-", "!"),
}
WRITTEN_ANSWERS = {
    **ANY_TEXT,
    "brackets": _repeat("[", "]"),
    "links never closed": _repeat("[a](", "x"),
    "underscores": _repeat("__a ", "x"),
    "stars": _repeat("*a ", "x"),
    "backticks": _repeat("`a ", "x"),
    "dashes": _repeat(" — ", "x"),
    "colons": _repeat(" : ", "x"),
    "euros": _repeat("1 000 000", "x"),
}
DICTATED_NUMBERS_AND_DATES = {
    **ANY_TEXT,
    "spelled prefixes": _repeat("s i n ", "x"),
    "claim prefix then digits": "sin " + _repeat("1", "/"),
    "claim prefix then groups": "sin " + _repeat("1 ", "/"),
    "dictated dashes": "aut " + _repeat("tiret 1 ", "/"),
    "single letters": _repeat("a b ", "1"),
    "weekdays": _repeat("lundi ", "1"),
    "time words": _repeat("vers ", "x"),
}


def patterns_of(*modules: ModuleType) -> List[Tuple[str, "re.Pattern[str]"]]:
    """Every compiled pattern the modules define at their top level (in tuples too)."""
    found = []
    for module in modules:
        for name, value in vars(module).items():
            values = value if isinstance(value, (tuple, list)) else (value,)
            found += [(f"{module.__name__}.{name}", v) for v in values if isinstance(v, re.Pattern)]
    return found


def slow_texts(pattern: "re.Pattern[str]", texts: Dict[str, str]) -> Dict[str, float]:
    """The texts on which replacing every match of `pattern` takes over the bound, with the
    seconds it took."""
    slow = {}
    for name, text in texts.items():
        start = time.perf_counter()
        pattern.subn("", text)
        seconds = time.perf_counter() - start
        if seconds > TIME_BOUND_SECONDS:
            slow[name] = round(seconds, 2)
    return slow
