"""The action server's answers validated with a validator built once.

Rasa 3.6 checks every answer of the action server against its JSON schema with
`jsonschema.validate`, which first validates the schema itself against the JSON
Schema meta-schema, on every call: with a few action calls per turn, that was half
of the Rasa server's CPU time (measured by `make bench` under a profiler). The same
check, with the schema checked once.
"""
import functools
from typing import Any, Dict, Text

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=None)
def response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(_action: RemoteAction, result: Dict[Text, Any]) -> bool:
    """RemoteAction._validate_action_result: True, or the ValidationError Rasa raises."""
    try:
        response_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise


def validate_action_results_quickly() -> None:
    """Installs the validator (once per process; running it again changes nothing)."""
    RemoteAction._validate_action_result = validate_action_result
