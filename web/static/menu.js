// The site header on a phone: its links are folded into a menu (site.css, from the first paint) that this
// opens (the language switch stays in sight). Without script every link shows (base.html's <noscript>).
(function () {
  "use strict";
  const header = document.getElementById("site-header");
  const button = document.getElementById("menu-button");
  if (!header || !button) return;
  button.addEventListener("click", () => {
    const open = !header.classList.contains("open");
    header.classList.toggle("open", open);
    button.setAttribute("aria-expanded", String(open));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("open")) {
      header.classList.remove("open");
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
  });
})();
