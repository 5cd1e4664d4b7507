// Search (#/search?q=...): results of GET /api/search, best first, each opening its thread at
// the message (#/thread/<id>?message=<message id>). A snippet is plain text: it goes in as
// text nodes, its matched words in <mark>, so nothing in a message can become markup.

import { api } from "./api.js";
import { h, toast, when } from "./dom.js";

// The snippet's text with its highlights ([start, end) in code points) as <mark>s.
export function snippetNodes(snippet, highlights) {
  const chars = Array.from(snippet);
  const nodes = [];
  let at = 0;
  for (const [start, end] of highlights) {
    if (start < at || end <= start) continue;
    nodes.push(chars.slice(at, start).join(""), h("mark", {}, chars.slice(start, end).join("")));
    at = end;
  }
  nodes.push(chars.slice(at).join(""));
  return nodes;
}

function result(hit) {
  const target = hit.message_id
    ? `#/thread/${hit.thread_id}?message=${hit.message_id}`
    : `#/thread/${hit.thread_id}`;
  return h("li", { className: "search-hit", dataset: { threadId: hit.thread_id, messageId: hit.message_id || "" } },
    h("a", { href: target },
      h("strong", {}, hit.thread_title), " ",
      h("span", { className: "muted small" }, hit.message_id ? `${hit.role} · ${when(hit.created_at)}` : "title")),
    h("p", { className: "snippet" }, snippetNodes(hit.snippet, hit.highlights)));
}

export async function searchView(main, q) {
  const list = h("ul", { className: "search-results", id: "search-results" });
  const more = h("button", { id: "search-more", hidden: true }, "More results");
  const status = h("p", { className: "muted", id: "search-status" });
  let cursor = null;
  const load = async () => {
    const params = new URLSearchParams({ q });
    if (cursor) params.set("cursor", cursor);
    try {
      const page = await api.get(`/api/search?${params}`);
      list.append(...page.results.map(result));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = list.children.length ? "" : "Nothing found";
    } catch (err) { toast(err.message); }
  };
  more.addEventListener("click", load);
  main.replaceChildren(h("div", { className: "page" }, h("h2", {}, "Search: ", q), status, list, more));
  await load();
}

// Before a thread opens at a message of another branch, that branch becomes the active path
// (as choosing its version would); afterwards the page scrolls to the message and marks it.
export async function threadAt(threadId, messageId) {
  const url = `/api/threads/${encodeURIComponent(threadId)}`;
  const thread = await api.get(url);
  if (!messageId || thread.messages.some((m) => m.id === messageId)) return thread;
  await api.put(`${url}/active-leaf`, { message_id: messageId });
  return api.get(url);
}

export function showFound(main, messageId) {
  if (!messageId) return;
  const el = Array.from(main.querySelectorAll("article.msg")).find((a) => a.dataset.messageId === messageId);
  if (!el) return;
  el.classList.add("found");
  el.scrollIntoView({ block: "center" });
}
