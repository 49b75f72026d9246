// Bulk drop: many files at once into the media library or onto a calendar day. Each file is
// uploaded through the API (its own Idempotency-Key, so a retried request never stores it
// twice), then one draft per file is created in a single call (all or none). No build step.
(function () {
  "use strict";
  const csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  const root = document.querySelector("[data-bulk-api]");
  if (!root) return;

  function key() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }
  async function call(url, body, isForm) {
    const headers = { "X-CSRFToken": csrf, Accept: "application/json", "Idempotency-Key": key() };
    if (!isForm) headers["Content-Type"] = "application/json";
    const resp = await fetch(url, { method: "POST", body: isForm ? body : JSON.stringify(body), headers: headers, credentials: "same-origin" });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error((data.error && data.error.message) || "HTTP " + resp.status);
    return data;
  }

  // files: FileList; options: {account, date, status (element)}
  async function dropFiles(files, options) {
    const status = options.status;
    const ids = [];
    const failed = [];
    for (let i = 0; i < files.length; i += 1) {
      status.textContent = "Uploading " + (i + 1) + " of " + files.length + ": " + files[i].name + "…";
      const body = new FormData();
      body.append("file", files[i]);
      try {
        const media = await call(root.dataset.mediaApi, body, true);
        ids.push(media.id);
      } catch (err) {
        failed.push(files[i].name + ": " + err.message);
      }
    }
    let message = "Uploaded " + ids.length + " of " + files.length + " file" + (files.length === 1 ? "" : "s") + ".";
    if (ids.length && options.account) {
      status.textContent = message + " Creating drafts…";
      try {
        const body = { account_id: options.account, media_ids: ids };
        if (options.date) body.date = options.date;
        const posts = await call(root.dataset.bulkApi, body, false);
        message += " Created " + posts.length + " draft" + (posts.length === 1 ? "" : "s") + ".";
      } catch (err) {
        message += " No drafts were created: " + err.message;
      }
    }
    if (failed.length) message += " Not uploaded: " + failed.join("; ");
    status.textContent = message;
    return { ids: ids, failed: failed };
  }
  window.laterBulk = { dropFiles: dropFiles };

  // Calendar: files from the computer dropped on a day become drafts on that day.
  const cal = document.querySelector(".cal-layout[data-can-edit='1']");
  if (cal) {
    const picker = document.querySelector("[data-role=bulk-account]");
    const toast = document.querySelector(".cal-toast");
    document.addEventListener("dragover", (ev) => {
      if (ev.dataTransfer && Array.from(ev.dataTransfer.types || []).indexOf("Files") !== -1 && ev.target.closest && ev.target.closest(".cal-day[data-date], .cal-slot[data-date]")) ev.preventDefault();
    });
    document.addEventListener("drop", async (ev) => {
      const day = ev.target.closest && ev.target.closest(".cal-day[data-date], .cal-slot[data-date]");
      if (!day || !ev.dataTransfer || !ev.dataTransfer.files.length) return;
      ev.preventDefault();
      if (toast) { toast.hidden = false; toast.className = "cal-toast"; }
      const status = toast || document.createElement("div");
      if (!picker || !picker.value) { status.textContent = "Choose the account for new drafts in the Media panel first."; return; }
      await dropFiles(ev.dataTransfer.files, { account: picker.value, date: day.dataset.date, status: status });
      setTimeout(() => window.location.reload(), 1500);
    });
  }
})();
