// A report sealed in the reporter's browser, in the rows cases/reporting/sealed.py stores:
// the receipt made here, the reporter's keys derived here, the case keys drawn here, the
// report, identity and automatic acknowledgement sealed here, each case key wrapped to the
// holders the intake names for this routing, once their certificates check out against the
// instance's key-signing key. Only ciphertexts, hashes and public keys leave the browser;
// docs/INTAKE.md ("A report sealed in the browser") gives the request and its answers.

import * as sb from "./sealbox-crypto.mjs";
import { fileEntry, sendFile } from "./sealed-files.mjs";

let sodium = null;

async function lib() {
  sodium = sodium || await sb.ready();
  return sodium;
}

const b64 = (bytes) => sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);
const unb64 = (text) => sodium.from_base64(text, sodium.base64_variants.ORIGINAL);
const json = (value) => new TextEncoder().encode(JSON.stringify(value));
const newId = () => sodium.to_hex(sodium.randombytes_buf(8)); // cases.models.new_id

/** The server refused the report: `reason` is its code, `message` its words for the reporter. */
export class SendRefused extends Error {
  constructor(reason, message, status) {
    super(message);
    this.reason = reason;
    this.status = status;
  }
}

/** A key the intake handed out was not certified by the instance's key-signing key: the
 * report is not sealed to it, and not sent. */
export class KeysNotVerified extends Error {}

async function answer(response) {
  let data = {};
  try { data = await response.json(); } catch (error) { data = {}; }
  if (!response.ok) {
    throw new SendRefused(data.error || "http", data.message || response.statusText, response.status);
  }
  return data;
}

/** The holders' keys for a routing, from the intake (`base` is e.g. "/en/report"). */
export async function fetchKeys(base, category = "", exclude = []) {
  const query = new URLSearchParams();
  if (category) { query.append("category", category); }
  for (const value of exclude) { query.append("exclude", value); }
  const response = await fetch(`${base}/sealing-keys?${query}`, {
    credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
  });
  return answer(response);
}

function verifiedHolders(holders, signingKey) {
  return holders.map((h) => {
    const holder = { id: h.id, publicKey: unb64(h.public_key) };
    if (!sb.keyIsCertified(signingKey, h.id, holder.publicKey, unb64(h.certificate))) {
      throw new KeysNotVerified(`account ${h.id}: its key is not certified`);
    }
    return holder;
  });
}

/** What the intake handed out, decoded, every holder's certificate checked. */
export async function verifiedKeys(keys) {
  await lib();
  const signingKey = unb64(keys.signing_public_key);
  return {
    caseworkers: verifiedHolders(keys.caseworkers, signingKey),
    custodians: verifiedHolders(keys.custodians, signingKey),
    recovery: unb64(keys.recovery_public_key),
    acknowledgement: keys.acknowledgement ? unb64(keys.acknowledgement) : null,
    kdf: keys.receipt_kdf,
  };
}

/** A new receipt and the reporter's keys from it (Argon2id at the instance's cost). */
export async function newReporter(kdf) {
  await lib();
  const receipt = sb.newReceipt();
  const derived = sb.deriveReporterKeys(receipt, unb64(kdf.salt), kdf.opslimit, kdf.memlimit);
  sodium.memzero(derived.master);
  sodium.memzero(derived.token);
  return { receipt, lookupHash: derived.lookupHash, publicKey: derived.publicKey,
           privateKey: derived.privateKey };
}

function wrapped(holders, recovery, secret, caseId, purpose) {
  const caseworkers = {};
  for (const h of holders) { caseworkers[String(h.id)] = b64(sb.sealFor(h.publicKey, secret, caseId, purpose)); }
  return { caseworkers, recovery: b64(sb.sealFor(recovery, secret, caseId, purpose)) };
}

function sealedItem(key, plaintext, caseId, purpose, id) {
  return { id, record: b64(sb.encryptRecord(key, plaintext, caseId, `${purpose}:${id}`)) };
}

/** The request body for /report/send-sealed. `report` is the report's body (cases/bodies.py:
 * text, answers, language), `identity` the details or null; `routing` the form's values;
 * `files` what sealed-files.mjs sent for the case `caseId`. */
export function sealReport(keys, reporter, report, identity, routing, caseId = newId(), files = []) {
  const thread = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  const internal = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  try {
    const threadKeys = wrapped(keys.caseworkers, keys.recovery, thread, caseId, "thread-key");
    threadKeys.reporter = b64(sb.sealFor(reporter.publicKey, thread, caseId, "thread-key"));
    const sealed = {
      case_id: caseId,
      lookup_hash: b64(reporter.lookupHash),
      reporter_public_key: b64(reporter.publicKey),
      category: routing.category || "",
      exclude: routing.exclude || [],
      thread_keys: threadKeys,
      internal_keys: wrapped(keys.caseworkers, keys.recovery, internal, caseId, "internal-key"),
      report: sealedItem(thread, json(report), caseId, "message:report", newId()),
      acknowledgement: keys.acknowledgement
        ? sealedItem(thread, keys.acknowledgement, caseId, "message:reply", newId()) : null,
      identity: null,
      files: files.map((sent) => fileEntry(thread, caseId, sent)),
    };
    if (identity) { sealed.identity = sealIdentity(keys, identity, caseId); }
    return sealed;
  } finally {
    sodium.memzero(thread);
    sodium.memzero(internal);
  }
}

export function sealIdentity(keys, identity, caseId) {
  const id = newId();
  const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  try {
    return {
      ...sealedItem(key, json(identity), caseId, "identity", id),
      keys: wrapped(keys.custodians, keys.recovery, key, caseId, `identity-key:${id}`),
    };
  } finally {
    sodium.memzero(key);
  }
}

async function post(base, csrfToken, sealed) {
  const response = await fetch(`${base}/send-sealed`, {
    method: "POST", credentials: "same-origin", cache: "no-store",
    headers: { "Content-Type": "application/json", Accept: "application/json",
               "X-CSRFToken": csrfToken },
    body: JSON.stringify(sealed),
  });
  return answer(response);
}

/** Seal and send one report: {receipt, acknowledge_by, feedback_by}, or SendRefused /
 * KeysNotVerified / FileNotSent. `files` ({file, keepMetadata}) are sealed and sent first,
 * `progress(fileIndex, bytesSent)` told as they go. When the holders changed since the keys
 * were fetched, the report is sealed once more for the new ones (same receipt: Argon2id
 * runs once; the files, under their own keys, are not sent again). A network failure sends
 * the same sealed report again once: the server stores it once. */
export async function sendReport(base, csrfToken, report, identity = null, routing = {},
                                 files = [], progress = () => {}) {
  await lib();
  let keys = await verifiedKeys(await fetchKeys(base, routing.category, routing.exclude));
  const reporter = await newReporter(keys.kdf);
  const caseId = newId();
  const sent = [];
  try {
    for (const [index, chosen] of files.entries()) {
      sent.push(await sendFile(base, csrfToken, caseId, chosen.file, chosen.keepMetadata,
                               (bytes) => progress(index, bytes)));
    }
    for (let attempt = 0; ; attempt++) {
      const sealed = sealReport(keys, reporter, report, identity, routing, caseId, sent);
      try {
        const due = await post(base, csrfToken, sealed).catch((error) => {
          if (error instanceof SendRefused) { throw error; }
          return post(base, csrfToken, sealed); // the answer was lost, not the report
        });
        return { receipt: reporter.receipt, ...due };
      } catch (error) {
        if (!(error instanceof SendRefused) || error.reason !== "keys_changed" || attempt > 0) { throw error; }
        keys = await verifiedKeys(await fetchKeys(base, routing.category, routing.exclude));
      }
    }
  } finally {
    sodium.memzero(reporter.privateKey);
    sent.forEach((file) => sodium.memzero(file.key));
  }
}
