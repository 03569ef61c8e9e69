"""The headline sentence: the open count and its change from the baseline, in the page's language."""

import pytest
from django.utils.html import strip_tags
from django.utils.translation import override

from reports.views.formatting import change_sentence


@pytest.mark.parametrize(
    ("open_count", "baseline", "sentence"),
    [
        (6_781, 600_000, "6,781, down 98.9% from 600,000"),
        (433, 82_000, "433, down 99.5% from 82,000"),
        (2_419, 600_000, "2,419, down 99.6% from 600,000"),
        (0, 200_000, "0, down 100.0% from 200,000"),
        (1, 3_000, "1, down 99.97% from 3,000"),
        (97, 200_000, "97, down 99.95% from 200,000"),
        (1_200, 1_000, "1,200, up 20.0% from 1,000"),
        (5, 5, "5, down 0.0% from 5"),
        (12, 0, "12"),
    ],
)
def test_change_sentence_in_english(open_count, baseline, sentence):
    with override("en"):
        assert strip_tags(change_sentence(open_count, baseline)) == sentence


def test_the_open_count_is_marked_up_for_emphasis():
    with override("en"):
        assert str(change_sentence(6_781, 600_000)).startswith('<strong class="figure">6,781</strong>')


def test_chinese_numbers_follow_the_chinese_format():
    with override("zh-hans"):
        text = strip_tags(change_sentence(6_781, 600_000))
    assert "6781" in text and "600000" in text and "98.9" in text
