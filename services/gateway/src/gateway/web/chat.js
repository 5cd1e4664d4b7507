// One thread: its messages, the composer, and answers streamed token by token. While an answer
// streams, the last event id and the text so far are kept in sessionStorage, so after a reload
// the page resumes with GET .../stream and Last-Event-ID instead of starting over.

import { api, sseEvents } from "./api.js";
import { h, toast, when } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

const TERMINAL = new Set(["message_end", "error", "cancelled"]);
const saved = {
  key: (threadId) => `switchboard.stream.${threadId}`,
  load(threadId) {
    try { return JSON.parse(sessionStorage.getItem(this.key(threadId))); } catch { return null; }
  },
  store(threadId, state) { sessionStorage.setItem(this.key(threadId), JSON.stringify(state)); },
  clear(threadId) { sessionStorage.removeItem(this.key(threadId)); },
};

function bubble(message) {
  const body = h("div", { className: "body" });
  const status = h("span", { className: "status" });
  const el = h("article", { className: `msg ${message.role}`, dataset: { messageId: message.id || "" } },
    h("header", {}, h("b", {}, message.role === "user" ? "You" : (message.model || "Assistant")),
      " ", h("span", { className: "muted small" }, message.created_at ? when(message.created_at) : ""),
      " ", status),
    body);
  const view = {
    el,
    setText(text, final) {
      if (message.role === "assistant" && final) body.innerHTML = renderMarkdown(text); // escaped first
      else body.textContent = text;
    },
    setStatus(value) {
      el.dataset.status = value;
      status.textContent = value === "complete" ? "" : value;
    },
  };
  view.setText(message.content || "", true);
  view.setStatus(message.status || "complete");
  return view;
}

export class ChatView {
  constructor(main, thread, { onChange, projects }) {
    this.main = main;
    this.thread = thread;
    this.onChange = onChange;
    this.projects = projects;
    this.controller = null;
    this.streaming = null; // {messageId, view, text, lastId}
    this.render();
  }

  render() {
    const t = this.thread;
    this.list = h("div", { className: "messages", id: "messages" });
    this.input = h("textarea", { id: "composer", rows: 3, placeholder: "Write a message… (Enter sends, Shift+Enter adds a line)",
      onkeydown: (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); this.send(); } } });
    this.sendButton = h("button", { id: "send", onclick: () => this.send() }, "Send");
    this.stopButton = h("button", { id: "stop", className: "danger", hidden: true, onclick: () => this.stop() }, "Stop");
    const move = h("select", { id: "move-to", title: "Move to project", onchange: (e) => this.move(e.target.value) },
      h("option", { value: "", selected: !t.project_id }, "No project"),
      this.projects.map((p) => h("option", { value: p.id, selected: p.id === t.project_id }, p.name)));
    this.titleEl = h("h2", { id: "thread-title" }, t.title);
    this.main.replaceChildren(
      h("div", { className: "chat" },
        h("div", { className: "chat-head" }, this.titleEl,
          h("span", { className: "muted" }, `${t.provider}/${t.model}`),
          h("span", { className: "spacer" }),
          h("button", { id: "rename", onclick: () => this.rename() }, "Rename"),
          move,
          h("button", { id: "delete-thread", className: "danger", onclick: () => this.remove() }, "Delete")),
        this.list,
        h("div", { className: "composer" }, this.input, this.sendButton, this.stopButton)));
    for (const m of t.messages) this.list.append(bubble(m).el);
    this.scroll();
    const last = t.messages[t.messages.length - 1];
    if (last && last.role === "assistant" && last.status === "streaming") this.resume(last);
    else saved.clear(t.id);
    this.input.focus();
  }

  scroll() { this.list.scrollTop = this.list.scrollHeight; }

  setBusy(busy) {
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
  }

  close() {
    if (this.controller) this.controller.abort(); // the answer goes on server-side
  }

  async send() {
    const content = this.input.value;
    if (!content.trim() || this.streaming) return;
    this.input.value = "";
    this.list.append(bubble({ role: "user", content, status: "complete", created_at: new Date().toISOString() }).el);
    const view = bubble({ role: "assistant", content: "", status: "streaming", model: this.thread.model });
    this.list.append(view.el);
    this.scroll();
    await this.consume(view, () => api.openStream("POST", `/api/threads/${this.thread.id}/chat`,
      { body: { content }, signal: this.controller.signal }), { text: "", lastId: null });
    this.onChange();
  }

  resume(message) {
    const view = bubble(message);
    this.list.lastElementChild.replaceWith(view.el);
    const state = saved.load(this.thread.id);
    const known = state && state.messageId === message.id ? state : { text: "", lastId: null };
    view.setText(known.text, false);
    const url = `/api/threads/${this.thread.id}/messages/${message.id}/stream`;
    this.consume(view, () => api.openStream("GET", url,
      { lastEventId: known.lastId, signal: this.controller.signal }), known, message.id)
      .then(() => this.onChange());
  }

  async consume(view, open, known, messageId = null) {
    this.controller = new AbortController();
    const state = { messageId, view, text: known.text, lastId: known.lastId };
    this.streaming = state;
    this.setBusy(true);
    let ended = false;
    try {
      const response = await open();
      for await (const ev of sseEvents(response)) {
        if (ev.id !== null) state.lastId = ev.id;
        if (ev.event === "message_start") {
          state.messageId = ev.data.message_id;
          view.el.dataset.messageId = state.messageId;
        } else if (ev.event === "token") {
          state.text += ev.data.text;
          view.setText(state.text, false);
          this.scroll();
        } else if (ev.event === "restart") {
          state.text = "";
          view.setText("", false);
        } else if (TERMINAL.has(ev.event)) {
          ended = true;
          if (ev.event === "error") {
            view.setStatus("failed");
            view.el.append(h("p", { className: "error" }, `${ev.data.code}: ${ev.data.message}`));
          } else view.setStatus(ev.event === "cancelled" ? "cancelled" : "complete");
          view.setText(state.text, true);
          break;
        }
        if (state.messageId) saved.store(this.thread.id, { messageId: state.messageId, text: state.text, lastId: state.lastId });
      }
      if (!ended) view.setStatus("interrupted");
    } catch (err) {
      if (err.name !== "AbortError") {
        view.setStatus("failed");
        toast(err.message);
      }
    } finally {
      if (ended) saved.clear(this.thread.id);
      if (this.streaming === state) this.streaming = null;
      this.setBusy(false);
    }
  }

  async stop() {
    const id = this.streaming && this.streaming.messageId;
    if (!id) return;
    try {
      await api.post(`/api/threads/${this.thread.id}/messages/${id}/cancel`);
    } catch (err) { toast(err.message); }
  }

  async rename() {
    const title = window.prompt("New title", this.thread.title);
    if (title === null || !title.trim()) return;
    try {
      this.thread = { ...this.thread, ...(await api.patch(`/api/threads/${this.thread.id}`, { title: title.trim() })) };
      this.titleEl.textContent = this.thread.title;
      this.onChange();
    } catch (err) { toast(err.message); }
  }

  async move(projectId) {
    try {
      await api.patch(`/api/threads/${this.thread.id}`, { project_id: projectId || null });
      toast("Moved", false);
      this.onChange();
    } catch (err) { toast(err.message); }
  }

  async remove() {
    if (!window.confirm(`Delete “${this.thread.title}” and its messages?`)) return;
    try {
      this.close();
      await api.del(`/api/threads/${this.thread.id}`);
      this.onChange();
      location.hash = "#/new";
    } catch (err) { toast(err.message); }
  }
}
