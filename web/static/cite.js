// Copy a citation of the item page to the clipboard (buttons with data-copy="<id of the text>").
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.cite-copy");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  const status = button.closest("section").querySelector(".cite-status");
  if (!source) return;
  const text = source.textContent.trim();
  const done = () => { if (status) status.textContent = button.dataset.done || ""; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => selectText(source));
  } else {
    selectText(source);
  }
});

function selectText(element) {
  // without the clipboard API (plain http): select the text so the reader can copy it
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}
