# ruff: noqa: RUF001 - questions in Greek and Turkish letters.
"""Question detection in many languages and sentiment that copes with emoji and slang."""

from __future__ import annotations

import pytest

from conversations.models import Sentiment
from conversations.triage import is_question, sentiment_of, triage


@pytest.mark.parametrize(
    "text",
    [
        "where did you get that hoodie",  # English, no "?"
        "how much is this",
        "link?",
        "¿dónde lo compro?",
        "donde lo compro",  # Spanish without accents or marks
        "Combien ça coûte",
        "wo kann ich das kaufen",
        "Quanto custa",
        "Что это за песня",
        "هل يوجد شحن",
        "これはいくらですか",
        "这个多少钱",
        "이거 어디서 사요",
        "Το θέλω;",  # Greek question mark is a semicolon
        "bu ne kadar mı",
        "@dance.studio what song is this",
        "kapan restock kak",
    ],
)
def test_questions_are_found_in_any_language(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "love it",
        "this is fire 🔥🔥",
        "have a nice day",
        "que lindo 😍",
        "me encanta 😍😍",
        "ok",
        "",
        "😂😂😂",
        "Wir lieben es.",
    ],
)
def test_statements_are_not_questions(text: str) -> None:
    assert not is_question(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("this is fire 🔥🔥", Sentiment.POSITIVE),  # TikTok slang, not a house fire
        ("no cap this slaps", Sentiment.POSITIVE),
        ("😂😂😂", Sentiment.POSITIVE),
        ("love it!!!", Sentiment.POSITIVE),
        ("worst product ever 😡", Sentiment.NEGATIVE),
        ("ur a scam", Sentiment.NEGATIVE),
        ("this is mid", Sentiment.NEGATIVE),
        ("where did you get that hoodie", Sentiment.NEUTRAL),
    ],
)
def test_sentiment_copes_with_emoji_and_slang(text: str, expected: str) -> None:
    assert sentiment_of(text).sentiment == expected


def test_words_of_other_languages_are_not_read_with_the_english_lexicon() -> None:
    # "nie" and "no" would sway an English reading; only the emoji count here.
    reading = sentiment_of("Das ist nicht gut, aber ich liebe es trotzdem 😍")
    assert reading.language == "de"
    assert not reading.words_trusted
    assert reading.sentiment == Sentiment.POSITIVE
    neutral = sentiment_of("Das ist ein ganz normales Video über Kaffee")
    assert neutral.sentiment == Sentiment.NEUTRAL and neutral.score == 0.0
    # English VADER reads the German article "die" as the verb: the detector overrules it.
    assert sentiment_of("Ich liebe die Musik in diesem Video").sentiment == Sentiment.NEUTRAL


def test_one_text_always_gets_one_reading() -> None:
    text = "Ce produit est vraiment incroyable et je le recommande"
    assert len({triage(text) for _ in range(5)}) == 1
