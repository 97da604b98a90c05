"""Receipt codes: shape, check digit, entropy, normalisation, key derivation, and the
process-wide Argon2id memory budget. Real libsodium throughout, no mocks."""

from __future__ import annotations

import contextlib
import math
import os
import random
import threading
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crypto
from crypto._primitives import ARGON2_BUDGET

MIB = 1024 * 1024
FAST = crypto.KdfParams(1, 8 * MIB)  # small Argon2id cost so tests stay fast
SALT = bytes(range(16))
DEFAULT_BUDGET_MIB = 512


def with_check_digit(body: str) -> str:
    """Complete a 27-digit body using only the public API: exactly one of the ten possible
    last digits must be accepted by normalize_receipt."""
    valid = []
    for d in "0123456789":
        with contextlib.suppress(crypto.ReceiptTypo):
            valid.append(crypto.normalize_receipt(body + d))
    assert len(valid) == 1, f"{body}: {len(valid)} check digits accepted"
    return valid[0]


def sample_receipts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    bodies = ["0" * 27, "9" * 27, "0123456789" * 2 + "0123456"]
    bodies += ["".join(rng.choice("0123456789") for _ in range(27)) for _ in range(n)]
    return [with_check_digit(b) for b in bodies]


def chi_square(counts: Counter[str], total: int) -> float:
    expected = total / 10
    return sum((counts[d] - expected) ** 2 / expected for d in "0123456789")


# --- shape -----------------------------------------------------------------------------


def test_new_receipt_is_28_ascii_digits_and_passes_its_own_check() -> None:
    assert crypto.RECEIPT_DIGITS == 28
    for _ in range(500):
        r = crypto.new_receipt()
        assert len(r) == 28
        assert r.isascii() and r.isdigit()
        assert crypto.normalize_receipt(r) == r


def test_exactly_one_check_digit_completes_any_body() -> None:
    # with_check_digit asserts uniqueness; run it over many bodies.
    assert len(sample_receipts(300, seed=1)) == 303


# --- Damm check digit: exhaustive over positions ------------------------------------------


def test_every_single_digit_substitution_is_a_typo() -> None:
    for r in sample_receipts(60, seed=2):
        for i in range(28):
            for d in "0123456789":
                if d == r[i]:
                    continue
                mutated = r[:i] + d + r[i + 1 :]
                with pytest.raises(crypto.ReceiptTypo):
                    crypto.normalize_receipt(mutated)


def test_every_adjacent_transposition_is_a_typo_for_every_digit_pair_and_position() -> None:
    """For each position i (including the swap of the last random digit with the check
    digit) and each ordered pair a != b, build a valid receipt with a, b at i, i+1 and
    check that swapping them is caught."""
    rng = random.Random(3)
    checked = 0
    for i in range(27):
        for a in "0123456789":
            for b in "0123456789":
                if a == b:
                    continue
                while True:
                    body = [rng.choice("0123456789") for _ in range(27)]
                    body[i] = a
                    if i + 1 < 27:
                        body[i + 1] = b
                    r = with_check_digit("".join(body))
                    if r[i] == a and r[i + 1] == b:
                        break
                swapped = r[:i] + b + a + r[i + 2 :]
                with pytest.raises(crypto.ReceiptTypo):
                    crypto.normalize_receipt(swapped)
                checked += 1
    assert checked == 27 * 90


# --- entropy --------------------------------------------------------------------------


def test_entropy_constant_matches_27_random_digits_and_is_at_least_80_bits() -> None:
    assert crypto.ENTROPY_BITS >= 80
    random_digits = crypto.RECEIPT_DIGITS - 1
    assert random_digits == 27
    assert abs(crypto.ENTROPY_BITS - random_digits * math.log2(10)) < 0.01


def test_random_digits_are_uniform_overall_and_at_every_position() -> None:
    draws = 20_000
    receipts = [crypto.new_receipt() for _ in range(draws)]
    overall: Counter[str] = Counter()
    for r in receipts:
        overall.update(r[:27])
    # 9 degrees of freedom: P(chi2 > 60) is about 1e-9, so this only fails on real bias.
    assert chi_square(overall, draws * 27) < 60
    for pos in range(27):
        per_position = Counter(r[pos] for r in receipts)
        assert chi_square(per_position, draws) < 60, f"digit {pos} is biased"
    # Leading zeros must occur (the body is zero-padded, not a number without them).
    assert Counter(r[0] for r in receipts)["0"] > draws / 20


def test_no_duplicates_in_10k_receipts() -> None:
    receipts = [crypto.new_receipt() for _ in range(10_000)]
    assert len(set(receipts)) == 10_000
    assert len({r[:27] for r in receipts}) == 10_000


# --- formatting and normalisation -----------------------------------------------------


def test_format_receipt_groups_of_four() -> None:
    r = crypto.new_receipt()
    shown = crypto.format_receipt(r)
    groups = shown.split(" ")
    assert len(groups) == 7
    assert all(len(g) == 4 and g.isdigit() for g in groups)
    assert "".join(groups) == r
    assert shown == " ".join(r[i : i + 4] for i in range(0, 28, 4))
    assert crypto.normalize_receipt(shown) == r


SEPARATORS = {
    "space": " ",
    "two spaces": "  ",
    "tab": "\t",
    "newline": "\n",
    "hyphen-minus": "-",
    "U+2010 hyphen": "\u2010",
    "U+2011 non-breaking hyphen": "\u2011",
    "U+2012 figure dash": "\u2012",
    "U+2013 en dash": "\u2013",
    "U+2014 em dash": "\u2014",
    "U+2212 minus sign (Sm)": "\u2212",
    "U+FF0D full-width hyphen-minus": "\uff0d",
    "U+00A0 no-break space": "\u00a0",
    "U+202F narrow no-break space": "\u202f",
    "U+2009 thin space": "\u2009",
    "U+3000 ideographic space": "\u3000",
    "U+200B zero-width space": "\u200b",
    "U+200E left-to-right mark": "\u200e",
    "U+200F right-to-left mark": "\u200f",
    "U+00AD soft hyphen": "\u00ad",
    "dot": ".",
    "underscore": "_",
    "U+FF0E full-width full stop": "\uff0e",
}


@pytest.mark.parametrize("sep", SEPARATORS.values(), ids=SEPARATORS.keys())
def test_separators_between_groups_are_accepted(sep: str) -> None:
    r = crypto.new_receipt()
    typed = sep.join(r[i : i + 4] for i in range(0, 28, 4))
    assert crypto.normalize_receipt(typed) == r
    assert crypto.normalize_receipt(f"{sep}{typed}{sep}") == r


def test_surrounding_whitespace_and_mixed_separators() -> None:
    r = crypto.new_receipt()
    typed = "  " + r[:4] + " - " + r[4:10] + "\u2013" + r[10:20] + "\u00a0\u200b" + r[20:] + "\n"
    assert crypto.normalize_receipt(typed) == r


DIGIT_ZEROS = {
    "Arabic-Indic": 0x0660,
    "Extended Arabic-Indic (Persian, Urdu)": 0x06F0,
    "full-width": 0xFF10,
    "Devanagari": 0x0966,
    "Bengali": 0x09E6,
    "Thai": 0x0E50,
}


@pytest.mark.parametrize("zero", DIGIT_ZEROS.values(), ids=DIGIT_ZEROS.keys())
def test_unicode_decimal_digits_map_to_ascii(zero: int) -> None:
    r = crypto.new_receipt()
    native = "".join(chr(zero + int(d)) for d in r)
    assert crypto.normalize_receipt(native) == r
    spaced = " ".join(native[i : i + 4] for i in range(0, 28, 4))
    assert crypto.normalize_receipt(spaced) == r
    # Half native, half ASCII (what a phone keyboard switching layouts produces).
    mixed = native[:14] + r[14:]
    assert crypto.normalize_receipt(mixed) == r


def test_typo_in_native_digits_is_still_a_typo() -> None:
    r = crypto.new_receipt()
    wrong_last = str((int(r[-1]) + 1) % 10)
    native = "".join(chr(0x0660 + int(d)) for d in r[:-1] + wrong_last)
    with pytest.raises(crypto.ReceiptTypo):
        crypto.normalize_receipt(native)


@pytest.mark.parametrize(
    "intruder", ["a", "O", "l", "I", "+", "/", "#", "²", "½", "\u2160", "٫", "🙂"]
)
def test_letters_and_other_symbols_are_malformed(intruder: str) -> None:
    r = crypto.new_receipt()
    with pytest.raises(crypto.ReceiptMalformed):
        crypto.normalize_receipt(r[:10] + intruder + r[10:])
    with pytest.raises(crypto.ReceiptMalformed):
        crypto.normalize_receipt(r[:10] + intruder + r[11:])


@pytest.mark.parametrize("length", [0, 1, 4, 26, 27, 29, 32, 56])
def test_wrong_length_is_malformed(length: int) -> None:
    digits = (crypto.new_receipt() * 3)[:length]
    with pytest.raises(crypto.ReceiptMalformed):
        crypto.normalize_receipt(digits)


def test_wrong_check_digit_is_a_typo_and_errors_are_value_errors() -> None:
    r = crypto.new_receipt()
    bad = r[:-1] + str((int(r[-1]) + 3) % 10)
    with pytest.raises(crypto.ReceiptTypo) as excinfo:
        crypto.normalize_receipt(bad)
    assert isinstance(excinfo.value, crypto.ReceiptError)
    assert isinstance(excinfo.value, ValueError)
    assert issubclass(crypto.ReceiptMalformed, crypto.ReceiptError)
    assert not issubclass(crypto.ReceiptTypo, crypto.ReceiptMalformed)


# --- derivation -----------------------------------------------------------------------


def test_derivation_is_deterministic_and_keys_are_consistent() -> None:
    r = crypto.new_receipt()
    a = crypto.derive_reporter_keys(r, SALT, FAST)
    b = crypto.derive_reporter_keys(r, SALT, FAST)
    assert a == b
    assert len(a.lookup_hash) == 32
    assert len(a.private_key) == 32 and len(a.public_key) == 32
    assert crypto.public_key_of(a.private_key) == a.public_key
    assert a.lookup_hash not in (a.private_key, a.public_key)
    assert a.private_key != a.public_key


def test_derived_key_pair_opens_what_is_sealed_to_it() -> None:
    r = crypto.new_receipt()
    keys = crypto.derive_reporter_keys(r, SALT, FAST)
    ctx = crypto.Context("case-1", "thread-key")
    thread_key = crypto.new_key()
    wrapped = crypto.seal_for(keys.public_key, thread_key, ctx)
    again = crypto.derive_reporter_keys(crypto.format_receipt(r).replace(" ", ""), SALT, FAST)
    assert crypto.open_with(again.private_key, wrapped, ctx) == thread_key


def test_derivation_differs_across_salt_receipt_and_cost() -> None:
    r = crypto.new_receipt()
    base = crypto.derive_reporter_keys(r, SALT, FAST)
    other_salt = crypto.derive_reporter_keys(r, bytes(16), FAST)
    other_receipt = crypto.derive_reporter_keys(crypto.new_receipt(), SALT, FAST)
    other_cost = crypto.derive_reporter_keys(r, SALT, crypto.KdfParams(2, 8 * MIB))
    for other in (other_salt, other_receipt, other_cost):
        assert other.lookup_hash != base.lookup_hash
        assert other.private_key != base.private_key
        assert other.public_key != base.public_key


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**27 - 1), st.integers(0, 10**27 - 1), st.binary(min_size=16, max_size=16))
def test_distinct_receipts_give_distinct_lookup_hashes(x: int, y: int, salt: bytes) -> None:
    rx = with_check_digit(str(x).zfill(27))
    ry = with_check_digit(str(y).zfill(27))
    kx = crypto.derive_reporter_keys(rx, salt, FAST)
    ky = crypto.derive_reporter_keys(ry, salt, FAST)
    assert (kx.lookup_hash == ky.lookup_hash) == (rx == ry)
    assert (kx.public_key == ky.public_key) == (rx == ry)


def test_instance_salt_is_16_random_bytes() -> None:
    salts = {crypto.new_instance_salt() for _ in range(100)}
    assert len(salts) == 100
    assert all(len(s) == 16 for s in salts)


def test_derivation_rejects_unnormalised_input() -> None:
    r = crypto.new_receipt()
    for text in (
        crypto.format_receipt(r),
        "-".join(r[i : i + 4] for i in range(0, 28, 4)),
        "".join(chr(0x0660 + int(d)) for d in r),
        "".join(chr(0xFF10 + int(d)) for d in r),
        r[:-1],
        r + "0",
        " " + r,
        "",
    ):
        with pytest.raises(crypto.ReceiptMalformed):
            crypto.derive_reporter_keys(text, SALT, FAST)


# --- Argon2id memory budget -----------------------------------------------------------


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


def _run_concurrent_derivations(threads: int, per_thread: int) -> tuple[int, int | None]:
    """Run derivations on many threads while sampling the budget counter and the
    process's resident memory; return (max MiB reserved, max RSS growth in bytes)."""
    stop = threading.Event()
    peak_in_use = 0
    base_rss = _rss_bytes()
    peak_rss = base_rss
    receipts = [crypto.new_receipt() for _ in range(threads)]

    def sample() -> None:
        nonlocal peak_in_use, peak_rss
        while not stop.is_set():
            peak_in_use = max(peak_in_use, ARGON2_BUDGET.in_use)
            rss = _rss_bytes()
            if rss is not None and peak_rss is not None:
                peak_rss = max(peak_rss, rss)

    def work(receipt: str) -> None:
        for _ in range(per_thread):
            crypto.derive_reporter_keys(receipt, SALT, FAST)

    sampler = threading.Thread(target=sample)
    sampler.start()
    workers = [threading.Thread(target=work, args=(r,)) for r in receipts]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
            assert not w.is_alive(), "derivation deadlocked"
    finally:
        stop.set()
        sampler.join()
    growth = None if base_rss is None or peak_rss is None else peak_rss - base_rss
    return peak_in_use, growth


def test_memory_budget_bounds_concurrent_derivations() -> None:
    budget = 16  # MiB: room for exactly two 8 MiB derivations
    try:
        # Control: with the default budget the same load does overlap past 16 MiB, so the
        # sampling below can see concurrency when it happens.
        unbounded_peak, _ = _run_concurrent_derivations(threads=8, per_thread=4)
        assert unbounded_peak > budget

        crypto.set_argon2_memory_budget(budget)
        peak, rss_growth = _run_concurrent_derivations(threads=8, per_thread=4)
        assert peak == budget  # reached, never exceeded
        assert ARGON2_BUDGET.in_use == 0
        if rss_growth is not None:
            # libsodium maps Argon2's memory fresh for each derivation: resident memory
            # grows by about the budget, not by 8 threads x 8 MiB = 64 MiB.
            assert rss_growth < (budget + 8) * MIB
    finally:
        crypto.set_argon2_memory_budget(DEFAULT_BUDGET_MIB)


def test_derivation_larger_than_the_whole_budget_still_runs_alone() -> None:
    try:
        crypto.set_argon2_memory_budget(4)
        done: list[crypto.ReporterKeys] = []
        receipt = crypto.new_receipt()
        t = threading.Thread(
            target=lambda: done.append(crypto.derive_reporter_keys(receipt, SALT, FAST))
        )
        t.start()
        t.join(timeout=30)
        assert done, "an 8 MiB derivation under a 4 MiB budget never ran"
        assert ARGON2_BUDGET.in_use == 0
    finally:
        crypto.set_argon2_memory_budget(DEFAULT_BUDGET_MIB)
