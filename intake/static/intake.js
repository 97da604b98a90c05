/* Progressive enhancement only: every page works without this file. No network requests. */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";

  // Quick exit: leave at once for an ordinary site, replacing this page in the history so
  // Back does not return here. The Esc key does the same: once, or twice within a second
  // while typing in a field (where a stray Esc must not throw away a report).
  var exit = document.querySelector("a[data-quick-exit]");
  if (exit) {
    var leave = function (event) {
      event.preventDefault();
      document.body.setAttribute("data-exiting", "yes");  // no "leave this page?" question
      document.body.style.visibility = "hidden";
      // Forget what this tab keeps for the site: a sealed session's key, a carried form.
      try { window.sessionStorage.clear(); } catch (e) { /* storage turned off */ }
      window.location.replace(exit.href);
    };
    var lastEscape = 0;
    exit.addEventListener("click", leave);
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      var typing = /^(INPUT|TEXTAREA|SELECT)$/.test((event.target && event.target.tagName) || "");
      var now = Date.now();
      if (!typing || now - lastEscape < 1000) { leave(event); }
      lastEscape = now;
    });
  }

  // Character counter for long text fields.
  document.querySelectorAll("textarea[data-maxchars]").forEach(function (area) {
    var max = parseInt(area.getAttribute("data-maxchars"), 10);
    var out = document.createElement("p");
    out.className = "hint";
    out.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", out);
    var update = function () {
      var n = area.value.length;
      out.textContent = n.toLocaleString(lang) + " / " + max.toLocaleString(lang);
      out.classList.toggle("error-message", n > max);
    };
    area.addEventListener("input", update);
    update();
  });

  // List chosen files with their sizes, and flag those over the limits before sending.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var list = input.parentElement.querySelector(".file-list");
    if (!list) { return; }
    input.addEventListener("change", function () {
      var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10);
      var maxFiles = parseInt(input.getAttribute("data-max-files"), 10);
      list.textContent = "";
      var ul = document.createElement("ul");
      Array.prototype.forEach.call(input.files, function (file, i) {
        var li = document.createElement("li");
        var mb = (file.size / 1048576).toLocaleString(lang, { maximumFractionDigits: 1 });
        li.textContent = file.name + " (" + mb + " MB)";
        if (file.size > maxBytes || i >= maxFiles) {
          li.className = "error-message";
          li.textContent = "\u26A0 " + li.textContent;
        }
        ul.appendChild(li);
      });
      list.appendChild(ul);
    });
  });

  // Copy button for the receipt.
  var code = document.querySelector("[data-receipt]");
  if (code && navigator.clipboard) {
    var copy = document.createElement("button");
    copy.type = "button";
    copy.className = "button button-secondary";
    copy.textContent = code.getAttribute("data-copy-label");
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(code.getAttribute("data-receipt")).then(function () {
        copy.textContent = code.getAttribute("data-copied-label");
      });
    });
    code.parentElement.appendChild(copy);
  }

  // Ask before leaving the receipt page until the reporter confirms it is saved.
  var confirmForm = document.querySelector("form[data-confirm-leave]");
  if (confirmForm) {
    var leaving = true;
    confirmForm.addEventListener("submit", function () { leaving = false; });
    document.querySelectorAll("form").forEach(function (f) {
      if (f !== confirmForm) { f.addEventListener("submit", function () { leaving = false; setTimeout(function () { leaving = true; }, 500); }); }
    });
    window.addEventListener("beforeunload", function (event) {
      if (leaving && !document.body.hasAttribute("data-exiting")) { event.preventDefault(); event.returnValue = confirmForm.getAttribute("data-confirm-leave"); }
    });
  }

  // The review page: Back cannot bring the typed text back (pages are never cached), so
  // the browser asks first; sending, changing and switching language do not ask.
  var review = document.querySelector("form[data-warn-leave]");
  if (review) {
    var sending = false;
    review.addEventListener("submit", function () { sending = true; });
    window.addEventListener("beforeunload", function (event) {
      if (!sending && !document.body.hasAttribute("data-exiting")) {
        event.preventDefault();
        event.returnValue = review.getAttribute("data-warn-leave");
      }
    });
  }

  // Hide the receipt while typing it, for someone typing where others can see the screen.
  document.querySelectorAll("input[data-conceal]").forEach(function (input) {
    var box = document.createElement("div");
    box.className = "choice";
    var cb = document.createElement("input");
    cb.type = "checkbox";
    cb.id = input.id + "-hide";
    var label = document.createElement("label");
    label.htmlFor = cb.id;
    label.textContent = input.getAttribute("data-conceal");
    cb.addEventListener("change", function () { input.type = cb.checked ? "password" : "text"; });
    box.appendChild(cb);
    box.appendChild(label);
    input.insertAdjacentElement("afterend", box);
  });
})();

/* Move focus to the error summary so screen readers announce the problems at once. */
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();

/* Upload progress: a form with chosen files is sent with XMLHttpRequest so the reporter
   sees how much has gone (large files over Tor take minutes). The server's answer then
   replaces the page exactly as a normal submission would. Without this script, or if the
   browser lacks what it needs, the form is sent the ordinary way. */
(function () {
  "use strict";
  var body = document.body;
  var lang = document.documentElement.lang || "en";
  if (!window.FormData || !window.XMLHttpRequest || !body.hasAttribute("data-sending")) { return; }
  document.querySelectorAll("form[enctype='multipart/form-data']").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    if (!input || form.hasAttribute("data-sealed-message")) { return; }  // sealed in the page
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.hasAttribute("formaction")) { return; }  // e.g. "Change my report"
      if (!input.files || input.files.length === 0) { return; }
      event.preventDefault();
      var data = new FormData(form);
      if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
      var buttons = form.querySelectorAll("button[type=submit]");
      var box = document.createElement("div");
      box.className = "upload-progress";
      var text = document.createElement("p");
      text.id = "upload-progress-text";
      text.setAttribute("role", "status");
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-labelledby", text.id);
      box.appendChild(text);
      box.appendChild(bar);
      form.appendChild(box);
      var announced = -1;
      var show = function (percent) {
        bar.value = percent;
        var step = Math.floor(percent / 10);  // announce every 10 %, not every packet
        if (step !== announced) {
          announced = step;
          text.textContent = body.getAttribute("data-sending").replace(
            "%(percent)s", (percent / 100).toLocaleString(lang, { style: "percent" }));
        }
      };
      show(0);
      buttons.forEach(function (b) { b.disabled = true; });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable && e.total > 0) { show(Math.floor(e.loaded * 100 / e.total)); }
      });
      xhr.upload.addEventListener("load", function () {
        show(100);
        text.textContent = body.getAttribute("data-sent");
      });
      xhr.addEventListener("load", function () {
        if (xhr.responseURL) { history.replaceState(null, "", xhr.responseURL); }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () {
        text.textContent = body.getAttribute("data-send-failed");
        bar.remove();
        buttons.forEach(function (b) { b.disabled = false; });
      });
      xhr.send(data);
    });
  });
})();
