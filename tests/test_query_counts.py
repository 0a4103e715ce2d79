"""Pages run a fixed number of SQL queries whatever the size of what they list."""

import pytest


def _queries_for(client, count_queries, url):
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/diseases/scleromyxedema",
        "/diseases/scleromyxedema/questions",
        "/diseases/scleromyxedema/questions/the-question-to-read",
    ],
)
def test_page_queries_do_not_grow_with_questions(client, make, count_queries, url):
    disease = make.make_disease("Scleromyxedema")
    make.make_question(disease, "The question to read?")
    for n in range(2):
        make.make_question(disease, f"Small question {n}?", votes=1)
    few = _queries_for(client, count_queries, url)

    for n in range(30):
        make.make_question(disease, f"More question {n}?", votes=n % 3)
    make.make_disease("Alkaptonuria")
    make.make_disease("Erdheim-Chester disease")
    many = _queries_for(client, count_queries, url)

    assert many == few
