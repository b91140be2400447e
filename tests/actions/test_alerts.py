"""The customer's words read as an alert to set, and where it is sent."""
import pytest

from actions.alerts import read_channel, read_days_before, read_kind
from actions.simulations import plain


@pytest.mark.parametrize("text, days, kind, channel", [
    ("prévenez-moi un mois avant l'échéance de mon assurance auto", 30, "due_date", "whatsapp"),
    ("rappelez moi 2 semaines avant le renouvellement par sms", 14, "renewal", "sms"),
    ("un mail la veille de l'échéance svp", 1, "due_date", "email"),
    ("alertez moi si un prélèvement est rejeté", None, "unpaid_premium", "whatsapp"),
    ("quinze jours avant la reconduction", 15, "renewal", "whatsapp"),
])
def test_an_alert_is_read_from_the_customers_words(text, days, kind, channel):
    words = plain(text)
    assert (read_days_before(words), read_kind(words), read_channel(words, "whatsapp")) == (days, kind, channel)


def test_from_the_phone_or_rest_a_reminder_goes_by_email():
    assert read_channel("prevenez moi", "rest") == "email" and read_channel("prevenez moi", "ivr") == "email"
