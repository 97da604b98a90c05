"""The words for what a file's cleaning removed: one per key the cleaners report
(``cases.attachments.{pdf,office,media}_cleaning``, and "photo" for a JPEG or PNG), in
English and in the order they are shown. No Flask: each app translates them on display
(``intake.followup.cleaning_words``, ``caseworker.casefile.cleaning_words``), and both
apps' message extraction reads this file (babel.cfg, caseworker/babel.cfg)."""

from __future__ import annotations

from collections.abc import Iterable

from cases.localized import N_

REMOVED_WORDS = {  # keys of cases.attachments.{pdf,office,media}_cleaning, in display order
    "info": N_("author, title and software"),
    "xmp": N_("XMP metadata"),
    "embedded": N_("embedded files"),
    "scripts": N_("scripts and automatic actions"),
    "authors": N_("comment authors and dates"),
    "thumbnails": N_("page thumbnails"),
    "private": N_("editing software's private data"),
    "revisions": N_("earlier versions of the document"),
    "id": N_("the document's identifier"),
    "properties": N_("author, title, company, software and template"),
    "edit_ids": N_("editing session identifiers"),
    "printer": N_("printer settings"),
    "custom": N_("custom properties and data"),
    "photo": N_("camera, place, software and comments"),
    "images": N_("camera and place details of pictures inside it"),
    "tags": N_("titles, names, comments and software"),  # cases.attachments.media_cleaning
    "location": N_("the place where it was recorded"),
    "device": N_("the device that recorded it"),
    "dates": N_("recording dates"),
    "pictures": N_("cover pictures and attachments"),
    "chapters": N_("chapters"),
    "data_tracks": N_("GPS and sensor tracks"),
    "form_values": N_("what was filled in on its form fields"),
}


def removed_words(keys: Iterable[str]) -> list[str]:
    """The English words for what was removed, in display order (unknown keys left out)."""
    wanted = set(keys)
    return [word for key, word in REMOVED_WORDS.items() if key in wanted]
