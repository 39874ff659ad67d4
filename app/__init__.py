"""The front-line web app: HTTP chat API today; the operator console joins it (handoff)."""
