"""Text in every script: direction, question marks, readable slugs, images as links, long
comments folded under "Read more"."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from sqlalchemy import select

from forum import avatars
from forum.extensions import db
from forum.markdown import FOLD_AT, fold_point, render_comment
from forum.models import Question
from forum.questions.service import normalize_title
from forum.text import slugify
from tests.factories import make_comment


@pytest.fixture
def disease(make):
    return make.make_disease("Scleromyxedema")


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("هل المرض وراثي", "هل المرض وراثي؟"),
        ("هل المرض وراثي؟", "هل المرض وراثي؟"),
        ("آیا این بیماری ارثی است", "آیا این بیماری ارثی است؟"),  # Persian: Arabic script
        ("这种病会遗传吗", "这种病会遗传吗？"),
        ("Is it hereditary", "Is it hereditary?"),
        ("Est-ce héréditaire ?", "Est-ce héréditaire ?"),
        ("Это наследственное", "Это наследственное?"),
        ("Is IVIG used for 2 years", "Is IVIG used for 2 years?"),
    ],
)
def test_a_question_ends_with_the_question_mark_of_its_script(typed, stored):
    assert normalize_title(typed) == stored


@pytest.mark.parametrize(
    "title, slug",
    [
        ("Is it hereditary?", "is-it-hereditary"),
        ("Qu'est-ce que la maladie ?", "qu-est-ce-que-la-maladie"),
        ("هل المرض وراثي؟", "هل-المرض-وراثي"),
        ("这种病会遗传吗？", "这种病会遗传吗"),
        ("Это наследственное?", "это-наследственное"),
        ("Zürich: Straße?", "zurich-strasse"),
        ("Ørsted's question", "ørsted-s-question"),
        ("हिन्दी में जानकारी?", "हिन्दी-में-जानकारी"),
    ],
)
def test_slugs_are_readable_in_every_script(title, slug):
    assert slugify(title) == slug


def test_an_arabic_question_gets_its_own_readable_address_and_mark(member_client, disease, make):
    response = member_client.post(
        "/diseases/scleromyxedema/questions/ask",
        data={"title": "هل المرض وراثي في العائلة", "prompt": ""},
    )
    second = member_client.post(
        "/diseases/scleromyxedema/questions/ask",
        data={"title": "ما هي أحدث العلاجات المتاحة", "prompt": ""},
    )

    questions = list(db.session.scalars(select(Question).order_by(Question.id)))
    assert [q.title for q in questions] == [
        "هل المرض وراثي في العائلة؟",
        "ما هي أحدث العلاجات المتاحة؟",
    ]
    assert [q.slug for q in questions] == [
        "هل-المرض-وراثي-في-العائلة",
        "ما-هي-أحدث-العلاجات-المتاحة",
    ]
    assert response.headers["Location"].endswith(quote("هل-المرض-وراثي-في-العائلة"))
    page = member_client.get(second.headers["Location"])
    assert page.status_code == 200
    assert '<h1 dir="auto">ما هي أحدث العلاجات المتاحة؟</h1>' in page.text


def test_titles_and_names_carry_their_own_direction(client, disease, make):
    question = make.make_question(disease, "هل المرض وراثي؟")
    make_comment(question, guest_name="سارة")

    listing = client.get("/diseases/scleromyxedema").text
    page = client.get(f"/diseases/scleromyxedema/questions/{quote(question.slug)}").text

    assert re.search(r'<a class="question-title" dir="auto"[^>]*>هل المرض وراثي؟</a>', listing)
    assert '<h1 dir="auto">هل المرض وراثي؟</h1>' in page
    assert '<span class="comment-author" dir="auto">سارة</span>' in page


def test_image_markdown_shows_a_link_named_by_its_alt_text():
    html = render_comment("Look: ![my rash in May](https://example.org/rash.jpg)")
    assert "!" not in html.replace("<!", "")
    assert "<img" not in html
    assert '<a href="https://example.org/rash.jpg" rel="nofollow ugc noopener">' in html
    assert "Image: my rash in May</a>" in html
    bare = render_comment("![](https://example.org/x.png)")
    assert "Image: no description</a>" in bare


def test_an_image_with_a_dangerous_address_is_not_a_link():
    html = render_comment("![x](javascript:alert(1)) ![y](data:image/png;base64,AAAA)")
    assert 'href="javascript' not in html and 'href="data' not in html


def test_a_short_comment_does_not_fold():
    assert fold_point("A" * 1_000) is None
    assert "<details>" not in render_comment("word " * 300)


def test_a_long_comment_folds_after_about_fifteen_hundred_characters():
    paragraphs = [f"Paragraph {n}. " + "Some words about daily life. " * 18 for n in range(8)]
    source = "\n\n".join(paragraphs)

    html = render_comment(source)

    head, rest = html.split("<details>")
    visible = re.sub(r"<[^>]+>", "", head)
    assert 1_000 <= len(visible) <= FOLD_AT + 600
    assert rest.startswith("<summary>Read more</summary>")
    assert "Paragraph 7." in rest and "Paragraph 0." in head
    assert html.count("<p>") == 8  # no paragraph cut in two


def test_one_very_long_paragraph_folds_after_a_sentence():
    source = "This is one sentence of the story. " * 150  # ~5,000 characters, one paragraph
    html = render_comment(source)
    head, rest = html.split("<details>")
    assert head.rstrip().endswith("story.</p>")
    assert len(re.sub(r"<[^>]+>", "", head)) < 2_000


def test_a_long_comment_on_the_page_has_read_more_that_works_without_javascript(
    client, disease, make
):
    question = make.make_question(disease, "Is it hereditary?")
    make_comment(question, body="\n\n".join(["A long paragraph of lived experience. " * 12] * 8))
    html = client.get(f"/diseases/scleromyxedema/questions/{question.slug}").text
    assert "<details><summary>Read more</summary>" in html


@pytest.mark.parametrize(
    "name, letters",
    [("maren_oslo", "MO"), ("kay2500", "K"), ("drfischer", "D"), ("lucia-rm", "LR"), ("سارة", "س")],
)
def test_initials_of_names(name, letters):
    assert avatars.initials(name) == letters
    assert 0 <= avatars.tone(name) < avatars.TONES
