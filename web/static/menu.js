// The site header on a phone: its links fold into a menu the reader opens (the language switch stays
// in sight). Without script every link shows, as on a wide screen.
(function () {
  "use strict";
  const header = document.getElementById("site-header");
  const button = document.getElementById("menu-button");
  if (!header || !button) return;
  header.classList.add("js-menu");
  button.hidden = false;
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
