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
      const page = await fetch(window.location.href, { headers: { Accept: "text/html" } });
      if (!page.ok) return;
      const fresh = new DOMParser().parseFromString(await page.text(), "text/html").getElementById("workflow");
      if (!fresh) return;
      keepOpenDetails(root, fresh);
      root.replaceWith(fresh);
      root = fresh;
      last = root.dataset.lastEventId;
    }
    if (!news.running) return;
  }
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
