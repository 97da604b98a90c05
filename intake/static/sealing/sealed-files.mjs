// Files sealed in the reporter's browser and sent piece by piece before their report
// (cases/reporting/staged_files.py): each file gets its own random key and is sealed in
// secretstream chunks (docs/CRYPTO.md, "Attachments") under the case's id and its own, then
// sent about a mebibyte at a time, so a large file is never held whole. JPEG and PNG
// pictures are cleaned first (cleaning.mjs) unless the reporter keeps their metadata; any
// other file goes as it is, which the page says before anything is sent.

import * as sb from "./sealbox-crypto.mjs";
import { MAX_CLEANED_BYTES, cleanPicture, pictureKind } from "./cleaning.mjs";

const READ_BYTES = 1024 * 1024; // read from the disk, and sent, about this much at a time
const UPLOAD_HEADER = "X-Sealbox-Upload";

let sodium = null;

/** A piece the server refused, or could not be reached for: the report is not sent. */
export class FileNotSent extends Error {
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
}

async function isPicture(file) {
  return pictureKind(new Uint8Array(await file.slice(0, 8).arrayBuffer())) !== "";
}

/** Whether this file is cleaned here (a JPEG or PNG small enough), from its first bytes. */
export async function cleanedHere(file) {
  return file.size <= MAX_CLEANED_BYTES && isPicture(file);
}

async function cleaningOf(file, keepMetadata) {
  if (keepMetadata) { return { source: null, report: { kept: true } }; }
  if (!await isPicture(file)) {
    return { source: null, report: { kind: "other", cleaned: false, removed: [], reason: "browser" } };
  }
  if (file.size > MAX_CLEANED_BYTES) {
    return { source: null, report: { kind: "other", cleaned: false, removed: [], reason: "too_large" } };
  }
  const { data, report } = cleanPicture(new Uint8Array(await file.arrayBuffer()));
  return { source: data, report };
}

/** The plaintext in pieces: the cleaned picture, or the file read a slice at a time. */
async function* plaintextOf(file, cleaned) {
  if (cleaned) {
    for (let at = 0; at < cleaned.length; at += READ_BYTES) { yield cleaned.subarray(at, at + READ_BYTES); }
    return;
  }
  for (let at = 0; at < file.size; at += READ_BYTES) {
    yield new Uint8Array(await file.slice(at, at + READ_BYTES).arrayBuffer());
  }
}

async function postPiece(url, csrfToken, token, body) {
  const send = () => fetch(url, {
    method: "POST", credentials: "same-origin", cache: "no-store", body,
    headers: { "Content-Type": "application/octet-stream", Accept: "application/json",
               "X-CSRFToken": csrfToken, [UPLOAD_HEADER]: token },
  });
  // A lost answer: the same piece again, which the server takes as stored once.
  const response = await send().catch(() => send());
  if (!response.ok) {
    let data = {};
    try { data = await response.json(); } catch (error) { data = {}; }
    throw new FileNotSent(data.error || "http", data.message || response.statusText);
  }
  return response.json();
}

/** intake.uploads.clean_filename: the name without paths and control characters. */
export function cleanName(name) {
  let base = (name || "").replace(/\\/g, "/").split("/").pop();
  base = base.replace(/\p{C}/gu, "").trim();
  if (!base.replace(/\./g, "")) { base = ""; }
  return Array.from(base).slice(0, 255).join("") || "file";
}

function joined(parts, size) {
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

/** Seal one file under `caseId` and send it; `progress(bytesSent)` is told as it goes.
 * Returns what the report names it by and the key its metadata is sealed with later. */
export async function sendFile(base, csrfToken, caseId, file, keepMetadata, progress = () => {}) {
  sodium = sodium || await sb.ready();
  const id = sodium.to_hex(sodium.randombytes_buf(8));
  const token = sodium.to_base64(sodium.randombytes_buf(32), sodium.base64_variants.ORIGINAL);
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const { source, report } = await cleaningOf(file, keepMetadata);
  const sealer = new sb.FileSealer(key, caseId, `attachment:${id}`);
  let number = 0;
  let held = [];
  let heldBytes = 0;
  let size = 0;
  let plaintext = 0;
  const flush = async () => {
    const url = `${base}/sealed-files/${id}${number ? `/${number}` : ""}`;
    await postPiece(url, csrfToken, token, joined(held, heldBytes));
    size += heldBytes;
    number += 1;
    held = [];
    heldBytes = 0;
    progress(size);
  };
  const hold = async (pieces) => {
    for (const piece of pieces) {
      held.push(piece);
      heldBytes += piece.length;
      if (heldBytes >= READ_BYTES) { await flush(); } // a piece of about a mebibyte
    }
  };
  for await (const piece of plaintextOf(file, source)) {
    plaintext += piece.length;
    await hold(sealer.push(piece));
  }
  await hold(sealer.finish());
  if (heldBytes) { await flush(); }
  const meta = { name: cleanName(file.name), type: file.type || "application/octet-stream",
                 size: plaintext, cleaning: report };
  return { id, token, key, meta, size };
}

/** The report's entry for a sent file, its metadata and key sealed under the thread key. */
export function fileEntry(thread, caseId, sent) {
  const json = new TextEncoder().encode(JSON.stringify(sent.meta));
  const b64 = (bytes) => sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);
  return {
    id: sent.id,
    token: sent.token,
    size: sent.size,
    meta: b64(sb.encryptRecord(thread, json, caseId, `attachment-meta:${sent.id}`)),
    key: b64(sb.encryptRecord(thread, sent.key, caseId, `attachment-key:${sent.id}`)),
  };
}
