// Media upload with a progress bar (XHR exposes upload progress; fetch does not).
(function () {
  "use strict";
  const form = document.getElementById("media-upload");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const drop = form.querySelector("[data-role=drop]");
  const bar = form.querySelector("[data-role=progress]");
  const fill = bar.querySelector("span");
  const status = form.querySelector("[data-role=status]");

  ["dragover", "dragenter"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer.files.length) { input.files = e.dataTransfer.files; form.requestSubmit(); }
  });

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!input.files.length) { status.textContent = "Choose a file first."; return; }
    const wantDrafts = form.querySelector("[data-role=bulk-drafts]");
    if (window.laterBulk && (input.files.length > 1 || (wantDrafts && wantDrafts.checked))) {
      // Several files (or one draft per file): uploaded one by one through the API.
      const account = wantDrafts && wantDrafts.checked ? form.querySelector("[data-role=bulk-account]").value : "";
      status.className = "small muted";
      window.laterBulk.dropFiles(input.files, { account: account, status: status }).then((done) => {
        if (window.laterForms) window.laterForms.release(form, false);
        if (!done.failed.length) setTimeout(() => window.location.reload(), 1200);
      });
      return;
    }
    const file = input.files[0];
    const xhr = new XMLHttpRequest();
    xhr.open("POST", window.location.pathname);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    bar.hidden = false;
    fill.style.width = "0%";
    status.className = "small muted";
    status.textContent = "Uploading " + file.name + "…";
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const pct = Math.round((e.loaded / e.total) * 100);
      fill.style.width = pct + "%";
      status.textContent = "Uploading " + file.name + "… " + pct + "%" + (pct === 100 ? " · checking the file" : "");
    });
    xhr.addEventListener("load", () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 201) {
        status.textContent = "Uploaded " + file.name + ".";
        window.location.reload();
      } else {
        if (window.laterForms) window.laterForms.release(form, false);
        bar.hidden = true;
        status.className = "notice notice-error";
        status.textContent = (data.error && data.error.message) || "The upload failed (HTTP " + xhr.status + ").";
      }
    });
    xhr.addEventListener("error", () => {
      if (window.laterForms) window.laterForms.release(form, false);
      bar.hidden = true;
      status.className = "notice notice-error";
      status.textContent = "The upload was interrupted. Check your connection and try again.";
    });
    xhr.send(new FormData(form));
  });
})();
