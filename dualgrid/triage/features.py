"""Text → the token documents the statistical models read.

A model's input is a *token document*: words separated by single spaces. Raw text is normalised
(NFKC, lower case, control characters out, cut to ``MAX_CHARS``) and cut into words by jieba's
precise mode without HMM, run by ``rjieba`` (the Rust port jieba-rs: the same dictionary and the same
cuts — checked on 38,000 real messages and in ``test_features`` — ten times faster, loaded in 0.1 s);
pre-tokenised training data (``{"tokens": ...}``) is taken as it is. The vectorisers read the words
(``split_words``) and the characters within each word (scikit-learn's ``char_wb``), so a model trained
on tokens reads raw text the same way once jieba has cut it.

``split_words`` is referenced by the saved pipelines: renaming or moving it breaks saved models.
"""

from __future__ import annotations

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

# A #topic# is a forwarded headline, not the sender's words ("3#楼" and "5#楼" are building numbers).
_HASHTAG = re.compile(r"(?<![0-9a-z])#[^#\s]{1,40}#(?![楼栋号室座])")
# Forwarding debris of Weibo-like platforms and masked handles.
_NOISE = re.compile(r"//@\[用户\]:?|@\[用户\]|收起全文d?|o网页链接|\[图片\]|\[表情\]")
# A bank-card-like run of 15+ digits (or masking x/*): rules can name it as LONG_NUMBER ("[长数字]+建行").
# Written in one piece, or in groups of 3+ digits with up to three separators between them, as people type
# card numbers: "6222 0212 …", "xxxx---xxxx_xxxx_xxxx", "xxxx，xxxx，xxxx，xxxx，xxx" (NFKC makes it ",").
_NUMBER_RUN = re.compile(r"(?<![0-9a-z])[0-9x*]+(?:[-_., ]{1,3}[0-9x*]+)*(?![0-9a-z])")
_NUMBER_GROUPS = re.compile(r"[-_., ]+")
_ONE_SEPARATOR_RUN = re.compile(r"[0-9x*](?:[-. ]?[0-9x*])+")  # digits with at most one separator each
LONG_NUMBER = "[长数字]"
LONG_NUMBER_DIGITS = 15


def _long_number(match: re.Match[str]) -> str:
    run = match.group(0)
    groups = _NUMBER_GROUPS.split(run)
    if sum(len(g) for g in groups) < LONG_NUMBER_DIGITS:
        return run
    if len(groups) > 1 and min(len(g) for g in groups if g) < 3 and not _ONE_SEPARATOR_RUN.fullmatch(run):
        return run  # "1, 2, 3, …": a list of small numbers, not a card
    return LONG_NUMBER


# A mobile number (or one masked as 11 x): mostly ads and signatures; rules can name it as PHONE.
_PHONE = re.compile(r"(?<![0-9a-z])(?:1[3-9][0-9]{9}|x{11})(?![0-9a-z])")
PHONE = "[手机号]"

_jieba_lock = threading.Lock()
_jieba: Any = None


def _tokenizer() -> Any:
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import rjieba

                rjieba.cut("网格", False)  # builds the dictionary (about 0.1 s) once per process
                _jieba = rjieba
    return _jieba


def warm_up() -> None:
    """Load the word dictionary now rather than on the first message."""
    _tokenizer()


def normalize(text: Any) -> str:
    """NFKC, lower case; no control or zero-width characters, #topics#, forwarding debris; long numbers
    as ``[长数字]`` and mobile numbers as ``[手机号]``; single spaces; at most MAX_CHARS."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    # NFKC can lengthen a string a little; cut generously first so a huge paste costs nothing.
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2]).lower()
    text = _CONTROL.sub(" ", text)
    text = _SPACE.sub(" ", text)
    text = _HASHTAG.sub(" ", text)
    text = _NOISE.sub(" ", text)
    text = _NUMBER_RUN.sub(_long_number, text)
    text = _PHONE.sub(PHONE, text)
    text = _SPACE.sub(" ", text).strip()
    return text[:MAX_CHARS]


def words(text: Any, *, normalized: bool = False) -> list[str]:
    """The words of a raw text (jieba's precise mode), without punctuation, emoji or spaces."""
    norm = text if normalized else normalize(text)
    if not norm:
        return []
    # HMM off: no guessing of unknown words (a third faster); the character n-grams cover them anyway.
    return [w for w in _tokenizer().cut(norm, False) if _WORDY.search(w)]


def to_doc(text: Any, *, normalized: bool = False) -> str:
    """A raw text (or one already passed through ``normalize``) as a token document."""
    return " ".join(words(text, normalized=normalized))


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
