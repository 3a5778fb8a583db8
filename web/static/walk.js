// Walking a tour on the ground (a monument's page, loaded only when a tour has stops with a place):
// pressed, "Walk this tour" asks the browser for the phone's position (never before the press),
// and a live region says which stop to walk to, how far (rounded) and in which direction (a compass
// word and an arrow turned by the bearing from north). Within 15 m of the stop, or the position's
// accuracy when that is larger, the visitor has arrived: the 3D camera goes to the stop (by pressing
// the stop's own "go to stop" button of monument.js, which moves the camera as the tour does) and the
// next stop is named; after the last one, the end of the tour. The words come from the server, as
// data- attributes of the .tour-walk box. The distance and bearing are the great-circle ones
// (haversine, like web/site_plan.py's haversine_m), exported for tests (Node) as well.
(function (root) {
  "use strict";

  const EARTH_RADIUS_M = 6371008.8;  // the mean radius (IUGG), as web/site_plan.py
  const ARRIVED_M = 15;  // a stop is reached within this distance (or the position's accuracy, if larger)
  const rad = (deg) => (deg * Math.PI) / 180;

  /** The great-circle distance in metres between two points (degrees). */
  function haversineM(lat1, lon1, lat2, lon2) {
    const p1 = rad(lat1), p2 = rad(lat2);
    const a = Math.sin((p2 - p1) / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
    return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  /** The initial bearing from the first point to the second, degrees clockwise from north in [0, 360). */
  function bearingDeg(lat1, lon1, lat2, lon2) {
    const p1 = rad(lat1), p2 = rad(lat2), dl = rad(lon2 - lon1);
    const y = Math.sin(dl) * Math.cos(p2);
    const x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
    return ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360;
  }

  /** Which of the eight compass words (north, north-east, … north-west) a bearing is nearest to. */
  function compassIndex(bearing) {
    return Math.round((((bearing % 360) + 360) % 360) / 45) % 8;
  }

  /** A distance as a walker reads it: under 100 m to 5 m, under 1 km to 10 m, then km with one
   * decimal (``decimal`` is the language's mark: "," gives "1,2 km"). */
  function formatDistance(metres, decimal) {
    if (metres < 100) {
      const r = Math.round(metres / 5) * 5;
      if (r < 100) return `${r} m`;
    }
    if (metres < 1000) {
      const r = Math.round(metres / 10) * 10;
      if (r < 1000) return `${r} m`;
    }
    return `${(metres / 1000).toFixed(1).replace(".", decimal || ".")} km`;
  }

  function arrivalRadius(accuracy) {
    return Math.max(ARRIVED_M, Number.isFinite(accuracy) ? accuracy : 0);
  }

  const api = { EARTH_RADIUS_M, ARRIVED_M, haversineM, bearingDeg, compassIndex, formatDistance, arrivalRadius };
  if (typeof module === "object" && module.exports) module.exports = api;
  if (root) root.HeritageWalk = api;
  if (typeof document === "undefined") return;

  // ------------------------------------------------------------------ the page
  function fill(template, values) {  // "{name}" → values.name (a function: a name's "$" stays as it is)
    return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
  }

  function Walk(box) {
    this.box = box;
    this.words = box.dataset;
    this.section = box.closest("section.tour");
    this.stops = Array.from(this.section.querySelectorAll(".tour-stops li")).map((li) => ({
      li: li, lat: parseFloat(li.dataset.lat), lon: parseFloat(li.dataset.lon),
      name: (li.querySelector(".tour-go") || li).textContent.trim(),
    })).filter((st) => Number.isFinite(st.lat) && Number.isFinite(st.lon));
    this.startButton = box.querySelector(".walk-start");
    this.stopButton = box.querySelector(".walk-stop");
    this.controls = box.querySelector(".walk-controls");
    this.text = box.querySelector(".walk-text");
    this.arrow = box.querySelector(".walk-arrow");
    this.watch = null;
    this.position = null;  // the last one: {lat, lon, accuracy}
    this.index = 0;  // the stop to walk to (stops.length: the tour is over)
    this.arrivedAt = -1;  // the stop just reached, while the visitor is still there
  }

  Walk.prototype.say = function (text, bearing) {
    if (this.text.textContent !== text) this.text.textContent = text;  // the same words are not announced again
    const pointing = typeof bearing === "number";
    this.arrow.toggleAttribute("hidden", !pointing);
    if (pointing) this.arrow.style.transform = `rotate(${bearing.toFixed(0)}deg)`;
    this.box.dataset.state = this.watch === null ? "idle" : this.index >= this.stops.length ? "end" : "walking";
  };

  Walk.prototype.start = function () {
    if (!navigator.geolocation) { this.say(fill(this.words.error, { reason: this.words.unsupported })); return; }
    this.position = null;
    this.arrivedAt = -1;
    if (this.index >= this.stops.length) this.index = 0;
    this.startButton.hidden = true;
    this.controls.hidden = false;
    this.stopButton.focus();
    // asked only now, after the press: a page never asks for the position on its own
    this.watch = navigator.geolocation.watchPosition((p) => this.moved(p), (e) => this.failed(e),
                                                     { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 });
    if (this.watch !== null) this.render();
  };

  Walk.prototype.stop = function (words) {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    this.watch = null;
    const hadFocus = this.controls.contains(document.activeElement);
    this.controls.hidden = true;
    this.startButton.hidden = false;
    if (hadFocus) this.startButton.focus();
    this.say(words);
  };

  Walk.prototype.failed = function (error) {
    const reason = { 1: this.words.denied, 2: this.words.unavailable, 3: this.words.timeout }[error && error.code];
    const words = fill(this.words.error, { reason: reason || this.words.unavailable });
    if (!error || error.code === 1) { this.stop(words); return; }  // refused: nothing more will come
    this.say(words);  // not found yet, or too slow: the watch goes on, a later position replaces this
  };

  Walk.prototype.moved = function (position) {
    if (this.watch === null) return;
    const c = position.coords;
    this.position = { lat: c.latitude, lon: c.longitude, accuracy: c.accuracy };
    if (this.index < this.stops.length) {
      const target = this.stops[this.index];
      if (this.distance(target) <= arrivalRadius(c.accuracy)) this.arrive(this.index);
    }
    this.render();
  };

  Walk.prototype.distance = function (stop) {
    return haversineM(this.position.lat, this.position.lon, stop.lat, stop.lon);
  };

  Walk.prototype.arrive = function (n) {
    this.arrivedAt = n;
    this.index = n + 1;
    // model-viewer's "try me" wiggle would turn the camera away from the stop (as playing the tour, it stops)
    const viewer = document.getElementById(this.section.dataset.viewer);
    if (viewer) viewer.setAttribute("interaction-prompt", "none");  // before or after the viewer has started
    const go = this.stops[n].li.querySelector(".tour-go");  // monument.js moves the camera to the stop
    if (go) go.click();
  };

  Walk.prototype.step = function (delta) {
    this.index = Math.max(0, Math.min(this.stops.length, this.index + delta));
    this.arrivedAt = -1;
    this.render();
  };

  Walk.prototype.render = function () {
    const parts = [];
    let bearing = null;
    if (this.arrivedAt >= 0 && this.position) {
      const here = this.stops[this.arrivedAt];
      if (this.distance(here) <= arrivalRadius(this.position.accuracy)) {
        parts.push(fill(this.words.arrived, { name: here.name }));
      } else {
        this.arrivedAt = -1;
      }
    }
    if (this.index >= this.stops.length) {
      parts.push(this.words.end);
    } else if (!this.position) {
      parts.push(this.words.waiting);
    } else {
      const target = this.stops[this.index];
      const p = this.position;
      bearing = bearingDeg(p.lat, p.lon, target.lat, target.lon);
      const compass = this.words.compass.split("|");
      parts.push(fill(this.words.to, {
        name: target.name, distance: formatDistance(this.distance(target), this.words.decimal),
        direction: compass[compassIndex(bearing)],
      }));
    }
    this.box.dataset.target = String(this.index);
    this.say(parts.join(" "), bearing);
  };

  for (const box of document.querySelectorAll("section.tour .tour-walk")) {
    const walk = new Walk(box);
    if (!walk.stops.length) { box.hidden = true; continue; }
    walk.startButton.addEventListener("click", () => walk.start());
    walk.stopButton.addEventListener("click", () => walk.stop(walk.words.stopped));
    box.querySelector(".walk-next").addEventListener("click", () => walk.step(1));
    box.querySelector(".walk-prev").addEventListener("click", () => walk.step(-1));
    box.addEventListener("keydown", (event) => {  // the tour's arrow keys (monument.js) do not reach past here
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") event.stopPropagation();
    });
  }
})(typeof window === "undefined" ? null : window);
