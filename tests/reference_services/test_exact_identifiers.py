"""An identifier followed by a new line (« %0A » in a path) is another identifier: never
the customer, contract or claim it looks like (a `^...$` check lets it through)."""
import pytest

from tests.reference_services.helpers import MARIE

CONTRACT, CLAIM = "AUT-482913", "SIN-2026-000731"


@pytest.mark.parametrize("path", [
    f"/v1/customers/{MARIE}",
    f"/v1/customers/{MARIE}/contracts",
    f"/v1/customers/{MARIE}/contracts/{CONTRACT}",
    f"/v1/customers/{MARIE}/claims/{CLAIM}",
])
@pytest.mark.parametrize("after", ["%0A", "%0D%0A", "%20"], ids=["new line", "carriage return", "space"])
def test_an_identifier_followed_by_a_new_line_reaches_no_data(services, path, after):
    assert services.get(path, identified_as=MARIE).status_code == 200  # as written, the customer's own
    answer = services.get(path + after, identified_as=MARIE)
    assert answer.status_code in (403, 404, 422), answer.text
    assert CONTRACT not in answer.text and CLAIM not in answer.text and "Dupont" not in answer.text
