"""WebAuthn security keys (passkeys) as a caseworker's second factor, beside TOTP, with
py_webauthn doing the protocol (options, attestation and assertion checks).

Each ceremony takes a fresh challenge stored on the caseworker's session row and cleared
as soon as an answer is checked, right or wrong, so an answer is good once. Only the
credential's id and public key are kept: a key that a database thief copies signs nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import webauthn
from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn.helpers import exceptions, structs

from cases.models import Caseworker, CaseworkerSession, SecurityKey, utcnow
from cases.records.audit import record

MAX_KEYS = 10
NAME_LIMIT = 64


class KeyRefused(ValueError):
    """A key could not be added or used; the message says why (shown translated)."""


@dataclass(frozen=True)
class RelyingParty:
    """Who the keys are registered with: the caseworker app's host name and origin."""

    rp_id: str  # a host name, e.g. cases.example.org (never an IP address: WebAuthn's rule)
    origin: str  # e.g. https://cases.example.org
    name: str  # the organisation, shown by the browser


def keys_of(db: Session, caseworker_id: int) -> list[SecurityKey]:
    return list(db.scalars(
        select(SecurityKey).where(SecurityKey.caseworker_id == caseworker_id)
        .order_by(SecurityKey.id)
    ))


def _descriptors(keys: list[SecurityKey]) -> list[structs.PublicKeyCredentialDescriptor]:
    return [structs.PublicKeyCredentialDescriptor(id=k.credential_id) for k in keys]


def registration_options(
    db: Session, rp: RelyingParty, account: Caseworker, session: CaseworkerSession
) -> str:
    """The options for ``navigator.credentials.create`` as JSON; the challenge is kept."""
    keys = keys_of(db, account.id)
    if len(keys) >= MAX_KEYS:
        raise KeyRefused("You have ten security keys: remove one before adding another.")
    options = webauthn.generate_registration_options(
        rp_id=rp.rp_id, rp_name=rp.name, user_name=account.username,
        user_id=account.id.to_bytes(8, "big"), user_display_name=account.name,
        exclude_credentials=_descriptors(keys),
        authenticator_selection=structs.AuthenticatorSelectionCriteria(
            resident_key=structs.ResidentKeyRequirement.DISCOURAGED,
            user_verification=structs.UserVerificationRequirement.PREFERRED,
        ),
    )
    session.webauthn_challenge = options.challenge
    db.flush()
    return webauthn.options_to_json(options)


def register(
    db: Session, rp: RelyingParty, account: Caseworker, session: CaseworkerSession,
    answer: str, name: str,
) -> SecurityKey:
    """Check the browser's answer to :func:`registration_options` and keep the key."""
    name = " ".join(name.split())[:NAME_LIMIT] or "Security key"
    challenge, session.webauthn_challenge = session.webauthn_challenge, None
    if challenge is None:
        raise KeyRefused("The request to add a key has expired: try again.")
    try:
        verified = webauthn.verify_registration_response(
            credential=answer, expected_challenge=challenge,
            expected_rp_id=rp.rp_id, expected_origin=rp.origin,
        )
    except (exceptions.InvalidRegistrationResponse, exceptions.InvalidJSONStructure,
            ValueError) as exc:
        raise KeyRefused("The security key's answer could not be checked: try again.") from exc
    clash = db.scalar(select(SecurityKey.id).where(
        SecurityKey.credential_id == verified.credential_id))
    if clash is not None:
        raise KeyRefused("This security key is already registered.")
    key = SecurityKey(caseworker_id=account.id, credential_id=verified.credential_id,
                      public_key=verified.credential_public_key,
                      sign_count=verified.sign_count, name=name)
    db.add(key)
    db.flush()
    record(db, "caseworker.security_key_added", actor_id=account.id, key_id=key.id)
    return key


def authentication_options(
    db: Session, rp: RelyingParty, account: Caseworker, session: CaseworkerSession
) -> str | None:
    """The options for ``navigator.credentials.get`` as JSON, or None without a key."""
    keys = keys_of(db, account.id)
    if not keys:
        return None
    options = webauthn.generate_authentication_options(
        rp_id=rp.rp_id, allow_credentials=_descriptors(keys),
        user_verification=structs.UserVerificationRequirement.PREFERRED,
    )
    session.webauthn_challenge = options.challenge
    db.flush()
    return webauthn.options_to_json(options)


def authenticate(
    db: Session, rp: RelyingParty, account: Caseworker, session: CaseworkerSession,
    answer: str,
) -> bool:
    """Whether the answer is a fresh signature by one of the account's keys."""
    challenge, session.webauthn_challenge = session.webauthn_challenge, None
    if challenge is None:
        return False
    try:
        raw_id = webauthn.base64url_to_bytes(_raw_id(answer))
    except ValueError:  # not JSON, no rawId, not base64url
        return False
    key = db.scalar(select(SecurityKey).where(
        SecurityKey.credential_id == raw_id, SecurityKey.caseworker_id == account.id))
    if key is None:
        return False
    try:
        verified = webauthn.verify_authentication_response(
            credential=answer, expected_challenge=challenge, expected_rp_id=rp.rp_id,
            expected_origin=rp.origin, credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count,
        )
    except (exceptions.InvalidAuthenticationResponse, exceptions.InvalidJSONStructure,
            ValueError):
        return False
    key.sign_count = verified.new_sign_count
    key.last_used_at = utcnow()
    db.flush()
    return True


def _raw_id(answer: str) -> str:
    value = json.loads(answer)
    if not isinstance(value, dict) or not isinstance(value.get("rawId"), str):
        raise ValueError("no rawId")
    return str(value["rawId"])


def remove_key(db: Session, account: Caseworker, key_id: int) -> None:
    key = db.get(SecurityKey, key_id)
    if key is None or key.caseworker_id != account.id:
        raise KeyRefused("No such security key on your account.")
    db.delete(key)
    db.flush()
    record(db, "caseworker.security_key_removed", actor_id=account.id, key_id=key_id)
