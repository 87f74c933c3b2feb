// A target leaf shows the points its figure earns while the figure is typed. The points come
// from the server (the one calculation), asked for at most every 300 ms; without JavaScript the
// page shows them after saving.
(function () {
  "use strict";
  document.querySelectorAll("input[data-points-url]").forEach(function (input) {
    var output = document.getElementById(input.getAttribute("data-points-output"));
    if (!output) {
      return;
    }
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = input.getAttribute("data-points-url") + "?figure=" + encodeURIComponent(input.value);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (answer) {
            if (answer) {
              output.textContent = answer.text;
            }
          })
          .catch(function () {});
      }, 300);
    });
  });
})();
