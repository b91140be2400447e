"""The `rasa` command with what must be in place before the model loads:
`python -m server_extensions.rasa_server run --model ...` takes rasa's own arguments
(Procfile, docs/production.md)."""
import sys

from server_extensions.model_loading import load_models_for_inference


def main() -> None:
    load_models_for_inference()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
