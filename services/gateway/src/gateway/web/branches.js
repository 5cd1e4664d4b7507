// Versions of a message: its siblings (the messages with the same parent, in creation order)
// come from every branch of the thread (`?path=all`). Switching to one makes it the active
// leaf's way down: the server follows the newest child below it at each level.

import { api } from "./api.js";

export function siblingsOf(all, message) {
  const parent = message.parent_id ?? null;
  return all
    .filter((m) => (m.parent_id ?? null) === parent)
    .sort((a, b) => (a.sibling_index ?? 0) - (b.sibling_index ?? 0));
}

// The version `step` places from `message` (-1 the one before, 1 the one after), or null.
export async function neighbour(threadId, message, step) {
  const { messages } = await api.get(`/api/threads/${encodeURIComponent(threadId)}/messages?path=all`);
  const siblings = siblingsOf(messages, message);
  const at = siblings.findIndex((m) => m.id === message.id);
  return at < 0 ? null : siblings[at + step] || null;
}

export function switchTo(threadId, messageId) {
  return api.put(`/api/threads/${encodeURIComponent(threadId)}/active-leaf`, { message_id: messageId });
}
