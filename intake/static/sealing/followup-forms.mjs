// The identity and retaliation forms of a sealed follow-up session (the browser holds the
// reporter's key: followup-login.mjs): late identity details are sealed here for the
// custodians, a retaliation report is sealed here as a report is (sealed-report.mjs), for
// the holders the intake names (intake/followup/sealed_views.py), each holder's key checked
// against the instance's key-signing key first. The server stores ciphertexts only.

import * as sb from "./sealbox-crypto.mjs";
import { sealIdentity, sealReport, verifiedKeys } from "./sealed-report.mjs";

const KEY_ITEM = "sealbox-reporter-key";
const data = JSON.parse(document.getElementById("followup-form-sealing")?.textContent || "null");

function showError(form, field, message) {
  form.querySelectorAll(".sealing-error").forEach((old) => old.remove());
  const error = document.createElement("p");
  error.className = "error-message sealing-error";
  error.setAttribute("role", "alert");
  error.textContent = message;
  (field || form).before(error);
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

const valueOf = (form, name) => (form.elements[name]?.value || "").replace(/\r\n?/g, "\n").trim();

async function post(body) {
  const response = await fetch(data.send, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json",
               "X-CSRFToken": document.querySelector("input[name=csrf_token]").value },
    body: JSON.stringify(body),
  });
  return response.json().catch(() => ({}));
}

async function sendIdentity(form) {
  const details = {};
  for (const name of ["name", "contact", "other"]) {
    const value = valueOf(form, name);
    if (value) { details[name] = value; }
  }
  if (!Object.keys(details).length) { showError(form, form.elements.name, data.words.no_details); return; }
  if (!form.elements.understood.checked) {
    showError(form, form.elements.understood, data.words.not_understood);
    return;
  }
  const keys = await verifiedKeys(data.keys);
  return post({ identity: sealIdentity(keys, details, data.case_id) });
}

async function sendRetaliation(form) {
  const what = valueOf(form, "what");
  if (!what) { showError(form, form.elements.what, data.words.no_what); return; }
  const stored = sessionStorage.getItem(KEY_ITEM);
  if (!stored) { showError(form, null, data.words.no_key); return; }
  const sodium = await sb.ready();
  const privateKey = sodium.from_base64(stored, sodium.base64_variants.ORIGINAL);
  const reporter = { lookupHash: new Uint8Array(32), publicKey: sb.publicKeyOf(privateKey) };
  sodium.memzero(privateKey);
  const answers = ["when", "needs"]
    .filter((key) => valueOf(form, key))
    .map((key) => ({ key, question: data.questions[key], answer: valueOf(form, key) }));
  const body = { text: what, answers, retaliation: true, language: data.language };
  const keys = await verifiedKeys(data.keys);
  return post(sealReport(keys, reporter, body, null, {}));
}

async function submitted(event) {
  event.preventDefault();
  const form = event.target;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = form.id === "identity-form" ? await sendIdentity(form) : await sendRetaliation(form);
    if (answer && answer.next) { window.location.assign(answer.next); return; }
    if (answer) { showError(form, null, answer.message || data.words.failed); }
  } catch (error) {
    showError(form, null, data.words.failed);
  } finally {
    button.disabled = false;
  }
}

if (data && typeof WebAssembly === "object") {
  document.getElementById("identity-form")?.addEventListener("submit", submitted);
  document.getElementById("retaliation-form")?.addEventListener("submit", submitted);
}
