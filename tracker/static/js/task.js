// A background task's page: follow its progress without reloading, then reload once to show the result.
// Without JavaScript the page reloads itself instead (a <noscript> refresh).
(function () {
  "use strict";
  var box = document.getElementById("task");
  if (!box || box.dataset.finished === "true") { return; }
  var bar = document.getElementById("task-progress");
  var label = document.getElementById("task-label");
  var template = label ? label.dataset.template : null;
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (status) {
        if (status.finished) { window.location.reload(); return; }
        bar.value = status.percent;
        bar.textContent = status.percent + " %";
        if (template && status.total) {
          label.textContent = template.replace("{done}", status.done).replace("{total}", status.total);
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
