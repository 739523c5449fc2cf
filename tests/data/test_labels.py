import pytest

from fsr_cli.data.labels import composite_label, label_in_set, normalise_emotion
from fsr_cli.errors import UsageError


@pytest.mark.parametrize(
    "dataset,emotion,expected",
    [
        ("casme2", "disgust", "negative"),
        ("casme2", "repression", "negative"),
        ("casme2", "sadness", None),  # MEGC2019: CASME II negative is disgust + repression only
        ("casme2", "fear", None),
        ("casme2", "others", None),
        ("samm", "anger", "negative"),
        ("samm", "contempt", "negative"),
        ("samm", "fear", "negative"),
        ("samm", "sadness", "negative"),
        ("samm", "other", None),
        ("smic", "negative", "negative"),
        ("samm", "happiness", "positive"),
        ("casme2", "surprise", "surprise"),
    ],
)
def test_composite_follows_megc2019_per_dataset(dataset, emotion, expected):
    assert composite_label(emotion, dataset) == expected
    assert label_in_set(emotion, "composite", dataset) == expected


def test_five_class_sets_and_aliases():
    assert label_in_set(normalise_emotion("Other"), "samm-5") == "other"
    assert label_in_set("others", "samm-5") == "other"
    assert label_in_set("others", "casme2-5") == "others"
    assert label_in_set("sadness", "casme2-5") is None
    assert normalise_emotion(" Happy ") == "happiness"
    with pytest.raises(
        UsageError, match="unknown label set 'nine'; choose one of: composite, casme2-5, samm-5"
    ):
        label_in_set("happiness", "nine")
