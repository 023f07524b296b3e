"""The one rule that maps an answer to a class (match_class / parse_guesses), attacked with
negations, substrings, two classes named, extra JSON keys and code fences."""
import pytest

from noisygraph.locle import ClassInfo
from noisygraph.locle.annotation import as_class_infos
from noisygraph.locle.parsing import (AnswerParseError, match_class, name_key, name_tokens,
                                      parse_guesses)

DBLP = [ClassInfo(n) for n in ("Database", "Data Mining", "AI", "Information Retrieval")]
DB, DM, AI, IR = range(4)


@pytest.mark.parametrize("answer, expected", [
    # exact, ignoring case, spacing, punctuation and Unicode width
    ("AI", AI), ("ai.", AI), ("A.I.", AI), ("ＡＩ", AI), ("data-mining", DM),
    ("DATA_MINING", DM), ("  Information   retrieval ", IR), ("Data Base", DB),
    # close spellings
    ("Databases", DB), ("Databse", DB), ("Information Retreival", IR),
    # contained
    ("Category: Database", DB), ("AI (artificial intelligence)", AI),
    ("Databases", DB),
])
def test_answers_that_name_one_class(answer, expected):
    assert match_class(answer, DBLP) == expected


@pytest.mark.parametrize("answer", [
    # negations are never read as the class they negate
    "Not AI", "not ai", "non-AI", "isn't AI", "It isn’t AI", "AI? No.", "no AI at all",
    "Not Database", "not databse", "no information retrieval", "Neither AI nor Database",
    "anything except AI", "without AI",
    # two classes named
    "AI, not Database", "Data Mining or AI", "databases and AI", "Database / Data Mining",
    # substrings of words are not words
    "AIDS research", "said", "Databank", "Mining",
    # nothing
    "", "   ", "???", "Astrology",
])
def test_answers_that_name_no_single_class(answer):
    assert match_class(answer, DBLP) is None


def test_non_strings_name_nothing():
    for answer in (None, 3, ["AI"], {"label": "AI"}, True):
        assert match_class(answer, DBLP) is None


def test_a_class_named_like_a_negation():
    classes = [ClassInfo("AI"), ClassInfo("Not AI")]
    assert match_class("Not AI", classes) == 1
    assert match_class("not-ai", classes) == 1
    assert match_class("definitely Not AI", classes) == 1  # the longer name wins
    assert match_class("AI", classes) == 0
    assert match_class("Category: AI", classes) == 0
    assert match_class("isn't AI", classes) == 1  # read as "is not AI"
    assert match_class("AI or Not AI", classes) is None


def test_a_class_name_inside_another():
    classes = [ClassInfo("Data"), ClassInfo("Data Mining")]
    assert match_class("Data Mining", classes) == 1
    assert match_class("data mining methods", classes) == 1
    assert match_class("Data", classes) == 0
    assert match_class("Data Minning", classes) != 0  # never the shorter name


def test_bare_text_answers_are_not_searched():
    assert parse_guesses("Database.", DBLP) == [(DB, 0.5)]
    assert parse_guesses('"Data Mining"', DBLP) == [(DM, 0.5)]
    for content in ("The answer is Database", "Not AI", "AI or Database"):
        with pytest.raises(AnswerParseError):
            parse_guesses(content, DBLP)


@pytest.mark.parametrize("content, expected", [
    ('{"guesses": [{"label": "Not AI", "confidence": 90}, '
     '{"label": "Database", "confidence": 40}]}', [(DB, 0.4)]),
    ('{"reasoning": "about AI, not databases", "label": "Database", "confidence": 70, '
     '"model": "x"}', [(DB, 0.7)]),
    ('{"Database": 80, "AI": 15, "reasoning": "AI"}', [(DB, 0.8), (AI, 0.15)]),
    ('```JSON\n{"guesses": [{"category": "AI", "confidence": "85%"}]}\n```', [(AI, 0.85)]),
    ('Here you go:\n```\n[["Data Mining", 60], ["AI", 30]]\n```\nHope this helps.',
     [(DM, 0.6), (AI, 0.3)]),
    ('{"guesses": [{"label": "AI or Database", "confidence": 90}, '
     '{"label": "Information Retrieval", "confidence": 50}]}', [(IR, 0.5)]),
    ('{"guesses": [{"label": "AI", "confidence": 1e400}, {"label": "AI", "confidence": 5}]}',
     [(AI, 1.0)]),
    ('{"guesses": [{"class": "Database", "confidence": -20}]}', [(DB, 0.0)]),
    ('{"answer": "Data Mining"}', [(DM, 0.5)]),
])
def test_json_shapes(content, expected):
    assert parse_guesses(content, DBLP) == [(c, pytest.approx(p)) for c, p in expected]


@pytest.mark.parametrize("content", [
    '{"label": "Not AI", "confidence": 90}', '{"guesses": []}', "[" * 100_000,
    '{"label": "AI", "confidence": 1' + "0" * 5000 + "}", '{"reasoning": "AI"}',
    '{"guesses": [{"label": "non-database", "confidence": 99}]}',
])
def test_answers_without_a_usable_guess(content):
    with pytest.raises(AnswerParseError):
        parse_guesses(content, DBLP)


def test_top_k_and_runaway_lists():
    many = '{"guesses": [' + ", ".join(['{"label": "Astrology"}'] * 500
                                       + ['{"label": "AI"}']) + "]}"
    with pytest.raises(AnswerParseError):  # only the first 100 guesses are read
        parse_guesses(many, DBLP)
    three = '[["AI", 50], ["Database", 30], ["Data Mining", 10], ["Information Retrieval", 5]]'
    assert [c for c, _ in parse_guesses(three, DBLP, top_k=2)] == [AI, DB]


def test_normalisation():
    assert name_tokens("Data-Mining") == ("data", "mining")
    assert name_tokens("isn't") == ("is", "not")
    assert name_key("C++") == name_key("C#") == "c"
    assert name_key("Café") == name_key("CAFÉ")


@pytest.mark.parametrize("names", [["C++", "C#"], ["Data Base", "Database"], ["AI", "ai "],
                                   ["Data Mining", "data_mining"], ["Café", "CAFÉ"],
                                   ["A.I.", "AI"]])
def test_colliding_class_names_are_rejected(names):
    with pytest.raises(ValueError, match="classes: class names must be distinct"):
        as_class_infos(names + ["Other"])


def test_containing_names_are_allowed():
    assert len(as_class_infos(["AI", "Not AI"])) == 2
    assert len(as_class_infos(["Data", "Data Mining"])) == 2
