"""Words of the domain that an action puts into a message it builds itself (the titles of
its buttons) or into what it stores (a form's answer for « none »). Every word a
customer reads stays in the domain, whose responses Rasa sends the action server with
each call (as long as endpoints.yml does not turn on `enable_selective_domain`)."""

from rasa_sdk.types import DomainDict


def response_text(domain: DomainDict, response: str) -> str:
    """The text of `response` (its first variant)."""
    return domain["responses"][response][0]["text"]
