"""Label sets: native emotions -> the classes a protocol trains on.

`composite` is the MEGC2019 3-class set (negative / positive / surprise); `casme2-5` and
`samm-5` are the usual 5-class sets of the single-dataset literature. An emotion outside a set
maps to None and the sample is left out of that protocol (never silently relabelled).
"""

from __future__ import annotations

from fsr_cli.errors import UsageError

COMPOSITE_CLASSES = ("negative", "positive", "surprise")

_NEGATIVE = {
    "disgust",
    "repression",  # CASME II
    "anger",
    "contempt",
    "fear",
    "sadness",  # SAMM, MMEW, CAS(ME)^3
    "negative",  # SMIC folder name
}
# MEGC2019 takes CASME II's negative class from disgust + repression only; its sadness and fear
# clips are left out of the composite (442 samples), while SAMM's fear and sadness are negative.
_NEGATIVE_BY_DATASET = {"casme2": {"disgust", "repression"}}
_POSITIVE = {"happiness", "positive"}
_SURPRISE = {"surprise"}

LABEL_SETS: dict[str, tuple[str, ...]] = {
    "composite": COMPOSITE_CLASSES,
    "casme2-5": ("happiness", "surprise", "disgust", "repression", "others"),
    "samm-5": ("anger", "contempt", "happiness", "surprise", "other"),
}

# Spellings seen across releases -> one canonical lowercase emotion.
EMOTION_ALIASES = {
    "happy": "happiness",
    "happiness": "happiness",
    "sad": "sadness",
    "sadness": "sadness",
    "surprised": "surprise",
    "surprise": "surprise",
    "disgusted": "disgust",
    "disgust": "disgust",
    "fearful": "fear",
    "fear": "fear",
    "angry": "anger",
    "anger": "anger",
    "contempt": "contempt",
    "repression": "repression",
    "others": "others",
    "other": "other",
    "negative": "negative",
    "positive": "positive",
}


def normalise_emotion(raw: str) -> str:
    """Lowercase, trimmed, canonical spelling ('Happiness ' -> 'happiness', 'happy' -> 'happiness')."""
    key = str(raw).strip().lower()
    return EMOTION_ALIASES.get(key, key)


def composite_label(emotion: str, dataset: str | None = None) -> str | None:
    """MEGC2019 composite class of a canonical emotion of `dataset`, or None where it has none.

    'others' has none anywhere; CASME II's sadness and fear have none either (see _NEGATIVE_BY_DATASET).
    A class name itself ('negative' of an imported release) is its own class in every dataset.
    """
    if emotion in COMPOSITE_CLASSES:
        return emotion
    if emotion in _NEGATIVE_BY_DATASET.get(dataset or "", _NEGATIVE):
        return "negative"
    if emotion in _POSITIVE:
        return "positive"
    if emotion in _SURPRISE:
        return "surprise"
    return None


def composite_outside(
    dataset: str | None, onset: int, apex: int | None, *, apex_annotated: bool = True
) -> str | None:
    """Why a CASME II sample whose emotion has a composite class is still not in the MEGC2019 composite.

    The composite's 145 CASME II samples are the coding sheet's rows of its three classes that have
    an annotated apex after the onset: the 2014-05-08 sheet's two others of those classes are
    sub04 EP12_01f (apex '/') and sub05 EP09_05f (onset = apex = 69), which have no onset-to-apex
    motion to learn from. Rows read elsewhere (SAMM, SMIC, imported flows) are not judged here.
    Returns None where the sample is in, else the reason.
    """
    if dataset != "casme2":
        return None
    if apex is None or not apex_annotated:
        return "no annotated apex (not in the MEGC2019 composite)"
    if apex == onset:
        return "apex = onset, no onset-to-apex motion (not in the MEGC2019 composite)"
    return None


def label_in_set(emotion: str, label_set: str, dataset: str | None = None) -> str | None:
    """The class of `emotion` (of `dataset`) under `label_set`, or None where the set leaves it out."""
    if label_set not in LABEL_SETS:
        raise UsageError(f"unknown label set {label_set!r}; choose one of: {', '.join(LABEL_SETS)}")
    classes = LABEL_SETS[label_set]
    if emotion in classes:
        # Already a class of the set (an imported release labelled 'negative', say): it passes
        # through whatever the dataset's own emotion rule would say of the word.
        return emotion
    if label_set == "composite":
        return composite_label(emotion, dataset)
    if label_set == "samm-5" and emotion == "others":
        emotion = "other"
    if label_set == "casme2-5" and emotion == "other":
        emotion = "others"
    return emotion if emotion in classes else None


KNOWN_EMOTIONS = frozenset(EMOTION_ALIASES.values()) | {c for cs in LABEL_SETS.values() for c in cs}


def unknown_word(emotion: str) -> str | None:
    """None for a known emotion word (any spelling of EMOTION_ALIASES or a class of a label set),
    else a reason naming the closest known word: 'happpiness' is a typo, not a new emotion."""
    import difflib

    word = normalise_emotion(emotion)
    if word in KNOWN_EMOTIONS:
        return None
    close = difflib.get_close_matches(word, sorted(KNOWN_EMOTIONS | set(EMOTION_ALIASES)), n=1, cutoff=0.6)
    hint = f" (closest: {normalise_emotion(close[0])})" if close else ""
    return f"emotion {emotion!r} is not a known emotion word{hint}"
