"""Routing rules: a table of cases through the pure matcher; first match wins, else the default."""

from __future__ import annotations

import pytest

from config.errors import ConfigError
from config.settings import parse_config
from responders.routing.facts import MentionFacts
from responders.routing.rules import decide
from tests.responders.routing_data import BRAND, config

RULES = """
[[teams]]
name = "support"
[[teams]]
name = "vip"
[[teams]]
name = "social"
[[teams]]
name = "german"

[[routing.rules]]
name = "competitors"
competitor = true
ignore = true

[[routing.rules]]
name = "vip"
min_followers = 10000
team = "vip"
priority = "urgent"
sla_minutes = 15

[[routing.rules]]
name = "angry complaints on x"
network = ["x"]
complaint = true
sentiment = ["negative"]
team = "support"
priority = "high"
sla_minutes = 30

[[routing.rules]]
name = "baggage"
topic = ["baggage"]
team = "support"
require_skill = "baggage"

[[routing.rules]]
name = "german"
language = ["de"]
team = "german"
require_language = true

[[routing.rules]]
name = "spam"
keywords = ["free bitcoin", "crypto giveaway"]
ignore = true

[routing.default]
team = "social"
priority = "low"
sla_minutes = 240

[[classifier.topics]]
name = "baggage"
description = "Lost, delayed or damaged bags"
"""


def facts(**overrides) -> MentionFacts:
    base = {
        "network": "x",
        "brand": "Northwind Air",
        "is_competitor": False,
        "text": "flying Northwind Air today",
        "language": "en",
        "author_followers": 100,
    }
    return MentionFacts(**{**base, **overrides})


CASES = [
    ("competitor is ignored", facts(is_competitor=True, brand="Skyline Airways"), "competitors"),
    ("big account goes to vip", facts(author_followers=50_000), "vip"),
    ("exactly the follower threshold", facts(author_followers=10_000), "vip"),
    ("unknown followers are not vip", facts(author_followers=None), "default"),
    (
        "negative complaint on x",
        facts(complaint=True, sentiment="negative"),
        "angry complaints on x",
    ),
    (
        "complaint on reddit falls through",
        facts(network="reddit", complaint=True, sentiment="negative"),
        "default",
    ),
    ("complaint without sentiment", facts(complaint=True), "default"),
    ("topic match", facts(topic="baggage"), "baggage"),
    ("topic case-insensitive", facts(topic="Baggage"), "baggage"),
    ("language", facts(language="de"), "german"),
    ("keyword whole phrase, any case", facts(text="FREE BITCOIN here"), "spam"),
    ("keyword inside a word does not match", facts(text="freebitcoins"), "default"),
    ("order: vip before complaint", facts(author_followers=20_000, complaint=True), "vip"),
    ("nothing matches", facts(), "default"),
]


@pytest.mark.parametrize(("case", "given", "rule"), CASES, ids=[c[0] for c in CASES])
def test_first_matching_rule_wins(case: str, given: MentionFacts, rule: str) -> None:
    assert decide(config(RULES).routing, given).rule == rule


def test_decision_carries_the_action() -> None:
    routing = config(RULES).routing
    vip = decide(routing, facts(author_followers=50_000))
    assert (vip.team, vip.priority, vip.sla_minutes, vip.ignore) == ("vip", "urgent", 15, False)
    assert vip.priority_rank < decide(routing, facts()).priority_rank
    default = decide(routing, facts())
    assert (default.team, default.priority, default.sla_minutes) == ("social", "low", 240)
    assert decide(routing, facts(is_competitor=True)).ignore
    assert decide(routing, facts(language="de")).require_language
    assert decide(routing, facts(topic="baggage")).require_skill == "baggage"


def test_brand_condition() -> None:
    routing = config(
        '[[routing.rules]]\nname = "sky"\nbrand = ["Skyline Airways"]\nignore = true\n'
    ).routing
    assert decide(routing, facts(brand="Skyline Airways")).rule == "sky"
    assert decide(routing, facts()).rule == "default"


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('[[routing.rules]]\nname = "r"\n', "names a team, or sets ignore"),
        ('[[routing.rules]]\nname = "r"\nteam = "a"\nignore = true\n', "not both"),
        ('[[teams]]\nname = "a"\n[[routing.rules]]\nname = "r"\nteam = "b"\n', "unknown team"),
        ('[[routing.rules]]\nname = "r"\nteam = "a"\npriority = "asap"\n', "priority"),
        ('[[routing.rules]]\nname = "r"\nteam = "a"\nsla = 5\n', "sla"),
        (
            '[[teams]]\nname = "a"\n[[teams]]\nname = "support"\n'
            '[[routing.rules]]\nname = "r"\nteam = "a"\ntopic = ["bags"]\n'
            '[[classifier.topics]]\nname = "refunds"\ndescription = "Money back"\n',
            r"routing.rules\[0\] \(r\): topic \['bags'\] is not one of "
            r"\[classifier\] topics \['refunds'\]",
        ),
        (
            '[[classifier.topics]]\nname = "a"\ndescription = "x"\n'
            '[[classifier.topics]]\nname = "a"\ndescription = "y"\n',
            "duplicate topic name",
        ),
        ("[classifier]\nbatch_size = 0\n", "classifier.batch_size"),
        ('[classifier]\nprecision = "fp16"\n', "classifier.precision"),
        ("[classifier]\nquantize = true\n", 'precision = "int8"'),
    ],
)
def test_invalid_rules_are_config_errors(snippet: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(BRAND + snippet, origin="test.toml")
