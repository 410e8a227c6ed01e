// Cadenza's UI works without this script; it only adds confirmation dialogs and live updates.
"use strict";

// Ask before an action is sent (the page's confirm checkbox already stands when this cannot).
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// While the run goes on, long-poll the server for new events and swap in the fresh page.
async function follow(root) {
  let last = root.dataset.lastEventId;
  for (;;) {
    let news;
    try {
      const answer = await fetch(`${root.dataset.wait}?after=${encodeURIComponent(last)}`);
      if (!answer.ok) return;
      news = await answer.json();
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      continue;
    }
    if (String(news.lastEventId) !== String(last)) {
      // The history page as shown (its notice included); a query's answer page is an action's URL.
      const source = window.location.pathname.endsWith("/history") ? window.location.href : root.dataset.page;
      const page = await fetch(source, { headers: { Accept: "text/html" } });
      if (!page.ok) return;
      const fresh = new DOMParser().parseFromString(await page.text(), "text/html").getElementById("workflow");
      if (!fresh) return;
      keepOpenDetails(root, fresh);
      swap(root, fresh);
      last = root.dataset.lastEventId;
    }
    if (!news.running) return;
  }
}

// The fresh content goes in; the actions stay as they are while a person is filling one in.
function swap(root, fresh) {
  const actions = root.querySelector(".actions");
  const busy = actions && (actions.contains(document.activeElement) ||
    [...actions.querySelectorAll("textarea, input:not([type=hidden]):not([type=checkbox])")].some((f) => f.value));
  const kept = busy ? actions : null;
  for (const old of [...root.children]) if (old !== kept) old.remove();
  let before = true;
  for (const node of [...fresh.children]) {
    if (kept && node.matches(".actions")) { before = false; continue; }
    if (kept && before) root.insertBefore(node, kept); else root.appendChild(node);
  }
  root.dataset.lastEventId = fresh.dataset.lastEventId;
  root.dataset.running = fresh.dataset.running;
}

// What a person opened stays open when the page's content is replaced.
function keepOpenDetails(from, to) {
  const open = new Set([...from.querySelectorAll("details[open]")].map((d) => d.closest("[id]")?.id));
  for (const details of to.querySelectorAll("details")) {
    const owner = details.closest("[id]")?.id;
    if (owner && owner !== "workflow" && open.has(owner)) details.open = true;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("workflow");
  if (root && root.dataset.running === "true") follow(root);
});
