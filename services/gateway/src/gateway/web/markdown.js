// A tiny, safe Markdown subset for model output: the text is HTML-escaped FIRST, then only
// fenced code blocks, inline code, bold, italics and http(s) links are turned into markup.
// Nothing the model writes can become a tag or an attribute of its own.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function inline(escaped) {
  return escaped
    .split(/(`[^`\n]+`)/g)
    .map((part, i) => {
      if (i % 2 === 1) return `<code>${part.slice(1, -1)}</code>`;
      return part
        .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s()]+)\)/g,
          '<a href="$2" target="_blank" rel="noopener noreferrer nofollow">$1</a>')
        .replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>")
        .replace(/(^|[^*\w])\*([^*\n]+)\*(?![*\w])/g, "$1<em>$2</em>")
        .replace(/(^|[^\w])_([^_\n]+)_(?!\w)/g, "$1<em>$2</em>");
    })
    .join("")
    .replace(/\n/g, "<br>");
}

export function renderMarkdown(text) {
  const escaped = escapeHtml(text);
  // Split on fenced blocks: even parts are prose, odd parts are [language, code] pairs.
  const parts = escaped.split(/```[^\n`]*\n?([\s\S]*?)(?:```|$)/g);
  return parts
    .map((part, i) => (i % 2 === 1 ? `<pre><code>${part}</code></pre>` : inline(part)))
    .join("");
}
