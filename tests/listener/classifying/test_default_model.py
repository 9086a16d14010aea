"""The real default model (MiniLM + the bundled heads) on a handful of obvious posts."""

from __future__ import annotations

import pytest

from listener.classifying.classifier import Classifier
from listener.classifying.labels import (
    FLAG_EMPTY,
    FLAG_NON_TEXT,
    FLAG_TOO_LONG,
    FLAG_UNSUPPORTED_LANGUAGE,
)
from listener.classifying.settings import ClassifierConfig, build_classifier
from listener.classifying.topics import parse_topics

TOPICS = parse_topics(
    [
        {
            "name": "lost_luggage",
            "description": "Checked bags that were lost, delayed or damaged by the airline",
            "examples": ["my suitcase never arrived", "where is my bag", "lost luggage claim"],
        },
        {
            "name": "billing",
            "description": "Charges, refunds, fees and payments",
            "examples": ["I was charged twice", "still waiting for my refund", "hidden fees"],
        },
    ]
)


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return build_classifier(ClassifierConfig(topics=TOPICS, max_chars=500))


def test_obvious_posts(classifier: Classifier) -> None:
    happy, angry, plain = classifier.classify(
        [
            "@northwindair thank you so much, the crew was wonderful and the flight was great!",
            "@northwindair you lost my luggage AGAIN and nobody answers the phone. Worst airline.",
            "@northwindair what time does the Boston flight board?",
        ]
    )
    assert happy.sentiment == "positive" and not happy.complaint
    assert angry.sentiment == "negative" and angry.complaint
    assert angry.complaint_score > 0.5 > happy.complaint_score
    assert plain.sentiment == "neutral"
    assert happy.model_version.startswith("minilm-l6+tuned+heads-")


def test_topics_match_above_the_threshold_only(classifier: Classifier) -> None:
    bag, money, weather = classifier.classify(
        [
            "my suitcase did not arrive in Denver and nobody knows where it is",
            "I was charged twice for the same ticket, I want a refund",
            "what a lovely sunset over the lake tonight",
        ]
    )
    assert (bag.topic, money.topic, weather.topic) == ("lost_luggage", "billing", None)


def test_a_broad_topic_held_to_its_own_threshold_skips_everyday_posts() -> None:
    delay = {
        "name": "delay",
        "description": "Delayed or cancelled flights and missed connections",
        "examples": ["flight delayed 4 hours", "they cancelled my flight"],
    }
    posts = ["Boarding now", "my flight is delayed 5 hours and I will miss my connection"]
    loose = build_classifier(ClassifierConfig(topics=parse_topics([delay]))).classify(posts)
    strict = parse_topics([{**delay, "threshold": 0.4}])
    held = build_classifier(ClassifierConfig(topics=strict)).classify(posts)
    assert [v.topic for v in loose] == ["delay", "delay"]
    assert [v.topic for v in held] == [None, "delay"]


def test_posts_the_model_cannot_judge_are_flagged_not_dropped(classifier: Classifier) -> None:
    verdicts = classifier.classify(
        [
            "   ",
            "https://t.co/abc123 @northwindair 🛫🛫 #123",
            "@northwindair my bag is lost. " * 40,
            "ノースウィンド航空の荷物が届きません",
            "Mon bagage est perdu, c'est inadmissible",
        ],
        languages=[None, None, "en", None, "fr"],
    )
    assert [v.flags for v in verdicts] == [
        (FLAG_EMPTY,),
        (FLAG_NON_TEXT,),
        (FLAG_TOO_LONG,),
        (FLAG_UNSUPPORTED_LANGUAGE,),
        (FLAG_UNSUPPORTED_LANGUAGE,),
    ]
    empty, link_only, long_post = verdicts[:3]
    assert empty.sentiment == link_only.sentiment == "neutral"
    assert not empty.complaint and empty.complaint_score == 0.0
    assert (
        long_post.sentiment == "negative" and long_post.complaint
    )  # judged on its first 500 chars


def test_identical_texts_get_identical_verdicts_in_input_order(classifier: Classifier) -> None:
    texts = ["great flight, thanks!", "worst delay ever", "great flight, thanks!"]
    verdicts = classifier.classify(texts)
    assert verdicts[0] == verdicts[2]
    assert verdicts[1].sentiment == "negative"
    assert classifier.classify([]) == []
