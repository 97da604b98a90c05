"""What the reporter can do on the receipt page, through the app: practise typing the
receipt (which group is wrong is said), and take a calendar file of reminders that names
nothing; neither stores anything."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from cases.models import Case


def _groups(receipt: str) -> list[str]:
    return receipt.split(" ")


def test_practising_the_receipt_says_which_group_is_wrong(browser, store) -> None:  # type: ignore[no-untyped-def]
    page = browser.send(browser.review())
    receipt = browser.receipt_of(page)
    right = browser.post_form(page, "/report/practise", typed=receipt.replace(" ", "-"))
    assert right.status_code == 200
    assert "Correct: what you wrote down is your receipt, digit for digit." in right.get_data(
        as_text=True)
    groups = _groups(receipt)
    groups[2] = "".join(str((int(d) + 1) % 10) for d in groups[2])
    wrong = browser.post_form(page, "/report/practise", typed=" ".join(groups))
    shown = wrong.get_data(as_text=True)
    assert wrong.status_code == 400 and "Check group 3 on your paper" in shown
    assert receipt in shown  # still there to copy again
    unreadable = browser.post_form(page, "/report/practise", typed="I lost it")
    assert "Check group 1, 2, 3, 4, 5, 6, 7 on your paper" in unreadable.get_data(as_text=True)
    arabic = receipt.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert browser.post_form(page, "/report/practise", typed=arabic).status_code == 200
    with store.transaction() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 1


def test_the_calendar_file_holds_two_reminders_and_names_nothing(browser, store) -> None:  # type: ignore[no-untyped-def]
    page = browser.send(browser.review())
    receipt = browser.receipt_of(page)
    html = page.get_data(as_text=True)
    ack = re.search(r'name="acknowledge_by" value="([0-9-]+)"', html).group(1)  # type: ignore[union-attr]
    feedback = re.search(r'name="feedback_by" value="([0-9-]+)"', html).group(1)  # type: ignore[union-attr]
    title = "Dentist; call\nback, 牙医预约牙医预约牙医预约牙医预约牙医预约牙医预约"
    ics = browser.post_form(page, "/report/calendar.ics", title=title)
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert ics.headers["Content-Disposition"] == 'attachment; filename="reminder.ics"'
    raw = ics.get_data()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded by octets
    text = raw.decode().replace("\r\n ", "")  # unfolded
    assert text.count("BEGIN:VEVENT") == 2 and text.count("BEGIN:VALARM") == 2
    starts = re.findall(r"DTSTART;VALUE=DATE:(\d{8})", text)
    assert starts == [ack.replace("-", ""), feedback.replace("-", "")]
    assert "SUMMARY:Dentist\\; call back\\, 牙医预约" in text  # one line, escaped
    for secret in (receipt, receipt.replace(" ", ""), store.settings.organisation_name, "http"):
        assert secret not in text
    plain = browser.post_form(page, "/report/calendar.ics", title="   ")
    assert "SUMMARY:Reminder" in plain.get_data(as_text=True)
    forged = browser.client.post("/en/report/calendar.ics", data={"receipt": "1"})
    assert forged.status_code == 400


def test_the_reporters_language_is_sealed_inside_the_report(new_browser, store) -> None:  # type: ignore[no-untyped-def]
    from cases.content import read_messages
    from cases.keyring import reporter_thread_key
    from cases.models import KeyPurpose, MessageKind
    from cases.reporting.followup import find_case
    from crypto import normalize_receipt

    arabic = new_browser("ar")
    receipt = arabic.submit("المدير يتقاضى رشاوى")
    with store.transaction() as db:
        case, keys = find_case(db, store.settings, normalize_receipt(receipt))
        thread = reporter_thread_key(db, case.id, keys.private_key)
        [report] = read_messages(db, case.id, {KeyPurpose.THREAD: thread}, [MessageKind.REPORT])
    assert report.body["language"] == "ar"
    # Nowhere in the clear: the case row says nothing of it.
    assert "ar" not in {str(v) for v in vars(case).values() if isinstance(v, str)}


def test_the_review_page_marks_what_could_identify_the_reporter(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    browser = new_browser("en", make_app(identifying_names=("Riverside Depot",)))
    text = "I drive at the Riverside Depot; write to jo@example.org or +44 20 7946 0958."
    review = browser.review(text)
    page = review.get_data(as_text=True)
    assert "What could identify you" in page
    for marked, reason in (("Riverside Depot", "the name of one of our sites or units"),
                           ("jo@example.org", "an e-mail address"),
                           ("+44 20 7946 0958", "a phone number")):
        assert f"<mark>{marked}</mark> <span class=\"identify-reason\">({reason})</span>" in page
    assert browser.receipt_of(browser.send(review))  # a warning only: sending still works
    plain = browser.review("The depot manager sells fuel at night.").get_data(as_text=True)
    assert "What could identify you" not in plain
