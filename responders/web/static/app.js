// mentiondesk's own script: countdowns, live refresh, keyboard, the reply counter.
// No data arrives in inline script: everything is read from data-* attributes.
"use strict";

(function () {
  const body = document.body;
  const pollSeconds = Number(body.dataset.pollSeconds || 10);

  // --- SLA countdowns ------------------------------------------------------------------------
  function span(seconds) {
    const s = Math.abs(seconds);
    const minutes = Math.floor(s / 60) % 60;
    const hours = Math.floor(s / 3600) % 24;
    const days = Math.floor(s / 86400);
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + minutes + "m";
    if (minutes) return minutes + "m";
    return s + "s";
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("time.countdown").forEach(function (el) {
      const due = Date.parse(el.getAttribute("datetime"));
      if (Number.isNaN(due)) return;
      const left = Math.round((due - now) / 1000);
      el.textContent = left >= 0 ? span(left) + " left" : "overdue " + span(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 15 * 60);
    });
  }
  tick();
  setInterval(tick, 1000);

  // --- live refresh of server-rendered fragments -----------------------------------------------
  // The server escapes everything in these fragments; we swap whole fragments, never build HTML.
  function ids(root) {
    return new Set(Array.from(root.querySelectorAll("[data-mention-id]"), (r) => r.dataset.mentionId));
  }
  function refresh(el) {
    const url = el.dataset.refresh;
    return fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        const before = ids(el);
        const selected = currentRow() && currentRow().dataset.mentionId;
        const template = document.createElement("template");
        template.innerHTML = html;
        el.replaceChildren(template.content);
        el.querySelectorAll("[data-mention-id]").forEach(function (row) {
          if (before.size && !before.has(row.dataset.mentionId)) row.classList.add("new");
          if (row.dataset.mentionId === selected) select(row, false);
        });
        tick();
        showCount();
        document.dispatchEvent(new CustomEvent("md:refreshed", { detail: el }));
      })
      .catch(function () { /* offline for a moment: try again next round */ });
  }
  // The tab's title says how much is waiting for me, so a background tab still tells.
  const baseTitle = document.title;
  function showCount() {
    const mine = document.querySelector("[data-mine-count]");
    const n = mine ? Number(mine.dataset.mineCount) : 0;
    document.title = n ? "(" + n + ") " + baseTitle : baseTitle;
  }
  showCount();
  document.querySelectorAll("[data-refresh]").forEach(function (el) {
    function schedule() {
      // Faster while a reply is on its way, so "posted" shows up within seconds.
      const pending = el.querySelector("[data-pending]");
      const wait = (pending ? Math.min(2, pollSeconds) : pollSeconds) * 1000;
      setTimeout(function () {
        if (document.hidden) { schedule(); return; }
        refresh(el).finally(schedule);
      }, wait);
    }
    schedule();
  });

  // --- keyboard ---------------------------------------------------------------------------------
  function rows() { return Array.from(document.querySelectorAll("tr[data-href]")); }
  function currentRow() { return document.querySelector("tr[data-href].selected"); }
  function select(row, scroll) {
    rows().forEach((r) => { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) return;
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    if (scroll !== false) {
      row.scrollIntoView({ block: "nearest" });
      const link = row.querySelector("a.open");
      if (link) link.focus({ preventScroll: true });
    }
  }
  function move(step) {
    const all = rows();
    if (!all.length) return;
    const index = all.indexOf(currentRow());
    select(all[Math.max(0, Math.min(all.length - 1, index < 0 ? 0 : index + step))]);
  }
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }
  function clickForm(action) {
    const form = document.querySelector('form[action$="/' + action + '"]');
    if (form) form.requestSubmit();
  }
  const help = document.getElementById("keys-help");
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      if (help && !help.hidden) { help.hidden = true; return; }
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": case "o": {
        const row = currentRow();
        if (row && (event.key === "o" || event.target === document.body || row.contains(event.target))) {
          window.location.href = row.dataset.href;
        } else { return; }
        break;
      }
      case "r": { const box = document.getElementById("reply-text"); if (box) box.focus(); else return; break; }
      case "c": clickForm("claim"); break;
      case "e": clickForm("resolve"); break;
      case "g": window.location.href = "/desk"; break;
      case "n": { const next = document.getElementById("next-mention"); if (next) window.location.href = next.href; else return; break; }
      case "?": if (help) help.hidden = !help.hidden; break;
      default: return;
    }
    event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, select, textarea")) return;
    window.location.href = row.dataset.href;
  });

  // --- reply box: a live count, measured the way the network measures -------------------------
  // Mirrors responders/replies/limits.py; the server checks again when the reply is queued.
  const URL_RE = /https?:\/\/\S+/g;
  const LINK_WEIGHT = 23;
  const X_LIGHT = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
  const segmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
  function graphemes(text) {
    return segmenter ? Array.from(segmenter.segment(text), (s) => s.segment) : Array.from(text);
  }
  function measure(network, text) {
    const links = (text.match(URL_RE) || []).length;
    const rest = text.replace(URL_RE, "");
    if (network === "x") {
      let weight = 0;
      for (const g of graphemes(rest)) {
        const cp = g.codePointAt(0);
        weight += X_LIGHT.some(([lo, hi]) => cp >= lo && cp <= hi) ? 1 : 2;
      }
      return weight + LINK_WEIGHT * links;
    }
    if (network === "mastodon") return Array.from(rest).length + LINK_WEIGHT * links;
    if (network === "bluesky") return graphemes(text).length;
    return Array.from(text).length;
  }
  window.mentiondeskMeasure = measure; // for the browser tests, which compare it with limits.py
  const box = document.getElementById("reply-text");
  const counter = document.getElementById("reply-count");
  if (box && counter) {
    const limit = Number(box.dataset.limit);
    const submit = box.form.querySelector('button[type="submit"]');
    const update = function () {
      const used = measure(box.dataset.network, box.value.trim());
      counter.textContent = used + " / " + limit;
      counter.classList.toggle("over", used > limit);
      counter.classList.toggle("near", used <= limit && used > limit * 0.9);
      submit.disabled = used > limit || used === 0;
    };
    box.addEventListener("input", update);
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !submit.disabled) {
        event.preventDefault();
        box.form.requestSubmit();
      }
    });
    update();
  }

  // Forms submit once: a double click must not queue the same reply twice.
  document.addEventListener("submit", function (event) {
    const button = event.target.querySelector('button[type="submit"]');
    if (event.target.dataset.submitted) { event.preventDefault(); return; }
    event.target.dataset.submitted = "1";
    if (button) button.setAttribute("aria-busy", "true");
  });
})();
