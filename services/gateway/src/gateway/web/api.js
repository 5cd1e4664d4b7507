// The public HTTP API: JSON requests with the bearer access token, and server-sent events read
// from a fetch() body (a ReadableStream), so POST streams work and Last-Event-ID can be sent.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

const ACCESS_TOKEN_KEY = "switchboard.token"; // the stored key stays: saved logins keep working

function detailOf(body, fallback) {
  const detail = body && body.detail !== undefined ? body.detail : fallback;
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  return String(detail);
}

export const api = {
  onUnauthorized: () => {},
  get accessToken() { return localStorage.getItem(ACCESS_TOKEN_KEY); },
  set accessToken(value) {
    if (value) localStorage.setItem(ACCESS_TOKEN_KEY, value);
    else localStorage.removeItem(ACCESS_TOKEN_KEY);
  },

  headers(extra = {}) {
    const headers = { ...extra };
    if (this.accessToken) headers.Authorization = `Bearer ${this.accessToken}`;
    return headers;
  },

  async request(method, path, body, { form = false, signal } = {}) {
    const init = { method, headers: this.headers(), signal };
    if (form) init.body = body;
    else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    return this.check(response);
  },

  async check(response) {
    if (response.ok) {
      const type = response.headers.get("content-type") || "";
      return type.includes("json") ? response.json() : response;
    }
    let body = null;
    try { body = await response.json(); } catch { /* not JSON */ }
    if (response.status === 401 && this.accessToken) this.onUnauthorized();
    throw new ApiError(response.status, detailOf(body, response.statusText));
  },

  get(path) { return this.request("GET", path); },
  post(path, body) { return this.request("POST", path, body); },
  put(path, body) { return this.request("PUT", path, body); },
  patch(path, body) { return this.request("PATCH", path, body); },
  del(path) { return this.request("DELETE", path); },

  // Opens a stream; resolves to the Response once headers arrive (errors are thrown).
  async openStream(method, path, { body, lastEventId, signal } = {}) {
    const headers = this.headers({ Accept: "text/event-stream" });
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (lastEventId !== undefined && lastEventId !== null) headers["Last-Event-ID"] = String(lastEventId);
    const response = await fetch(path, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) await this.check(response);
    return response;
  },
};

// Yields {event, id, data} for each server-sent event of a fetch Response.
export async function* sseEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const ev = { event: "message", id: null, data: [] };
        for (const line of block.split("\n")) {
          if (!line || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") ev.event = val;
          else if (field === "id") ev.id = val;
          else if (field === "data") ev.data.push(val);
        }
        if (ev.data.length) yield { event: ev.event, id: ev.id, data: JSON.parse(ev.data.join("\n")) };
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
