// Projects and their documents: create and delete projects, add (file or pasted text), list
// and delete a project's documents.

import { api } from "./api.js";
import { h, toast, when } from "./dom.js";

export async function projectsView(main, { projectId, onChange }) {
  const { projects } = await api.get("/api/projects");
  const create = h("form", { className: "card", id: "new-project-form",
    onsubmit: async (e) => {
      e.preventDefault();
      const data = new FormData(e.target);
      try {
        const p = await api.post("/api/projects", { name: data.get("name"), description: data.get("description") || null });
        onChange();
        location.hash = `#/projects/${p.id}`;
      } catch (err) { toast(err.message); }
    } },
  h("h3", {}, "New project"),
  h("label", {}, "Name ", h("input", { name: "name", required: true, maxLength: 255 })),
  h("label", {}, "Description ", h("input", { name: "description" })),
  h("button", { type: "submit" }, "Create project"));
  const list = h("ul", { className: "projects" }, projects.map((p) => h("li", {},
    h("a", { href: `#/projects/${p.id}`, className: p.id === projectId ? "active" : "" }, p.name),
    " ", h("span", { className: "muted small" }, `${p.thread_count} threads`))));
  const current = projects.find((p) => p.id === projectId);
  main.replaceChildren(h("div", { className: "page" },
    h("h2", {}, "Projects"), list, current ? await documents(current, onChange) : null, create));
}

async function documents(project, onChange) {
  const base = `/api/projects/${project.id}`;
  const reload = () => { location.hash = `#/projects/${project.id}?t=${Date.now()}`; };
  const { documents: docs } = await api.get(`${base}/documents`);
  const rows = docs.map((d) => h("li", { dataset: { documentId: d.id } },
    h("span", {}, d.filename), " ", h("span", { className: "muted small" }, `${d.size} bytes · ${when(d.created_at)}`), " ",
    h("button", { className: "link danger", onclick: async () => {
      try { await api.del(`/api/documents/${d.id}`); reload(); } catch (err) { toast(err.message); }
    } }, "delete")));
  const file = h("input", { type: "file", name: "file", id: "document-file" });
  const upload = h("form", { className: "row", onsubmit: async (e) => {
    e.preventDefault();
    if (!file.files.length) return;
    const body = new FormData();
    body.append("file", file.files[0]);
    try { await api.request("POST", `${base}/documents`, body, { form: true }); reload(); } catch (err) { toast(err.message); }
  } }, file, h("button", { type: "submit" }, "Upload"));
  const paste = h("form", { className: "stack", id: "paste-document", onsubmit: async (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    try {
      await api.post(`${base}/documents`, { filename: data.get("filename"), content: data.get("content") });
      reload();
    } catch (err) { toast(err.message); }
  } },
  h("input", { name: "filename", placeholder: "notes.md", required: true }),
  h("textarea", { name: "content", rows: 4, placeholder: "Paste text…", required: true }),
  h("button", { type: "submit" }, "Add document"));
  const remove = h("button", { className: "danger", onclick: async () => {
    if (!window.confirm(`Delete project “${project.name}”? Its threads stay, its documents go.`)) return;
    try { await api.del(base); onChange(); location.hash = "#/projects"; } catch (err) { toast(err.message); }
  } }, "Delete project");
  return h("section", { className: "card", id: "project-documents" },
    h("h3", {}, project.name), project.description ? h("p", {}, project.description) : null,
    h("h4", {}, "Documents"), rows.length ? h("ul", {}, rows) : h("p", { className: "muted" }, "No documents yet"),
    upload, paste, remove);
}
