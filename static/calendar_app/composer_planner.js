// Composer helpers from the planner: insert caption templates and hashtag groups, say why
// Schedule is off when the caption is too long, and suggest the best free times from
// analytics (read over its API: the calendar never imports analytics). No build step.
(function () {
  "use strict";
  const form = document.getElementById("composer");
  if (!form) return;
  const caption = form.querySelector("#caption");

  // --- insert templates and hashtags at the cursor ---------------------------------------------
  function insert(text) {
    if (!caption || !text) return;
    const start = caption.selectionStart ?? caption.value.length;
    const end = caption.selectionEnd ?? caption.value.length;
    const before = caption.value.slice(0, start);
    const after = caption.value.slice(end);
    const pad = before && !/\s$/.test(before) ? " " : "";
    caption.value = before + pad + text + after;
    const at = (before + pad + text).length;
    caption.focus();
    caption.setSelectionRange(at, at);
    caption.dispatchEvent(new Event("input", { bubbles: true }));
  }
  form.querySelectorAll("select[data-insert]").forEach((select) => {
    select.addEventListener("change", () => {
      const option = select.selectedOptions[0];
      if (option && option.dataset.text) insert(option.dataset.text);
      select.value = "";
    });
  });

  // --- why Schedule is off -----------------------------------------------------------------------
  const over = form.querySelector("[data-role=caption-over]");
  function explain() {
    if (!caption || !over) return;
    // composer.js keeps data-max-caption to the limit of the chosen media (photos allow more).
    const maxCaption = parseInt(form.dataset.maxCaption, 10);
    const extra = caption.value.length - maxCaption;
    over.hidden = extra <= 0;
    if (extra > 0) {
      over.textContent = "Schedule is off: the caption is " + extra.toLocaleString() + " character" +
        (extra === 1 ? "" : "s") + " over TikTok's " + maxCaption.toLocaleString() + " limit. Shorten it to schedule.";
    }
    if (extra > 0) caption.setAttribute("aria-invalid", "true");
    else if (!caption.hasAttribute("aria-describedby")) caption.setAttribute("aria-invalid", "false");
  }
  if (caption) {
    caption.addEventListener("input", explain);
    form.addEventListener("change", explain);  // choosing a photo or a video changes the limit
    explain();
  }

  // --- best free times from analytics ----------------------------------------------------------
  const box = form.querySelector("[data-role=best-times]");
  if (!box) return;
  const list = box.querySelector("[data-role=best-times-list]");
  const note = box.querySelector("[data-role=best-times-note]");
  const dateInput = form.querySelector("[name=scheduled_date]");
  const timeInput = form.querySelector("[name=scheduled_time]");
  let asked = "";
  function firstAccount() {
    const fixed = form.querySelector("input[type=hidden][name=accounts]");
    if (fixed) return { id: fixed.value, name: box.dataset.accountName || "" };
    const ticked = form.querySelector("input[type=checkbox][name=accounts]:checked");
    if (!ticked) return null;
    return { id: ticked.value, name: ticked.dataset.name || "" };
  }
  async function suggest() {
    const account = firstAccount();
    if (!account) { list.textContent = ""; note.textContent = "Pick an account to see its best times to post."; asked = ""; return; }
    if (account.id === asked) return;
    asked = account.id;
    note.textContent = "Reading best times…";
    list.textContent = "";
    try {
      const resp = await fetch(box.dataset.url + "?account=" + encodeURIComponent(account.id), { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const data = await resp.json();
      if (!resp.ok) throw new Error((data.error && data.error.message) || "Best times are not available.");
      if (!data.enough_data) {
        note.textContent = "Not enough data yet to suggest a time for " + account.name + ": best times need more posts with views, or a Business account's audience activity.";
        return;
      }
      if (!data.suggestions.length) {
        note.textContent = "The best hours of the next 7 days are all taken for " + account.name + ".";
        return;
      }
      note.textContent = "Best free times for " + account.name + " (" + data.confidence + " confidence, " + data.time_zone + "):";
      data.suggestions.forEach((s) => {
        // `at` is wall-clock time in the workspace's zone with its offset: read the digits.
        const day = s.at.slice(0, 10), at = s.at.slice(11, 16);
        const b = document.createElement("button");
        b.type = "button";
        b.className = "btn btn-small";
        b.dataset.testid = "best-time";
        const label = new Date(day + "T12:00:00").toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
        b.textContent = label + ", " + at;
        b.addEventListener("click", () => {
          if (dateInput) dateInput.value = day;
          if (timeInput) timeInput.value = at;
          [dateInput, timeInput].forEach((i) => i && i.dispatchEvent(new Event("change", { bubbles: true })));
          note.textContent = "Set to " + label + ", " + at + ".";
        });
        list.appendChild(b);
      });
    } catch (err) {
      note.textContent = err.message;
    }
  }
  form.addEventListener("change", (ev) => { if (ev.target.name === "accounts") suggest(); });
  suggest();
})();
