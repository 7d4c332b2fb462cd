// swarmd's web view: fetches the server-rendered panels, and fetches them
// again whenever the event stream (/api/events, Server-Sent Events) says
// something happened; posts the operator's forms (with the session's
// CSRF token) without leaving the page. No framework, no build step.
"use strict";

(function () {
  const panels = Array.from(document.querySelectorAll("[data-src]"));
  const live = document.getElementById("live");
  const events = document.getElementById("events");
  const detail = document.getElementById("detail");
  const result = document.getElementById("act-result");
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  let selected = null;
  // A panel not redrawn while someone types in it, until they leave it.
  let held = false;
  let running = false;
  let dirty = false;
  let timer = null;

  async function load(el, url) {
    const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) {
      window.location.reload();
      return;
    }
    const text = await r.text();
    const typing = document.activeElement;
    if (typing && typing.tagName === "INPUT" && el.contains(typing)) {
      held = true;
      return;
    }
    el.innerHTML = text;
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
    if (e.actor) parts.push("by " + e.actor);
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

  document.addEventListener("focusout", () => {
    if (held) {
      held = false;
      schedule();
    }
  });

  // A form's fields as a URL-encoded body; a chosen file goes as its
  // text (`plan`) and its name (`file_name`).
  async function fields(form, submitter) {
    const body = new URLSearchParams();
    for (const [k, v] of new FormData(form, submitter)) {
      if (v instanceof File) {
        if (v.name) {
          body.set("plan", await v.text());
          body.set("file_name", v.name);
        }
      } else {
        body.append(k, v);
      }
    }
    return body;
  }

  // A revised plan is applied only after its change was shown.
  const revise = document.getElementById("revise");
  const revision = document.getElementById("revision");
  const applyButton = revise?.querySelector('button[value="0"]');
  revise?.addEventListener("change", () => {
    if (applyButton) applyButton.disabled = true;
  });

  // The operator's forms: posted here, the answer shown in the header
  // (a revision's whole change beside its form); the change itself
  // arrives through the event stream.
  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form.act");
    if (!form) return;
    ev.preventDefault();
    const dry = ev.submitter?.name === "dry_run" && ev.submitter.value === "1";
    result.textContent = "…";
    delete result.dataset.ok;
    try {
      const r = await fetch(form.getAttribute("action"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "x-csrf-token": csrf },
        body: await fields(form, ev.submitter),
      });
      const text = (await r.text()).trim();
      result.textContent = text.split("\n")[0];
      result.dataset.ok = String(r.ok);
      if (form === revise) {
        revision.textContent = text;
        revision.hidden = false;
        revision.dataset.ok = String(r.ok);
        if (applyButton) applyButton.disabled = !(r.ok && dry);
        if (r.ok && !dry) form.reset();
      } else if (r.ok) {
        form.reset();
      }
    } catch (e) {
      result.textContent = "cannot reach swarmd: " + e;
      result.dataset.ok = "false";
    }
    if (document.activeElement && form.contains(document.activeElement)) {
      document.activeElement.blur();
    }
    schedule();
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
