// Conversations: live reply counter, pending preview, selection, saved replies and keyboard
// shortcuts.
(() => {
  const MAX_DEFAULT = 150;
  const chars = (text) => Array.from(text).length; // code points, as TikTok counts them
  // Saved replies travel as escaped attributes (never as script): their text is the team's.
  const savedReplies = Array.from(document.querySelectorAll("#cv-saved-replies [data-text]"))
    .map((node) => ({ title: node.dataset.title, text: node.dataset.text }));

  // Mirrors conversations.teamwork.saved_reply_render.
  function fillPlaceholders(text, item) {
    const username = item.dataset.authorUsername || "";
    const values = {
      name: item.dataset.authorName || username || "there",
      username: username ? `@${username}` : "",
      account: item.dataset.account ? `@${item.dataset.account}` : "",
    };
    return text.replace(/\{([^{}]*)\}/g, (match, key) => (key in values ? values[key] : match)).trim();
  }
  function insertSaved(textarea, index) {
    const saved = savedReplies[index];
    if (!saved) return;
    const item = textarea.closest(".cv-item");
    const text = fillPlaceholders(saved.text, item);
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? textarea.value.length;
    const before = textarea.value.slice(0, start);
    const glue = before && !/\s$/.test(before) ? " " : "";
    textarea.value = before + glue + text + textarea.value.slice(end);
    const caret = (before + glue + text).length;
    textarea.setSelectionRange(caret, caret);
    textarea.focus();
    updateCounter(textarea);
  }
  function newToken() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
  }
  function stampTokens(root) {
    root.querySelectorAll("[data-client-token]").forEach((input) => { if (!input.value) input.value = newToken(); });
  }
  stampTokens(document);

  function updateCounter(textarea) {
    const form = textarea.closest("[data-reply-form]");
    if (!form) return;
    const max = Number(textarea.dataset.max || MAX_DEFAULT);
    const used = chars(textarea.value.trim());
    const counter = form.querySelector("[data-count]");
    const submit = form.querySelector("[data-reply-submit]");
    if (counter) {
      counter.textContent = used > max ? `${used}/${max} · ${used - max} too many` : `${used}/${max}`;
      counter.classList.toggle("is-over", used > max);
      counter.classList.toggle("is-near", used <= max && used > max - 15);
    }
    if (submit) submit.disabled = used === 0 || used > max;
  }

  function items() { return Array.from(document.querySelectorAll(".cv-item")); }
  function focused() { return document.querySelector(".cv-item.is-focused"); }
  function focusItem(item) {
    if (!item) return;
    items().forEach((el) => el.classList.remove("is-focused"));
    item.classList.add("is-focused");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    const all = items();
    if (!all.length) return;
    const current = all.indexOf(focused());
    const next = current === -1 ? 0 : Math.min(Math.max(current + step, 0), all.length - 1);
    focusItem(all[next]);
  }
  function openReply(item) {
    const form = item && item.querySelector("[data-reply-form]");
    if (!form) return;
    form.classList.remove("hidden");
    const textarea = form.querySelector("textarea");
    updateCounter(textarea);
    textarea.focus();
  }
  function press(item, key) {
    const button = item && item.querySelector(`.cv-actions [data-key="${key}"]`);
    if (button) button.click();
  }
  function openMore(item, focusSelector) {
    const more = item && item.querySelector("[data-more]");
    if (!more) return;
    more.open = true;
    // Not the forms' hidden CSRF inputs, which come first and cannot take the focus.
    const target = more.querySelector(focusSelector || "button, select, input:not([type=hidden]), textarea");
    if (target) target.focus();
  }
  function updateSelection() {
    const boxes = Array.from(document.querySelectorAll("[data-select]"));
    const chosen = boxes.filter((b) => b.checked).length;
    const label = document.querySelector("[data-selected-count]");
    if (label) label.textContent = chosen ? `${chosen} selected` : "Select all";
    const all = document.querySelector("[data-select-all]");
    if (all) all.checked = boxes.length > 0 && chosen === boxes.length;
  }

  document.addEventListener("input", (event) => {
    if (event.target.matches("[data-reply-input]")) updateCounter(event.target);
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-saved-reply]")) {
      const textarea = event.target.closest("[data-reply-form]").querySelector("[data-reply-input]");
      if (event.target.value !== "") insertSaved(textarea, Number(event.target.value));
      event.target.value = "";
      return;
    }
    if (event.target.matches("[data-autosubmit]")) { event.target.form.requestSubmit(); return; }
    if (event.target.matches("[data-select-all]")) {
      document.querySelectorAll("[data-select]").forEach((b) => { b.checked = event.target.checked; });
    }
    if (event.target.matches("[data-select], [data-select-all]")) updateSelection();
  });
  document.addEventListener("click", (event) => {
    const reply = event.target.closest("[data-action=reply]");
    if (reply) { const item = reply.closest(".cv-item"); focusItem(item); openReply(item); return; }
    const cancel = event.target.closest("[data-reply-cancel]");
    if (cancel) { cancel.closest("[data-reply-form]").classList.add("hidden"); return; }
    const item = event.target.closest(".cv-item");
    if (item && !event.target.closest("a, button, input, textarea, label")) focusItem(item);
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id === "bulk-form" && !document.querySelector("[data-select]:checked")) {
      event.preventDefault();
      window.alert("Select at least one comment first.");
    }
  });
  // Show the reply as pending while TikTok is asked; the server's answer replaces the item.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.target.closest && event.target.closest("[data-reply-form]");
    if (!form) return;
    const textarea = form.querySelector("textarea");
    const preview = document.createElement("div");
    preview.className = "cv-reply-preview";
    const badge = document.createElement("span");
    badge.className = "badge badge-unconfirmed";
    badge.textContent = "Pending";
    const text = document.createElement("span");
    text.textContent = textarea.value.trim(); // textContent: the draft is never parsed as HTML
    preview.append(badge, text);
    form.after(preview);
    form.querySelectorAll("button, textarea").forEach((el) => { el.disabled = true; });
  });
  document.addEventListener("htmx:afterSwap", () => {
    document.querySelectorAll("[data-reply-input]").forEach((t) => { if (t.value) updateCounter(t); });
    stampTokens(document);
  });
  // One "More" menu open at a time.
  document.addEventListener("toggle", (event) => {
    if (!event.target.matches || !event.target.matches("[data-more]") || !event.target.open) return;
    document.querySelectorAll("[data-more][open]").forEach((d) => { if (d !== event.target) d.open = false; });
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.target.matches("[data-reply-input]")) {
      if (event.key === "Escape") { event.target.closest("[data-reply-form]").classList.add("hidden"); focusItem(event.target.closest(".cv-item")); }
      if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) { event.preventDefault(); event.target.form.requestSubmit(); }
      // Alt+1…9 inserts the n-th saved reply (event.code: Alt changes event.key on macOS).
      const digit = /^Digit([1-9])$/.exec(event.code || "");
      if (event.altKey && digit) { event.preventDefault(); insertSaved(event.target, Number(digit[1]) - 1); }
      return;
    }
    if (event.key === "Escape") {
      const open = event.target.closest && event.target.closest("[data-more][open]");
      if (open) { open.open = false; focusItem(open.closest(".cv-item")); return; }
    }
    if (event.target.closest("input, textarea, select, [contenteditable]") || event.metaKey || event.ctrlKey || event.altKey) return;
    const item = focused();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "r": if (item) { event.preventDefault(); openReply(item); } break;
      case "h": press(item, "h"); break;
      case "e": press(item, "e"); break;
      case "l": press(item, "l"); break;
      case "u": press(item, "u"); break;
      case "a": press(item, "a"); break;
      case "m": if (item) { event.preventDefault(); openMore(item); } break;
      case "t": if (item) { event.preventDefault(); openMore(item, "[data-label-input]"); } break;
      case "n": if (item) { event.preventDefault(); openMore(item, "[data-note-input]"); } break;
      case "s": if (item) { event.preventDefault(); openReply(item); const pick = item.querySelector("[data-saved-reply]"); if (pick) pick.focus(); } break;
      case "x": { const box = item && item.querySelector("[data-select]"); if (box) { box.checked = !box.checked; updateSelection(); } break; }
      default: return;
    }
  });
  // Keep the focus on the same comment after an htmx swap replaced it.
  let focusedId = null;
  document.addEventListener("htmx:beforeRequest", () => {
    const item = focused();
    focusedId = item ? item.dataset.comment : null;
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!focusedId || focused()) return;
    focusItem(document.getElementById(`c-${focusedId}`));
  });
})();
