// The global thread list: every thread of the user, newest activity first, grouped by project
// in order of each project's newest thread, with message counts. Infinite scroll in cursor
// mode: when the bottom comes into view, the next page is fetched with `next_cursor`.

import { api } from "./api.js";
import { h, toast } from "./dom.js";

const PAGE = 25;

export class Sidebar {
  constructor(root, sentinel) {
    this.root = root;
    this.sentinel = sentinel;
    this.activeId = null;
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.more();
    }, { root: root.parentElement });
    this.observer.observe(sentinel);
    this.reset();
  }

  reset() {
    this.cursor = null;
    this.done = false;
    this.loading = null;
    this.groups = new Map();
    this.seen = new Set();
    this.total = 0;
  }

  async refresh() {
    this.reset();
    this.root.replaceChildren();
    await this.more();
  }

  async more() {
    if (this.loading) return this.loading;
    if (this.done) return null;
    this.loading = (async () => {
      const params = new URLSearchParams({ limit: String(PAGE) });
      if (this.cursor) params.set("cursor", this.cursor);
      try {
        const page = await api.get(`/api/threads?${params}`);
        this.total = page.total;
        page.threads.forEach((t) => this.add(t));
        this.cursor = page.next_cursor;
        this.done = !page.has_more || !page.next_cursor;
      } catch (err) {
        this.done = true;
        toast(`Could not load threads: ${err.message}`);
      }
      this.sentinel.textContent = this.done ? (this.total ? "" : "No threads yet") : "…";
    })();
    try { await this.loading; } finally { this.loading = null; }
    // Still room on screen (a tall window): keep filling.
    const box = this.root.parentElement;
    if (!this.done && box.scrollHeight <= box.clientHeight) await this.more();
    return null;
  }

  group(thread) {
    const key = thread.project_id || "none";
    let group = this.groups.get(key);
    if (!group) {
      const list = h("ul", { className: "threads" });
      const section = h("section", { className: "group", dataset: { project: key } },
        h("h3", {}, thread.project_name || "No project"), list);
      this.root.append(section);
      group = { list };
      this.groups.set(key, group);
    }
    return group;
  }

  add(thread) {
    if (this.seen.has(thread.id)) return;
    this.seen.add(thread.id);
    const item = h("li", { dataset: { threadId: thread.id } },
      h("a", { href: `#/thread/${thread.id}`, className: thread.id === this.activeId ? "active" : "" },
        h("span", { className: "title" }, thread.title),
        h("span", { className: "count", title: "messages" }, String(thread.message_count))));
    this.group(thread).list.append(item);
  }

  select(threadId) {
    this.activeId = threadId;
    for (const a of this.root.querySelectorAll("a.active")) a.classList.remove("active");
    const item = threadId && this.root.querySelector(`li[data-thread-id="${CSS.escape(threadId)}"] a`);
    if (item) item.classList.add("active");
  }
}
