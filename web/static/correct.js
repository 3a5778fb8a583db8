// The correction page: go from one doubtful word to the next (buttons, F8 and Shift+F8, or a click
// on a marked word). The word is selected in its line's box, ready to be typed over, and boxed on
// the page image. Without this script each marked word is still a link to its line's box.
(function () {
  const marks = Array.from(document.querySelectorAll("a.doubtful"));
  const where = document.getElementById("doubt-where");
  if (!marks.length) return;
  const template = where ? where.dataset.template : "";  // in the page's language, from the server
  let current = -1;

  // where the word is in its line's box now: at its place if unchanged, else the nearest same text
  function rangeOf(input, mark) {
    const start = Number(mark.dataset.start), end = Number(mark.dataset.end);
    const word = mark.textContent;
    if (input.value.slice(start, end) === word) return [start, end];
    let best = null, at = input.value.indexOf(word);
    while (at >= 0) {
      if (best === null || Math.abs(at - start) < Math.abs(best - start)) best = at;
      at = input.value.indexOf(word, at + 1);
    }
    return best === null ? null : [best, best + word.length];
  }

  function show(index) {
    current = (index + marks.length) % marks.length;
    const mark = marks[current];
    const input = document.getElementById(`input-line-${mark.dataset.line}`);
    for (const m of marks) m.classList.remove("current");
    for (const b of document.querySelectorAll("rect.doubt-box.current")) b.classList.remove("current");
    mark.classList.add("current");
    const box = document.getElementById(`box-${mark.dataset.word}`);
    if (box) box.classList.add("current");
    mark.closest(".correct-line").scrollIntoView({ block: "center", behavior: "smooth" });
    if (input) {
      input.focus({ preventScroll: true });
      const range = rangeOf(input, mark);
      if (range) input.setSelectionRange(range[0], range[1]);
    }
    if (where && template) {
      where.textContent = template.replace("{k}", current + 1).replace("{n}", marks.length)
        .replace("{word}", mark.textContent).replace("{line}", Number(mark.dataset.line) + 1)
        .replace("{c}", mark.dataset.confidence);
    }
  }

  marks.forEach((mark, i) => mark.addEventListener("click", (event) => { event.preventDefault(); show(i); }));
  const next = document.getElementById("next-doubtful");
  const prev = document.getElementById("prev-doubtful");
  if (next) next.addEventListener("click", () => show(current + 1));
  if (prev) prev.addEventListener("click", () => show(current - 1));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "F8" || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    show(event.shiftKey ? current - 1 : current + 1);
  });
})();
