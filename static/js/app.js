// Shared behaviour for every page: close menus on outside click, confirm destructive actions.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.switcher[open], details.notifications[open]").forEach((el) => {
    if (!el.contains(event.target)) el.removeAttribute("open");
  });
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  const message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});
