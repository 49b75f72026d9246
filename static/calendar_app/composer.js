// Composer: live creator panels, TikTok's required posting UX, caption counter and preview.
(function () {
  "use strict";
  const form = document.getElementById("composer");
  if (!form) return;
  const panels = document.getElementById("creator-panels");
  const panelUrl = form.dataset.panelUrl;
  // TikTok allows a photo post's description to be longer than a video's caption.
  const captionLimits = { video: parseInt(form.dataset.maxCaptionVideo, 10), photo: parseInt(form.dataset.maxCaptionPhoto, 10) };
  const limitEl = form.querySelector("[data-role=caption-limit]");
  const caption = form.querySelector("#caption");
  const countEl = form.querySelector("[data-role=count]");
  const commercial = form.querySelector("[name=commercial_content]");
  const brandOrganic = form.querySelector("[name=brand_organic]");
  const brandContent = form.querySelector("[name=brand_content]");
  const aigc = form.querySelector("[name=is_aigc]");
  // "Schedule" and, in workspaces that require approval, "Submit for review".
  const scheduleBtns = form.querySelectorAll("[data-testid=schedule], [data-testid=submit-review]");
  const cover = form.querySelector("#cover");
  const coverHidden = form.querySelector("[name=cover_timestamp_ms]");
  const video = form.querySelector("[data-role=preview-video]");
  const image = form.querySelector("[data-role=preview-image]");
  const SELF_ONLY_HINT = "Branded content visibility cannot be set to private.";

  function selectedMedia() { return form.querySelector("[name=media_id]:checked"); }
  function mode() { const m = form.querySelector("[name=post_mode]:checked"); return m ? m.value : "direct"; }

  // --- creator panels (creator_info is fetched by the server on every load) -------------------
  // The server recomputes warnings (daily cap, inbox drafts, duration) from the current choices.
  function panelQuery(accountId) {
    const q = new URLSearchParams();
    ["scheduled_date", "scheduled_time", "scheduled_tz", "fold"].forEach((n) => {
      const el = form.querySelector("[name=" + n + "]");
      if (el && el.value) q.set(n, el.value);
    });
    const media = selectedMedia();
    if (media) q.set("media_id", media.value);
    q.set("post_mode", mode());
    const sel = form.querySelector('[name="privacy_level__' + accountId + '"]');
    if (sel && sel.value) q.set("privacy_level__" + accountId, sel.value);
    ["allow_comment", "allow_duet", "allow_stitch"].forEach((n) => {
      const box = form.querySelector('[name="' + n + "__" + accountId + '"]');
      if (box && box.checked) q.set(n + "__" + accountId, "on");
    });
    return q.toString();
  }

  let reloadTimer = null;
  function reloadPanelsSoon() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => {
      panels.querySelectorAll(".creator-panel[data-account-id]").forEach((p) => loadPanel(p.dataset.accountId));
    }, 500);
  }

  async function loadPanel(accountId) {
    const url = panelUrl.replace("00000000-0000-0000-0000-000000000000", accountId) + "?" + panelQuery(accountId);
    let holder = panels.querySelector('[data-account-id="' + accountId + '"]');
    if (!holder) {
      holder = document.createElement("div");
      holder.className = "creator-panel";
      holder.dataset.accountId = accountId;
      holder.textContent = "Loading the creator's TikTok settings…";
      panels.appendChild(holder);
    }
    try {
      const resp = await fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
      const html = await resp.text();
      const tpl = document.createElement("template");
      tpl.innerHTML = html.trim();
      const fresh = tpl.content.firstElementChild;
      if (!fresh) throw new Error("empty");
      holder.replaceWith(fresh);
    } catch (e) {
      holder.textContent = "Couldn't load this creator's settings. Try again.";
      holder.dataset.blocked = "1";
    }
    refresh();
  }
  form.addEventListener("change", (ev) => {
    const t = ev.target;
    if (t.name === "accounts") {
      if (t.checked) loadPanel(t.value);
      else { const p = panels.querySelector('[data-account-id="' + t.value + '"]'); if (p) p.remove(); }
    }
    if (["media_id", "scheduled_date", "scheduled_time", "scheduled_tz", "post_mode"].includes(t.name)) reloadPanelsSoon();
    refresh();
  });
  form.addEventListener("click", (ev) => {
    const retry = ev.target.closest("[data-retry-panel]");
    if (retry) loadPanel(retry.dataset.retryPanel);
    const use = ev.target.closest("[data-use-time]");
    if (use) { form.querySelector("[name=scheduled_time]").value = use.dataset.useTime; use.closest(".notice").remove(); }
  });

  // --- caption: UTF-16 code units, exactly what String.length counts --------------------------
  function renderCaption(target, text) {
    target.textContent = "";
    const re = /(^|\s)([#@][\w.]+)/gu;
    let last = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      const start = m.index + m[1].length;
      target.appendChild(document.createTextNode(text.slice(last, start)));
      const span = document.createElement("span");
      span.className = m[2][0] === "#" ? "hl-tag" : "hl-mention";
      span.textContent = m[2];
      target.appendChild(span);
      last = start + m[2].length;
    }
    target.appendChild(document.createTextNode(text.slice(last)));
  }

  // --- everything that depends on the current state ------------------------------------------
  function isPhotoPost() {
    const media = selectedMedia();
    // A photo carousel (composer_carousel.js) is a photo post too.
    return (media && media.dataset.kind === "image") || Boolean(form.querySelector("[name=photo_ids]:checked"));
  }

  function refresh() {
    const text = caption.value;
    const maxCaption = isPhotoPost() ? captionLimits.photo : captionLimits.video;
    form.dataset.maxCaption = String(maxCaption);  // composer_planner.js explains it
    if (limitEl) limitEl.textContent = maxCaption.toLocaleString();
    countEl.textContent = text.length.toLocaleString();
    countEl.parentElement.classList.toggle("over", text.length > maxCaption);
    renderCaption(form.querySelector("[data-role=preview-caption]"), text);

    const inbox = mode() === "inbox";
    form.querySelectorAll("[data-inbox-hidden]").forEach((el) => { el.hidden = inbox; });
    form.querySelector("[data-role=inbox-note]").hidden = !inbox;
    form.querySelector("[data-role=inbox-caption-note]").hidden = !inbox;
    // An inbox draft gets no first comment (the server refuses one): greyed out, not sent, and
    // kept in the field for a switch back to a direct post.
    const firstComment = form.querySelector("[name=first_comment]");
    if (firstComment) firstComment.disabled = inbox;
    form.querySelector("[data-role=inbox-first-comment-note]").hidden = !inbox;

    const on = commercial && commercial.checked && !inbox;
    form.querySelector("[data-role=disclosure]").hidden = !on;
    const own = on && brandOrganic.checked;
    const branded = on && brandContent.checked;
    const label = branded ? "Paid partnership" : own ? "Promotional content" : "";
    form.querySelector("[data-role=label-preview]").textContent = label || "—";
    const previewLabel = form.querySelector("[data-role=preview-label]");
    previewLabel.textContent = label;
    previewLabel.hidden = !label;
    form.querySelector("[data-role=preview-aigc]").hidden = !(aigc.checked && !inbox);
    const missing = on && !own && !branded;
    form.querySelector("[data-role=disclosure-missing]").hidden = !missing;

    panels.querySelectorAll("select[data-role=privacy]").forEach((sel) => {
      const opt = sel.querySelector('option[value="SELF_ONLY"]');
      if (!opt) return;
      opt.disabled = branded;
      opt.title = branded ? SELF_ONLY_HINT : "";
      if (branded && sel.value === "SELF_ONLY") sel.value = "";
    });
    const declaration = form.querySelector("[data-role=declaration]");
    declaration.innerHTML = branded
      ? "By posting, you agree to TikTok's <a href=\"https://www.tiktok.com/legal/page/global/bc-policy/en\" target=\"_blank\" rel=\"noopener\">Branded Content Policy</a> and <a href=\"https://www.tiktok.com/legal/page/global/music-usage-confirmation/en\" target=\"_blank\" rel=\"noopener\">Music Usage Confirmation</a>."
      : "By posting, you agree to TikTok's <a href=\"https://www.tiktok.com/legal/page/global/music-usage-confirmation/en\" target=\"_blank\" rel=\"noopener\">Music Usage Confirmation</a>.";

    const media = selectedMedia();
    const isPhoto = isPhotoPost();
    form.querySelectorAll("[data-video-only]").forEach((el) => { el.hidden = isPhoto || (el.hasAttribute("data-inbox-hidden") && inbox); });
    const duration = media ? parseFloat(media.dataset.duration || "0") : 0;
    if (media) {
      if (isPhoto) { video.hidden = true; image.hidden = false; if (image.dataset.src !== media.dataset.url) { image.src = media.dataset.url; image.dataset.src = media.dataset.url; } }
      else { image.hidden = true; video.hidden = false; if (video.dataset.src !== media.dataset.url) { video.src = media.dataset.url; video.dataset.src = media.dataset.url; } }
      cover.max = String(Math.max(0, Math.floor(duration * 1000)));
    }
    const who = panels.querySelector("[data-testid=creator-nickname]");
    if (who) form.querySelector("[data-role=preview-who]").textContent = who.textContent;

    const blocked = panels.querySelector("[data-blocked]");
    scheduleBtns.forEach((b) => { b.disabled = Boolean(missing || blocked || text.length > maxCaption); });
  }

  caption.addEventListener("input", refresh);
  cover.addEventListener("input", () => {
    coverHidden.value = cover.value;
    form.querySelector("[data-role=cover-label]").textContent = (parseInt(cover.value, 10) / 1000).toFixed(1) + " s";
    if (!video.hidden && video.src) { try { video.currentTime = parseInt(cover.value, 10) / 1000; } catch (e) { /* not loaded yet */ } }
  });
  video.addEventListener("loadedmetadata", () => {
    if (coverHidden.value) video.currentTime = parseInt(coverHidden.value, 10) / 1000;
  });
  refresh();
})();
