// The portal's few scripts (no inline script: the CSP forbids it). Every page
// works without them; they add copy and share buttons where the browser can.
(function () {
    "use strict";

    function setUp(root) {
        root.querySelectorAll("[data-copy]").forEach(function (button) {
            if (!navigator.clipboard || button.dataset.ready) {
                return;
            }
            button.dataset.ready = "1";
            button.hidden = false;
            button.addEventListener("click", function () {
                navigator.clipboard.writeText(button.dataset.copy).then(function () {
                    var done = button.dataset.copied;
                    var label = button.textContent;
                    button.textContent = done;
                    setTimeout(function () { button.textContent = label; }, 2000);
                });
            });
        });
        root.querySelectorAll("[data-share]").forEach(function (button) {
            if (!navigator.share || button.dataset.ready) {
                return;
            }
            button.dataset.ready = "1";
            button.hidden = false;
            button.addEventListener("click", function () {
                navigator.share({ title: button.dataset.title, url: button.dataset.share })
                    .catch(function () { /* the member closed the share sheet */ });
            });
        });
    }

    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
    document.addEventListener("htmx:afterSettle", function (event) { setUp(event.target); });
}());
