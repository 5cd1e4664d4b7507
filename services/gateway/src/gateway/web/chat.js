// One thread: its active path, the composer, and answers streamed token by token. While an
// answer streams, the last event id and the text so far are kept in sessionStorage, so after a
// reload the page resumes with GET .../stream and Last-Event-ID instead of starting over.
// Regenerate and Edit stream like a chat; afterwards the path is read again from the server,
// which knows the versions (`‹ 2/3 ›`) and which branch is active.

import { api, sseEvents } from "./api.js";
import { neighbour, switchTo } from "./branches.js";
import { bubble, editInPlace } from "./bubble.js";
import { h, toast } from "./dom.js";
import { DEFAULT_TITLE, generatedTitle } from "./title.js";

const TERMINAL = new Set(["message_end", "error", "cancelled"]);
const saved = {
  key: (threadId) => `switchboard.stream.${threadId}`,
  load(threadId) {
    try { return JSON.parse(sessionStorage.getItem(this.key(threadId))); } catch { return null; }
  },
  store(threadId, state) { sessionStorage.setItem(this.key(threadId), JSON.stringify(state)); },
  clear(threadId) { sessionStorage.removeItem(this.key(threadId)); },
};

export class ChatView {
  constructor(main, thread, { onChange, projects }) {
    this.main = main;
    this.thread = thread;
    this.onChange = onChange;
    this.projects = projects;
    this.controller = null;
    this.streaming = null; // {messageId, view, text, lastId}
    this.open = true;
    this.views = [];
    this.actions = {
      switchTo: (message, step) => this.switchBranch(message, step),
      regenerate: (message) => this.regenerate(message),
      edit: (message) => this.edit(message),
      fork: (message) => this.fork(message),
    };
    this.render();
  }

  get url() { return `/api/threads/${encodeURIComponent(this.thread.id)}`; }

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
    this.showMessages(t.messages);
    const last = t.messages[t.messages.length - 1];
    if (last && last.role === "assistant" && last.status === "streaming") this.resume(last);
    else saved.clear(t.id);
    this.input.focus();
  }

  showMessages(messages) {
    this.views = messages.map((m) => bubble({ ...m }, this.actions));
    this.list.replaceChildren(...this.views.map((v) => v.el));
    this.scroll();
  }

  append(message) {
    const view = bubble(message, this.actions);
    this.views.push(view);
    this.list.append(view.el);
    this.scroll();
    return view;
  }

  // Takes `message` and everything after it off the page: a new version replaces that part.
  cutFrom(message) {
    const at = this.views.findIndex((v) => v.message.id === message.id);
    if (at < 0) return;
    for (const view of this.views.splice(at)) view.el.remove();
  }

  scroll() { this.list.scrollTop = this.list.scrollHeight; }

  setBusy(busy) {
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
    this.list.classList.toggle("busy", busy);
  }

  setTitle(title) {
    this.thread.title = title;
    this.titleEl.textContent = title;
  }

  close() {
    this.open = false;
    if (this.controller) this.controller.abort(); // the answer goes on server-side
  }

  async send() {
    const content = this.input.value;
    if (!content.trim() || this.streaming) return;
    this.input.value = "";
    const question = this.append({ role: "user", content, status: "complete", created_at: new Date().toISOString() });
    await this.answer(question, (signal) => api.openStream("POST", `${this.url}/chat`, { body: { content }, signal }));
  }

  async regenerate(message) {
    if (this.streaming) return;
    this.cutFrom(message);
    const url = `${this.url}/messages/${encodeURIComponent(message.id)}/regenerate`;
    await this.answer(null, (signal) => api.openStream("POST", url, { body: {}, signal }));
  }

  async edit(message) {
    const view = this.views.find((v) => v.message.id === message.id);
    if (this.streaming || !view) return;
    const content = await editInPlace(view);
    if (content === null || this.streaming) return;
    this.cutFrom(message);
    const question = this.append({ role: "user", content, status: "complete", created_at: new Date().toISOString() });
    const url = `${this.url}/messages/${encodeURIComponent(message.id)}/edit`;
    await this.answer(question, (signal) => api.openStream("POST", url, { body: { content }, signal }));
  }

  async switchBranch(message, step) {
    if (this.streaming) return;
    try {
      const target = await neighbour(this.thread.id, message, step);
      if (!target) return;
      await switchTo(this.thread.id, target.id);
      await this.reload();
    } catch (err) { toast(err.message); }
  }

  // A new thread holding the path up to `message`; the page goes there.
  async fork(message) {
    if (this.streaming) return;
    try {
      const forked = await api.post(`${this.url}/fork`, { message_id: message.id });
      this.onChange();
      location.hash = `#/thread/${forked.id}`;
    } catch (err) { toast(err.message); }
  }

  // A new answer (after `question`'s bubble, if one was just added) streamed from `open`.
  async answer(question, open) {
    const view = this.append({ role: "assistant", content: "", status: "streaming", model: this.thread.model });
    await this.consume(view, () => open(this.controller.signal), { text: "", lastId: null }, null, question);
  }

  resume(message) {
    const view = bubble({ ...message }, this.actions);
    this.views[this.views.length - 1].el.replaceWith(view.el);
    this.views[this.views.length - 1] = view;
    const state = saved.load(this.thread.id);
    const known = state && state.messageId === message.id ? state : { text: "", reasoning: "", lastId: null };
    view.setReasoning(known.reasoning || "", !known.text);
    view.setText(known.text, false);
    const url = `${this.url}/messages/${message.id}/stream`;
    this.consume(view, () => api.openStream("GET", url,
      { lastEventId: known.lastId, signal: this.controller.signal }), known, message.id);
  }

  async consume(view, open, known, messageId = null, question = null) {
    this.controller = new AbortController();
    const state = { messageId, view, text: known.text, reasoning: known.reasoning || "", lastId: known.lastId };
    this.streaming = state;
    this.setBusy(true);
    let ended = false;
    try {
      const response = await open();
      for await (const ev of sseEvents(response)) {
        if (ev.id !== null) state.lastId = ev.id;
        if (ev.event === "message_start") {
          state.messageId = ev.data.message_id;
          view.setId(state.messageId);
          if (question && ev.data.user_message_id) question.setId(ev.data.user_message_id);
        } else if (ev.event === "reasoning") {
          state.reasoning += ev.data.text;
          view.setReasoning(state.reasoning, !state.text); // open until the answer starts
          this.scroll();
        } else if (ev.event === "token") {
          if (!state.text) view.foldReasoning();
          state.text += ev.data.text;
          view.setText(state.text, false);
          this.scroll();
        } else if (ev.event === "restart") {
          state.text = "";
          state.reasoning = "";
          view.setReasoning("", false);
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
        if (state.messageId) saved.store(this.thread.id, { messageId: state.messageId, text: state.text, reasoning: state.reasoning, lastId: state.lastId });
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
    this.onChange();
    if (ended && this.open) await this.afterAnswer(view);
  }

  // The path again from the server (ids, versions, the active branch), then the title if one is
  // due. An answer whose end the stream showed may not be stored yet: the page keeps what it saw.
  async afterAnswer(finished) {
    await this.reload(finished.message);
    if (this.thread.title === DEFAULT_TITLE && this.views.length <= 2) {
      const renamed = await generatedTitle(this.thread.id, () => this.open && this.thread.title === DEFAULT_TITLE);
      if (renamed && this.open) {
        this.setTitle(renamed.title);
        this.onChange();
      }
    }
  }

  async reload(finished = null) {
    try {
      const thread = await api.get(this.url);
      if (!this.open || this.streaming) return;
      const messages = thread.messages.map((m) => (finished && m.id === finished.id && m.status === "streaming"
        ? { ...m, content: finished.content, status: finished.status } : m));
      this.thread = { ...this.thread, ...thread };
      this.titleEl.textContent = this.thread.title;
      this.showMessages(messages);
    } catch (err) { toast(err.message); }
  }

  async stop() {
    const id = this.streaming && this.streaming.messageId;
    if (!id) return;
    try {
      await api.post(`${this.url}/messages/${id}/cancel`);
    } catch (err) { toast(err.message); }
  }

  async rename() {
    const title = window.prompt("New title", this.thread.title);
    if (title === null || !title.trim()) return;
    try {
      this.thread = { ...this.thread, ...(await api.patch(this.url, { title: title.trim() })) };
      this.titleEl.textContent = this.thread.title;
      this.onChange();
    } catch (err) { toast(err.message); }
  }

  async move(projectId) {
    try {
      await api.patch(this.url, { project_id: projectId || null });
      toast("Moved", false);
      this.onChange();
    } catch (err) { toast(err.message); }
  }

  async remove() {
    if (!window.confirm(`Delete “${this.thread.title}” and its messages?`)) return;
    try {
      this.close();
      await api.del(this.url);
      this.onChange();
      location.hash = "#/new";
    } catch (err) { toast(err.message); }
  }
}
