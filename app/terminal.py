"""A terminal chat with the bot over the HTTP chat API; buttons are picked by number."""

from __future__ import annotations

import getpass
import secrets
from typing import Any

import httpx


def chat_loop(base_url: str, customer: str | None = None) -> None:
    # A new conversation per run: the chat API gives its token to the first turn only.
    customer = customer or f"terminal-{getpass.getuser()}-{secrets.token_hex(4)}"
    token: str | None = None
    print("Chat with the bot. Type a message, a button number, or /quit.", flush=True)
    buttons: list[dict[str, Any]] = []
    with httpx.Client(base_url=base_url, timeout=60) as http:
        while True:
            try:
                line = input("you> ").strip()
            except EOFError:
                return
            if line in {"/quit", "/exit"}:
                return
            if not line:
                continue
            text = _pick_button(line, buttons)
            auth = {"Authorization": f"Bearer {token}"} if token else {}
            response = http.post("/api/chat", json={"customer": customer, "text": text}, headers=auth)
            if response.status_code != 200:
                print(f"  [{response.status_code}] {response.json().get('detail')}")
                continue
            body = response.json()
            token = body.get("token") or token
            buttons = []
            for reply in body["replies"]:
                print(f"bot> {reply['text']}")
                for button in reply["buttons"]:
                    buttons.append(button)
                    print(f"     [{len(buttons)}] {button['title']}")
            if body["state"] != "bot":
                print(f"     (session state: {body['state']})")


def _pick_button(line: str, buttons: list[dict[str, Any]]) -> str:
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        return str(buttons[int(line) - 1]["payload"])
    return line
