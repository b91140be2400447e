from core.parsing.contract_description import address_words, describe


def test_a_car_is_described_by_make_model_and_plate():
    described = describe("celle de la Peugeot 208 immatriculée ab123cd")
    assert described.plates == ("AB-123-CD",) and described.vehicle_words == {"peugeot", "208"}
    assert "ab123cd" not in described.words and "123" not in described.words


def test_a_car_model_in_figures_needs_a_make_or_la_before_it():
    assert describe("ma c3").vehicle_words == {"c3"}
    assert describe("la 308").vehicle_words == {"308"}
    assert describe("le 308 rue de la paix").vehicle_words == set()
    assert describe("mon contrat de 2008").vehicle_words == set()
    assert describe("la peugeot 2008").vehicle_words == {"peugeot", "2008"}


def test_a_place_is_described_by_street_name_and_postcode():
    described = describe("mon ancien studio au 3 rue Carnot, 86000 Poitiers")
    assert described.street_names == {"carnot"} and described.postcodes == {"86000"}
    assert described.former and not described.current
    assert describe("l'appart avenue de la Gare").street_names == {"gare"}


def test_former_and_current_are_read_in_any_spelling():
    assert describe("le contrat résilié").former and describe("celui d'avant").former
    assert not describe("avant le 12").former
    assert describe("mon logement actuel").current


def test_a_contract_number_is_read_whole_and_not_as_description_words():
    described = describe("le contrat aut 482 913")
    assert described.number == "AUT-482913" and "482" not in described.words


def test_address_words_leave_out_the_kind_of_way_numbers_and_small_words():
    assert address_words("8 rue de la Cathédrale", "Poitiers", "86000") == {"cathedrale", "poitiers", "86000"}
