// Sealbox's formats (docs/CRYPTO.md) in the reporter's browser, over libsodium.js (the
// sumo build, for Argon2id), so that a report can be sealed before it leaves the browser.
// The same recipes as the Python `crypto/` package, byte for byte: the known-answer vectors
// of docs/CRYPTO.md are checked against this file in the real Chromium
// (tests/browser/test_browser_sealing_vectors.py), and what one side seals the other opens.
//
// libsodium.js is installed from the npm registry with a lock file and integrity hashes and
// copied beside this file by `make browser-crypto` (intake/sealing/vendor.py); nothing is
// fetched from another origin. Every function that needs libsodium waits for `ready()`.

import sodium from "../vendor/libsodium-wrappers.mjs";

const VERSION = 0x01;
const RECORD_NONCE = 24;
const FILE_MAGIC = [0x53, 0x42, 0x46]; // "SBF"
const CONTEXT_MAGIC = [0x53, 0x42, 0x58]; // "SBX"
const CERTIFICATE_MAGIC = [0x53, 0x42, 0x4b]; // "SBK"
export const DEFAULT_CHUNK = 65536;
export const MAX_CHUNK = 16 * 1024 * 1024;
const TAG_MESSAGE = 0;
const TAG_FINAL = 3;
const DAMM = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2], [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
  [4, 2, 0, 6, 8, 7, 1, 3, 5, 9], [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
  [6, 1, 2, 3, 0, 4, 5, 9, 7, 8], [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4], [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
  [9, 4, 3, 8, 6, 1, 7, 2, 0, 5], [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];
const RECEIPT_BODY = 27;

export class DecryptionError extends Error {}

/** Resolves once libsodium's WebAssembly is running. */
export async function ready() {
  await sodium.ready;
  return sodium;
}

const encoder = new TextEncoder();

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

function u16be(n) {
  if (n > 0xffff) { throw new RangeError("longer than 65,535 bytes"); }
  return Uint8Array.of(n >> 8, n & 0xff);
}

function u32be(n) {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function readU32be(bytes, at) {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
}

/** binding(version, owner_id, purpose): the context every ciphertext is bound to. */
export function binding(owner, purpose, version = VERSION) {
  const o = encoder.encode(owner);
  const p = encoder.encode(purpose);
  return concat(Uint8Array.from(CONTEXT_MAGIC), Uint8Array.of(version), u16be(o.length), o,
                u16be(p.length), p);
}

/** BLAKE2b, unsalted, with the label as its personalisation (zero-padded to 16 bytes).
 * libsodium.js wraps crypto_generichash_blake2b_salt_personal for key derivation only (no
 * message), so this calls libsodium's own function in its WebAssembly memory: (out,
 * outlen, in, inlen as two 32-bit halves, key, keylen, salt, personal), as the wrapper
 * does. Every buffer is wiped and freed after. */
export function labelledHash(label, data, size = 32, key = null) {
  const person = new Uint8Array(16);
  person.set(encoder.encode(label));
  const lib = sodium.libsodium;
  const sizes = [size, Math.max(data.length, 1), 16, key ? key.length : 1];
  const [out, input, personal, secret] = sizes.map((n) => lib._malloc(n));
  try {
    lib.HEAPU8.set(data, input);
    lib.HEAPU8.set(person, personal);
    if (key) { lib.HEAPU8.set(key, secret); }
    const failed = lib._crypto_generichash_blake2b_salt_personal(
      out, size, input, data.length, 0, key ? secret : 0, key ? key.length : 0, 0, personal);
    if (failed) { throw new Error("BLAKE2b refused its parameters"); }
    return lib.HEAPU8.slice(out, out + size);
  } finally {
    [out, input, personal, secret].forEach((at, i) => { lib.HEAPU8.fill(0, at, at + sizes[i]); lib._free(at); });
  }
}

// -- records and wrapped keys --------------------------------------------------------------

/** record = 0x01 || nonce || XChaCha20-Poly1305(key, nonce, plaintext, binding). */
export function encryptRecord(key, plaintext, owner, purpose, nonce = null) {
  const n = nonce || sodium.randombytes_buf(RECORD_NONCE);
  const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    plaintext, binding(owner, purpose), null, n, key);
  return concat(Uint8Array.of(VERSION), n, sealed);
}

export function decryptRecord(key, record, owner, purpose) {
  if (record.length < 41 || record[0] !== VERSION) { throw new DecryptionError("not a record"); }
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null, record.subarray(1 + RECORD_NONCE), binding(owner, purpose), record.subarray(1, 1 + RECORD_NONCE), key);
  } catch (error) {
    throw new DecryptionError("the record does not open");
  }
}

/** wrapped = 0x01 || crypto_box_seal(recipient, binding || secret). */
export function sealFor(recipientPublic, secret, owner, purpose) {
  return concat(Uint8Array.of(VERSION),
                sodium.crypto_box_seal(concat(binding(owner, purpose), secret), recipientPublic));
}

export function openWith(privateKey, wrapped, owner, purpose) {
  if (wrapped.length < 1 + 48 || wrapped[0] !== VERSION) { throw new DecryptionError("not a wrapped key"); }
  let opened;
  try {
    opened = sodium.crypto_box_seal_open(wrapped.subarray(1), publicKeyOf(privateKey), privateKey);
  } catch (error) {
    throw new DecryptionError("the box does not open");
  }
  const expected = binding(owner, purpose);
  if (opened.length < expected.length || !sodium.memcmp(opened.subarray(0, expected.length), expected)) {
    throw new DecryptionError("sealed for another context");
  }
  return opened.subarray(expected.length);
}

export function publicKeyOf(privateKey) {
  return sodium.crypto_scalarmult_base(privateKey);
}

// -- files ---------------------------------------------------------------------------------

function filePreamble(chunk) {
  return concat(Uint8Array.from(FILE_MAGIC), Uint8Array.of(VERSION), u32be(chunk));
}

/** Seals a file piece by piece (secretstream; never more than one chunk held): feed the
 * plaintext in order with `push`, then `finish`; each returns the ciphertext pieces to
 * send, in order (an array, so that nothing is copied only to be joined). */
export class FileSealer {
  constructor(key, owner, purpose, chunk = DEFAULT_CHUNK) {
    if (!(chunk > 0 && chunk <= MAX_CHUNK)) { throw new RangeError("bad chunk size"); }
    this.chunk = chunk;
    const preamble = filePreamble(chunk);
    this.aad = concat(binding(owner, purpose), preamble);
    const init = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
    this.state = init.state;
    this.pending = new Uint8Array(chunk);  // the piece held back: only finish() knows the last
    this.held = 0;
    this.head = concat(preamble, init.header);
  }

  push(data) {
    const out = this._start();
    let at = 0;
    while (at < data.length) {
      if (this.held === this.chunk) {  // more follows, so the held piece is not the last
        out.push(this._seal(this.pending, TAG_MESSAGE));
        this.held = 0;
      }
      if (this.held === 0 && data.length - at > this.chunk) {  // whole chunks: no copy
        out.push(this._seal(data.subarray(at, at + this.chunk), TAG_MESSAGE));
        at += this.chunk;
        continue;
      }
      const n = Math.min(this.chunk - this.held, data.length - at);
      this.pending.set(data.subarray(at, at + n), this.held);
      this.held += n;
      at += n;
    }
    return out;
  }

  finish() {
    const out = this._start();
    out.push(this._seal(this.pending.subarray(0, this.held), TAG_FINAL));
    this.pending.fill(0);
    this.held = 0;
    return out;
  }

  _start() {
    const out = this.head ? [this.head] : [];
    this.head = null;
    return out;
  }

  _seal(piece, tag) {
    return sodium.crypto_secretstream_xchacha20poly1305_push(this.state, piece, this.aad, tag);
  }
}

/** sealed_size(P, C) = 8 + 24 + P + 17 · max(1, ⌈P / C⌉). */
export function sealedSize(size, chunk = DEFAULT_CHUNK) {
  return 8 + 24 + size + 17 * Math.max(1, Math.ceil(size / chunk));
}

/** A whole sealed file opened (as `crypto.decrypt_stream` reads it, with every check). */
export function openFile(key, file, owner, purpose) {
  if (file.length < 8 + 24 || file[0] !== FILE_MAGIC[0] || file[1] !== FILE_MAGIC[1]
      || file[2] !== FILE_MAGIC[2] || file[3] !== VERSION) {
    throw new DecryptionError("not a sealed file");
  }
  const chunk = readU32be(file, 4);
  if (!(chunk > 0 && chunk <= MAX_CHUNK)) { throw new DecryptionError("bad chunk size"); }
  const aad = concat(binding(owner, purpose), file.subarray(0, 8));
  let state;
  try {
    state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(file.subarray(8, 32), key);
  } catch (error) {
    throw new DecryptionError("bad stream header");
  }
  const parts = [];
  let at = 32;
  for (;;) {
    if (at >= file.length) { throw new DecryptionError("truncated"); }
    const block = file.subarray(at, Math.min(at + chunk + 17, file.length));
    const pulled = sodium.crypto_secretstream_xchacha20poly1305_pull(state, block, aad);
    if (!pulled) { throw new DecryptionError("a chunk does not open"); }
    at += block.length;
    if (pulled.tag === TAG_FINAL) {
      if (at !== file.length) { throw new DecryptionError("bytes after the end"); }
      parts.push(pulled.message);
      return concat(...parts);
    }
    if (block.length !== chunk + 17) { throw new DecryptionError("short chunk"); }
    parts.push(pulled.message);
  }
}

// -- receipts ------------------------------------------------------------------------------

export function damm(digits) {
  let interim = 0;
  for (const d of digits) { interim = DAMM[interim][d.charCodeAt(0) - 48]; }
  return interim;
}

/** 27 uniform random digits from the browser's CSPRNG (libsodium's randombytes_uniform,
 * itself over crypto.getRandomValues, without modulo bias), then the Damm check digit. */
export function newReceipt() {
  let body = "";
  for (let i = 0; i < RECEIPT_BODY; i++) { body += String(sodium.randombytes_uniform(10)); }
  return body + String(damm(body));
}

export class ReceiptMalformed extends Error {}
export class ReceiptTypo extends Error {}

// What docs/CRYPTO.md ("Normalisation") drops: Python's whitespace (JavaScript's \s, plus
// the information separators U+001C-U+001F and NEL, which Python counts and \s does not),
// every dash (Pd), space separator (Zs) and format character (Cf), and . _ − ． ＿.
const SEPARATOR = /^(?:[\s\x1c-\x1f\x85]|\p{Pd}|\p{Zs}|\p{Cf}|[._\u2212\uff0e\uff3f])$/u;
const DIGIT = /^\p{Nd}$/u;

export function isSeparator(ch) {
  return SEPARATOR.test(ch);
}

/** A Unicode decimal digit's value, or -1: Unicode puts the digits in runs of ten, 0 to 9,
 * so the value is the distance from the start of the stretch of digits, modulo ten. */
export function digitValue(ch) {
  if (!DIGIT.test(ch)) { return -1; }
  const at = ch.codePointAt(0);
  let start = at;
  while (start > 0 && DIGIT.test(String.fromCodePoint(start - 1))) { start -= 1; }
  return (at - start) % 10;
}

/** What a reporter typed, as 28 ASCII digits (crypto.normalize_receipt, the same rules):
 * separators dropped, any Unicode decimal digit read as its value; ReceiptMalformed for
 * anything else or another count of digits, ReceiptTypo when the check digit fails. */
export function normalizeReceipt(text) {
  let digits = "";
  for (const ch of text) {
    if (isSeparator(ch)) { continue; }
    const value = digitValue(ch);
    if (value < 0) { throw new ReceiptMalformed("a receipt contains only digits"); }
    digits += String(value);
  }
  if (digits.length !== RECEIPT_BODY + 1) {
    throw new ReceiptMalformed(`a receipt has 28 digits, not ${digits.length}`);
  }
  if (damm(digits) !== 0) { throw new ReceiptTypo("the check digit does not match"); }
  return digits;
}

export function isValidReceipt(receipt) {
  return /^[0-9]{28}$/.test(receipt) && damm(receipt) === 0;
}

/** master, token, lookup hash and the reporter's key pair from a normalised receipt. */
export function deriveReporterKeys(receipt, salt, opslimit, memlimit) {
  if (!/^[0-9]{28}$/.test(receipt)) { throw new RangeError("a receipt is 28 ASCII digits"); }
  const master = sodium.crypto_pwhash(32, encoder.encode(receipt), salt, opslimit, memlimit,
                                      sodium.crypto_pwhash_ALG_ARGON2ID13);
  const token = labelledHash("sealbox-lookup", master);
  const privateKey = labelledHash("sealbox-x25519", master);
  return {
    master, token, privateKey,
    lookupHash: labelledHash("sealbox-lookuph", token),
    publicKey: publicKeyOf(privateKey),
  };
}

// -- key certificates ----------------------------------------------------------------------

function u64be(n) {
  const out = new Uint8Array(8);
  let rest = BigInt(n);
  for (let i = 7; i >= 0; i--) { out[i] = Number(rest & 0xffn); rest >>= 8n; }
  return out;
}

/** Whether the instance's key-signing key certified `publicKey` for `accountId`: the
 * browser wraps case keys only to caseworker keys that pass this. */
export function keyIsCertified(verifyKey, accountId, publicKey, certificate) {
  const signed = concat(Uint8Array.from(CERTIFICATE_MAGIC), Uint8Array.of(VERSION),
                        u64be(accountId), publicKey);
  try {
    return sodium.crypto_sign_verify_detached(certificate, signed, verifyKey);
  } catch (error) {
    return false;
  }
}
