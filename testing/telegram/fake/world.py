"""What the fake Telegram knows: chats, their messages and topics, users, and stored files.

Objects are returned in the Bot API's JSON shape (`as_dict`), which aiogram validates into its
models, so a field aiogram requires cannot be forgotten without the fake's own tests failing.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from testing.telegram.fake.errors import (
    CHAT_NOT_FOUND,
    NOT_A_FORUM,
    THREAD_NOT_FOUND,
    TOPIC_ID_INVALID,
    bad_request,
)

TOPIC_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


@dataclass
class Topic:
    thread_id: int
    name: str
    icon_color: int
    deleted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"message_thread_id": self.thread_id, "name": self.name, "icon_color": self.icon_color}


@dataclass
class Chat:
    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    first_name: str | None = None
    is_forum: bool = False
    blocked: bool = False
    topics: dict[int, Topic] = field(default_factory=dict)
    last_message_id: int = 0

    def next_message_id(self) -> int:
        """Message ids grow by one per chat, whoever writes (like in a private chat with a bot)."""
        self.last_message_id += 1
        return self.last_message_id

    def as_dict(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            chat["first_name"] = self.first_name or "Test"
        else:
            chat["title"] = self.title or f"Chat {self.id}"
        if self.is_forum and self.type == "supergroup":
            chat["is_forum"] = True
        return chat

    def add_topic(self, thread_id: int, name: str, icon_color: int) -> Topic:
        self.topics[thread_id] = Topic(thread_id, name, icon_color)
        return self.topics[thread_id]

    def topic(self, thread_id: int, *, for_sending: bool = True) -> Topic:
        """A live topic; sending into a deleted or unknown one fails like Telegram."""
        topic = self.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad_request(THREAD_NOT_FOUND if for_sending else TOPIC_ID_INVALID)
        return topic


@dataclass
class StoredMessage:
    chat: Chat
    message_id: int
    sender: dict[str, Any]
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, Any] = field(default_factory=dict)  # e.g. {"photo": [...]} or {"contact": {...}}
    reply_markup: dict[str, Any] | None = None
    thread_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False

    @property
    def from_bot(self) -> bool:
        return bool(self.sender.get("is_bot"))

    def as_dict(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.as_dict(),
            "date": self.date,
        }
        if self.thread_id is not None:
            message["message_thread_id"] = self.thread_id
            message["is_topic_message"] = True
        optional = {
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "caption_entities": self.caption_entities,
            "reply_markup": self.reply_markup,
            "edit_date": self.edit_date,
        }
        message.update({key: value for key, value in optional.items() if value})
        message.update(self.media)
        return message


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


class World:
    def __init__(self, bot_user: dict[str, Any]) -> None:
        self.bot_user = bot_user
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.files: dict[str, StoredFile] = {}

    # chats and users

    def add_chat(self, chat: Chat) -> Chat:
        return self.chats.setdefault(chat.id, chat)

    def chat(self, chat_id: int) -> Chat:
        """A chat the bot can write to; the bot only knows chats that wrote to it or that it was added to."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        return chat

    def forum(self, chat_id: int) -> Chat:
        chat = self.chat(chat_id)
        if not chat.is_forum:
            raise bad_request(NOT_A_FORUM)
        return chat

    def user(
        self, user_id: int, *, first_name: str | None = None, language_code: str = "en"
    ) -> dict[str, Any]:
        """A customer as the bot sees them; the app's language can change between two updates."""
        known = self.users.get(user_id, {})
        name = first_name or known.get("first_name") or "Test"
        user = {"id": user_id, "is_bot": False, "first_name": name, "language_code": language_code}
        self.users[user_id] = user
        return user

    # messages

    def add_message(self, chat: Chat, sender: dict[str, Any], **content: Any) -> StoredMessage:
        message = StoredMessage(chat, chat.next_message_id(), sender, int(time.time()), **content)
        self.messages[(chat.id, message.message_id)] = message
        return message

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        message = self.messages.get((chat_id, message_id))
        return None if message is None or message.deleted else message

    # files

    def add_file(self, data: bytes, *, folder: str, extension: str) -> StoredFile:
        digest = hashlib.sha256(data + str(len(self.files)).encode()).hexdigest()
        number = len(self.files) + 1
        stored = StoredFile(
            file_id=f"{folder[:2].upper()}{digest[:30]}",
            file_unique_id=f"U{digest[30:44]}",
            file_path=f"{folder}/file_{number}.{extension}",
            data=data,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((stored for stored in self.files.values() if stored.file_path == path), None)
