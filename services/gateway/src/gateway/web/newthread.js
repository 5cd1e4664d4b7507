// A new thread: provider and model from /api/models (providers that failed are listed with
// their error), an optional title and project.

import { api } from "./api.js";
import { h, toast } from "./dom.js";

export async function newThreadView(main, { projects, onCreated }) {
  main.replaceChildren(h("p", { className: "muted" }, "Loading models…"));
  let catalogue = { models: [], errors: [] };
  for (let attempt = 1; ; attempt++) {
    try { catalogue = await api.get("/api/models"); break; } catch (err) {
      // 503 + Retry-After: the model catalogue's worker is starting or busy; ask again.
      if (err.status !== 503 || attempt >= 8) { toast(err.message); break; }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  const byProvider = new Map();
  for (const m of catalogue.models) {
    if (!byProvider.has(m.provider)) byProvider.set(m.provider, []);
    byProvider.get(m.provider).push(m);
  }
  const provider = h("select", { id: "new-provider", name: "provider" },
    [...byProvider.keys()].map((p) => h("option", { value: p, selected: p === "echo" }, p)));
  const model = h("select", { id: "new-model", name: "model" });
  const fillModels = () => model.replaceChildren(
    ...(byProvider.get(provider.value) || []).map((m) => h("option", { value: m.id }, `${m.display_name} (${m.id})`)));
  provider.addEventListener("change", fillModels);
  fillModels();
  const title = h("input", { id: "new-title", name: "title", placeholder: "Title (optional)", maxLength: 255 });
  const project = h("select", { id: "new-project", name: "project" },
    h("option", { value: "" }, "No project"), projects.map((p) => h("option", { value: p.id }, p.name)));
  const form = h("form", { className: "card", id: "new-thread",
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { model_provider: provider.value, model: model.value || undefined,
        title: title.value.trim() || undefined, project_id: project.value || undefined };
      try {
        const thread = await api.post("/api/threads", body);
        onCreated(thread);
      } catch (err) { toast(err.message); }
    } },
  h("h2", {}, "New chat"),
  h("label", {}, "Provider ", provider),
  h("label", {}, "Model ", model),
  h("label", {}, "Title ", title),
  h("label", {}, "Project ", project),
  h("button", { type: "submit", id: "create-thread" }, "Start chat"));
  const errors = catalogue.errors.length
    ? h("div", { className: "card warn", id: "model-errors" }, h("h3", {}, "Providers with problems"),
      h("ul", {}, catalogue.errors.map((e) => h("li", {}, h("b", {}, e.provider), ": ", e.detail))),
      h("p", { className: "muted small" }, "Set keys on the Settings page."))
    : null;
  main.replaceChildren(h("div", { className: "page" }, form, errors));
  provider.focus();
}
