"""Text → the token documents the statistical models read.

A model's input is a *token document*: words separated by single spaces. Raw text is normalised
(NFKC, lower case, control characters out, cut to ``MAX_CHARS``) and cut into words with jieba;
pre-tokenised training data (``{"tokens": ...}``) is taken as it is. The vectorisers read the words
(``split_words``) and the characters within each word (scikit-learn's ``char_wb``), so a model trained
on tokens reads raw text the same way once jieba has cut it.

``split_words`` is referenced by the saved pipelines: renaming or moving it breaks saved models.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from typing import Any

# Longer texts are cut before tokenising: a 20,000-character paste says what it is about early on.
MAX_CHARS = 2000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACE = re.compile(r"\s+")
# A token worth keeping has a letter, a digit or a CJK character; punctuation, emoji and spaces are not words.
_WORDY = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]")

_jieba_lock = threading.Lock()
_jieba: Any = None


def _tokenizer() -> Any:
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def warm_up() -> None:
    """Load jieba's dictionary now (about half a second) rather than on the first message."""
    _tokenizer()


def normalize(text: Any) -> str:
    """NFKC, lower case, no control or zero-width characters, single spaces, at most MAX_CHARS."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    # NFKC can lengthen a string a little; cut generously first so a huge paste costs nothing.
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2]).lower()
    text = _CONTROL.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    return text[:MAX_CHARS]


def words(text: Any) -> list[str]:
    """The words of a raw text (jieba's precise mode), without punctuation, emoji or spaces."""
    norm = normalize(text)
    if not norm:
        return []
    return [w for w in _tokenizer().lcut(norm) if _WORDY.search(w)]


def to_doc(text: Any) -> str:
    """A raw text as a token document."""
    return " ".join(words(text))


def tokens_to_doc(tokens: Any) -> str:
    """Already tokenised text (space-separated words) as a token document."""
    return " ".join(w for w in normalize(tokens).split(" ") if _WORDY.search(w))


def record_doc(record: dict[str, Any]) -> str:
    """A training or prediction record as a token document: ``tokens`` if given, else title and text.

    The title is read twice: it is the short statement of the matter and weighs more than the body.
    """
    if record.get("tokens"):
        return tokens_to_doc(record["tokens"])
    title = record.get("title") or ""
    text = record.get("text") or ""
    if title:
        return to_doc(f"{title} {title} {text}")
    return to_doc(text)


def split_words(doc: str) -> list[str]:
    """The analyzer of the word vectoriser (pickled by reference in saved models)."""
    return doc.split()
