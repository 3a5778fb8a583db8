// The monument map: one marker per monument that has coordinates, its popup a link to the
// monument's page. The tile layer comes from a setting; without one the markers stand on a
// plain background and no request leaves the portal.
(function () {
  const el = document.getElementById("monument-map");
  if (!el || !window.L) return;
  L.Icon.Default.imagePath = el.dataset.icons;  // Leaflet's marker images, served by the portal itself
  const map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.25 });
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
  }
  const points = [];
  for (const li of document.querySelectorAll(".monument-list li[data-lat]")) {
    const lat = parseFloat(li.dataset.lat), lon = parseFloat(li.dataset.lon);
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) continue;
    const link = document.createElement("a");  // built from text, never from markup
    link.href = li.dataset.href;
    link.textContent = li.dataset.name;
    const marker = L.marker([lat, lon], { title: li.dataset.name, alt: li.dataset.name, keyboard: true });
    marker.bindPopup(link).addTo(map);
    points.push([lat, lon]);
  }
  if (points.length === 1) map.setView(points[0], 16);
  else map.fitBounds(points, { padding: [30, 30], maxZoom: 17 });
  el.dataset.markers = String(points.length);
})();
