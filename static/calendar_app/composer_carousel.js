// Composer, photo carousels and hashtag suggestions (composer.js handles the rest).
// The carousel's order is the page order of its ticked items: the browser submits
// photo_ids in that order, so moving an item moves it in the post.
(function () {
  "use strict";
  const form = document.getElementById("composer");
  if (!form) return;
  const list = form.querySelector("[data-role=carousel-list]");
  const MAX = 35;

  function items() { return Array.from(list ? list.querySelectorAll(".carousel-item") : []); }
  function box(li) { return li.querySelector("input[name=photo_ids]"); }
  function chosen() { return items().filter((li) => box(li).checked); }

  function syncCarousel() {
    if (!list) return;
    const picked = chosen();
    items().forEach((li) => {
      const on = box(li).checked;
      li.classList.toggle("is-chosen", on);
      const cover = li.querySelector("input[name=photo_cover]");
      cover.disabled = !on;
      if (!on) cover.checked = false;
      li.querySelectorAll("[data-move]").forEach((b) => { b.disabled = !on; });
    });
    if (picked.length && !picked.some((li) => li.querySelector("input[name=photo_cover]").checked)) {
      picked[0].querySelector("input[name=photo_cover]").checked = true;
    }
    const count = form.querySelector("[data-role=carousel-count]");
    count.textContent = picked.length
      ? picked.length + " of " + MAX + " photos" + (picked.length > MAX ? " (too many: TikTok takes " + MAX + ")" : "")
      : "";
    if (picked.length) {
      // One video or photo above, or a carousel: not both.
      form.querySelectorAll("[name=media_id]:checked").forEach((r) => { r.checked = false; });
      form.querySelectorAll("[data-video-only]").forEach((el) => { el.hidden = true; });
      const cover = picked.find((li) => li.querySelector("input[name=photo_cover]").checked) || picked[0];
      const img = form.querySelector("[data-role=preview-image]");
      const vid = form.querySelector("[data-role=preview-video]");
      const url = box(cover).dataset.url;
      vid.hidden = true; img.hidden = false;
      if (img.dataset.src !== url) { img.src = url; img.dataset.src = url; }
    }
  }

  function placeAfterChosen(li) {
    // A newly ticked photo goes last among the chosen ones; an unticked one leaves them.
    const others = chosen().filter((x) => x !== li);
    const anchor = others.length ? others[others.length - 1].nextSibling : list.firstChild;
    list.insertBefore(li, anchor);
  }

  if (list) {
    list.addEventListener("change", (ev) => {
      const t = ev.target;
      if (t.name === "photo_ids") placeAfterChosen(t.closest(".carousel-item"));
      syncCarousel();
    });
    list.addEventListener("click", (ev) => {
      const btn = ev.target.closest("[data-move]");
      if (!btn) return;
      const li = btn.closest(".carousel-item");
      const picked = chosen();
      const i = picked.indexOf(li);
      const j = btn.dataset.move === "up" ? i - 1 : i + 1;
      if (i < 0 || j < 0 || j >= picked.length) return;
      if (j < i) list.insertBefore(li, picked[j]);
      else list.insertBefore(li, picked[j].nextSibling);
      btn.focus();
    });
    form.addEventListener("change", (ev) => {
      if (ev.target.name === "media_id" && ev.target.checked) {
        items().forEach((li) => { box(li).checked = false; });
        syncCarousel();
      }
    });
    syncCarousel();
  }

  // --- hashtag suggestions for Business accounts, as you type -------------------------------
  const suggest = form.querySelector("[data-role=hashtag-suggest]");
  const caption = form.querySelector("#caption");
  if (!suggest || !caption) return;
  const business = (suggest.dataset.businessIds || "").split(",").filter(Boolean);
  const listEl = suggest.querySelector("[data-role=hashtag-list]");
  let timer = null;
  let asked = "";

  function businessAccount() {
    const picked = Array.from(form.querySelectorAll("[name=accounts]"))
      .filter((el) => el.type === "hidden" || el.checked).map((el) => el.value);
    return picked.find((id) => business.includes(id)) || "";
  }
  function partialTag() {
    const upto = caption.value.slice(0, caption.selectionStart || caption.value.length);
    const m = /(?:^|\s)#([\p{L}\p{N}_]{2,100})$/u.exec(upto);
    return m ? m[1] : "";
  }
  function hide() { suggest.hidden = true; listEl.textContent = ""; }
  function insert(name) {
    const pos = caption.selectionStart || caption.value.length;
    const before = caption.value.slice(0, pos).replace(/#[\p{L}\p{N}_]*$/u, "#" + name + " ");
    caption.value = before + caption.value.slice(pos);
    caption.focus();
    caption.setSelectionRange(before.length, before.length);
    caption.dispatchEvent(new Event("input", { bubbles: true }));
    hide();
  }
  async function ask() {
    const account = businessAccount();
    const word = partialTag();
    if (!account || !word) { hide(); return; }
    if (word === asked) return;
    asked = word;
    const url = suggest.dataset.url.replace("00000000-0000-0000-0000-000000000000", account) +
      "?keyword=" + encodeURIComponent(word);
    try {
      const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!resp.ok || word !== partialTag()) { if (!resp.ok) hide(); return; }
      const data = await resp.json();
      listEl.textContent = "";
      (data.suggestions || []).slice(0, 8).forEach((s) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "btn btn-small hashtag-chip";
        b.dataset.tag = s.name;
        b.textContent = "#" + s.name;
        b.title = Number(s.view_count).toLocaleString() + " views";
        listEl.appendChild(b);
      });
      suggest.hidden = !listEl.childElementCount;
    } catch (e) { hide(); }
  }
  caption.addEventListener("input", () => {
    clearTimeout(timer);
    if (!partialTag()) { asked = ""; hide(); return; }
    timer = setTimeout(ask, 300);
  });
  listEl.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-tag]");
    if (b) insert(b.dataset.tag);
  });
  suggest.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { hide(); caption.focus(); } });
})();
