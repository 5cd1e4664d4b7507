// Model output as Markdown (CommonMark + GitHub tables, via marked), then sanitized (DOMPurify).
// Two rules on top of the libraries' own: HTML the model writes is shown as text, never parsed
// (a `<script>` in an answer reads as `<script>`), and images become links, so an answer cannot
// make the page load anything. The sanitizer is the second wall behind both, the CSP the third.

import DOMPurify from "./vendor/dompurify-3.5.0.es.js";
import { Marked } from "./vendor/marked-18.2.1.esm.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const marked = new Marked({
  gfm: true,
  breaks: true, // a model's single line breaks are meant as breaks
  renderer: {
    // A block of HTML keeps its lines as a paragraph would; inline HTML is plain text.
    html: ({ text, block }) =>
      (block ? `<p>${escapeHtml(text.trim()).replace(/\n/g, "<br>")}</p>\n` : escapeHtml(text)),
    image: ({ href, text }) => `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`,
  },
});

const ALLOWED_TAGS = [
  "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "input",
  "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
];
const ALLOWED_ATTR = ["href", "title", "align", "start", "type", "checked", "disabled", "class"];

// Links open elsewhere and tell the target nothing. (An <input> can only be marked's disabled
// task-list checkbox: raw HTML never gets this far.)
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

export function renderMarkdown(text) {
  const html = marked.parse(String(text), { async: false }).trim(); // no stray text node after
  return DOMPurify.sanitize(html, { ALLOWED_TAGS, ALLOWED_ATTR });
}
