"""Render a busy page hundreds of times in one process.

SQLAlchemy 2.1.9 on Python 3.11.7 crashed the interpreter (segmentation fault) in exactly this
loop; 2.0.58 does not. This test keeps a crash-prone combination from slipping back in.
"""

import sqlalchemy

RENDERS = 400


def test_sqlalchemy_is_pinned_to_2_0():
    major, minor = (int(part) for part in sqlalchemy.__version__.split(".")[:2])
    assert (major, minor) == (2, 0)


def test_a_page_renders_hundreds_of_times(client, make):
    disease = make.make_disease("Scleromyxedema")
    for n in range(40):
        make.make_question(disease, f"Question to render {n}?", votes=n % 4)

    statuses = {
        client.get("/diseases/scleromyxedema/questions").status_code for _ in range(RENDERS)
    }

    assert statuses == {200}
