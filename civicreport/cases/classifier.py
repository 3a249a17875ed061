"""Category suggestions from the description; image models can plug in behind the same call."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Suggestion:
    code: str
    name: str
    score: float


class Classifier(Protocol):
    """Suggests categories for a description, best first; never raises on odd text."""

    def suggest(self, text: str, categories: Iterable[Any], limit: int = 3) -> list[Suggestion]: ...


class KeywordClassifier:
    """Scores each category by the keywords (and name parts) found in the text.

    Longer matches weigh more, so "飞线充电" beats a bare "垃圾". Never raises
    on odd text; returns an empty list when nothing matches.
    """

    def suggest(self, text, categories, limit=3):
        text = (text or "").lower()
        if not text.strip():
            return []
        scored = []
        for category in categories:
            score = sum(len(term) for term in _terms(category) if term in text)
            if score:
                scored.append(Suggestion(category.code, category.name, float(score)))
        scored.sort(key=lambda s: (-s.score, s.code))
        return scored[:limit]


def _terms(category):
    names = re.split(r"[/（）()、，,\s]+", category.name)
    keywords = re.split(r"[,，\s]+", category.keywords or "")
    return {term.lower() for term in names + keywords if len(term) >= 2}


CLASSIFIERS = {"keyword": KeywordClassifier}


def build_classifier(name: str) -> Classifier:
    """Return the classifier named in config; raises ValueError for an unknown name."""
    try:
        return CLASSIFIERS[name]()
    except KeyError:
        raise ValueError(f"unknown classifier {name!r}; choose one of {sorted(CLASSIFIERS)}") from None
