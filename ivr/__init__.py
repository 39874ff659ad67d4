"""The voice channel: a small asyncio SIP user agent answering calls behind a PBX or SIP trunk."""
