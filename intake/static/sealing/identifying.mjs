// What in the reporter's own text could identify them, found in the browser for a report
// sealed here: the rules of cases/reporting/identifying.py, kept equal to them by
// tests/browser/test_browser_identifying.py (the same findings on the same texts). Phone
// numbers by libphonenumber-js, the JavaScript port of Google's libphonenumber that
// Python's phonenumbers also follows, with the same full metadata. Nothing is sent.
//
// Positions here count UTF-16 units, not code points as in Python: each side cuts its own
// string, so the pieces are the same. A decimal digit outside the Basic Multilingual Plane
// (mathematical digits) is left as it is here, where Python reads it as a digit. With a
// phone region set, libphonenumber-js reads a few long numbers as phone numbers that
// Python's phonenumbers does not (1234/5678/90 in GB): the same piece is marked, with
// "a phone number" as its reason.

import { findPhoneNumbersInText } from "../vendor/libphonenumber.mjs";

export const EMAIL = "email";
export const PHONE = "phone";
export const ACCOUNT = "account";
export const NUMBER = "number";
export const PLACE = "place";
export const PERSON = "person";

const WORD = "[\\p{L}\\p{N}_]"; // Python's \w on text: letters, numbers, the underscore
const EMAIL_RE = new RegExp(`[\\p{L}\\p{N}_.+-]+@[\\p{L}\\p{N}_-]+(?:\\.[\\p{L}\\p{N}_-]+)+`, "gu");
const IBAN_RE = new RegExp(`(?<!${WORD})[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?!${WORD})`, "gu");
const LONG_NUMBER_RE = /[0-9](?:[ .\-/]?[0-9]){7,}/g;
const DIGIT = /^\p{Nd}$/u;
const MIN_NAME_CHARS = 3;

function digitOf(ch) {
  if (!DIGIT.test(ch)) { return -1; }
  const at = ch.codePointAt(0);
  let start = at;
  while (start > 0 && DIGIT.test(String.fromCodePoint(start - 1))) { start -= 1; }
  return (at - start) % 10;
}

/** The text with each decimal digit of any script as its ASCII digit, the same length. */
function asciiDigits(text) {
  let out = "";
  for (const ch of text) {
    const value = ch.length === 1 ? digitOf(ch) : -1;
    out += value >= 0 ? String(value) : ch;
  }
  return out;
}

/** For comparing names: NFKC per character, lower case, one character in, one out. */
function fold(text) {
  let out = "";
  for (const ch of text) {
    const folded = Array.from(ch.normalize("NFKC").toLowerCase())[0] || ch;
    out += folded.length === ch.length ? folded : ch;
  }
  return out;
}

const escapeRe = (text) => text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

function all(re, text, kind) {
  return Array.from(text.matchAll(re), (m) => ({ start: m.index, end: m.index + m[0].length, kind }));
}

function names(text, list, kind) {
  const folded = fold(text);
  const found = [];
  for (const name of new Set(list.map((n) => n.trim()).filter((n) => Array.from(n).length >= MIN_NAME_CHARS))) {
    const re = new RegExp(`(?<!${WORD})${escapeRe(fold(name))}(?!${WORD})`, "gu");
    found.push(...all(re, folded, kind));
  }
  return found;
}

function phones(text, region) {
  const options = region ? { defaultCountry: region } : {};
  return findPhoneNumbersInText(text, options).map((m) => ({ start: m.startsAt, end: m.endsAt, kind: PHONE }));
}

/** Every span of `text` that could identify its writer, in order, none overlapping (the
 * most specific kind wins: e-mail, phone, account, then a bare long number). */
export function findIdentifying(text, { places = [], people = [], region = "" } = {}) {
  const digits = asciiDigits(text);
  const candidates = [
    ...all(EMAIL_RE, text, EMAIL), ...phones(text, region), ...all(IBAN_RE, digits, ACCOUNT),
    ...all(LONG_NUMBER_RE, digits, NUMBER), ...names(text, places, PLACE),
    ...names(text, people, PERSON),
  ];
  const kept = [];
  for (const f of candidates) {
    if (!kept.some((k) => f.start < k.end && k.start < f.end)) { kept.push(f); }
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** The text cut at the findings: [piece, kind or null] pairs, for marking them. */
export function segments(text, findings) {
  const out = [];
  let at = 0;
  for (const f of findings) {
    if (f.start > at) { out.push([text.slice(at, f.start), null]); }
    out.push([text.slice(f.start, f.end), f.kind]);
    at = f.end;
  }
  if (at < text.length) { out.push([text.slice(at), null]); }
  return out;
}
