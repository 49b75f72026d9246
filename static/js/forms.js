// Every form acts once: its submit buttons are disabled while the request is in flight, and
// the server's one-time form token ({% form_token %}) turns a repeat that still gets through
// into a replay of the first answer.
(function () {
  "use strict";
  const BUTTONS = "button:not([type]), button[type=submit], input[type=submit]";

  function freshToken() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function setBusy(form, busy) {
    if (busy) form.setAttribute("aria-busy", "true");
    else form.removeAttribute("aria-busy");
    form.querySelectorAll(BUTTONS).forEach((button) => { button.disabled = busy; });
    if (form.id) {
      document.querySelectorAll(`[form="${CSS.escape(form.id)}"]`).forEach((el) => {
        if (el.matches(BUTTONS)) el.disabled = busy;
      });
    }
  }

  // A form that stays on the page after it was sent needs a new token for its next use.
  function release(form, sent) {
    delete form.dataset.submitting;
    setBusy(form, false);
    if (sent) form.querySelectorAll("[data-form-token]").forEach((el) => { el.value = freshToken(); });
  }
  window.laterForms = { release: release };

  function isHtmx(form) {
    return ["hx-post", "hx-put", "hx-patch", "hx-delete", "data-hx-post"].some((a) => form.hasAttribute(a));
  }

  // Capture phase: runs before page scripts, so a second click never reaches them.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") return;
    if (form.dataset.submitting) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (isHtmx(form)) return; // htmx:beforeRequest / afterRequest below
    form.dataset.submitting = "1";
    // Disabled on the next tick: the browser has collected the clicked button's name/value by
    // then, and a confirm() that said no (a later listener) has cancelled the event.
    window.setTimeout(() => {
      if (event.defaultPrevented && !("xhr" in form.dataset)) delete form.dataset.submitting;
      else setBusy(form, true);
    }, 0);
  }, true);

  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt;
    if (!(form instanceof HTMLFormElement)) return;
    form.dataset.submitting = "1";
    setBusy(form, true);
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (form instanceof HTMLFormElement) release(form, event.detail.successful);
  });

  // Back/forward cache: a page restored after submitting must be usable again.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) document.querySelectorAll("form[data-submitting]").forEach((f) => release(f, true));
  });
})();
