// Follow-up sign-in with JavaScript on: the receipt never leaves this browser. The page
// normalises it (crypto.normalize_receipt's rules), derives the reporter's keys with the
// instance's Argon2id parameters and salt (docs/CRYPTO.md, "Derivation"), and sends only
// the look-up token (intake/followup/sealed_views.py). The private key stays in this tab's
// sessionStorage for the follow-up page (followup-page.mjs), which the tab forgets when it
// closes and the page clears at log-out. A receipt a caseworker handed over (an oral
// report not yet taken over) is replaced here by the reporter's own (takeOver).

import * as sb from "./sealbox-crypto.mjs";

export const KEY_ITEM = "sealbox-reporter-key";
export const DRAFT_ITEM = "sealbox-draft";

const data = JSON.parse(document.getElementById("followup-login-data")?.textContent || "null");
const form = document.getElementById("receipt-form");

function showError(field, message) {
  document.querySelectorAll(".sealing-error").forEach((old) => old.remove());
  const id = `${field.id}-sealing-error`;
  const error = document.createElement("p");
  error.className = "error-message sealing-error";
  error.id = id;
  error.setAttribute("role", "alert");
  error.textContent = message;
  field.before(error);
  field.setAttribute("aria-invalid", "true");
  const described = (field.getAttribute("aria-describedby") || "").split(" ");
  if (!described.includes(id)) { field.setAttribute("aria-describedby", [...described, id].join(" ").trim()); }
  field.focus();
}

function say(text) {
  let status = document.getElementById("sealing-status");
  if (!status) {
    status = document.createElement("p");
    status.id = "sealing-status";
    status.className = "hint";
    status.setAttribute("role", "status");
    form.querySelector(".actions").after(status);
  }
  status.textContent = text;
}

async function signIn(event) {
  event.preventDefault();
  const field = form.elements.receipt;
  let receipt;
  try {
    receipt = sb.normalizeReceipt(field.value);
  } catch (error) {
    showError(field, error instanceof sb.ReceiptTypo ? data.words.typo : data.words.malformed);
    return;
  }
  form.querySelector("button[type=submit]").disabled = true;
  say(data.words.deriving);
  await new Promise((resolve) => setTimeout(resolve, 0)); // let the words show first
  const sodium = await sb.ready();
  const kdf = data.receipt_kdf;
  const keys = sb.deriveReporterKeys(receipt, sodium.from_base64(kdf.salt, sodium.base64_variants.ORIGINAL),
                                     kdf.opslimit, kdf.memlimit);
  const b64 = (bytes) => sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);
  const token = keys.token.slice(); // kept for a take-over, which proves the receipt with it
  let response;
  try {
    response = await fetch(data.login, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.elements.csrf_token.value },
      body: JSON.stringify({ token: b64(keys.token) }),
    });
  } catch (error) {
    say(data.words.failed);
    sodium.memzero(token);
    form.querySelector("button[type=submit]").disabled = false;
    return;
  } finally {
    sodium.memzero(keys.master);
    sodium.memzero(keys.token);
  }
  const answer = await response.json().catch(() => ({}));
  if (response.status === 409 && answer.error === "claim") {
    // a handed-over receipt: make the reporter's own
    await takeOver(sodium, kdf, { privateKey: keys.privateKey, token }, answer);
    return;
  }
  sodium.memzero(token);
  form.querySelector("button[type=submit]").disabled = false;
  if (!response.ok) {
    sodium.memzero(keys.privateKey);
    say("");
    showError(field, answer.message || data.words.failed);
    return;
  }
  sessionStorage.setItem(KEY_ITEM, b64(keys.privateKey));
  sodium.memzero(keys.privateKey);
  const draft = form.elements.draft;
  if (draft && draft.value) { sessionStorage.setItem(DRAFT_ITEM, draft.value); }
  field.value = "";
  window.location.assign(answer.next);
}

/** A receipt a caseworker handed over works once: this page makes the reporter's own (the
 * same digits and check as the report page's), derives its keys, opens each case's thread
 * key with the handed-over receipt and wraps it to the new key, and the server moves the
 * cases to it (cases.reporting.claim.claim_sealed). The new receipt is shown here only. */
async function takeOver(sodium, kdf, handed, answer) {
  const b64 = (bytes) => sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);
  const unb64 = (text) => sodium.from_base64(text, sodium.base64_variants.ORIGINAL);
  const receipt = sb.newReceipt();
  const own = sb.deriveReporterKeys(receipt, unb64(kdf.salt), kdf.opslimit, kdf.memlimit);
  const threadKeys = {};
  for (const [caseId, wrapped] of Object.entries(answer.thread_keys)) {
    const thread = sb.openWith(handed.privateKey, unb64(wrapped), caseId, "thread-key");
    threadKeys[caseId] = b64(sb.sealFor(own.publicKey, thread, caseId, "thread-key"));
    sodium.memzero(thread);
  }
  sodium.memzero(handed.privateKey);
  const response = await fetch(answer.claim, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": form.elements.csrf_token.value },
    body: JSON.stringify({ token: b64(handed.token), lookup_hash: b64(own.lookupHash),
                           public_key: b64(own.publicKey), thread_keys: threadKeys }),
  });
  sodium.memzero(handed.token);
  sodium.memzero(own.master);
  sodium.memzero(own.token);
  const done = await response.json().catch(() => ({}));
  form.querySelector("button[type=submit]").disabled = false;
  if (!response.ok) {
    sodium.memzero(own.privateKey);
    say("");
    showError(form.elements.receipt, done.message || data.words.failed);
    return;
  }
  sessionStorage.setItem(KEY_ITEM, b64(own.privateKey));
  sodium.memzero(own.privateKey);
  form.elements.receipt.value = "";
  const page = await fetch(done.next, { credentials: "same-origin" });
  const html = new DOMParser().parseFromString(await page.text(), "text/html");
  document.title = html.title;
  const main = html.querySelector("main");
  document.querySelector("main").replaceWith(main);
  const groups = receipt.match(/.{4}/g);
  main.querySelectorAll(".receipt-digits").forEach((span, i) => { span.textContent = groups[i]; });
  main.querySelector(".receipt .visually-hidden").textContent = groups.join(", ");
  main.querySelector(".receipt-code")?.setAttribute("data-receipt", groups.join(" "));
  main.querySelector("h1")?.setAttribute("tabindex", "-1");
  main.querySelector("h1")?.focus();
}

if (data && form && typeof WebAssembly === "object") {
  form.addEventListener("submit", signIn);
}
