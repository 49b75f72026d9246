// Calendar on phones and by keyboard: the month becomes dots with counts plus the selected day's
// agenda, the week becomes one day with arrows and swipe, and every draggable post can be moved
// with a dialog (a keyboard and single-tap alternative to drag and drop).
(function () {
  "use strict";
  const root = document.querySelector(".cal-layout");
  if (!root) return;
  const canEdit = root.dataset.canEdit === "1";
  const csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  const tzNote = document.querySelector("[data-workspace-tz]");
  const workspaceTz = tzNote ? tzNote.dataset.workspaceTz : "";
  const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" });
  const shortFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  const monthFormat = new Intl.DateTimeFormat(undefined, { month: "long", timeZone: "UTC" });
  const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", timeZone: "UTC" });
  const monthName = (iso) => monthFormat.format(new Date(iso + "T00:00:00Z"));
  const weekdayName = (iso) => weekdayFormat.format(new Date(iso + "T00:00:00Z"));
  const longDay = (iso) => dayFormat.format(new Date(iso + "T00:00:00Z"));
  const shortDay = (iso) => shortFormat.format(new Date(iso + "T00:00:00Z"));
  const todayIso = (() => {
    const parts = new Intl.DateTimeFormat("en-CA", { timeZone: workspaceTz || undefined, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
    return parts;
  })();

  function cleanClone(post) {
    const copy = post.cloneNode(true);
    copy.removeAttribute("data-testid");
    copy.removeAttribute("draggable");
    copy.classList.add("cal-post-row");
    return copy;
  }

  // --- Move dialog ---------------------------------------------------------------------------
  let dialog = null;
  let trigger = null;
  let moving = null;

  function buildDialog() {
    dialog = document.createElement("dialog");
    dialog.className = "dialog";
    dialog.setAttribute("aria-labelledby", "move-title");
    dialog.dataset.testid = "move-dialog";
    dialog.innerHTML =
      '<form method="dialog" class="dialog-body">' +
      '<h2 id="move-title">Move post</h2>' +
      '<p class="muted dialog-caption" data-role="caption"></p>' +
      '<div class="form-row"><label for="move-date">Day</label><input type="date" id="move-date" name="date" required></div>' +
      '<div class="form-row"><label for="move-time">Time <span class="muted small">(' + (workspaceTz || "workspace time") + ")</span></label>" +
      '<input type="time" id="move-time" name="time"><span class="help">Leave empty to keep the current time.</span></div>' +
      '<p class="form-error" role="alert" data-role="error" hidden></p>' +
      '<div class="dialog-actions"><button type="submit" class="btn btn-primary" value="move" data-testid="move-submit">Move</button>' +
      '<button type="button" class="btn" data-role="cancel">Cancel</button></div></form>';
    document.body.appendChild(dialog);
    dialog.querySelector("[data-role=cancel]").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      if (trigger && document.contains(trigger)) trigger.focus();
    });
    dialog.querySelector("form").addEventListener("submit", (event) => {
      event.preventDefault();
      submitMove();
    });
  }

  function openMove(post, from) {
    if (!dialog) buildDialog();
    moving = post;
    trigger = from || post;
    const caption = post.querySelector(".cal-post-caption");
    dialog.querySelector("[data-role=caption]").textContent = caption ? caption.textContent.trim() : "";
    const when = post.closest("[data-date]");
    // The list view has no day cell around its rows: the card's own local time names the day.
    const day = post.dataset.day || (when && when.dataset.date) || (post.dataset.utc || "").slice(0, 10) || todayIso;
    const time = post.querySelector("[data-role=time]");
    dialog.querySelector("#move-date").value = day;
    dialog.querySelector("#move-time").value = time && /^\d\d:\d\d$/.test(time.textContent.trim()) ? time.textContent.trim() : "";
    const error = dialog.querySelector("[data-role=error]");
    error.hidden = true;
    dialog.showModal();
    dialog.querySelector("#move-date").focus();
  }

  async function submitMove() {
    const error = dialog.querySelector("[data-role=error]");
    const date = dialog.querySelector("#move-date").value;
    const time = dialog.querySelector("#move-time").value;
    if (!date) {
      error.textContent = "Choose a day.";
      error.hidden = false;
      dialog.querySelector("#move-date").focus();
      return;
    }
    const body = new FormData();
    body.append("date", date);
    if (time) body.append("time", time);
    const submit = dialog.querySelector("[data-testid=move-submit]");
    submit.disabled = true;
    try {
      const resp = await fetch(moving.dataset.rescheduleUrl, {
        method: "POST",
        body: body,
        headers: { "X-CSRFToken": csrf, Accept: "application/json" },
        credentials: "same-origin",
      });
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error((data.error && data.error.message) || "The post could not be moved.");
      const p = data.post;
      // The page is redrawn by the server, the authority on where the post now sits.
      sessionStorage.setItem("later:moved", JSON.stringify({
        id: p.id,
        message: "Moved to " + longDay(p.display_date) + " at " + p.display_time + " (" + p.scheduled_tz + ").",
      }));
      const url = new URL(window.location.href);
      url.searchParams.set("date", p.display_date);
      window.location.assign(url.toString());
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      submit.disabled = false;
    }
  }

  function moveButton(post) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small cal-move";
    button.dataset.move = post.dataset.postId;
    const caption = post.querySelector(".cal-post-caption");
    button.setAttribute("aria-label", "Move “" + (caption ? caption.textContent.trim() : "post") + "”");
    button.textContent = "Move";
    button.addEventListener("click", () => openMove(post, button));
    return button;
  }

  if (canEdit) {
    // Any focused draggable post: M opens the dialog.
    document.addEventListener("keydown", (event) => {
      if (event.key !== "m" && event.key !== "M") return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const post = event.target.closest && event.target.closest(".cal-post[data-reschedule-url]");
      if (!post) return;
      event.preventDefault();
      openMove(post, post);
    });
    document.querySelectorAll(".cal-post[data-reschedule-url]").forEach((post) => {
      post.setAttribute("aria-keyshortcuts", "M");
      // In the list and the drafts, a visible button sits beside each post.
      if (post.classList.contains("cal-post-row") || post.classList.contains("cal-draft")) {
        const wrap = document.createElement("div");
        wrap.className = "cal-row-wrap";
        post.parentNode.insertBefore(wrap, post);
        wrap.appendChild(post);
        wrap.appendChild(moveButton(post));
      }
    });
    const hint = document.createElement("p");
    hint.className = "muted small cal-keyhint";
    hint.textContent = "Keyboard: focus a post and press M to move it to another day or time.";
    const legend = document.querySelector(".cal-legend");
    if (legend && document.querySelector(".cal-post[data-reschedule-url]")) legend.after(hint);
  }

  // Media beside the calendar: Enter or a tap starts a post with it (dragging is optional).
  document.querySelectorAll(".cal-media[data-media-id]").forEach((tile) => {
    tile.setAttribute("role", "link");
    tile.setAttribute("tabindex", "0");
    const name = tile.getAttribute("title") || "this file";
    tile.setAttribute("aria-label", "Start a post with " + name);
    const go = () => {
      const url = new URL(root.dataset.composeUrl, window.location.href);
      url.searchParams.set("media", tile.dataset.mediaId);
      window.location.href = url.toString();
    };
    tile.addEventListener("click", go);
    tile.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); go(); }
    });
  });

  // --- Month: dots with counts and the agenda of the selected day ---------------------------
  const month = document.querySelector(".cal-month");
  let agenda = null;
  function selectDay(iso, focus) {
    if (!month) return;
    month.querySelectorAll(".cal-day-pick").forEach((b) => b.setAttribute("aria-pressed", b.dataset.date === iso ? "true" : "false"));
    month.querySelectorAll(".cal-day").forEach((d) => d.classList.toggle("is-selected", d.dataset.date === iso));
    const cell = month.querySelector('.cal-day[data-date="' + iso + '"]');
    if (!cell || !agenda) return;
    const list = agenda.querySelector("[data-role=list]");
    list.innerHTML = "";
    agenda.querySelector("h2").textContent = longDay(iso);
    const posts = cell.querySelectorAll(".cal-post");
    posts.forEach((post) => {
      const row = document.createElement("div");
      row.className = "cal-row-wrap";
      const copy = cleanClone(post);
      copy.dataset.day = iso;
      row.appendChild(copy);
      if (canEdit && post.dataset.rescheduleUrl) {
        copy.setAttribute("aria-keyshortcuts", "M");
        row.appendChild(moveButton(copy));
      }
      list.appendChild(row);
    });
    if (!posts.length) {
      const empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = "Nothing planned on this day.";
      list.appendChild(empty);
    }
    const more = cell.querySelector(".cal-more");
    if (more) {
      const link = more.cloneNode(true);
      link.className = "btn btn-small";
      link.textContent = more.textContent.trim() + " in the list";
      list.appendChild(link);
    }
    const add = cell.querySelector(".cal-add");
    const addSlot = agenda.querySelector("[data-role=add]");
    addSlot.innerHTML = "";
    if (add) {
      const link = document.createElement("a");
      link.className = "btn btn-primary";
      link.href = add.getAttribute("href");
      link.textContent = "+ New post on " + shortDay(iso);
      addSlot.appendChild(link);
    }
    if (focus) agenda.querySelector("h2").focus();
  }

  // Built only on narrow screens, so that wide ones keep one copy of every post in the page.
  const narrow = window.matchMedia("(max-width: 640px)");
  function buildMonth() {
    if (!month || agenda) return;
    agenda = document.createElement("section");
    agenda.className = "cal-agenda card";
    agenda.setAttribute("aria-label", "Selected day");
    agenda.dataset.testid = "cal-agenda";
    agenda.innerHTML = '<div class="card-header"><h2 tabindex="-1"></h2><span data-role="add"></span></div><div class="cal-agenda-list" data-role="list"></div>';
    month.after(agenda);
    let firstWithPosts = null;
    let firstInMonth = null;
    month.querySelectorAll(".cal-day[data-date]").forEach((cell) => {
      const iso = cell.dataset.date;
      const posts = cell.querySelectorAll(".cal-post");
      const more = cell.querySelector(".cal-more");
      const hidden = more ? parseInt(more.textContent.replace(/\D/g, ""), 10) || 0 : 0;
      const count = posts.length + hidden;
      if (!cell.classList.contains("out")) {
        firstInMonth = firstInMonth || iso;
        if (count && !firstWithPosts) firstWithPosts = iso;
      }
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = "cal-day-pick";
      pick.dataset.date = iso;
      pick.setAttribute("aria-pressed", "false");

      let dots = "";
      posts.forEach((post, i) => {
        if (i < 3) dots += '<i style="background:' + (post.style.getPropertyValue("--acct") || "var(--muted)") + '"></i>';
      });
      // The visible day number and count start the accessible name (WCAG 2.5.3).
      pick.innerHTML = '<span class="n">' + parseInt(iso.slice(8), 10) + "</span>" +
        '<span class="sr-only"> ' + monthName(iso) + ", " + weekdayName(iso) + ":</span>" +
        '<span class="dots" aria-hidden="true">' + dots + "</span>" +
        (count ? '<span class="count">' + count + "</span>" : "") +
        '<span class="sr-only">' + (count ? (count === 1 ? " post" : " posts") : " no posts") + "</span>";
      pick.addEventListener("click", () => selectDay(iso, false));
      cell.prepend(pick);
    });
    const inMonth = month.querySelector('.cal-day:not(.out)[data-date="' + todayIso + '"]');
    if (!month.querySelector(".is-selected")) selectDay(inMonth ? todayIso : (firstWithPosts || firstInMonth), false);
  }
  if (narrow.matches) buildMonth();
  narrow.addEventListener("change", () => { if (narrow.matches) buildMonth(); });

  // --- Week: one day at a time on narrow screens ---------------------------------------------
  const week = document.querySelector(".cal-week");
  if (week) {
    week.setAttribute("tabindex", "0");
    week.setAttribute("role", "region");
    week.setAttribute("aria-label", "Week by hour");
    const cells = Array.from(week.children);
    const days = [];
    cells.forEach((cell, index) => {
      const col = index < 8 ? index : (index - 8) % 8;
      cell.dataset.col = String(col);
      if (index >= 1 && index < 8) days.push(cell);
    });
    // Day names come from the first row of slots.
    const dates = [];
    for (let col = 1; col <= 7; col++) {
      const slot = week.querySelector('.cal-slot[data-col="' + col + '"]');
      dates.push(slot ? slot.dataset.date : "");
    }
    const bar = document.createElement("div");
    bar.className = "cal-daynav";
    bar.innerHTML = '<button type="button" class="btn" data-step="-1" aria-label="Previous day">‹</button>' +
      '<h3 aria-live="polite" data-testid="week-day-title"></h3>' +
      '<button type="button" class="btn" data-step="1" aria-label="Next day">›</button>';
    week.before(bar);
    const stored = sessionStorage.getItem("later:week-day");
    sessionStorage.removeItem("later:week-day");
    // Coming from the next or previous week: its first or last day; else today, else the first
    // day with posts, else Monday.
    let current = dates.indexOf(todayIso) + 1;
    if (stored === "last") current = 7;
    else if (stored === "first") current = 1;
    else if (current < 1) {
      current = 1;
      for (let col = 1; col <= 7; col++) {
        if (week.querySelector('.cal-slot[data-col="' + col + '"] .cal-post')) { current = col; break; }
      }
    }
    function show(col) {
      current = col;
      week.dataset.day = String(col);
      cells.forEach((cell) => cell.classList.toggle("is-day", cell.dataset.col === String(col)));
      bar.querySelector("h3").textContent = dates[col - 1] ? longDay(dates[col - 1]) : "";
    }
    function step(delta) {
      const next = current + delta;
      if (next >= 1 && next <= 7) { show(next); return; }
      // Past the week's edge: the next or previous week, on its first or last day.
      const link = document.querySelector(delta > 0 ? ".cal-nav [aria-label=Next]" : ".cal-nav [aria-label=Previous]");
      if (link) {
        sessionStorage.setItem("later:week-day", delta > 0 ? "first" : "last");
        window.location.href = link.href;
      }
    }
    bar.addEventListener("click", (event) => {
      const button = event.target.closest("[data-step]");
      if (button) step(parseInt(button.dataset.step, 10));
    });
    let touch = null;
    week.addEventListener("touchstart", (event) => {
      const t = event.changedTouches[0];
      touch = { x: t.clientX, y: t.clientY };
    }, { passive: true });
    week.addEventListener("touchend", (event) => {
      if (!touch) return;
      const t = event.changedTouches[0];
      const dx = t.clientX - touch.x;
      const dy = t.clientY - touch.y;
      touch = null;
      if (Math.abs(dx) > 50 && Math.abs(dx) > Math.abs(dy) * 1.5) step(dx < 0 ? 1 : -1);
    }, { passive: true });
    show(current);
  }

  // After a move: say where the post went and put the focus back on it.
  const moved = sessionStorage.getItem("later:moved");
  if (moved) {
    sessionStorage.removeItem("later:moved");
    try {
      const info = JSON.parse(moved);
      const toast = document.querySelector(".cal-toast");
      if (toast) { toast.textContent = info.message; toast.className = "cal-toast ok"; toast.hidden = false; setTimeout(() => { toast.hidden = true; }, 6000); }
      const candidates = Array.from(document.querySelectorAll('[data-post-id="' + info.id + '"]'));
      const target = candidates.find((el) => el.offsetParent !== null) || candidates[0];
      if (target) {
        const day = target.closest(".cal-day[data-date]");
        if (day) selectDay(day.dataset.date, false);
        const again = Array.from(document.querySelectorAll('[data-post-id="' + info.id + '"]')).find((el) => el.offsetParent !== null);
        (again || target).focus();
      }
    } catch (e) { /* nothing to restore */ }
  }

})();
