"""What could identify a reporter in their own text (cases.reporting.identifying), in the
six UN languages' scripts, digits of every script included."""

from __future__ import annotations

import pytest

from cases.reporting.identifying import (
    ACCOUNT,
    EMAIL,
    NUMBER,
    PERSON,
    PHONE,
    PLACE,
    find_identifying,
    segments,
)


def _kinds(text: str, **kw: object) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start:f.end]) for f in find_identifying(text, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expected"), [
    ("Write to jo.bloggs@example.org tonight.", [(EMAIL, "jo.bloggs@example.org")]),
    ("Call +44 20 7946 0958.", [(PHONE, "+44 20 7946 0958")]),
    ("اتصل بي على +٩٧١ ٥٠ ١٢٣ ٤٥٦٧ مساءً", [(PHONE, "+٩٧١ ٥٠ ١٢٣ ٤٥٦٧")]),
    ("我的电话是 +86 138 0013 8000，谢谢", [(PHONE, "+86 138 0013 8000")]),
    ("员工编号 ４５６７８９１２３", [(NUMBER, "４５６７８９１２３")]),
    ("Мой табельный номер 4567-8912-3", [(NUMBER, "4567-8912-3")]),
    ("Transfer to ES91 2100 0418 4502 0005 1332 today",
     [(ACCOUNT, "ES91 2100 0418 4502 0005 1332")]),
    ("Le 12 mars, 3 camions sont partis.", []),  # dates and small numbers are fine
])
def test_it_finds_what_could_identify_the_writer(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert _kinds(text) == expected


def test_names_of_units_and_staff_match_whatever_the_case_or_width() -> None:
    text = ("At the RIVERSIDE depot, Ｍａｒｉａ Ｌｏｐｅｚ saw it; "
            "the Riversider newsletter did not.")
    found = _kinds(text, places=["Riverside Depot", "HQ"], people=["Maria Lopez"])
    assert found == [(PLACE, "RIVERSIDE depot"), (PERSON, "Ｍａｒｉａ Ｌｏｐｅｚ")]
    assert _kinds("في مستودع النهر", places=["مستودع النهر"]) == [(PLACE, "مستودع النهر")]


def test_a_national_number_needs_the_region_and_long_numbers_are_caught_anyway() -> None:
    assert _kinds("ring 020 7946 0958", region="GB") == [(PHONE, "020 7946 0958")]
    assert _kinds("ring 020 7946 0958") == [(NUMBER, "020 7946 0958")]


def test_segments_cut_the_text_at_the_findings_and_lose_nothing() -> None:
    text = "Mail a@b.org or +44 20 7946 0958 now"
    parts = segments(text, find_identifying(text))
    assert "".join(p for p, _ in parts) == text
    assert [k for _, k in parts] == [None, EMAIL, None, PHONE, None]


def test_an_address_is_only_tried_where_a_run_of_its_characters_starts() -> None:
    """What keeps a long run of letters from costing the square of its length: no match is
    attempted from inside the run (the look-behind), so each position is scanned once."""
    from cases.reporting.identifying import _EMAIL

    assert _EMAIL.match("jane.doe@example.org") is not None
    assert _EMAIL.match("jane.doe@example.org", 1) is None  # inside the run "jane.doe"
    assert _EMAIL.match("(jane.doe@example.org)", 1) is not None  # a run starts after "("
    # The same addresses as before, wherever they stand.
    assert _kinds("mail a.b+c@d-e.org, (x@y.zz) or --q@r.st") == [
        (EMAIL, "a.b+c@d-e.org"), (EMAIL, "x@y.zz"), (EMAIL, "--q@r.st")]


@pytest.mark.parametrize("run", ["x" * 50_000, "1" * 50_000, "a." * 25_000, "A@" * 25_000])
def test_the_longest_report_the_form_takes_is_checked_whole(run: str) -> None:
    """max_report_chars (50,000) of one unbroken run, then an address: both checked (a run
    of digits is a long number), nothing after the run missed."""
    expected = ([(NUMBER, run)] if run.isdigit() else []) + [(EMAIL, "jane@example.org")]
    assert _kinds(run + " write to me at jane@example.org") == expected
