/* The portal's service worker, served at /service-worker.js (scope: the whole
   site): shows the programme's pushes and opens their page when clicked. */
self.addEventListener("push", (event) => {
    let message = {};
    try {
        message = event.data ? event.data.json() : {};
    } catch (error) {
        message = { body: event.data ? event.data.text() : "" };
    }
    event.waitUntil(
        self.registration.showNotification(message.title || "", {
            body: message.body || "",
            data: { url: message.url || "/me/" },
        })
    );
});

self.addEventListener("notificationclick", (event) => {
    event.notification.close();
    event.waitUntil(self.clients.openWindow(event.notification.data.url));
});
