// Analytics pages: filters that apply at once, chart tooltips on hover and focus, table views.
(() => {
  // A preset range (7/30/90 days) or an account applies as soon as it is chosen; "Custom"
  // waits for its dates and the Apply button.
  // Arrow keys move through the radios one by one, so a range chosen that way waits for Enter or
  // Apply (WCAG 3.2.2: no change of context while a keyboard user is still choosing).
  document.querySelectorAll("form[data-testid='analytics-filters'], form[data-testid='best-times-filters']").forEach((form) => {
    let byArrowKey = false;
    form.addEventListener("keydown", (event) => {
      byArrowKey = event.target.name === "range" && event.key.startsWith("Arrow");
    });
    form.addEventListener("change", (event) => {
      const field = event.target;
      if (field.name === "range") {
        form.querySelectorAll("input[name='range']").forEach((radio) => {
          radio.closest("label")?.classList.toggle("active", radio.checked);
        });
        if (field.value === "custom") {
          form.querySelector("input[name='start']")?.focus();
          return;
        }
        if (byArrowKey) {
          byArrowKey = false;
          return;
        }
        form.querySelectorAll("input[type='date']").forEach((input) => { input.disabled = true; });
        form.requestSubmit();
      } else if (field.type === "date") {
        // Typing a date means a custom range: a preset left checked would make Apply ignore it.
        const custom = form.querySelector("input[name='range'][value='custom']");
        if (custom && !custom.checked) {
          custom.checked = true;
          form.querySelectorAll("input[name='range']").forEach((radio) => {
            radio.closest("label")?.classList.toggle("active", radio.checked);
          });
        }
      } else if (field.name === "account" || field.hasAttribute("data-autosubmit")) {
        if (form.querySelector("input[name='range'][value='custom']:checked")) return;
        form.requestSubmit();
      }
    });
  });

  // Chart points and bars: the value and date show in a tooltip on hover and on focus.
  document.querySelectorAll("figure.an-chart").forEach((figure) => {
    const tip = document.createElement("div");
    tip.className = "an-tip";
    tip.setAttribute("role", "status");
    tip.hidden = true;
    figure.appendChild(tip);
    const show = (target) => {
      const text = target.getAttribute("data-tip");
      if (!text) return;
      tip.textContent = text;
      tip.hidden = false;
      const box = figure.getBoundingClientRect();
      const point = target.getBoundingClientRect();
      const left = Math.min(Math.max(point.left + point.width / 2 - box.left, 60), box.width - 60);
      tip.style.left = `${left}px`;
      tip.style.top = `${Math.max(point.top - box.top - 36, 0)}px`;
    };
    const hide = () => { tip.hidden = true; };
    figure.querySelectorAll("[data-tip]").forEach((target) => {
      target.addEventListener("mouseenter", () => show(target));
      target.addEventListener("focus", () => show(target));
      target.addEventListener("mouseleave", hide);
      target.addEventListener("blur", hide);
    });
  });

  // "Table" / "Chart" toggles: the same data as a table, one click away.
  document.querySelectorAll("[data-chart-toggle]").forEach((button) => {
    button.addEventListener("click", () => {
      const figure = document.getElementById(button.getAttribute("aria-controls"));
      if (!figure) return;
      const showingTable = button.getAttribute("aria-pressed") === "true";
      figure.querySelector(".an-chart-visual")?.toggleAttribute("hidden", !showingTable);
      figure.querySelector(".an-chart-table")?.toggleAttribute("hidden", showingTable);
      button.setAttribute("aria-pressed", showingTable ? "false" : "true");
      button.textContent = showingTable ? "Table" : "Chart";
    });
  });
})();
