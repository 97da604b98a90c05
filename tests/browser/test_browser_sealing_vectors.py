"""The browser's half of Sealbox's cryptography (intake/static/sealing/sealbox-crypto.mjs,
over libsodium.js as the intake serves it) in the real Chromium: every known-answer vector
of docs/CRYPTO.md the browser needs comes out byte for byte, and what the browser seals
the Python ``crypto`` package opens, and the other way round (records, wrapped keys, files
of several chunks, the reporter's keys from a receipt the browser made).

This page has no sealing form yet, so the module is loaded on an intake page with the
page's CSP bypassed; the CSP of the pages that will seal is their own step."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from browserkit import Sealbox, require_browser_libraries

import crypto
from crypto import Context, KdfParams

pytestmark = pytest.mark.browser

KEY = bytes(range(32))


@pytest.fixture
def page(sealbox: Sealbox, new_context: Any) -> Any:
    require_browser_libraries()
    context = new_context(javascript=True, bypass_csp=True)
    page = context.new_page()
    page.goto(sealbox.intake + "/en/")
    return page


def run(page: Any, body: str, arg: Any = None) -> Any:
    """``body`` runs with ``m`` (the module), ``s`` (libsodium) and ``arg``; hex in, hex out."""
    return page.evaluate(
        "async (arg) => { const m = await import('/static/sealing/sealbox-crypto.mjs');"
        " const s = await m.ready(); const hex = (b) => s.to_hex(b);"
        " const bin = (h) => s.from_hex(h);" + body + "}", arg)


def test_the_known_answer_vectors_of_crypto_md(page: Any) -> None:
    result = run(page, """
      const derived = m.deriveReporterKeys('1234567890123456789012345678',
          bin('000102030405060708090a0b0c0d0e0f'), 1, 8 * 1024 * 1024);
      const key = new Uint8Array(32).map((_, i) => i);
      const bytes = (from, to) => new Uint8Array(to - from).map((_, i) => from + i);
      return {
        damm: ['000000000000000000000000000', '123456789012345678901234567',
               '314159265358979323846264338', '271828182845904523536028747',
               '999999999999999999999999999', '572'].map(m.damm),
        bindings: [hex(m.binding('case-0001', 'message:reply:42')),
                   hex(m.binding('Zürich', 'identity:7'))],
        record: hex(m.encryptRecord(key, new TextEncoder().encode('Sealbox test vector'),
                                    'case-0001', 'message:report:1', bytes(100, 124))),
        derived: [hex(derived.master), hex(derived.token), hex(derived.lookupHash),
                  hex(derived.privateKey), hex(derived.publicKey)],
        wrapped: hex(m.openWith(bytes(32, 64), bin(arg.wrapped), 'case-0001', 'thread-key')),
        file: new TextDecoder().decode(m.openFile(key, bin(arg.file), 'case-0001', 'attachment:1')),
        certified: m.keyIsCertified(bin(arg.verify), 7, bytes(32, 64), bin(arg.certificate)),
        other_account: m.keyIsCertified(bin(arg.verify), 8, bytes(32, 64), bin(arg.certificate)),
      };""", {
        "wrapped": "01" "2300dadfaa20d0a4609d4d84fbccc550c31c4d3668e5fae00994457101e4af18"
                   "33559139df0c6e71e467446ba277a3f256eb0e2dbf512bc12982c73f6ce77c693c6f0e"
                   "cb3ea5785f818ff3435c56fa4d45fb314464e805126ac0e2aff13831945fae944871c4"
                   "2fc710f06a",
        "file": "5342460100000008" "2c03ff3ac787eb45488e11ed9904b51d2214d57dfd3156c1"
                "5b4c5a7d3136465b32b668226cad5b99a530a55b57d04eac90"
                "67c4a126a13a4bed3fc66085ca6020fabae756cc7168e2445f"
                "8f9adecc808c3b52d1b39f621ae602a23d1cfddd",
        "verify": "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
        "certificate": "bb814199eddd56ebf3c0880facd19f41ef7651c32cde45997884842d41ba973f"
                       "3b35846b1e94175801c772d923ab41cfd8dc034501574f405b58bcfd729daf03",
    })
    assert result["damm"] == [0, 8, 2, 5, 0, 4]
    assert result["bindings"] == [
        "534258010009636173652d30303031" "00106d6573736167653a7265706c793a3432",
        "5342580100075ac3bc72696368000a6964656e746974793a37"]
    assert result["record"] == (
        "01" "6465666768696a6b6c6d6e6f707172737475767778797a7b"
        "2f1698dc9d41f1a2f355ee4b8619d8aa2fd4204525ba61a129012673069b0472611003")
    assert result["derived"] == [
        "5c2aae828193a70eff503e985e16e09969c7952e2161e85a4d705641583e53e9",
        "83766b878db5e2eb3268b9949643a5fcb7d44dc8ad27ebe9f2a02b9798a81fa4",
        "7e6d4920e9ad400953bee90ae425e7737375224242f0131653b3367b5a19602d",
        "ed11dfc495dcce9e1925cd08426d41416e138e0759b3b7bb9900bbbd5dbbc726",
        "988f62f399a41842414c65028a1c6725da30fcbb79242588b7e2455e0250ae0f"]
    assert result["wrapped"] == bytes(range(64, 96)).hex()
    assert result["file"] == "Sealbox file vector"
    assert result["certified"] is True and result["other_account"] is False


def test_what_the_browser_seals_python_opens(page: Any) -> None:
    private, public = crypto.new_keypair()
    sealed = run(page, """
      const key = bin(arg.key);
      const sealer = new m.FileSealer(key, 'case-1', 'attachment:9', 1000);
      const pieces = [];
      for (const size of [1, 999, 1000, 2500, 0, 1]) {  // 4,501 bytes across the chunk edges
        pieces.push(...sealer.push(new Uint8Array(size).fill(size % 251)));
      }
      pieces.push(...sealer.finish());
      const receipt = m.newReceipt();
      const keys = m.deriveReporterKeys(receipt, bin(arg.salt), 1, 8 * 1024 * 1024);
      return {
        wrapped: hex(m.sealFor(bin(arg.public), key, 'case-1', 'thread-key')),
        record: hex(m.encryptRecord(key, new TextEncoder().encode('Zürich, 3 März'),
                                    'case-1', 'message:report:1')),
        file: pieces.map(hex).join(''),
        receipt, valid: m.isValidReceipt(receipt),
        typo: m.isValidReceipt(receipt.slice(0, 27) + String((+receipt[27] + 1) % 10)),
        reporter: [hex(keys.lookupHash), hex(keys.publicKey)],
      };""", {"key": KEY.hex(), "public": public.hex(), "salt": bytes(16).hex()})
    key = crypto.open_with(private, bytes.fromhex(sealed["wrapped"]),
                           Context("case-1", "thread-key"))
    assert key == KEY
    record = bytes.fromhex(sealed["record"])
    assert crypto.decrypt_record(key, record, Context("case-1", "message:report:1")).decode() \
        == "Zürich, 3 März"
    file = bytes.fromhex(sealed["file"])
    expected = b"".join(bytes([size % 251]) * size for size in (1, 999, 1000, 2500, 0, 1))
    assert len(file) == crypto.sealed_size(len(expected), 1000)
    opened = b"".join(crypto.decrypt_stream(key, io.BytesIO(file),
                                            Context("case-1", "attachment:9")))
    assert opened == expected
    receipt = sealed["receipt"]
    assert sealed["valid"] and not sealed["typo"] and crypto.normalize_receipt(receipt) == receipt
    keys = crypto.derive_reporter_keys(receipt, bytes(16), KdfParams(1, 8 * 1024 * 1024))
    assert sealed["reporter"] == [keys.lookup_hash.hex(), keys.public_key.hex()]


def test_what_python_seals_the_browser_opens_and_tampering_is_refused(page: Any) -> None:
    private, public = crypto.new_keypair()
    context = Context("case-2", "attachment:1")
    content = os.urandom(150_000)  # three chunks of 64 KiB, the last short
    file = b"".join(crypto.encrypt_stream(KEY, [content[:70_000], content[70_000:]], context))
    wrapped = crypto.seal_for(public, KEY, Context("case-2", "thread-key"))
    flipped = bytearray(file)
    flipped[-5] ^= 1
    result = run(page, """
      const key = m.openWith(bin(arg.private), bin(arg.wrapped), 'case-2', 'thread-key');
      const refused = (f) => { try { f(); return false; }
                               catch (e) { return e instanceof m.DecryptionError; } };
      return {
        file: hex(m.openFile(key, bin(arg.file), 'case-2', 'attachment:1')),
        flipped: refused(() => m.openFile(key, bin(arg.flipped), 'case-2', 'attachment:1')),
        truncated: refused(() => m.openFile(key, bin(arg.file).subarray(0, 32 + 65553),
                                            'case-2', 'attachment:1')),
        moved: refused(() => m.openFile(key, bin(arg.file), 'case-3', 'attachment:1')),
        relabelled: refused(() => m.openWith(bin(arg.private), bin(arg.wrapped), 'case-2',
                                             'internal-key')),
      };""", {"private": private.hex(), "wrapped": wrapped.hex(), "file": file.hex(),
              "flipped": bytes(flipped).hex()})
    assert bytes.fromhex(result["file"]) == content
    assert result["flipped"] and result["truncated"] and result["moved"] and result["relabelled"]


def test_the_browser_reads_a_typed_receipt_as_python_does(page: Any) -> None:
    """Every code point Python's Unicode database assigns: the same separators, the same
    digits with the same values; and typed receipts give the same result or error."""
    import unicodedata

    from crypto.receipts import _separator

    assigned = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF
                and unicodedata.category(chr(cp)) != "Cn"]
    separators = [cp for cp in assigned if _separator(chr(cp))]
    digits = {cp: unicodedata.decimal(chr(cp)) for cp in assigned
              if unicodedata.decimal(chr(cp), None) is not None}
    receipt = crypto.new_receipt()
    arabic = receipt.translate({ord("0") + d: 0x0660 + d for d in range(10)})
    typed = [receipt, crypto.format_receipt(receipt), arabic, "\u200f" + arabic + "\u200e",
             receipt.translate({ord("0") + d: 0xFF10 + d for d in range(10)}),
             "-".join(receipt[i:i + 4] for i in range(0, 28, 4)), receipt[:27],
             receipt[:26] + receipt[27] + receipt[26], receipt + "x", "\u00a0".join(receipt),
             "\U0001d7ce" * 28, "٠١٢٣ ٤٥٦٧ ٨٩" + receipt[10:]]

    def python(text: str) -> str:
        try:
            return crypto.normalize_receipt(text)
        except crypto.ReceiptTypo:
            return "typo"
        except crypto.ReceiptMalformed:
            return "malformed"

    result = run(page, """
      const separators = [], digits = {};
      for (const cp of arg.assigned) {
        const ch = String.fromCodePoint(cp);
        if (m.isSeparator(ch)) { separators.push(cp); }
        const value = m.digitValue(ch);
        if (value >= 0) { digits[cp] = value; }
      }
      const typed = arg.typed.map((t) => {
        try { return m.normalizeReceipt(t); }
        catch (e) { return e instanceof m.ReceiptTypo ? 'typo' : 'malformed'; }
      });
      return {separators, digits, typed};
    """, {"assigned": assigned, "typed": typed})
    assert result["separators"] == separators
    assert result["typed"] == [python(t) for t in typed]
    assert {int(cp): value for cp, value in result["digits"].items()} == digits
