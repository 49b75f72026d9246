// Planner pages: seed posting slots from analytics' best times (read over the API, so the
// calendar never imports analytics). No build step.
(function () {
  "use strict";
  function bestHourPerWeekday(data) {
    // The usable sources' cells, averaged per weekday and hour; the best hour of each weekday
    // that did better than the account's average (index > 1).
    const sums = {};
    (data.sources || []).forEach((source) => {
      if (source.confidence === "insufficient") return;
      (source.cells || []).forEach((cell) => {
        const key = cell.weekday + ":" + cell.hour;
        sums[key] = sums[key] || { weekday: cell.weekday, hour: cell.hour, total: 0, n: 0 };
        sums[key].total += cell.index;
        sums[key].n += 1;
      });
    });
    const best = {};
    Object.values(sums).forEach((c) => {
      const index = c.total / c.n;
      if (index <= 1) return;
      if (!best[c.weekday] || index > best[c.weekday].index) best[c.weekday] = { hour: c.hour, index: index };
    });
    return best;
  }
  document.querySelectorAll(".slots-form [data-role=seed]").forEach((button) => {
    button.addEventListener("click", async () => {
      const form = button.closest("form");
      const status = form.querySelector("[data-role=seed-status]");
      status.textContent = "Reading best times…";
      try {
        const resp = await fetch(form.dataset.bestTimesUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        const data = await resp.json();
        if (!resp.ok) throw new Error((data.error && data.error.message) || "Best times are not available.");
        if (!data.enough_data) {
          status.textContent = "Not enough data yet to suggest times for this account: keep posting and check again.";
          return;
        }
        const best = bestHourPerWeekday(data);
        let added = 0;
        Object.keys(best).forEach((weekday) => {
          const input = form.querySelector('input[name="day' + weekday + '"]');
          const at = String(best[weekday].hour).padStart(2, "0") + ":00";
          if (input && input.value.split(/[\s,]+/).indexOf(at) === -1) {
            input.value = (input.value.trim() + " " + at).trim();
            added += 1;
          }
        });
        status.textContent = added
          ? "Added " + added + " suggested time" + (added === 1 ? "" : "s") + " (" + data.confidence + " confidence). Review, then save."
          : "No better times than the ones you have.";
      } catch (err) {
        status.textContent = err.message;
      }
    });
  });
})();
