"""Custom Rasa NLU components: the project's text normalisation, the session language as an entity,
and a fallback for questions no FAQ answer fits.

Loaded by the Rasa server (Python 3.10 environment), so it imports only Rasa and the standard library
plus `core.textnorm`, which is pure.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.textnorm import join_verb_prefix, normalise_token

LANGUAGE_ENTITY = "language"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class NormalisingTokenizer(WhitespaceTokenizer):
    """Whitespace tokens whose text is normalised; offsets still point into the customer's own text.

    Runs identically on training examples and on live messages, so "می‌خوام", "میخوام" and "می خوام"
    become one feature, Arabic and Persian letter variants meet, and digits in any script are digits.
    """

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens: list[Token] = []
        for token in super().tokenize(message, attribute):
            text = normalise_token(token.text)
            if not text:  # a token made only of diacritics or invisible marks
                continue
            joined = join_verb_prefix(tokens[-1].text, text) if tokens else None
            if joined is not None:
                previous = tokens[-1]
                tokens[-1] = Token(joined, previous.start, token.end, previous.data, joined)
                continue
            tokens.append(Token(text, token.start, token.end, token.data, text))
        return tokens or super().tokenize(message, attribute)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageFromMetadata(GraphComponent, EntityExtractorMixin):
    """The session language the core sends with every message, as an entity that fills the slot.

    The core owns the session's language (channel, detection, switches); this keeps Rasa's
    `language` slot, which picks the response variation, in step on every turn.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageFromMetadata:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            metadata = message.get("metadata") or {}
            language = metadata.get(LANGUAGE_ENTITY) if isinstance(metadata, dict) else None
            if isinstance(language, str) and language:
                entity = {
                    "entity": LANGUAGE_ENTITY,
                    "value": language,
                    "start": 0,
                    "end": 0,
                    "confidence_entity": 1.0,
                    "extractor": self.__class__.__name__,
                }
                message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RetrievalFallback(GraphComponent):
    """A question the response selector cannot place is not understood, however sure the classifier is.

    With four languages in one model the intent classifier can be confident that gibberish or an
    unseen phrasing is "some FAQ" while no single answer fits (the selector's confidence stays low);
    answering with a random FAQ is worse than asking again, so such a message becomes nlu_fallback.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"retrieval_intent": "faq", "threshold": 0.5}

    def __init__(self, config: dict[str, Any]) -> None:
        self._intent = str(config["retrieval_intent"])
        self._threshold = float(config["threshold"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RetrievalFallback:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get(INTENT_NAME_KEY) != self._intent:
                continue
            selected = (message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}).get(self._intent) or {}
            confidence = float((selected.get("response") or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            if confidence < self._threshold:
                fallback = {
                    INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                    PREDICTED_CONFIDENCE_KEY: confidence,
                }
                message.set(INTENT, fallback, add_to_output=True)
                message.set(
                    INTENT_RANKING_KEY,
                    [fallback, *(message.get(INTENT_RANKING_KEY) or [])],
                    add_to_output=True,
                )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
