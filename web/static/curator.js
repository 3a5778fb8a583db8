// Curator's helpers on a model: click the model to take a point's position and surface normal
// (model-viewer's positionAndNormalFromPoint, in the model's frame), and take the camera's current
// orbit, target and field of view for a tour stop.
(function () {
  "use strict";
  const viewer = document.getElementById("curator-viewer");
  if (!viewer) return;
  const round = (v) => String(Math.round(v * 10000) / 10000);
  const deg = (rad) => round((rad * 180) / Math.PI);

  const pickForm = viewer.dataset.form ? document.getElementById(viewer.dataset.form) : null;
  const marker = viewer.querySelector(".hotspot.picked");
  // an inscription's corners: while a corner is chosen, a click on the model fills it and chooses the next
  const faceForm = document.getElementById("inscription-form");
  const cornerOrder = ["ll", "lr", "ul", ""];
  function markCorner(hit) {
    const chosen = faceForm && faceForm.querySelector('input[name="corner_target"]:checked');
    if (!chosen || !chosen.value) return false;
    for (const axis of ["x", "y", "z"]) faceForm.elements[`corner_${chosen.value}_${axis}`].value = round(hit.position[axis]);
    const next = cornerOrder[cornerOrder.indexOf(chosen.value) + 1];
    faceForm.querySelector(`input[name="corner_target"][value="${next}"]`).checked = true;
    return true;
  }
  if (pickForm || faceForm) {
    viewer.addEventListener("click", (event) => {
      if (event.target.closest && event.target.closest(".hotspot")) return;  // a point already there
      const hit = viewer.positionAndNormalFromPoint(event.clientX, event.clientY);
      if (!hit) return;  // the click missed the model
      if (markCorner(hit) || !pickForm) return;
      for (const axis of ["x", "y", "z"]) {
        pickForm.elements["position_" + axis].value = round(hit.position[axis]);
        pickForm.elements["normal_" + axis].value = round(hit.normal[axis]);
      }
      if (marker) {
        marker.hidden = false;
        viewer.updateHotspot({ name: "hotspot-picked", position: hit.position.toString(), normal: hit.normal.toString() });
      }
      pickForm.elements.label_vi.focus();
    });
  }

  for (const button of document.querySelectorAll(".take-camera")) {
    button.addEventListener("click", () => {
      const form = button.closest("form");
      const orbit = viewer.getCameraOrbit();
      const target = viewer.getCameraTarget();
      form.elements.orbit_theta_deg.value = deg(orbit.theta);
      form.elements.orbit_phi_deg.value = deg(orbit.phi);
      form.elements.orbit_radius_m.value = round(orbit.radius);
      form.elements.target_x.value = round(target.x);
      form.elements.target_y.value = round(target.y);
      form.elements.target_z.value = round(target.z);
      form.elements.field_of_view_deg.value = round(viewer.getFieldOfView());
    });
  }
})();
