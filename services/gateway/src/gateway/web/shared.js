// A shared conversation, read-only: the snapshot from GET /api/shared/{id} (no token), each
// message shown as the chat shows it: a question as text, an answer as sanitized Markdown.

import { h, when } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

function message(m) {
  const body = h("div", { className: "body" });
  if (m.role === "assistant") {
    body.classList.add("md");
    body.innerHTML = renderMarkdown(m.content); // marked, then DOMPurify
  } else {
    body.textContent = m.content;
  }
  return h("article", { className: `msg ${m.role}` },
    h("header", {}, h("b", {}, m.role === "user" ? "Question" : "Answer"),
      " ", h("span", { className: "muted small" }, when(m.created_at))),
    body);
}

async function show() {
  const id = decodeURIComponent(location.pathname.split("/").pop() || "");
  const res = await fetch(`/api/shared/${encodeURIComponent(id)}`);
  if (!res.ok) {
    document.getElementById("shared-error").textContent =
      res.status === 404 ? "This link does not exist or was revoked." : "Could not load it; try again.";
    return;
  }
  const shared = await res.json();
  document.title = `${shared.title} · Switchboard`;
  document.getElementById("shared-title").textContent = shared.title;
  document.getElementById("shared-when").textContent = `Shared ${when(shared.created_at)}`;
  const list = document.getElementById("shared-messages");
  for (const m of shared.messages) list.append(message(m));
  document.body.dataset.loaded = "true";
}

show();
