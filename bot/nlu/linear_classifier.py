"""Intents and FAQ topics from one linear model over word and character n-grams of the normalised text.

Why not DIET plus a ResponseSelector: on this project's data (four languages, a few dozen examples
per intent) a regularised logistic regression over TF-IDF n-grams is as accurate on held-out
examples, trains in seconds instead of tens of minutes, and the model is a few MB instead of
hundreds, so the training set can grow without pushing CI past its limit. FAQ topics are classes of
their own: the "faq" intent's confidence is the sum of its topics', and the chosen topic is written
where Rasa's ResponseSelector would write it, so rules and `utter_faq` work unchanged.

Runs in the Rasa server (Python 3.10); imports Rasa, scikit-learn and skops only.
"""

from __future__ import annotations

from typing import Any

import skops.io as sio
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
    TOKENS_NAMES,
)
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

_FILE = "linear_intents.skops"
# Types skops must be told to trust when loading (beyond its defaults): the IDF weights' sparse matrix.
_TRUSTED = ["scipy.sparse._csr.csr_matrix"]


def _model(config: dict[str, Any]) -> Pipeline:
    ngrams = (int(config["min_char_ngram"]), int(config["max_char_ngram"]))
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(token_pattern=r"\S+", lowercase=False, sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, lowercase=False,
                                      sublinear_tf=True)),
        ]
    )  # fmt: skip
    classifier = LogisticRegression(C=float(config["C"]), max_iter=3000, random_state=1)
    return Pipeline([("features", features), ("classifier", classifier)])


def _text(message: Message) -> str:
    """The message as the tokenizer normalised it, so training and run time see the same words."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return " ".join(token.text for token in tokens) or str(message.get(TEXT) or "")


def _label(example: Message) -> str:
    return str(example.get(INTENT_RESPONSE_KEY) or example.get(INTENT))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Sets the intent, the intent ranking and the retrieval intent's chosen response."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 1000.0, "min_char_ngram": 1, "max_char_ngram": 4, "ranking_length": 10}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Pipeline | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as folder:
                model = sio.load(folder / _FILE, trusted=_TRUSTED)
        except ValueError:  # nothing was trained (no examples)
            model = None
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if len({_label(e) for e in examples}) < 2:
            return self._resource
        self._model = _model(self._config).fit([_text(e) for e in examples], [_label(e) for e in examples])
        with self._storage.write_to(self._resource) as folder:
            sio.dump(self._model, folder / _FILE)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        labels = [str(label) for label in self._model.classes_]
        scores_of = self._model.predict_proba([_text(m) for m in messages])
        for message, scores in zip(messages, scores_of, strict=True):
            self._annotate(message, dict(zip(labels, scores.tolist(), strict=True)))
        return messages

    def _annotate(self, message: Message, scores: dict[str, float]) -> None:
        intents: dict[str, float] = {}
        topics: dict[str, dict[str, float]] = {}
        for label, score in scores.items():
            intent, _, topic = label.partition("/")
            intents[intent] = intents.get(intent, 0.0) + score
            if topic:
                topics.setdefault(intent, {})[label] = score
        ranking = sorted(intents.items(), key=lambda item: -item[1])
        length = int(self._config["ranking_length"])
        message.set(INTENT, {INTENT_NAME_KEY: ranking[0][0], PREDICTED_CONFIDENCE_KEY: ranking[0][1]},
                    add_to_output=True)  # fmt: skip
        message.set(
            INTENT_RANKING_KEY,
            [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: score} for name, score in ranking[:length]],
            add_to_output=True,
        )
        selector: dict[str, Any] = {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: sorted(topics)}
        for intent, keys in topics.items():
            selector[intent] = _selected(keys, intents[intent], length)
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selector, add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def _selected(keys: dict[str, float], total: float, length: int) -> dict[str, Any]:
    """The response selector's output for one retrieval intent; confidences given that intent."""
    ranked = sorted(keys.items(), key=lambda item: -item[1])
    share = [(key, score / total if total > 0 else 0.0) for key, score in ranked]
    best, confidence = share[0]
    return {
        RESPONSE_SELECTOR_PREDICTION_KEY: {
            RESPONSE_SELECTOR_RESPONSES_KEY: [],
            PREDICTED_CONFIDENCE_KEY: confidence,
            INTENT_RESPONSE_KEY: best,
            RESPONSE_SELECTOR_UTTER_ACTION_KEY: f"utter_{best}",
        },
        RESPONSE_SELECTOR_RANKING_KEY: [
            {"id": index, PREDICTED_CONFIDENCE_KEY: score, INTENT_RESPONSE_KEY: key}
            for index, (key, score) in enumerate(share[:length])
        ],
    }
