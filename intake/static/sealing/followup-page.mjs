// The follow-up page of a sealed session: the server sent only ciphertexts
// (intake/templates/followup/sealed_thread.html), and this script opens them with the
// reporter's key, which the sign-in page derived and left in this tab's sessionStorage
// (followup-login.mjs). What the reporter writes is sealed here under the thread key, its
// files sealed and sent piece by piece (sealed-files.mjs), and a file the reporter opens is
// fetched sealed and opened here. The server never sees a word, a name or the key.

import * as sb from "./sealbox-crypto.mjs";
import { fileEntry, sendFile } from "./sealed-files.mjs";

const KEY_ITEM = "sealbox-reporter-key";
const DRAFT_ITEM = "sealbox-draft";
const page = JSON.parse(document.getElementById("followup-sealing")?.textContent || "null");
const words = page ? page.words : {};
let sodium = null;

const b64 = (bytes) => sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);
const unb64 = (text) => sodium.from_base64(text, sodium.base64_variants.ORIGINAL);
const newId = () => sodium.to_hex(sodium.randombytes_buf(8)); // cases.models.new_id
const json = (value) => new TextEncoder().encode(JSON.stringify(value));

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) { node.textContent = text; }
  for (const [name, value] of Object.entries(attributes)) { node.setAttribute(name, value); }
  return node;
}

// -- opening ------------------------------------------------------------------------------

function openCase(data, privateKey) {
  const opened = { caseId: data.case_id, thread: null, bodies: new Map(), files: new Map() };
  try {
    opened.thread = sb.openWith(privateKey, unb64(data.thread_key), data.case_id, "thread-key");
  } catch (error) {
    return opened; // every message shows as not opened
  }
  for (const m of data.messages) {
    try {
      const plain = sb.decryptRecord(opened.thread, unb64(m.record), data.case_id,
                                     `message:${m.kind}:${m.id}`);
      opened.bodies.set(m.id, { kind: m.kind, body: JSON.parse(new TextDecoder().decode(plain)) });
    } catch (error) {
      opened.bodies.set(m.id, { kind: m.kind, body: null });
    }
  }
  for (const f of data.files) {
    try {
      const meta = sb.decryptRecord(opened.thread, unb64(f.meta), data.case_id, `attachment-meta:${f.id}`);
      opened.files.set(f.id, { ...f, meta: JSON.parse(new TextDecoder().decode(meta)) });
    } catch (error) {
      opened.files.set(f.id, { ...f, meta: null });
    }
  }
  return opened;
}

function questionLabel(answer) {
  const question = answer.question || answer.key || "";
  return page.questions.builtin[question] || page.questions.configured[answer.key || ""] || question;
}

function showBody(box, entry) {
  box.replaceChildren();
  if (!entry || !entry.body) {
    box.append(element("p", words.damaged, { class: "notice" }));
    return;
  }
  const { body } = entry;
  if (body.text) { box.append(element("div", body.text, { class: "multiline" })); }
  if (Array.isArray(body.answers) && body.answers.length) {
    const list = element("dl", undefined, { class: "answers" });
    for (const a of body.answers) {
      list.append(element("dt", questionLabel(a)));
      list.append(element("dd", undefined)).append(element("div", a.answer || "", { class: "multiline" }));
    }
    box.append(list);
  }
  const heading = box.closest("article")?.querySelector(".heading-words");
  if (heading && entry.kind === "reporter_message" && body.event === "minutes_agreed") {
    heading.textContent = words.minutes_agreed;
  } else if (heading && entry.kind === "minutes" && body.revision) {
    heading.textContent = words.corrected_minutes;
  }
}

function cleaningNote(report) {
  // cases.attachments.cleaning.outcome, for the same words the server would show
  if (!report || typeof report !== "object" || !Object.keys(report).length) { return ""; }
  const notes = page.cleaning.notes;
  if (report.kept) { return notes.kept; }
  const reason = String(report.reason || "");
  if (report.cleaned) {
    const removed = (report.removed || []).map(String);
    if (!removed.length) { return notes.none_found; }
    const keys = new Set(["jpeg", "png"].includes(report.kind) ? ["photo"] : removed);
    const what = page.cleaning.removed.filter(([key]) => keys.has(key)).map(([, word]) => word);
    return notes.removed.replace("%(what)s", what.join(", "));
  }
  if (reason === "too_large" || reason === "browser") { return notes[reason]; }
  return reason ? notes.unreadable : notes.unsupported;
}

function fileSize(size) {
  const lang = document.documentElement.lang || "en";
  const [unit, value] = size < 1e6 ? ["kilobyte", size / 1e3] : ["megabyte", size / 1e6];
  return new Intl.NumberFormat(lang, { style: "unit", unit, maximumFractionDigits: 1 }).format(value);
}

function showFile(item, file, opened) {
  const link = item.querySelector("a");
  const meta = item.querySelector(".file-meta");
  if (!file.meta) {
    link.replaceWith(element("span", words.damaged));
    return;
  }
  link.textContent = file.meta.name;
  meta.textContent = meta.textContent.replace("(", `(${fileSize(file.meta.size)}, `);
  const note = file.from_reporter ? cleaningNote(file.meta.cleaning) : "";
  if (note) { item.append(element("br"), element("span", note, { class: "file-meta" })); }
  link.addEventListener("click", (event) => {
    event.preventDefault();
    download(file, opened).catch(() => { window.alert(words.failed); });
  });
}

async function download(file, opened) {
  const response = await fetch(file.url, { credentials: "same-origin" });
  if (!response.ok) { throw new Error(`HTTP ${response.status}`); }
  const sealed = new Uint8Array(await response.arrayBuffer());
  const key = sb.decryptRecord(opened.thread, unb64(file.key), opened.caseId, `attachment-key:${file.id}`);
  const plain = sb.openFile(key, sealed, opened.caseId, `attachment:${file.id}`);
  sodium.memzero(key);
  const url = URL.createObjectURL(new Blob([plain], { type: "application/octet-stream" }));
  const save = element("a", undefined, { href: url, download: file.meta.name, hidden: "" });
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// -- writing ------------------------------------------------------------------------------

function showError(form, message) {
  form.querySelectorAll(".sealing-error").forEach((old) => old.remove());
  const error = element("p", message, { class: "error-message sealing-error", role: "alert" });
  form.prepend(error);
  error.scrollIntoView({ block: "center" });
}

async function post(url, csrf, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify(body),
  });
  return { response, answer: await response.json().catch(() => ({})) };
}

async function sendMessage(form, opened) {
  const text = form.querySelector("textarea").value.replace(/\r\n?/g, "\n").trim();
  const chosen = Array.from(form.querySelector("input[type=file]")?.files || []);
  if (!text && !chosen.length) { showError(form, words.empty); return; }
  const csrf = form.elements.csrf_token.value;
  const keep = Boolean(form.querySelector("input[name=keep_metadata]")?.checked);
  const status = element("p", words.sending, { class: "hint", role: "status" });
  form.querySelector(".actions").after(status);
  form.querySelector("button[type=submit]").disabled = true;
  try {
    const files = [];
    for (const file of chosen.slice(0, page.max_files)) {
      files.push(fileEntry(opened.thread, opened.caseId,
                           await sendFile(page.files_base, csrf, opened.caseId, file, keep)));
    }
    const id = newId();
    const record = sb.encryptRecord(opened.thread, json({ text }), opened.caseId,
                                    `message:reporter_message:${id}`);
    const { response, answer } = await post(form.dataset.sealedMessage, csrf,
                                            { message: { id, record: b64(record) }, files });
    if (response.status === 401) { sessionStorage.setItem(DRAFT_ITEM, text); }
    if (answer.next) { window.location.assign(answer.next); return; }
    showError(form, answer.message || words.failed);
  } catch (error) {
    showError(form, error.message && error.reason ? error.message : words.failed);
  } finally {
    status.remove();
    form.querySelector("button[type=submit]").disabled = false;
  }
}

async function agreeMinutes(form, opened) {
  const minutesId = form.elements.minutes_id.value;
  const id = newId();
  const body = { text: "", event: "minutes_agreed", minutes_id: minutesId };
  const record = sb.encryptRecord(opened.thread, json(body), opened.caseId,
                                  `message:reporter_message:${id}`);
  const { answer } = await post(form.dataset.sealedMinutes, form.elements.csrf_token.value,
                                { minutes_id: minutesId, message: { id, record: b64(record) } });
  if (answer.next) { window.location.assign(answer.next); } else { showError(form, answer.message || words.failed); }
}

// -- the page -----------------------------------------------------------------------------

function noKey() {
  document.querySelectorAll(".sealed-body").forEach((box) => {
    box.replaceChildren(element("p", words.no_key, { class: "notice notice-error" }));
  });
}

async function enhance() {
  sodium = await sb.ready();
  document.querySelectorAll("form[action$='/logout']").forEach((form) => {
    form.addEventListener("submit", () => sessionStorage.removeItem(KEY_ITEM));
  });
  const stored = sessionStorage.getItem(KEY_ITEM);
  if (!stored) { noKey(); return; }
  const privateKey = unb64(stored);
  for (const script of document.querySelectorAll("script.sealed-case")) {
    const data = JSON.parse(script.textContent);
    const opened = openCase(data, privateKey);
    document.querySelectorAll(`.sealed-body[data-ref="${data.ref}"]`).forEach((box) => {
      showBody(box, opened.bodies.get(box.dataset.message));
    });
    document.querySelectorAll(`.sealed-files[data-ref="${data.ref}"] li[data-file]`).forEach((item) => {
      showFile(item, opened.files.get(item.dataset.file), opened);
    });
    const section = document.getElementById(`case-${data.ref}`);
    section?.querySelector("form[data-sealed-message]")?.addEventListener("submit", (event) => {
      event.preventDefault();
      if (opened.thread) { sendMessage(event.target, opened); } else { showError(event.target, words.no_key); }
    });
    section?.querySelector("form[data-sealed-minutes]")?.addEventListener("submit", (event) => {
      event.preventDefault();
      if (opened.thread) { agreeMinutes(event.target, opened).catch(() => showError(event.target, words.failed)); }
    });
  }
  sodium.memzero(privateKey);
  const draft = sessionStorage.getItem(DRAFT_ITEM);
  if (draft) {
    const box = document.querySelector("form[data-sealed-message] textarea");
    if (box && !box.value) { box.value = draft; }
    sessionStorage.removeItem(DRAFT_ITEM);
  }
}

if (page && typeof WebAssembly === "object") { enhance(); }
