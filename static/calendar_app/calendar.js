// Calendar: drag posts to reschedule, drag media onto a day to start a post. No build step.
(function () {
  "use strict";
  const root = document.querySelector(".cal-layout");
  if (!root) return;
  const canEdit = root.dataset.canEdit === "1";
  const toast = document.querySelector(".cal-toast");
  const csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";

  function say(message, kind) {
    if (!toast) return;
    toast.textContent = message;
    toast.className = "cal-toast " + (kind || "");
    toast.hidden = false;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { toast.hidden = true; }, kind === "error" ? 9000 : 4000);
  }

  // The viewer's own zone, where it differs from the workspace's.
  const tzNote = document.querySelector("[data-workspace-tz]");
  let browserTz = "";
  try { browserTz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* old browser */ }
  if (tzNote && browserTz && browserTz !== tzNote.dataset.workspaceTz) {
    const span = tzNote.querySelector(".cal-browser-tz");
    span.textContent = " · your browser is in " + browserTz + " (hover a post for your local time)";
    span.hidden = false;
    const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    document.querySelectorAll(".cal-post[data-utc]").forEach((el) => {
      if (el.dataset.utc) el.title += " · " + fmt.format(new Date(el.dataset.utc)) + " your time";
    });
  }

  // A card's reschedule URL is its own URL + "reschedule/" (kept out of the markup of busy pages).
  document.querySelectorAll('.cal-post[data-reschedule-url=""]').forEach((el) => {
    el.dataset.rescheduleUrl = el.getAttribute("href") + "reschedule/";
  });

  // The week view opens at the working day rather than at midnight.
  const week = document.querySelector(".cal-week[data-scroll-hour]");
  if (week) {
    const row = week.querySelector('.cal-hour[data-hour="' + week.dataset.scrollHour + '"]');
    const head = week.querySelector(".cal-week-head");
    if (row) {
      const offset = row.getBoundingClientRect().top - week.getBoundingClientRect().top;
      week.scrollTop += offset - (head ? head.offsetHeight : 0);
    }
  }

  // A larger preview of a card on hover and keyboard focus: one shared box, filled from the
  // card's data attributes, so a busy calendar carries no hidden markup per card.
  const peek = document.createElement("div");
  peek.className = "cal-peek";
  peek.id = "cal-peek";
  peek.setAttribute("role", "tooltip");
  peek.hidden = true;
  document.body.appendChild(peek);
  function showPeek(card) {
    peek.textContent = "";
    const thumb = card.querySelector("img.cal-post-thumb");
    if (thumb) {
      const img = document.createElement("img");
      img.src = thumb.getAttribute("src");
      img.alt = "";
      peek.appendChild(img);
    }
    const who = document.createElement("div");
    who.className = "peek-acct";
    who.textContent = card.title || "";
    const cap = document.createElement("div");
    cap.className = "peek-cap";
    cap.textContent = card.dataset.peek || "(no caption)";
    peek.append(who, cap);
    peek.hidden = false;
    const box = card.getBoundingClientRect();
    const width = peek.offsetWidth, height = peek.offsetHeight;
    let left = box.right + 8;
    if (left + width > window.innerWidth - 8) left = Math.max(8, box.left - width - 8);
    const top = Math.min(Math.max(8, box.top), Math.max(8, window.innerHeight - height - 8));
    peek.style.left = left + "px";
    peek.style.top = top + "px";
    card.setAttribute("aria-describedby", "cal-peek");
  }
  function hidePeek(card) {
    peek.hidden = true;
    if (card) card.removeAttribute("aria-describedby");
  }
  function cardOf(ev) { return ev.target.closest && ev.target.closest(".cal-post[data-peek]"); }
  document.addEventListener("mouseover", (ev) => { const c = cardOf(ev); if (c && !c.contains(ev.relatedTarget)) showPeek(c); });
  document.addEventListener("mouseout", (ev) => { const c = cardOf(ev); if (c && !c.contains(ev.relatedTarget)) hidePeek(c); });
  document.addEventListener("focusin", (ev) => { const c = cardOf(ev); if (c) showPeek(c); });
  document.addEventListener("focusout", (ev) => { const c = cardOf(ev); if (c) hidePeek(c); });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") hidePeek(null); });
  document.addEventListener("dragstart", () => hidePeek(null));

  if (!canEdit) return;

  let dragged = null;
  document.addEventListener("dragstart", (ev) => {
    const post = ev.target.closest && ev.target.closest(".cal-post[draggable=true]");
    const media = ev.target.closest && ev.target.closest(".cal-media[draggable=true]");
    if (post) {
      dragged = { type: "post", el: post };
      ev.dataTransfer.setData("text/plain", "post:" + post.dataset.postId);
      ev.dataTransfer.effectAllowed = "move";
      post.classList.add("dragging");
    } else if (media) {
      dragged = { type: "media", el: media };
      ev.dataTransfer.setData("text/plain", "media:" + media.dataset.mediaId);
      ev.dataTransfer.effectAllowed = "copy";
    }
  });
  document.addEventListener("dragend", () => {
    document.querySelectorAll(".dragging").forEach((el) => el.classList.remove("dragging"));
    document.querySelectorAll(".drop-over").forEach((el) => el.classList.remove("drop-over"));
  });

  function targetOf(ev) {
    return ev.target.closest && ev.target.closest(".cal-free[data-date], .cal-day[data-date], .cal-slot[data-date]");
  }
  document.addEventListener("dragover", (ev) => {
    const t = targetOf(ev);
    if (!t || !dragged) return;
    ev.preventDefault();
    document.querySelectorAll(".drop-over").forEach((el) => el !== t && el.classList.remove("drop-over"));
    t.classList.add("drop-over");
  });
  document.addEventListener("dragleave", (ev) => {
    const t = targetOf(ev);
    if (t && !t.contains(ev.relatedTarget)) t.classList.remove("drop-over");
  });
  document.addEventListener("drop", (ev) => {
    const t = targetOf(ev);
    if (!t || !dragged) return;
    ev.preventDefault();
    t.classList.remove("drop-over");
    const what = dragged;
    dragged = null;
    if (what.type === "media") {
      const url = new URL(root.dataset.composeUrl, window.location.href);
      url.searchParams.set("media", what.el.dataset.mediaId);
      url.searchParams.set("date", t.dataset.date);
      window.location.href = url.toString();
      return;
    }
    reschedule(what.el, t);
  });

  async function reschedule(el, target) {
    const origin = el.parentElement;
    const next = el.nextSibling;
    // Optimistic move; snapped back below if the server refuses.
    const slot = target.dataset.exactTime ? target : null;  // an empty posting slot
    const head = target.querySelector(".cal-day-head");
    if (slot) slot.before(el); else if (head) head.after(el); else target.appendChild(el);
    el.classList.add("saving");
    const body = new FormData();
    body.append("date", target.dataset.date);
    if (slot) body.append("time", slot.dataset.time);
    else if (target.dataset.time) body.append("time", target.dataset.time.slice(0, 2) + ":" + (el.dataset.minutes || "00"));
    try {
      const resp = await fetch(el.dataset.rescheduleUrl, {
        method: "POST",
        body: body,
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
        credentials: "same-origin",
      });
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error((data.error && data.error.message) || "The post could not be moved.");
      const p = data.post;
      el.dataset.utc = p.scheduled_at;
      const time = el.querySelector("[data-role=time]");
      if (time) time.textContent = p.display_time;
      // The server is the authority: if it put the post on another day, show it there.
      if (p.display_date !== target.dataset.date) {
        const real = document.querySelector('.cal-day[data-date="' + p.display_date + '"]');
        if (real) real.appendChild(el);
      }
      if (slot) slot.remove();  // the slot is taken now
      el.classList.add("moved");
      say("Moved to " + p.display_date + " at " + p.display_time + " (" + p.scheduled_tz + ").", "ok");
    } catch (err) {
      if (next && next.parentElement === origin) origin.insertBefore(el, next); else origin.appendChild(el);
      say(err.message, "error");
    } finally {
      el.classList.remove("saving");
    }
  }
})();
