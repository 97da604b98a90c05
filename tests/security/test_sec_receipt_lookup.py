"""Receipt look-ups below the app: one full Argon2id derivation per attempt, and the same
statements for a right and a wrong receipt.

The derivation counter wraps ``crypto._primitives.argon2id_kdf`` and still calls the real
function (an honest probe: the cost is paid, and counted). Statement counting listens on
the real engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event

import crypto._primitives as primitives
from cases.reporting.followup import find_case
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from crypto import new_receipt, normalize_receipt


@dataclass
class Derivations:
    calls: list[tuple[int, int]] = field(default_factory=list)  # (opslimit, memlimit)


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> Derivations:
    seen = Derivations()
    real = primitives.argon2id_kdf

    def counting(size: int, secret: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
        seen.calls.append((opslimit, memlimit))
        return real(size, secret, salt, opslimit, memlimit)

    monkeypatch.setattr(primitives, "argon2id_kdf", counting)
    return seen


@dataclass
class Statements:
    texts: list[str] = field(default_factory=list)


@pytest.fixture
def statements(store: Store) -> Iterator[Statements]:
    seen = Statements()

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.texts.append(statement)

    event.listen(store.engine, "before_cursor_execute", on_execute)
    yield seen
    event.remove(store.engine, "before_cursor_execute", on_execute)


def submit(store: Store) -> str:
    with new_submission(store) as draft:
        return draft.finalize(Submission(report={"text": "x"}))


def test_each_lookup_costs_one_full_derivation(
    store: Store, derivations: Derivations
) -> None:
    right = submit(store)
    derivations.calls.clear()
    params = store.settings.receipt_kdf
    for receipt in (right, new_receipt(), right, new_receipt()):
        with store.transaction() as session:
            find_case(session, store.settings, receipt)
    assert derivations.calls == [(params.opslimit, params.memlimit)] * 4


def test_right_and_wrong_receipts_run_the_same_statements(
    store: Store, derivations: Derivations, statements: Statements
) -> None:
    right = submit(store)
    wrong = new_receipt()
    observed = {}
    for label, receipt in (("right", right), ("wrong", wrong)):
        derivations.calls.clear()
        statements.texts.clear()
        with store.transaction() as session:
            case, _ = find_case(session, store.settings, receipt)
        observed[label] = (case is not None, len(derivations.calls), list(statements.texts))
    assert observed["right"][0] and not observed["wrong"][0]
    assert observed["right"][1:] == observed["wrong"][1:]
    assert any("lookup_hash" in s for s in observed["right"][2])


@pytest.mark.parametrize(
    "typed",
    [
        "1234 5678 9012 3456 7890 1234 567",  # too short
        "1234 5678 9012 3456 7890 1234 56789",  # too long
        "1234 5678 9O12 3456 7890 1234 5678",  # a letter O
        "abcd efgh ijkl mnop qrst uvwx yzab",
        "",
    ],
)
def test_malformed_receipts_are_refused_before_any_derivation(
    typed: str, derivations: Derivations
) -> None:
    from crypto import ReceiptMalformed

    with pytest.raises(ReceiptMalformed):
        normalize_receipt(typed)
    assert derivations.calls == []


def test_a_typo_is_caught_by_the_check_digit_before_any_derivation(
    derivations: Derivations,
) -> None:
    from crypto import ReceiptTypo

    receipt = new_receipt()
    wrong_check = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    swapped = receipt[1] + receipt[0] + receipt[2:] if receipt[0] != receipt[1] else None
    for typo in filter(None, (wrong_check, swapped)):
        with pytest.raises(ReceiptTypo):
            normalize_receipt(typo)
    assert derivations.calls == []
