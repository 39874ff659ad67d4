"""Speech for the voice channel: endpointing, recognition (Vosk), keywords and prompts (espeak-ng)."""
