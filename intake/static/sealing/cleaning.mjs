// Metadata removed from JPEG and PNG pictures in the reporter's browser, before they are
// sealed: the rules of cases/attachments/scrubbing.py (an allow-list of what a decoder needs;
// everything else goes, known or not), on the whole picture at once. The browser test holds
// this to the server's output, byte for byte, on the same pictures. Other kinds of file are
// not cleaned here: the page says so before they are sent, and offers the server's path.

const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_DECODING = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb,
  0xcc, 0xcd, 0xce, 0xcf, 0xdb, 0xdc, 0xdd, 0xde, 0xdf]);
const JPEG_APP0 = 0xe0;
const JPEG_SOS = 0xda;
const JPEG_EOI = 0xd9;
const JPEG_APP_KEEP = new Map([[0xe2, "ICC_PROFILE\0"], [0xee, "Adobe"]]);
const JFIF_ID = "JFIF\0";
const JFIF_HEADER = 14;
const APP_ID_BYTES = 14;
const JPEG_STANDALONE = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9]);
const PNG_KEEP = new Set(["IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP",
  "sBIT", "bKGD", "pHYs", "cICP", "mDCV", "cLLI", "acTL", "fcTL", "fdAT"]);
const PNG_MAX_CHUNK = 2 ** 31 - 1;

/** The largest picture cleaned here, as the server holds at most this much of a file. */
export const MAX_CLEANED_BYTES = 32 * 1024 * 1024;

const startsWith = (data, at, bytes) => bytes.every((b, i) => data[at + i] === b);
const ascii = (data, from, to) => String.fromCharCode(...data.subarray(from, to));
const isAlpha = (text) => /^[A-Za-z]{4}$/.test(text);

function jpegName(marker) {
  if (marker >= 0xe0 && marker <= 0xef) { return `APP${marker - 0xe0}`; }
  return marker === 0xfe ? "COM" : `marker 0x${marker.toString(16).toUpperCase().padStart(2, "0")}`;
}

class Output {
  constructor(size) { this.bytes = new Uint8Array(size); this.length = 0; }
  add(part) { this.bytes.set(part, this.length); this.length += part.length; }
  done() { return this.bytes.subarray(0, this.length); }
}

/** The APPn segment at `at` kept (true), dropped (false) or rewritten (its new bytes). */
function appSegment(data, at, length, removed) {
  const marker = data[at + 1];
  const head = data.subarray(at + 4, at + 4 + Math.min(length - 2, APP_ID_BYTES));
  if (marker === JPEG_APP0 && ascii(head, 0, 5) === JFIF_ID && head.length >= JFIF_HEADER) {
    if (head[12] || head[13]) { removed.push("JFIF thumbnail"); }
    const rewritten = new Uint8Array(18);
    rewritten.set([0xff, 0xe0, 0x00, 0x10]);
    rewritten.set(head.subarray(0, 12), 4);
    return rewritten; // the same header with a 0 x 0 thumbnail
  }
  const identifier = JPEG_APP_KEEP.get(marker);
  return identifier !== undefined && ascii(head, 0, identifier.length) === identifier;
}

/** Entropy-coded data from `at`: where the next marker (not a stuffed byte nor a restart)
 * starts, or -1 when the data ends first (the last byte then is a lone 0xFF). */
function entropyEnd(data, at) {
  for (;;) {
    const ff = data.indexOf(0xff, at);
    if (ff < 0 || ff + 1 >= data.length) { return ff < 0 ? data.length : -1; }
    const follower = data[ff + 1];
    if (follower === 0x00 || (follower >= 0xd0 && follower <= 0xd7)) { at = ff + 2; continue; }
    if (follower === 0xff) { at = ff + 1; continue; }
    return ff;
  }
}

function cleanJpeg(data, out, removed) {
  out.add(data.subarray(0, 2)); // SOI
  let at = 2;
  for (;;) {
    if (at >= data.length) { return true; }
    if (at + 2 > data.length) { out.add(data.subarray(at)); return false; }
    if (data[at] !== 0xff) { out.add(data.subarray(at)); return false; } // damaged: as it is
    const marker = data[at + 1];
    if (marker === 0xff) { at += 1; continue; } // a fill byte
    if (JPEG_STANDALONE.has(marker)) {
      out.add(data.subarray(at, at + 2));
      at += 2;
      if (marker === JPEG_EOI) {
        if (at < data.length) { removed.push("trailer"); }
        return true;
      }
      continue;
    }
    if (at + 4 > data.length) { out.add(data.subarray(at)); return false; }
    const length = (data[at + 2] << 8) | data[at + 3];
    if (length < 2) { out.add(data.subarray(at)); return false; }
    let keep = JPEG_DECODING.has(marker) || marker === JPEG_SOS;
    if (marker >= 0xe0 && marker <= 0xef) {
      if (at + 4 + Math.min(length - 2, APP_ID_BYTES) > data.length) { out.add(data.subarray(at)); return false; }
      keep = appSegment(data, at, length, removed);
    }
    const end = Math.min(data.length, at + 2 + length);
    if (keep instanceof Uint8Array) {
      out.add(keep);
    } else if (keep) {
      out.add(data.subarray(at, end));
    } else {
      removed.push(jpegName(marker));
    }
    at = end;
    if (marker === JPEG_SOS && keep === true) {
      const stop = entropyEnd(data, at);
      if (stop < 0) { out.add(data.subarray(at)); return false; }
      out.add(data.subarray(at, stop));
      at = stop;
    }
  }
}

function cleanPng(data, out, removed) {
  out.add(data.subarray(0, PNG_MAGIC.length));
  let at = PNG_MAGIC.length;
  for (;;) {
    if (at >= data.length) { return true; }
    if (at + 8 > data.length) { out.add(data.subarray(at)); return false; }
    const length = ((data[at] << 24) >>> 0) + (data[at + 1] << 16) + (data[at + 2] << 8) + data[at + 3];
    const kind = ascii(data, at + 4, at + 8);
    if (length > PNG_MAX_CHUNK || !isAlpha(kind)) { out.add(data.subarray(at)); return false; }
    const end = Math.min(data.length, at + 12 + length);
    if (PNG_KEEP.has(kind)) { out.add(data.subarray(at, end)); } else { removed.push(kind); }
    at = end;
    if (kind === "IEND") {
      if (at < data.length) { removed.push("trailer"); }
      return true;
    }
  }
}

/** The kind of picture cleaned here ("jpeg", "png") or "" for any other file. */
export function pictureKind(first) {
  if (first.length >= JPEG_MAGIC.length && startsWith(first, 0, JPEG_MAGIC)) { return "jpeg"; }
  if (first.length >= PNG_MAGIC.length && startsWith(first, 0, PNG_MAGIC)) { return "png"; }
  return "";
}

/** A whole JPEG or PNG with its metadata removed: {data, report}, the report in the form
 * the server's cleaner writes into a file's sealed metadata (AttachmentCleaner.report). A
 * picture damaged part-way keeps everything from there on, as on the server. */
export function cleanPicture(data) {
  const kind = pictureKind(data);
  if (!kind) { return { data, report: { kind: "other", cleaned: false, removed: [], reason: "browser" } }; }
  const out = new Output(data.length + 18);
  const removed = [];
  const complete = kind === "jpeg" ? cleanJpeg(data, out, removed) : cleanPng(data, out, removed);
  return {
    data: out.done(),
    report: { kind, cleaned: complete, removed, reason: complete ? "" : "damaged" },
  };
}
