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
    return ev.target.closest && ev.target.closest(".cal-day[data-date], .cal-slot[data-date]");
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
    const head = target.querySelector(".cal-day-head");
    if (head) head.after(el); else target.appendChild(el);
    el.classList.add("saving");
    const body = new FormData();
    body.append("date", target.dataset.date);
    if (target.dataset.time) body.append("time", target.dataset.time.slice(0, 2) + ":" + (el.dataset.minutes || "00"));
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
