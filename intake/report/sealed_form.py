"""What the report page's script sends when it sealed the report in the browser, read into
``cases.reporting.sealed`` terms, and what it is sent to seal with.

The body is JSON: ids as 16 hex digits, every ciphertext, hash and key in standard base64
(libsodium's ``base64_variants.ORIGINAL``), the routing as the form's own values (the
category's slug, the exclusion choices), so both routes through the form read them
alike (``FormOptions``). Anything else is ``SealedRefused(MALFORMED)``. docs/INTAKE.md
shows a whole example.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cases.reporting.sealed import (
    Holder,
    Limits,
    SealedIdentity,
    SealedItem,
    SealedRefused,
    SealedReport,
    SealingKeys,
    Wrapped,
)
from cases.reporting.staged_files import TOKEN_BYTES, SealedFile
from config import Settings
from intake.fields import SHORT_CHARS
from intake.report.options import FormOptions

# A character of JSON text takes at most 6 bytes (a control character escaped as \\u0000).
JSON_BYTES_PER_CHAR = 6
IDENTITY_CHARS = SHORT_CHARS * 6  # intake.fields: name, contact, and four times as much else
# A file's metadata record: a name of 255 characters (intake.uploads.clean_filename), a
# declared type, the size and what cleaning removed.
FILE_META_CHARS = 1024


def _malformed() -> SealedRefused:
    return SealedRefused(SealedRefused.MALFORMED)


def as_bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise _malformed()
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed() from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _malformed()
    return value


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _malformed()
    return value


def sealed_item(value: Any) -> SealedItem:
    data = _object(value)
    return SealedItem(_text(data.get("id")), as_bytes(data.get("record")))


def _wrapped(value: Any) -> Wrapped:
    data = _object(value)
    caseworkers = {}
    for account, wrapped in _object(data.get("caseworkers")).items():
        if not account.isascii() or not account.isdigit():
            raise _malformed()
        caseworkers[int(account)] = as_bytes(wrapped)
    return Wrapped(caseworkers, as_bytes(data.get("recovery")))


def sealed_files(value: Any) -> tuple[SealedFile, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _malformed()
    files = []
    for entry in value:
        data = _object(entry)
        token = as_bytes(data.get("token"))
        if len(token) != TOKEN_BYTES:
            raise _malformed()
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _malformed()
        files.append(SealedFile(_text(data.get("id")), token, as_bytes(data.get("meta")),
                                as_bytes(data.get("key")), size))
    return tuple(files)


def _routing(data: dict[str, Any], options: FormOptions) -> tuple[int | None, frozenset[int]]:
    slug = data.get("category") or ""
    category = next((c.id for c in options.categories if c.slug == slug), None)
    if slug and category is None:
        raise _malformed()
    exclude = data.get("exclude") or []
    if not isinstance(exclude, list) or not all(isinstance(v, str) for v in exclude):
        raise _malformed()
    return category, frozenset(options.excluded_ids(exclude))


def parse_sealed_report(body: Any, options: FormOptions) -> SealedReport:
    data = _object(body)
    category_id, excluded = _routing(data, options)
    thread = _object(data.get("thread_keys"))
    acknowledgement = data.get("acknowledgement")
    identity = data.get("identity")
    return SealedReport(
        case_id=_text(data.get("case_id")),
        lookup_hash=as_bytes(data.get("lookup_hash")),
        reporter_public_key=as_bytes(data.get("reporter_public_key")),
        category_id=category_id,
        excluded=excluded,
        thread_keys=_wrapped(thread),
        reporter_thread_key=as_bytes(thread.get("reporter")),
        internal_keys=_wrapped(data.get("internal_keys")),
        report=sealed_item(data.get("report")),
        acknowledgement=None if acknowledgement is None else sealed_item(acknowledgement),
        identity=None if identity is None else SealedIdentity(
            sealed_item(identity), _wrapped(_object(identity).get("keys"))
        ),
        files=sealed_files(data.get("files")),
    )


def sealed_identity(value: Any) -> SealedIdentity:
    """Identity details sealed in the browser: the record and its key for each custodian."""
    return SealedIdentity(sealed_item(value), _wrapped(_object(value).get("keys")))


def identity_limits() -> Limits:
    return Limits(0, IDENTITY_CHARS * JSON_BYTES_PER_CHAR)


def retaliation_limits(settings: Settings) -> Limits:
    """The largest retaliation report the follow-up form makes (what, when, needs), sealed."""
    chars = settings.max_report_chars + SHORT_CHARS * 5 + 1024
    return Limits(chars * JSON_BYTES_PER_CHAR, 0)


def followup_limits(settings: Settings) -> Limits:
    """The largest message a reporter may write in follow-up, as sealed JSON, and its files."""
    return Limits((settings.max_report_chars + 64) * JSON_BYTES_PER_CHAR, 0,
                  files=settings.max_files_per_submission, file_bytes=settings.max_file_bytes,
                  file_meta_bytes=FILE_META_CHARS * JSON_BYTES_PER_CHAR)


def report_limits(options: FormOptions, settings: Settings) -> Limits:
    """The largest report the form could make (its description and every question at their
    limits, with the labels the report records), as sealed JSON; the files it may bring."""
    max_report_chars = settings.max_report_chars
    chars = max_report_chars + 1024  # the keys and punctuation of the JSON, the language
    for spec in options.questions:
        chars += max_report_chars if spec.kind == "textarea" else SHORT_CHARS
        chars += len(spec.recorded_label or spec.label) + len(spec.key)
    return Limits(chars * JSON_BYTES_PER_CHAR, IDENTITY_CHARS * JSON_BYTES_PER_CHAR,
                  files=settings.max_files_per_submission, file_bytes=settings.max_file_bytes,
                  file_meta_bytes=FILE_META_CHARS * JSON_BYTES_PER_CHAR)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _holders(holders: tuple[Holder, ...]) -> list[dict[str, Any]]:
    return [
        {"id": h.account_id, "public_key": b64(h.public_key), "certificate": b64(h.certificate)}
        for h in holders
    ]


def sealing_keys_json(keys: SealingKeys, settings: Settings) -> dict[str, Any]:
    """What the page seals with: the holders' certified keys, the recovery key, the
    acknowledgement's words, and the receipt derivation's parameters and salt."""
    return {
        "caseworkers": _holders(keys.caseworkers),
        "custodians": _holders(keys.custodians),
        "recovery_public_key": b64(keys.recovery_public_key),
        "signing_public_key": b64(keys.signing_public_key),
        "acknowledgement": b64(keys.acknowledgement) if keys.acknowledgement else None,
        "receipt_kdf": receipt_kdf_json(settings),
    }


def receipt_kdf_json(settings: Settings) -> dict[str, Any]:
    """The receipt derivation's salt and cost, for a page that derives the keys itself."""
    kdf = settings.receipt_kdf
    return {"salt": b64(settings.instance_salt), "opslimit": kdf.opslimit,
            "memlimit": kdf.memlimit}
