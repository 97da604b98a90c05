// The report form when the instance seals in the browser (settings.seal_in_browser): the
// review is shown here instead of on the server's review page, the report is sealed here
// (sealed-report.mjs) and the receipt page, fetched without the receipt, is filled in here.
// Nothing the reporter typed leaves this page unsealed. Without WebAssembly (Tor Browser's
// Safer and Safest modes) this module does nothing and the form posts to the server as ever.

import { normalizeReceipt, digitValue, ready } from "./sealbox-crypto.mjs";
import { findIdentifying, segments } from "./identifying.mjs";
import { sendReport, KeysNotVerified, SendRefused } from "./sealed-report.mjs";
import { cleanName, cleanedHere, FileNotSent } from "./sealed-files.mjs";

const data = JSON.parse(document.getElementById("sealing-data")?.textContent || "null");
const form = document.getElementById("report-form");
const words = data ? data.words : {};

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
const labelOf = (control) => $(`label[for="${control.id}"]`)?.firstChild?.textContent.trim() || "";
const legendOf = (name) => form.elements[name]?.[0]?.closest("fieldset")?.querySelector("legend")
  ?.firstChild?.textContent.trim() || "";
const valueOf = (name) => (form.elements[name]?.value || "").replace(/\r\n?/g, "\n");
const checked = (name) => $$(`input[name="${name}"]:checked`, form);
const csrf = () => form.elements.csrf_token.value;

function element(tag, text, attributes = {}) {
  const made = document.createElement(tag);
  if (text !== undefined) { made.textContent = text; }
  for (const [name, value] of Object.entries(attributes)) { made.setAttribute(name, value); }
  return made;
}

// -- what the server's ReportForm would make of the same fields --------------------------

function report() {
  const answers = [];
  for (const q of data.questions) {
    const answer = valueOf(q.name).trim();
    if (answer) { answers.push({ key: q.key, question: q.question, answer }); }
  }
  return { text: valueOf("description").trim(), answers, language: data.language };
}

function identity() {
  const details = {};
  for (const [key, name] of [["name", "identity_name"], ["contact", "identity_contact"],
                             ["other", "identity_other"]]) {
    const value = valueOf(name).trim();
    if (value) { details[key] = value; }
  }
  return Object.keys(details).length ? details : null;
}

function routing() {
  return { category: form.elements.category ? valueOf("category") : "",
           exclude: checked("exclude").map((box) => box.value) };
}

// -- checking before the review, as the server's form would --------------------------------

function problems() {
  const found = [];
  const tooLong = (name, limit) => {
    const count = valueOf(name).length;
    if (count > limit) {
      found.push([name, words.too_long.replace("999999001", count.toLocaleString(data.language))
        .replace("999999002", limit.toLocaleString(data.language))]);
    }
  };
  if (!valueOf("description").trim()) { found.push(["description", words.required]); }
  tooLong("description", data.max_chars);
  for (const q of data.questions) { if (form.elements[q.name]?.type !== "radio") { tooLong(q.name, q.limit); } }
  tooLong("identity_name", data.short_chars);
  tooLong("identity_contact", data.short_chars);
  tooLong("identity_other", data.short_chars * 4);
  return found;
}

function showProblems(found) {
  $$(".sealing-error", form).forEach((old) => old.remove());
  $("#sealing-summary")?.remove();
  $$("[aria-invalid]", form).forEach((field) => field.removeAttribute("aria-invalid"));
  if (!found.length) { return; }
  const summary = element("div", undefined, { class: "error-summary", role: "alert",
    tabindex: "-1", id: "sealing-summary", "aria-labelledby": "sealing-summary-h" });
  summary.append(element("h2", words.problem, { id: "sealing-summary-h" }));
  const list = element("ul");
  for (const [name, message] of found) {
    const field = form.elements[name];
    const id = `${field.id}-sealing-error`;
    field.before(element("p", message, { class: "error-message sealing-error", id }));
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", `${field.getAttribute("aria-describedby") || ""} ${id}`.trim());
    const item = element("li");
    item.append(element("a", `${labelOf(field)}: ${message}`, { href: `#${field.id}` }));
    list.append(item);
  }
  summary.append(list);
  form.before(summary);
  summary.focus();
}

// -- the review ------------------------------------------------------------------------------

function entry(list, term, ...details) {
  list.append(element("dt", term));
  const dd = element("dd");
  for (const detail of details) { dd.append(element("p", detail, { class: "multiline", dir: "auto" })); }
  list.append(dd);
}

function fillSummary(list) {
  if (form.elements.category) {
    const chosen = checked("category")[0];
    entry(list, legendOf("category"), chosen ? labelOf(chosen) : "");
  }
  entry(list, labelOf(form.elements.description), report().text);
  for (const q of data.questions) {
    const field = form.elements[q.name];
    if (!valueOf(q.name).trim()) { continue; }
    const radio = field.length !== undefined && field[0]?.type === "radio";
    entry(list, radio ? legendOf(q.name) : labelOf(field),
          radio ? labelOf(checked(q.name)[0]) : valueOf(q.name).trim());
  }
  if (form.elements.exclude) {
    const names = checked("exclude").map(labelOf);
    entry(list, words.excluded, names.length ? names.join(", ") : words.nobody_excluded);
  }
  const given = identity();
  const identityFields = ["identity_name", "identity_contact", "identity_other"]
    .filter((name) => valueOf(name).trim())
    .map((name) => `${labelOf(form.elements[name])}: ${valueOf(name).trim()}`);
  entry(list, words.identity, ...(given ? [words.identity_given, ...identityFields] : [words.identity_none]));
}

/** The server's check of the review page (intake/report/checks.py), here: the account and
 * each free-text answer, each piece that could point to the writer marked with why. */
function markIdentifying(box) {
  const texts = [[labelOf(form.elements.description), report().text]];
  for (const q of data.questions) {
    const field = form.elements[q.name];
    if (field && field.length === undefined && valueOf(q.name).trim()) {
      texts.push([labelOf(field), valueOf(q.name).trim()]);
    }
  }
  const rules = data.identifying;
  const out = $(".identifying-texts", box);
  for (const [label, text] of texts) {
    const found = findIdentifying(text, rules);
    if (!found.length) { continue; }
    out.append(element("h3", label));
    const marked = element("p", undefined, { class: "user-text marked", dir: "auto" });
    for (const [piece, kind] of segments(text, found)) {
      if (!kind) { marked.append(piece); continue; }
      marked.append(element("mark", piece), " ",
                    element("span", `(${rules.reasons[kind]})`, { class: "identify-reason" }));
    }
    out.append(marked);
  }
  box.hidden = !out.childElementCount;
}

const page = () => $("main") || document.body;
let hidden = [];
// While the review is shown, Back or a closed tab would lose the report: the browser asks
// first (the server's review page does the same, intake.js), except on the quick exit.
let reviewing = false;
window.addEventListener("beforeunload", (event) => {
  if (reviewing && !document.body.hasAttribute("data-exiting")) { event.preventDefault(); }
});

function showReview() {
  const review = $("#sealed-review").content.firstElementChild.cloneNode(true);
  fillSummary($("dl.summary", review));
  markIdentifying($("section.identifying", review));
  hidden = Array.from(page().children).filter((child) => !child.hidden);
  hidden.forEach((child) => { child.hidden = true; });
  page().append(review);
  reviewing = true;
  $$("[data-action=change]", review).forEach((button) => button.addEventListener("click", () => {
    reviewing = false;
    review.remove();
    hidden.forEach((child) => { child.hidden = false; });
    form.elements.description.focus();
  }));
  $("[data-action=send]", review).addEventListener("click", () => send(review));
  watchFiles(review);
  window.scrollTo(0, 0);
  $("h1", review).focus();
}

// -- files -------------------------------------------------------------------------------------

const chosenFiles = (review) => Array.from($("#sealed-files", review)?.files || []);
const keepMetadata = (review) => Boolean($("#sealed-keep-metadata", review)?.checked);

/** Under the file input: each file with what happens to its hidden information, and the
 * offer of the server's path when some cannot be cleaned here. */
async function describeFiles(review) {
  const list = $(".sealed-file-list", review);
  const warning = $(".sealed-as-they-are", review);
  if (!list) { return; }
  const keep = keepMetadata(review);
  const items = [];
  let asTheyAre = 0;
  for (const file of chosenFiles(review)) {
    const cleaned = keep || await cleanedHere(file);
    if (!cleaned) { asTheyAre += 1; }
    const item = element("li");
    item.append(element("strong", cleanName(file.name), { dir: "auto" }), " ",
                element("span", keep ? words.file_kept : cleaned ? words.file_cleaned : words.file_as_is));
    items.push(item);
  }
  list.replaceChildren(...items);
  warning.hidden = asTheyAre === 0;
}

function watchFiles(review) {
  const input = $("#sealed-files", review);
  if (!input) { return; }
  input.addEventListener("change", () => describeFiles(review));
  $("#sealed-keep-metadata", review).addEventListener("change", () => describeFiles(review));
  $("[data-action=server]", review).addEventListener("click", () => {
    reviewing = false;
    review.remove();
    hidden.forEach((child) => { child.hidden = false; });
    form.submit(); // the server's review page, where the files are chosen and cleaned
  });
}

/** What is wrong with the files chosen, as the server would say it, or "". */
function fileProblem(files) {
  if (files.length > data.max_files) { return words.too_many_files; }
  const large = files.find((file) => file.size > data.max_file_bytes);
  return large ? words.file_too_large.replace("{name}", cleanName(large.name)) : "";
}

function showProgress(review, total) {
  const bar = $(".sealed-progress", review);
  const sizes = chosenFiles(review).map((file) => file.size + 1);
  const all = sizes.reduce((a, b) => a + b, 0) || 1;
  bar.hidden = total === 0;
  return (index, bytes) => {
    say(review, words.sending_file.replace("999999001", (index + 1).toLocaleString(data.language))
      .replace("999999002", total.toLocaleString(data.language)), "info");
    const done = sizes.slice(0, index).reduce((a, b) => a + b, 0) + Math.min(bytes, sizes[index]);
    bar.value = done / all;
  };
}

// -- sending and the receipt -----------------------------------------------------------------

function say(review, text, kind) {
  const status = $(".sealed-status", review);
  status.textContent = "";
  status.append(element("div", undefined, { class: `notice notice-${kind}`,
                                            role: kind === "error" ? "alert" : "status" }));
  status.firstChild.append(element("p", text));
}

async function send(review) {
  const files = chosenFiles(review);
  const problem = fileProblem(files);
  if (problem) { say(review, problem, "error"); return; }
  const buttons = $$("button, input", review);
  buttons.forEach((button) => { button.disabled = true; });
  say(review, words.sealing, "info");
  const chosen = files.map((file) => ({ file, keepMetadata: keepMetadata(review) }));
  let sent;
  try {
    sent = await sendReport(data.base, csrf(), report(), identity(), routing(), chosen,
                            showProgress(review, files.length));
  } catch (error) {
    const reason = error instanceof SendRefused || error instanceof FileNotSent ? error.message
      : error instanceof KeysNotVerified ? words.not_verified : words.offline;
    say(review, `${words.failed} ${reason}`, "error");
    buttons.forEach((button) => { button.disabled = false; });
    return;
  }
  try {
    await showReceipt(sent);
  } catch (error) { // sent and stored: the receipt must be shown whatever the page does
    say(review, `${words.sent_receipt} ${groupsOf(sent.receipt).join(" ")}`, "success");
  }
}

async function showReceipt(sent) {
  const body = new URLSearchParams({ csrf_token: csrf(), acknowledge_by: sent.acknowledge_by,
                                     feedback_by: sent.feedback_by });
  const response = await fetch(data.receipt_page, { method: "POST", body, credentials: "same-origin" });
  if (!response.ok) { throw new Error(`the receipt page answered ${response.status}`); }
  const html = new DOMParser().parseFromString(await response.text(), "text/html");
  document.title = html.title;
  reviewing = false; // the receipt page asks until the receipt is saved (fillReceipt)
  page().replaceWith($("main", html) || html.body);
  fillReceipt(sent.receipt);
}

function groupsOf(receipt) {
  return receipt.match(/.{4}/g);
}

function fillReceipt(receipt) {
  const groups = groupsOf(receipt);
  const code = $(".receipt-code");
  code.setAttribute("data-receipt", groups.join(" "));
  $$(".receipt-digits", code).forEach((span, i) => { span.textContent = groups[i]; });
  $(".receipt .visually-hidden").textContent = groups.join(", ");
  let saved = false;
  window.addEventListener("beforeunload", (event) => { if (!saved) { event.preventDefault(); } });
  $("form.confirm-leave")?.addEventListener("submit", () => { saved = true; });
  const download = $("form[data-sealed-text]");
  download?.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = download.getAttribute("data-sealed-text").replace("{receipt}", groups.join(" "));
    const link = element("a", undefined, { download: "receipt.txt" });
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });
  const practise = $("form[data-correct]");
  practise?.addEventListener("submit", (event) => {
    event.preventDefault();
    const typed = practise.elements.typed.value;
    let same = false;
    try { same = normalizeReceipt(typed) === receipt; } catch (error) { same = false; }
    const result = $(".practised");
    result.textContent = "";
    result.append(element("p", same ? practise.getAttribute("data-correct")
      : practise.getAttribute("data-wrong").replace("{groups}", differingGroups(receipt, typed).join(", ")),
      { class: `notice notice-${same ? "success" : "error"}` }));
  });
  window.scrollTo(0, 0);
}

/** receipt_views._differing_groups: the groups of four that differ from what was typed. */
function differingGroups(receipt, typed) {
  const digits = Array.from(typed).map(digitValue).filter((d) => d >= 0).join("");
  const wrong = [];
  for (let n = 0; n < 7; n++) {
    if (digits.slice(4 * n, 4 * n + 4) !== receipt.slice(4 * n, 4 * n + 4)) { wrong.push(n + 1); }
  }
  return wrong.length ? wrong : [1, 2, 3, 4, 5, 6, 7];
}

// -- taking over the form ----------------------------------------------------------------------

// Switching language keeps what was typed without sending it: the form's values wait in
// this tab's sessionStorage for the same form in the other language, which takes them back
// at once (the server's way, for a page without this script, posts them).
const CARRIED = "sealbox-report-form";

function carryTo(url) {
  const values = [];
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && name !== "csrf_token") { values.push([name, value]); }
  }
  sessionStorage.setItem(CARRIED, JSON.stringify(values));
  window.location.assign(url);
}

function takeCarried() {
  const carried = sessionStorage.getItem(CARRIED);
  sessionStorage.removeItem(CARRIED);
  if (!carried) { return; }
  for (const [name, value] of JSON.parse(carried)) {
    for (const field of $$(`[name="${CSS.escape(name)}"]`, form)) {
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.value === value) { field.checked = true; }
      } else if (field.type !== "file" && field.type !== "hidden") {
        field.value = value;
      }
    }
  }
}

async function enhance() {
  if (!data || !form || typeof WebAssembly !== "object") { return; }
  takeCarried(); // at once: it needs no WebAssembly, and a quick click must find the words
  try { await ready(); } catch (error) { return; } // no WebAssembly here: the server seals
  form.addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.name === "switch_language") {
      event.preventDefault();
      carryTo(event.submitter.formAction);
      return;
    }
    event.preventDefault();
    const found = problems();
    showProblems(found);
    if (!found.length) { showReview(); }
  });
  form.setAttribute("data-sealing", "ready");
}

enhance();
