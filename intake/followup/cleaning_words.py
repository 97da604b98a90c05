"""What the follow-up page tells a reporter about each file's hidden information: what
was removed, or why it was not (the cleaning itself: cases.attachments.cleaning)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from cases.attachments.cleaning import outcome

REMOVED = {  # keys of cases.attachments.{pdf,office,media}_cleaning
    "info": _l("author, title and software"),
    "xmp": _l("XMP metadata"),
    "embedded": _l("embedded files"),
    "scripts": _l("scripts and automatic actions"),
    "authors": _l("comment authors and dates"),
    "thumbnails": _l("page thumbnails"),
    "private": _l("editing software's private data"),
    "revisions": _l("earlier versions of the document"),
    "id": _l("the document's identifier"),
    "properties": _l("author, title, company, software and template"),
    "edit_ids": _l("editing session identifiers"),
    "printer": _l("printer settings"),
    "custom": _l("custom properties and data"),
    "photo": _l("camera, place, software and comments"),
    "images": _l("camera and place details of pictures inside it"),
    "tags": _l("titles, names, comments and software"),  # cases.attachments.media_cleaning
    "location": _l("the place where it was recorded"),
    "device": _l("the device that recorded it"),
    "dates": _l("recording dates"),
    "pictures": _l("cover pictures and attachments"),
    "chapters": _l("chapters"),
    "data_tracks": _l("GPS and sensor tracks"),
    "form_values": _l("what was filled in on its form fields"),
}


def cleaning_note(report: dict[str, Any]) -> str:
    """One sentence for the file, or "" for a file stored before files were reported on."""
    what, removed = outcome(report)
    if what == "removed":
        words = [str(word) for key, word in REMOVED.items() if key in removed]  # in order
        return str(_("Hidden information removed: %(what)s.", what=", ".join(words)))
    notes = {  # built per call: the words follow the request's language
        "kept": _("Kept as you sent it: you chose to keep its hidden information."),
        "none_found": _("We found no hidden information in it."),
        "too_large": _(
            "Not cleaned: it is too large to clean here. It may still hold names and other "
            "hidden information."
        ),
        "unreadable": _(
            "Not cleaned: we could not read its structure. It may still hold hidden "
            "information."
        ),
        "unsupported": _(
            "Not cleaned: we cannot clean this kind of file. Such files can hold names, "
            "devices and places."
        ),
    }
    return str(notes.get(what, ""))
