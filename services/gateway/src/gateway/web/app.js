// The page's entry point: sign up / sign in, then a hash router over the views
// (#/thread/<id>[?message=<id>], #/new, #/projects[/<id>], #/settings, #/search?q=). Only the public HTTP API is used.

import { api } from "./api.js";
import { ChatView } from "./chat.js";
import { h, toast } from "./dom.js";
import { newThreadView } from "./newthread.js";
import { projectsView } from "./projects.js";
import { searchView, showFound, threadAt } from "./search.js";
import { settingsView } from "./settings.js";
import { Sidebar } from "./sidebar.js";

const $ = (id) => document.getElementById(id);
let sidebar = null;
let chat = null;
let signingUp = false;

function showAuth() {
  $("app").hidden = true;
  $("auth").hidden = false;
  document.body.classList.toggle("signing-up", signingUp);
  $("auth-submit").textContent = signingUp ? "Create account" : "Sign in";
  $("auth-toggle").textContent = signingUp ? "I have an account" : "Create an account";
}

async function authenticate(event) {
  event.preventDefault();
  const data = new FormData(event.target);
  const email = data.get("email");
  const password = data.get("password");
  $("auth-error").textContent = "";
  try {
    if (signingUp) {
      await api.post("/api/auth/register", { email, password, display_name: data.get("display_name") || null })
        .then((r) => { api.accessToken = r.access_token; });
    } else {
      api.accessToken = (await api.post("/api/auth/login", { email, password })).access_token;
    }
    event.target.reset();
    await start();
  } catch (err) {
    $("auth-error").textContent = err.message;
  }
}

async function projects() {
  try { return (await api.get("/api/projects")).projects; } catch { return []; }
}

let routed = 0; // the newest route's number

async function route() {
  if (!api.accessToken || !sidebar) return;
  if (chat) { chat.close(); chat = null; }
  const mine = ++routed;
  // Each route renders into a pane of its own (display: contents: laid out as if it filled
  // #main), so a view still loading when a newer route starts fills a pane no longer shown.
  const main = h("div", { className: "pane" });
  $("main").replaceChildren(main);
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const params = new URLSearchParams(query || "");
  const [view, id] = path.split("/");
  sidebar.select(view === "thread" ? id : null);
  try {
    if (view === "thread" && id) {
      const thread = await threadAt(id, params.get("message"));
      if (mine !== routed) return;
      chat = new ChatView(main, thread, { onChange: () => sidebar.refresh(), projects: await projects() });
      showFound(main, params.get("message"));
    } else if (view === "search" && params.get("q")) {
      $("search-box").value = params.get("q");
      await searchView(main, params.get("q"));
    } else if (view === "projects") {
      await projectsView(main, { projectId: id, onChange: () => sidebar.refresh() });
    } else if (view === "settings") {
      await settingsView(main);
    } else {
      await newThreadView(main, {
        projects: await projects(),
        onCreated: (thread) => { sidebar.refresh(); location.hash = `#/thread/${thread.id}`; },
      });
    }
  } catch (err) {
    if (err.status === 404) toast("Not found");
    else toast(err.message);
  }
}

let starting = null;

function start() {
  starting ||= begin().finally(() => { starting = null; });
  return starting;
}

async function begin() {
  let me;
  try { me = await api.get("/api/me"); } catch { api.accessToken = null; showAuth(); return; }
  $("me").textContent = me.display_name || me.email;
  $("auth").hidden = true;
  $("app").hidden = false;
  if (!sidebar) sidebar = new Sidebar($("thread-groups"), $("thread-sentinel"));
  await sidebar.refresh();
  await route();
}

function signOut() {
  api.accessToken = null;
  if (chat) { chat.close(); chat = null; }
  sessionStorage.clear();
  location.hash = "";
  showAuth();
}

api.onUnauthorized = signOut;
$("auth-form").addEventListener("submit", authenticate);
$("auth-toggle").addEventListener("click", () => { signingUp = !signingUp; showAuth(); });
$("sign-out").addEventListener("click", signOut);
$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = $("search-box").value.trim();
  if (q) location.hash = `#/search?q=${encodeURIComponent(q)}`;
});
window.addEventListener("hashchange", () => (sidebar ? route() : api.accessToken && start()));
if (api.accessToken) start(); else showAuth();
