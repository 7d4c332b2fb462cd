// swarmd's web view: fetches the server-rendered panels, and fetches them
// again whenever the event stream (/api/events, Server-Sent Events) says
// something happened. No framework, no build step.
"use strict";

(function () {
  const panels = Array.from(document.querySelectorAll("[data-src]"));
  const live = document.getElementById("live");
  const events = document.getElementById("events");
  const detail = document.getElementById("detail");
  let selected = null;
  let running = false;
  let dirty = false;
  let timer = null;

  async function load(el, url) {
    const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) {
      window.location.reload();
      return;
    }
    el.innerHTML = await r.text();
  }

  async function refresh() {
    if (running) {
      dirty = true;
      return;
    }
    running = true;
    dirty = false;
    try {
      const jobs = panels.map((el) => load(el, el.dataset.src));
      if (selected !== null) {
        jobs.push(load(detail, "/view/task/" + encodeURIComponent(selected)));
      }
      await Promise.all(jobs);
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } catch (e) {
      live.textContent = "cannot reach swarmd: " + e;
      live.dataset.live = "down";
    } finally {
      running = false;
      if (dirty) schedule();
    }
  }

  // Many events arrive together: one refresh for a burst.
  function schedule() {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      refresh();
    }, 150);
  }

  function show(e) {
    const li = document.createElement("li");
    li.dataset.kind = e.kind;
    const parts = [e.kind];
    if (e.task) parts.push(e.task);
    if (e.agent) parts.push(e.agent);
    li.textContent = "#" + e.seq + " " + parts.join(" · ") + (e.message ? " — " + e.message : "");
    events.prepend(li);
    while (events.children.length > 100) events.lastChild.remove();
  }

  document.addEventListener("click", (ev) => {
    const t = ev.target.closest("[data-task]");
    if (!t) return;
    selected = t.dataset.task;
    load(detail, "/view/task/" + encodeURIComponent(selected));
    document.getElementById("detail-panel").scrollIntoView({ behavior: "smooth", block: "nearest" });
  });

  const source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    live.textContent = "live";
    live.dataset.live = "live";
    schedule();
  });
  source.addEventListener("error", () => {
    live.textContent = "reconnecting…";
    live.dataset.live = "reconnecting";
  });
  source.addEventListener("swarm", (m) => {
    try {
      show(JSON.parse(m.data));
    } catch (_) {
      // A malformed event changes nothing but the refresh.
    }
    schedule();
  });

  refresh();
  // The plan clock moves on its own: redraw now and then.
  setInterval(schedule, 10000);
})();
