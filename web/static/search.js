// The search page: suggestions as you type (titles, creators, subjects, collections and monument names
// the reader may see, from /api/v1/suggest), and the refine panel open beside the results on a wide
// screen (on a phone the results come first and the panel opens when asked).
(function () {
  "use strict";
  const refine = document.getElementById("refine");
  if (refine && window.matchMedia("(min-width: 40rem)").matches) refine.open = true;
  const box = document.getElementById("search-q");
  const list = document.getElementById("search-suggestions");
  if (!box || !list) return;
  let timer = null;
  let asked = "";
  box.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const typed = box.value.trim();
      if (typed.length < 2 || typed === asked) return;
      asked = typed;
      try {
        const resp = await fetch(`/api/v1/suggest?q=${encodeURIComponent(typed)}&limit=8`, { headers: { Accept: "application/json" } });
        if (!resp.ok || box.value.trim() !== typed) return;
        const body = await resp.json();
        list.replaceChildren(...body.suggestions.map((s) => {
          const option = document.createElement("option");
          option.value = s.text;
          return option;
        }));
      } catch (e) { /* offline: no suggestions */ }
    }, 200);
  });
})();
