// A monument's page: points of interest that open their text when pressed, and guided tours
// that move the camera from stop to stop. model-viewer interpolates the camera itself when its
// cameraTarget, cameraOrbit and fieldOfView change; a tour only sets them and shows the caption.
(function () {
  "use strict";

  // -------------------------------------------------- points of interest
  for (const hotspot of document.querySelectorAll("model-viewer .hotspot")) {
    const text = hotspot.querySelector(".hotspot-text");
    if (!text) continue;
    hotspot.addEventListener("click", () => {
      const open = hotspot.getAttribute("aria-expanded") !== "true";
      hotspot.setAttribute("aria-expanded", String(open));
      text.hidden = !open;
    });
  }

  function highlightPoint(viewer, poi) {
    for (const hotspot of viewer.querySelectorAll(".hotspot")) {
      hotspot.classList.toggle("current", poi !== "" && hotspot.dataset.poi === poi);
    }
  }

  // -------------------------------------------------------------- tours
  function Tour(section) {
    this.section = section;
    this.viewer = document.getElementById(section.dataset.viewer);
    this.stops = Array.from(section.querySelectorAll(".tour-stops li"));
    this.playButton = section.querySelector(".tour-play");
    this.stepText = section.querySelector(".tour-step");
    this.captionText = section.querySelector(".tour-caption");
    this.index = -1;
    this.timer = null;
    this.limitsSet = false;
  }

  // model-viewer keeps the camera between limits of its own choosing ("auto"); the curator's stops
  // are allowed even where they lie beyond them.
  Tour.prototype.allowStops = function () {
    if (this.limitsSet || !this.viewer.loaded) return;
    this.limitsSet = true;
    const radii = this.stops.map((li) => parseFloat(li.dataset.radius));
    const framed = this.viewer.getCameraOrbit().radius;
    this.viewer.minCameraOrbit = `auto auto ${Math.min(...radii, framed * 0.5)}m`;
    this.viewer.maxCameraOrbit = `auto auto ${Math.max(...radii, framed * 1.5)}m`;
  };

  // the stop's camera, once the viewer is there (a tour started before it is starts it: viewer.js)
  Tour.prototype.aim = function () {
    const li = this.stops[this.index];
    // model-viewer's "try me" wiggle would turn the camera away from the stop a few seconds later
    this.viewer.interactionPrompt = "none";
    this.allowStops();
    this.viewer.cameraTarget = li.dataset.target;
    this.viewer.cameraOrbit = li.dataset.orbit;
    this.viewer.fieldOfView = li.dataset.fov;
  };

  Tour.prototype.show = function (index) {
    const count = this.stops.length;
    this.index = ((index % count) + count) % count;
    const li = this.stops[this.index];
    const shown = this.index;
    const ready = self.HeritageViewer ? self.HeritageViewer.start(this.viewer) : Promise.resolve();
    ready.then(() => { if (this.index === shown) this.aim(); }, () => this.pause());
    highlightPoint(this.viewer, li.dataset.poi);
    this.stops.forEach((other, n) => {
      if (n === this.index) other.setAttribute("aria-current", "step");
      else other.removeAttribute("aria-current");
    });
    this.stepText.textContent = this.section.dataset.step
      .replace("{n}", String(this.index + 1)).replace("{total}", String(count));
    this.captionText.textContent = li.dataset.caption || li.textContent.trim();
    this.section.dataset.current = String(this.index);
  };

  Tour.prototype.schedule = function () {
    clearTimeout(this.timer);
    if (!this.playing) return;
    const dwell = parseFloat(this.stops[this.index].dataset.dwell) || 6;
    this.timer = setTimeout(() => {
      if (this.index >= this.stops.length - 1) { this.pause(); return; }  // the tour ends at its last stop
      this.show(this.index + 1);
      this.schedule();
    }, dwell * 1000);
  };

  Tour.prototype.play = function () {
    this.playing = true;
    this.playButton.setAttribute("aria-pressed", "true");
    this.playButton.textContent = this.section.dataset.pause;
    this.show(this.index < 0 || this.index >= this.stops.length - 1 ? 0 : this.index + 1);
    this.schedule();
  };

  Tour.prototype.pause = function () {
    this.playing = false;
    clearTimeout(this.timer);
    this.playButton.setAttribute("aria-pressed", "false");
    this.playButton.textContent = this.section.dataset.play;
  };

  Tour.prototype.step = function (delta) {
    this.show(this.index < 0 ? (delta > 0 ? 0 : this.stops.length - 1) : this.index + delta);
    this.schedule();
  };

  for (const section of document.querySelectorAll("section.tour")) {
    const tour = new Tour(section);
    if (!tour.viewer || !tour.stops.length) continue;
    section.querySelector(".tour-play").addEventListener("click", () => (tour.playing ? tour.pause() : tour.play()));
    section.querySelector(".tour-next").addEventListener("click", () => tour.step(1));
    section.querySelector(".tour-prev").addEventListener("click", () => tour.step(-1));
    tour.stops.forEach((li, n) => {
      li.querySelector(".tour-go").addEventListener("click", () => { tour.show(n); tour.schedule(); });
    });
    section.addEventListener("keydown", (event) => {  // the arrow keys step through the tour too
      if (event.key === "ArrowRight") { tour.step(1); event.preventDefault(); }
      if (event.key === "ArrowLeft") { tour.step(-1); event.preventDefault(); }
    });
    // a visitor who takes the camera in hand pauses the tour
    tour.viewer.addEventListener("camera-change", (event) => {
      if (event.detail && event.detail.source === "user-interaction" && tour.playing) tour.pause();
    });
    // the model drawn the first time (a tour pressed before it was): the stop's camera, within the limits
    tour.viewer.addEventListener("load", () => {
      const first = !tour.limitsSet;
      tour.allowStops();
      if (first && tour.index >= 0) tour.aim();
    });
  }
})();
