// One message on the page: who wrote it, its reasoning (a collapsible block above an answer,
// shown as plain text: open while the model thinks, folded once the answer starts or when loaded
// from history), its text (an answer as sanitized Markdown once it is final), its status, and its actions: `‹ 2/3 ›` between versions of it, Regenerate on an
// answer, Edit on a question, Fork on both. `actions` holds the chat view's handlers for those.

import { h, when } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

function branchSwitch(message, actions) {
  if (!message.id || !(message.sibling_count > 1)) return null;
  const index = message.sibling_index || 0;
  return h("span", { className: "branch" },
    h("button", { className: "prev link", title: "Previous version", disabled: index === 0,
      onclick: () => actions.switchTo(message, -1) }, "‹"),
    h("span", { className: "pos" }, `${index + 1}/${message.sibling_count}`),
    h("button", { className: "next link", title: "Next version", disabled: index + 1 >= message.sibling_count,
      onclick: () => actions.switchTo(message, 1) }, "›"));
}

function actionButtons(message, actions) {
  if (!message.id || message.status === "streaming") return [];
  const again = message.role === "assistant"
    ? h("button", { className: "regenerate link", title: "Answer again",
      onclick: () => actions.regenerate(message) }, "Regenerate")
    : h("button", { className: "edit link", title: "Edit and send again",
      onclick: () => actions.edit(message) }, "Edit");
  const fork = h("button", { className: "fork link", title: "A new thread with the conversation up to here",
    onclick: () => actions.fork(message) }, "Fork");
  return [again, fork];
}

export function bubble(message, actions) {
  const body = h("div", { className: "body" });
  const status = h("span", { className: "status" });
  const tools = h("span", { className: "tools" });
  const thought = h("div", { className: "thought" });
  const reasoning = h("details", { className: "reasoning", hidden: true },
    h("summary", {}, "Reasoning"), thought);
  const el = h("article", { className: `msg ${message.role}`, dataset: { messageId: message.id || "" } },
    h("header", {}, h("b", {}, message.role === "user" ? "You" : (message.model || "Assistant")),
      " ", h("span", { className: "muted small" }, message.created_at ? when(message.created_at) : ""),
      " ", status, tools),
    reasoning,
    body);
  const view = {
    el,
    body,
    message,
    setReasoning(text, open) {
      message.reasoning = text || null;
      thought.textContent = text || ""; // a text node: reasoning is never rendered as HTML
      reasoning.hidden = !text;
      reasoning.open = Boolean(text) && open;
    },
    foldReasoning() {
      reasoning.open = false;
    },
    setText(text, final) {
      message.content = text;
      const markdown = message.role === "assistant" && final;
      body.classList.toggle("md", markdown);
      if (markdown) body.innerHTML = renderMarkdown(text); // marked, then DOMPurify
      else body.textContent = text;
    },
    setStatus(value) {
      message.status = value;
      el.dataset.status = value;
      status.textContent = value === "complete" ? "" : value;
      view.setTools();
    },
    setId(id) {
      message.id = id;
      el.dataset.messageId = id;
      view.setTools();
    },
    setTools() {
      tools.replaceChildren(...[branchSwitch(message, actions), ...actionButtons(message, actions)].filter(Boolean));
    },
  };
  view.setReasoning(message.reasoning || "", false);
  view.setText(message.content || "", true);
  view.setStatus(message.status || "complete");
  return view;
}

// The text of a question replaced by a box to change it; resolves to the new text, or null.
export function editInPlace(view) {
  return new Promise((resolve) => {
    const shown = [...view.body.childNodes];
    const box = h("textarea", { className: "edit-box", rows: 3, value: view.message.content });
    const done = (value) => { view.body.replaceChildren(...shown); resolve(value); };
    const save = () => (box.value.trim() ? done(box.value) : box.focus());
    box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); save(); }
      if (e.key === "Escape") done(null);
    });
    view.body.replaceChildren(box,
      h("div", { className: "row" },
        h("button", { className: "edit-save", onclick: save }, "Send"),
        h("button", { className: "edit-cancel", onclick: () => done(null) }, "Cancel")));
    box.focus();
  });
}
