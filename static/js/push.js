/* Web Push on the profile page: subscribe this browser to the programme's
   notifications, or stop them. The page works without it (the section stays
   hidden); the server keeps the subscription (POST /push/subscribe/). */
(function () {
    "use strict";
    const section = document.getElementById("push-settings");
    if (!section || !("serviceWorker" in navigator) || !("PushManager" in window)) {
        return;
    }
    const on = section.querySelector("[data-push-on]");
    const off = section.querySelector("[data-push-off]");
    const status = section.querySelector("[data-push-status]");
    const csrf = section.querySelector("input[name=csrfmiddlewaretoken]").value;

    function key(base64url) {
        const padded = (base64url + "===".slice((base64url.length + 3) % 4))
            .replace(/-/g, "+").replace(/_/g, "/");
        return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    }

    function post(url, body) {
        return fetch(url, {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
            body: JSON.stringify(body),
        }).then((answer) => {
            if (!answer.ok) {
                throw new Error(String(answer.status));
            }
        });
    }

    function show(subscribed) {
        on.hidden = subscribed;
        off.hidden = !subscribed;
        status.textContent = subscribed ? section.dataset.textOn : section.dataset.textOff;
    }

    section.hidden = false;
    navigator.serviceWorker.register("/service-worker.js", { scope: "/" }).then((registration) => {
        registration.pushManager.getSubscription().then((subscription) => show(Boolean(subscription)));

        on.addEventListener("click", () => {
            registration.pushManager
                .subscribe({ userVisibleOnly: true, applicationServerKey: key(section.dataset.vapidKey) })
                .then((subscription) => post(section.dataset.subscribeUrl, subscription.toJSON()))
                .then(() => show(true))
                .catch(() => { status.textContent = section.dataset.textFailed; });
        });

        off.addEventListener("click", () => {
            registration.pushManager.getSubscription().then((subscription) => {
                if (!subscription) {
                    show(false);
                    return null;
                }
                const endpoint = subscription.endpoint;
                return subscription.unsubscribe()
                    .then(() => post(section.dataset.unsubscribeUrl, { endpoint: endpoint }))
                    .then(() => show(false));
            }).catch(() => { status.textContent = section.dataset.textFailed; });
        });
    });
}());
