// Provider keys and task routes. Key fields are write-only: the page never receives a key,
// only its hint (last four characters); an empty field keeps the stored key.

import { api } from "./api.js";
import { h, toast } from "./dom.js";

export async function settingsView(main) {
  const [{ providers }, routes] = await Promise.all([api.get("/api/providers"), api.get("/api/task-routes")]);
  main.replaceChildren(h("div", { className: "page" },
    h("h2", {}, "Settings"), h("h3", {}, "Providers"),
    h("div", { className: "providers" }, providers.map((p) => providerCard(p, () => settingsView(main)))),
    routesForm(routes, providers)));
}

function providerCard(p, reload) {
  const key = h("input", { type: "password", name: "api_key", autocomplete: "off",
    placeholder: p.key_hint ? `stored key …${p.key_hint} (leave empty to keep)` : "API key" });
  const baseUrl = h("input", { name: "base_url", value: p.base_url || "", placeholder: "default base URL" });
  const enabled = h("input", { type: "checkbox", name: "enabled", checked: p.enabled });
  const save = async (e) => {
    e.preventDefault();
    const body = { base_url: baseUrl.value.trim() || null, enabled: enabled.checked };
    if (key.value) body.api_key = key.value;
    try {
      await api.put(`/api/providers/${p.provider}/config`, body);
      key.value = "";
      toast(`${p.display_name} saved`, false);
      reload();
    } catch (err) { toast(err.message); }
  };
  const remove = async () => {
    if (!window.confirm(`Remove ${p.display_name}'s settings and key?`)) return;
    try { await api.del(`/api/providers/${p.provider}`); reload(); } catch (err) { toast(err.message); }
  };
  return h("form", { className: "card provider", dataset: { provider: p.provider }, onsubmit: save },
    h("h4", {}, p.display_name, " ", h("span", { className: "muted small" },
      p.configured ? `configured${p.key_hint ? ` · key …${p.key_hint}` : ""}` : "not configured")),
    h("label", {}, "API key ", key), h("label", {}, "Base URL ", baseUrl),
    h("label", { className: "inline" }, enabled, " enabled"),
    h("div", { className: "row" }, h("button", { type: "submit" }, "Save"),
      p.configured ? h("button", { type: "button", className: "danger", onclick: remove }, "Remove") : null));
}

function routesForm(routes, providers) {
  const separate = h("input", { type: "checkbox", name: "use_separate_models", checked: routes.use_separate_models });
  const fields = ["chat", "title"].map((task) => {
    const route = routes.routes.find((r) => r.task === task) || {};
    const provider = h("select", { name: `${task}_provider` }, h("option", { value: "" }, "—"),
      providers.map((p) => h("option", { value: p.provider, selected: p.provider === route.provider }, p.provider)));
    const model = h("input", { name: `${task}_model`, value: route.model || "", placeholder: "model id" });
    return { task, provider, model, row: h("label", {}, `${task} `, provider, model) };
  });
  return h("form", { className: "card", id: "task-routes", onsubmit: async (e) => {
    e.preventDefault();
    const body = { use_separate_models: separate.checked,
      routes: fields.filter((f) => f.provider.value && f.model.value.trim())
        .map((f) => ({ task: f.task, provider: f.provider.value, model: f.model.value.trim() })) };
    try { await api.put("/api/task-routes", body); toast("Task routes saved", false); } catch (err) { toast(err.message); }
  } },
  h("h3", {}, "Task routes"),
  h("p", { className: "muted small" }, "Which model does what: chat (default for new threads) and title generation."),
  h("label", { className: "inline" }, separate, " use a separate model for titles"),
  fields.map((f) => f.row), h("button", { type: "submit" }, "Save routes"));
}
