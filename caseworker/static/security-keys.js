// Security keys (WebAuthn) for the back office: a form marked data-webauthn="create" or
// "get" asks the server for options (a POST with the form's CSRF token), lets the browser
// talk to the key, puts the key's answer in the form's "answer" field and sends the form.
// The server checks everything (cases/accounts/security_keys.py); this file only carries
// bytes between the page and the browser's WebAuthn API.
"use strict";

(function () {
  function fromB64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
  }

  function toB64url(buffer) {
    let raw = "";
    new Uint8Array(buffer).forEach((b) => { raw += String.fromCharCode(b); });
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    const o = JSON.parse(json);
    o.challenge = fromB64url(o.challenge);
    o.user.id = fromB64url(o.user.id);
    o.excludeCredentials = (o.excludeCredentials || []).map(
      (c) => Object.assign({}, c, { id: fromB64url(c.id) }));
    return { publicKey: o };
  }

  function requestOptions(json) {
    const o = JSON.parse(json);
    o.challenge = fromB64url(o.challenge);
    o.allowCredentials = (o.allowCredentials || []).map(
      (c) => Object.assign({}, c, { id: fromB64url(c.id) }));
    return { publicKey: o };
  }

  function answerOf(credential) {
    const r = credential.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) { response.userHandle = toB64url(r.userHandle); }
    }
    return JSON.stringify({
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type,
      response: response, clientExtensionResults: credential.getClientExtensionResults(),
    });
  }

  function say(form, text) {
    const status = form.querySelector("[data-webauthn-status]");
    if (status) { status.textContent = text; }
  }

  async function run(form) {
    const mode = form.dataset.webauthn;
    const token = form.querySelector("input[name$='csrf_token']").value;
    say(form, form.dataset.waiting || "");
    const reply = await fetch(form.dataset.optionsUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Content-Type": "application/json" }, body: "{}",
    });
    if (!reply.ok) { throw new Error("options " + reply.status); }
    const options = await reply.text();
    const credential = mode === "create"
      ? await navigator.credentials.create(creationOptions(options))
      : await navigator.credentials.get(requestOptions(options));
    form.querySelector("input[name='answer']").value = answerOf(credential);
    form.submit();
  }

  document.querySelectorAll("form[data-webauthn]").forEach((form) => {
    if (!window.PublicKeyCredential) {
      say(form, form.dataset.unsupported || "");
      return;
    }
    form.addEventListener("submit", (event) => {
      if (form.querySelector("input[name='answer']").value) { return; }
      event.preventDefault();
      run(form).catch(() => say(form, form.dataset.failed || ""));
    });
  });
}());
