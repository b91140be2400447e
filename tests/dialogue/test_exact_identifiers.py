"""Identifiers matched whole with the real stack: one followed by a new line is another
identifier, never the one it looks like (`^...$` let it through: `$` matches before a
final new line)."""

import re

import pytest

from tests.dialogue.widget_client import WidgetClient, texts


@pytest.fixture
def widget(rasa_stack):
    client = WidgetClient(rasa_stack.url)
    yield client
    client.close()


def test_a_widget_session_id_followed_by_a_new_line_gets_a_new_session(rasa_stack, widget):
    requested = "0123456789abcdef0123456789abcdef"
    widget.open(requested + "\n")
    assert widget.session_id != requested and re.fullmatch(r"[0-9a-f]{32}", widget.session_id)
    assert texts(widget.say("bonjour"))
