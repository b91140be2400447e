"""The customer's words read as a change to price on their contract."""
import pytest

from actions.simulations import read_change


@pytest.mark.parametrize("text, deductible, direction, codes, remove", [
    ("si je baisse ma franchise a 150 € je paierai combien ?", 150, "lower", [], False),
    ("et avec une franchise à 500 euros ?", 500, None, [], False),
    ("si je monte ma franchise ca fait combien", None, "higher", [], False),
    ("combien pour ajouter le bris de glace ?", None, None, ["bris_de_glace"], False),
    ("ma prime sans la garantie du conducteur", None, None, ["garantie_conducteur"], True),
    ("franchise a 300 sur la AUT-482913", 300, None, [], False),
])
def test_a_change_is_read_from_the_customers_words(text, deductible, direction, codes, remove):
    change = read_change(text)
    assert (change.deductible_eur, change.deductible_direction, change.remove) == (deductible, direction, remove)
    assert [c.get("auto") for c in change.guarantees] == codes
