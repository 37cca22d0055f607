// Live progress: the API's event stream (Server-Sent Events, with the session cookie) relayed to the
// page's server side, which draws the progress bars. One stream per tab; it reconnects by itself.
(() => {
  if (window.sbEvents) return;
  const events = new EventSource("/api/events?channel=progress");
  for (const type of ["scan.progress", "scan.done", "stage.job"]) {
    events.addEventListener(type, (e) => emitEvent("sb_progress", JSON.parse(e.data)));
  }
  window.sbEvents = events;
})();
