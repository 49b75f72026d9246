// Shared behaviour for every page: the menu on narrow screens, menus that close, confirmations,
// focusable scroll regions, the installable app (service worker) and device alerts.
(function () {
  "use strict";

  // --- Navigation drawer (narrow screens) ---------------------------------------------------
  const shell = document.querySelector(".shell");
  const toggle = document.querySelector(".menu-toggle");
  const sidebar = document.getElementById("sidebar");
  const main = document.getElementById("main");

  function setNav(open, returnFocus) {
    if (!shell || !toggle) return;
    shell.classList.toggle("nav-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    // While the drawer covers the page, the page behind it cannot be reached.
    if (main) main.inert = open;
    if (open) {
      const first = sidebar && sidebar.querySelector(".nav a.active, .nav a, a, button, summary");
      if (first) first.focus();
    } else if (returnFocus) {
      toggle.focus();
    }
  }
  if (toggle) {
    toggle.addEventListener("click", () => setNav(!shell.classList.contains("nav-open"), false));
    document.querySelectorAll("[data-nav-close]").forEach((el) => el.addEventListener("click", () => setNav(false, true)));
    const wide = window.matchMedia("(min-width: 961px)");
    wide.addEventListener("change", () => { if (wide.matches) setNav(false, false); });
  }

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (shell && shell.classList.contains("nav-open")) {
      setNav(false, true);
      return;
    }
    const open = document.querySelector("details.switcher[open], details.notifications[open]");
    if (open) {
      open.removeAttribute("open");
      const summary = open.querySelector("summary");
      if (summary) summary.focus();
    }
  });

  document.addEventListener("click", (event) => {
    document.querySelectorAll("details.switcher[open], details.notifications[open]").forEach((el) => {
      if (!el.contains(event.target)) el.removeAttribute("open");
    });
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    const message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // --- Wide tables scroll in a focusable region, so keyboards can scroll them too -----------
  function labelFor(el) {
    const card = el.closest(".card, section");
    const heading = card && card.querySelector("h2, h3, caption");
    return heading ? heading.textContent.trim() : "Table";
  }
  function makeScrollable(root) {
    root.querySelectorAll("table.table").forEach((table) => {
      if (table.closest(".table-scroll, .an-table-wrap, [data-scroll-region]")) return;
      const wrap = document.createElement("div");
      wrap.className = "table-scroll";
      table.parentNode.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
    root.querySelectorAll(".table-scroll, .an-table-wrap, [data-scroll-region]").forEach((el) => {
      if (el.hasAttribute("tabindex")) return;
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "region");
      if (!el.hasAttribute("aria-label")) el.setAttribute("aria-label", labelFor(el) + " (scrolls sideways)");
    });
  }
  makeScrollable(document);
  document.addEventListener("htmx:afterSettle", (event) => makeScrollable(event.target));

  // --- Composer: the phone preview on demand when the page is one column -------------------
  const composer = document.querySelector("form.composer");
  const preview = composer && composer.querySelector(":scope > aside");
  if (composer && preview) {
    if (!preview.id) preview.id = "composer-preview";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn preview-toggle";
    button.setAttribute("aria-controls", preview.id);
    button.setAttribute("aria-expanded", "false");
    button.dataset.testid = "preview-toggle";
    button.textContent = "Show preview";
    button.addEventListener("click", () => {
      const open = composer.classList.toggle("preview-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? "Hide preview" : "Show preview";
    });
    composer.prepend(button);
  }

  // --- Installable app ----------------------------------------------------------------------
  const swUrl = document.body.dataset.sw;
  if (swUrl && "serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", () => {
      navigator.serviceWorker.register(swUrl, { scope: "/" }).catch(() => { /* the site works without it */ });
    });
  }

  // --- Notifications the member allowed, shown while the app is open -----------------------
  const bell = document.querySelector("details.notifications[data-feed]");
  const enable = document.querySelector("[data-notifications-enable]");
  const canNotify = "Notification" in window;
  if (enable && canNotify && Notification.permission === "default") {
    enable.hidden = false;
    enable.addEventListener("click", () => {
      Notification.requestPermission().then(() => { enable.hidden = true; });
    });
  }
  if (bell) {
    const seenKey = "later:seen-notifications";
    let seen;
    // The very first visit on this device only learns what is already there; after that, anything
    // not seen before is news, even when it arrived while another page was loading.
    let first = localStorage.getItem(seenKey) === null;
    try { seen = new Set(JSON.parse(localStorage.getItem(seenKey) || "[]")); } catch (e) { seen = new Set(); }
    const iconLink = document.querySelector("link[rel=apple-touch-icon]");
    const iconUrl = iconLink ? iconLink.href : undefined;

    function show(note) {
      const options = { body: note.body, tag: note.id, data: { url: note.url || "/" }, icon: iconUrl };
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.ready.then((reg) => reg.showNotification(note.title, options));
      } else {
        const shown = new Notification(note.title, options);
        shown.onclick = () => { window.focus(); if (note.url) window.location.href = note.url; };
      }
    }
    function updateBadge(count) {
      const summary = bell.querySelector("summary");
      let dot = summary.querySelector(".dot");
      if (count && !dot) {
        dot = document.createElement("span");
        dot.className = "dot";
        summary.appendChild(dot);
      }
      if (dot) {
        if (count) dot.textContent = String(count); else dot.remove();
      }
      summary.setAttribute("aria-label", count ? "Notifications, " + count + " unread" : "Notifications");
    }
    async function poll() {
      if (document.hidden) return;
      try {
        const resp = await fetch(bell.dataset.feed, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!resp.ok) return;
        const data = await resp.json();
        updateBadge(data.unread);
        const fresh = data.notifications.filter((n) => !seen.has(n.id));
        // The ones already on screen when the page opened are not news.
        if (!first && canNotify && Notification.permission === "granted") fresh.slice(0, 3).forEach(show);
        fresh.forEach((n) => seen.add(n.id));
        localStorage.setItem(seenKey, JSON.stringify(Array.from(seen).slice(-200)));
        first = false;
      } catch (e) { /* offline: try again later */ }
    }
    poll();
    setInterval(poll, 30000);
    window.Later = Object.assign(window.Later || {}, { pollNotifications: poll });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  }

  // --- Offline notice on pages already open -------------------------------------------------
  let offlineNote = null;
  window.addEventListener("offline", () => {
    if (offlineNote) return;
    offlineNote = document.createElement("div");
    offlineNote.className = "offline-note";
    offlineNote.setAttribute("role", "status");
    offlineNote.textContent = "You are offline. Changes can't be saved until the connection is back.";
    document.body.appendChild(offlineNote);
  });
  window.addEventListener("online", () => { if (offlineNote) { offlineNote.remove(); offlineNote = null; } });

  // Behaviour that used to sit in inline handlers (the Content-Security-Policy forbids those).
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-dismiss]");
    if (button && button.parentElement) button.parentElement.remove();
  });
  document.addEventListener("change", (event) => {
    const field = event.target.closest("[data-submit-on-change]");
    if (field && field.form) field.form.requestSubmit();
  });
  // Third-party images (TikTok CDN avatars and covers) that fail to load are removed.
  document.addEventListener("error", (event) => {
    if (event.target instanceof HTMLImageElement && event.target.hasAttribute("data-remove-on-error")) event.target.remove();
  }, true);
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("img[data-remove-on-error]").forEach((img) => {
      if (img.complete && img.naturalWidth === 0) img.remove();
    });
  });
  // The API token is shown once: selecting it on focus makes copying it one keystroke.
  document.addEventListener("focusin", (event) => {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
