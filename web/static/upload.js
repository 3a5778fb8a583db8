// The upload form: files dropped on the drop zone join the file input (and its list
// of chosen files), so several scans can be dragged in from the desktop at once.
document.addEventListener("DOMContentLoaded", () => {
  const zone = document.querySelector(".dropzone");
  if (!zone || typeof DataTransfer === "undefined") return;
  const input = document.getElementById(zone.dataset.input);
  const list = document.getElementById("files-chosen");
  zone.hidden = false;
  const show = () => {
    list.replaceChildren(...Array.from(input.files, (f) => {
      const li = document.createElement("li");
      li.textContent = `${f.name} (${Math.ceil(f.size / 1024)} KB)`;
      return li;
    }));
  };
  input.addEventListener("change", show);
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("over"); });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const all = new DataTransfer();
    for (const f of input.files) all.items.add(f);
    for (const f of e.dataTransfer.files) all.items.add(f);
    input.files = all.files;
    show();
  });
});
