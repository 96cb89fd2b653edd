// The console's only script: live rows by server push (EventSource on the console's watch endpoint, which relays
// the gateway's WatchAttempt), and bringing a broken event into view. Pages work without it, minus live growth.
(function () {
  "use strict";
  const timeline = document.querySelector("ol[data-watch]");
  const url = timeline && timeline.dataset.watch;
  if (url) {
    const source = new EventSource(url);
    source.addEventListener("row", (m) => {
      const row = JSON.parse(m.data);
      if (document.getElementById("ev-" + row.v)) return; // already shown (a reconnect replays from the start point)
      if (row.html) timeline.insertAdjacentHTML("beforeend", row.html);
      timeline.dataset.last = row.v;
    });
    source.addEventListener("end", () => {
      source.close();
      const live = document.querySelector("[data-testid=live]");
      if (live) live.textContent = "ended: reload for the final state";
    });
  }
  const broken = document.querySelector("li.broken");
  if (broken) broken.scrollIntoView({ block: "center" });
})();
