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

// ---- the picker of Hán and Nôm characters (pages in chữ Hán): by reading or by radical and strokes;
// a character pressed goes into the line being edited, in place of its selection (a 〓 mark, say)
(function () {
  const form = document.getElementById("han-picker-form");
  const list = document.getElementById("han-choices");
  if (!form || !list) return;
  let target = null;
  let range = [0, 0];
  document.querySelectorAll("input[id^='input-line-']").forEach((input) => {
    const keep = () => { target = input; range = [input.selectionStart, input.selectionEnd]; };
    ["focus", "select", "keyup", "click"].forEach((kind) => input.addEventListener(kind, keep));
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = document.getElementById("han-q").value.trim();
    if (!q) return;
    list.textContent = "";
    let body;
    try {
      const answer = await fetch(form.action + "?q=" + encodeURIComponent(q), { headers: { accept: "application/json" } });
      body = await answer.json();
      if (!answer.ok) throw new Error(body.message || String(answer.status));
    } catch (error) {
      const item = document.createElement("li");
      item.textContent = String(error.message || error);
      list.appendChild(item);
      return;
    }
    if (!body.characters.length) {
      const item = document.createElement("li");
      item.textContent = list.dataset.none;
      list.appendChild(item);
    }
    for (const found of body.characters) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "han-choice";
      button.lang = "lzh";
      button.textContent = found.character;
      button.title = (found.readings.join(", ") || found.codepoint);
      button.setAttribute("aria-label", found.character + " " + (found.readings.join(", ") || found.codepoint));
      button.addEventListener("click", () => {
        const input = target || document.querySelector("input[id^='input-line-']");
        if (!input) return;
        const [start, end] = target ? range : [input.value.length, input.value.length];
        input.value = input.value.slice(0, start) + found.character + input.value.slice(end);
        range = [start + found.character.length, start + found.character.length];
        target = input;
        input.focus();
        input.setSelectionRange(range[0], range[1]);
      });
      item.appendChild(button);
      list.appendChild(item);
    }
  });
})();

