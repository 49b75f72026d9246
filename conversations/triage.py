# ruff: noqa: RUF001 - this module is about the punctuation and letters of other scripts.
"""What a comment needs: is it a question (in any language), and how does it feel.

Both run offline when a comment is stored. Sentiment is VADER (lexicon and rules tuned for
social media: emoji, emoticons, "lol", capitals, "!!!"), which only knows English words; a
language detector decides when its word scores can be trusted. For other languages only the
emoji and emoticons are scored, which VADER reads the same whatever the language.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from langdetect import DetectorFactory, LangDetectException, detect_langs
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from conversations.models import Sentiment

# VADER's usual cut-offs for its compound score.
POSITIVE_FROM = 0.05
NEGATIVE_FROM = -0.05
# Below this many words the detector guesses (it calls "lol" Spanish); VADER's slang and
# emoji handling is the better judge of such short comments.
MIN_WORDS_FOR_DETECTION = 4
MIN_ENGLISH_PROBABILITY = 0.2

# TikTok usage VADER's 2014 lexicon reads the other way round or does not know.
SLANG: dict[str, float] = {
    "fire": 2.5,
    "lit": 2.0,
    "slaps": 2.5,
    "bussin": 2.5,
    "goat": 2.5,
    "goated": 2.5,
    "iconic": 2.0,
    "queen": 1.5,
    "ate": 1.5,
    "slay": 2.0,
    "slayed": 2.0,
    "obsessed": 1.5,
    "sick": 1.5,
    "insane": 1.0,
    "mid": -1.5,
    "cringe": -2.0,
    "flop": -1.5,
    "scam": -2.5,
    "scammer": -2.5,
    "fake": -1.5,
    "trash": -2.0,
    "ick": -1.5,
    "ratio": -1.0,
    "unfollowing": -1.5,
    "unfollowed": -1.5,
}

# Question marks of other scripts: full-width (CJK), Arabic, Greek, Armenian, Ethiopic,
# and Spanish's opening mark.
QUESTION_MARKS = "?？؟;՞፧¿⁇⁈"
# Words that open a question, by language; matched at the start of a sentence. Words that
# also open ordinary sentences in another language ("que", "como", "de", "kim") are left out.
QUESTION_OPENERS_BY_LANGUAGE = {
    "en": "who|what|whats|what's|when|where|wheres|where's|why|how|hows|how's|which|whose|can|"
    "could|do|does|did|is|are|will|would|should|anyone|anybody|pls tell|please tell",
    "es": "qué|cómo|dónde|donde|cuándo|cuando|cuánto|cuanto|quién|quien|cuál|por qué|porqué",
    "pt": "onde|quanto|qual|quais|quem|porque|por que|será",
    "fr": "pourquoi|comment|où|quand|combien|quel|quelle|quels|quelles|qui|est-ce|est ce",
    "de": "wer|was|wann|wo|warum|wieso|weshalb|wie|welche|welcher|welches|gibt es|kann man|"
    "kannst du",
    "it": "perché|perche|dove|chi|quale",
    "nl": "waarom|wanneer|waar|welke",
    "id": "apa|apakah|bagaimana|gimana|kapan|dimana|di mana|berapa|siapa|kenapa|mengapa",
    "tr": "neden|niye|nasıl|nerede|nereden|hangi|kaç|ne zaman",
    "ru": "кто|что|где|когда|почему|зачем|как|сколько|какой|какая|какие",
    "uk": "чи|коли|чому|скільки",
    "pl": "kto|gdzie|kiedy|dlaczego|jak|ile|czy",
    "ar": "هل|ماذا|كيف|متى|أين|اين|لماذا|كم",
    "hi": "क्या|कैसे|कब|कहाँ|कहां|क्यों|कौन|कितना",
    "vi": "tại sao|ở đâu|bao nhiêu|khi nào",
    "tl": "paano|saan|kailan|bakit|magkano",
}
QUESTION_OPENERS = tuple(
    word for words in QUESTION_OPENERS_BY_LANGUAGE.values() for word in words.split("|")
)


# Endings that make a sentence a question in languages written without a question mark:
# Japanese, Chinese, Korean, Thai, Turkish particles, Vietnamese, Hindi, Indonesian tags.
def _alternatives(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


QUESTION_ENDINGS = _alternatives(
    "か|ですか|ますか|の|かな|かしら|吗|嗎|呢|么|麼|까|까요|나요|니|ไหม|มั้ย|หรือ|หรือเปล่า|"
    "อะไร|ที่ไหน|เมื่อไหร่| mı| mi| mu| mü| mısın| misin| musun| müsün| không| chưa| hả| à|"
    " क्या| kah| gak| nggak| ga"
)
# Chinese, Japanese and Korean question words appear mid-sentence.
QUESTION_INFIXES = _alternatives(
    "什么|什麼|怎么|怎麼|为什么|為什麼|哪里|哪裡|多少|几|どこ|なぜ|どうやって|どうして|いくら|"
    "なに|何で|어디|언제|왜|얼마|뭐|무엇|어떻게"
)

# A period ends a sentence only before a space or the end ("@dance.studio" is one word).
_SENTENCE_SPLIT = re.compile(r"[.!]+(?=\s|$)|[。！\n]+")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().strip()


def _strip_symbols(sentence: str) -> str:
    """The sentence without trailing emoji, emoticons and punctuation (kept letters only)."""
    end = len(sentence)
    while end and not (sentence[end - 1].isalnum()):
        end -= 1
    return sentence[:end].rstrip()


@functools.cache
def _openers_pattern() -> re.Pattern[str]:
    words = sorted(QUESTION_OPENERS, key=len, reverse=True)
    return re.compile(r"^(?:@\S+\s+)*(?:" + "|".join(re.escape(w) for w in words) + r")(?:\s|$)")


def is_question(text: str) -> bool:
    """A question in any language: a question mark of any script, a sentence opening with a
    question word, ending with a question particle, or holding a CJK question word."""
    cleaned = _normalise(text)
    if not cleaned:
        return False
    if any(mark in cleaned for mark in QUESTION_MARKS if mark != ";"):
        return True
    # The Greek question mark is a semicolon; only count it at the very end of a sentence.
    if re.search(r"[\u0370-\u03ff][^;]*;\s*$", cleaned):
        return True
    if any(word in cleaned for word in QUESTION_INFIXES):
        return True
    for sentence in _SENTENCE_SPLIT.split(cleaned):
        sentence = sentence.strip()
        if not sentence:
            continue
        if _openers_pattern().match(sentence) and len(_WORD.findall(sentence)) >= 2:
            return True
        bare = _strip_symbols(sentence)
        endings = [len(e.strip()) for e in QUESTION_ENDINGS if bare and bare.endswith(e)]
        # A lone particle ("ga", "니") is not a question; a sentence ending in one is.
        if endings and len(bare) > 2 * max(endings):
            return True
    return False


@dataclass(frozen=True)
class SentimentReading:
    sentiment: str
    score: float
    language: str
    words_trusted: bool


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(SLANG)
    return analyzer


# Common English function words: a comment made mostly of them is English, and the (slow)
# language detector is not asked.
ENGLISH_HINTS = frozenset(
    re.findall(
        r"\S+",
        "a an the and or but if so to of in on at for with from by about as is are was were be "
        "been am do does did have has had i you he she it we they me my your our their this that "
        "these those what where when why how who which can could would should will just not no "
        "yes very too all any some more most get got love like want need there here",
    )
)
ENGLISH_SHARE = 0.3


def _looks_english(words: list[str]) -> bool:
    hits = sum(word.casefold() in ENGLISH_HINTS for word in words)
    return hits >= ENGLISH_SHARE * len(words)


def _languages(text: str) -> dict[str, float]:
    """Candidate languages with their probabilities, most likely first."""
    DetectorFactory.seed = 0  # the detector is random otherwise: one text, one answer
    try:
        return {str(c.lang): float(c.prob) for c in detect_langs(text)}
    except LangDetectException:
        return {}


def _symbols_only(text: str) -> str:
    """Emoji and ASCII emoticons of the text, each as its own token."""
    tokens: list[str] = []
    for token in text.split():
        if any(unicodedata.category(ch) == "So" for ch in token):
            tokens.extend(ch for ch in token if unicodedata.category(ch) == "So")
        elif re.fullmatch(r"[:;=xX8][-o^']?[()\[\]dDpP/\\|*]+|<3+|\)+:|\(+:", token):
            tokens.append(token)
    return " ".join(tokens)


def _label(score: float) -> str:
    if score >= POSITIVE_FROM:
        return Sentiment.POSITIVE
    if score <= NEGATIVE_FROM:
        return Sentiment.NEGATIVE
    return Sentiment.NEUTRAL


def sentiment_of(text: str) -> SentimentReading:
    cleaned = (text or "").strip()
    if not cleaned:
        return SentimentReading(Sentiment.NEUTRAL, 0.0, "", False)
    words = _WORD.findall(cleaned)
    score = float(_analyzer().polarity_scores(cleaned)["compound"])
    if score == 0.0:
        # Nothing VADER knows, in any language: neutral, and no need to ask the (slower)
        # language detector whether to trust it.
        return SentimentReading(Sentiment.NEUTRAL, 0.0, "", True)
    language = ""
    trusted = True
    if len(words) >= MIN_WORDS_FOR_DETECTION and _looks_english(words):
        language = "en"
    elif len(words) >= MIN_WORDS_FOR_DETECTION:
        candidates = _languages(" ".join(words))
        language = next(iter(candidates), "")
        # English words are trusted unless English is unlikely (German "die" is no verb).
        trusted = not candidates or candidates.get("en", 0.0) >= MIN_ENGLISH_PROBABILITY
    elif words and not all(word.isascii() for word in words):
        trusted = False  # short, and not in a Latin-1 script VADER could know
    if not trusted:
        symbols = _symbols_only(cleaned)
        score = float(_analyzer().polarity_scores(symbols)["compound"]) if symbols else 0.0
    return SentimentReading(_label(score), round(score, 4), language[:8], trusted)


@dataclass(frozen=True)
class Triage:
    is_question: bool
    sentiment: str
    sentiment_score: float
    language: str


# TikTok comments repeat ("🔥🔥🔥", "first", "❤️"): one reading per distinct text and process.
TRIAGE_CACHE_SIZE = 20_000


@functools.lru_cache(maxsize=TRIAGE_CACHE_SIZE)
def triage(text: str) -> Triage:
    """Question, sentiment and language of one text (pure: the same text, the same reading)."""
    reading = sentiment_of(text)
    return Triage(
        is_question=is_question(text),
        sentiment=reading.sentiment,
        sentiment_score=reading.score,
        language=reading.language,
    )
