"""`make chat`: talk to the running assistant in a terminal, through the REST channel.

    python -m devtools.terminal_chat [--customer 10000001] [--url http://localhost:5005]

With --customer, the chat carries an espace-client session token of that demo customer,
signed with ESPACE_CLIENT_JWT_SECRET, as the customer-area page would.
"""

import argparse
import uuid

import requests
from dotenv import load_dotenv

from core.settings import read
from devtools.espace_client import issue_session_token


def show(messages: list) -> list:
    """Prints the assistant's messages; returns the payloads of the buttons, numbered from 1."""
    payloads = []
    for message in messages:
        if message.get("text"):
            print(f"\033[36mOyat\033[0m  {message['text']}")
        for button in message.get("buttons") or []:
            payloads.append(button["payload"])
            print(f"      [{len(payloads)}] {button['title']}")
        if message.get("image"):
            print(f"      (image) {message['image']}")
    return payloads


def main() -> None:
    load_dotenv()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("--customer", help="identify as this demo customer (e.g. 10000001)")
    args = parser.parse_args()

    metadata = {}
    if args.customer:
        metadata["auth_token"] = issue_session_token(args.customer, read("ESPACE_CLIENT_JWT_SECRET"))
    sender = f"terminal-{uuid.uuid4()}"
    print("Écrivez votre message (un numéro pour choisir un bouton, Ctrl-D pour quitter).")
    payloads: list = []
    while True:
        try:
            text = input("\033[33mVous\033[0m  ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text.isdigit() and 1 <= int(text) <= len(payloads):
            text = payloads[int(text) - 1]
        try:
            answer = requests.post(
                f"{args.url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
                timeout=30,
            )
            answer.raise_for_status()
        except requests.RequestException as error:
            print(f"L'assistant ne répond pas ({error}). Est-il démarré avec « make run » ?")
            continue
        payloads = show(answer.json())


if __name__ == "__main__":
    main()
