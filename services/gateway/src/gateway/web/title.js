// The header follows a generated title. The chat worker names a thread still called `New Chat`
// just after its first answer is stored, with no event the page could hear, so the page asks
// again a few times once that answer has ended.

import { api } from "./api.js";

export const DEFAULT_TITLE = "New Chat";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves to the renamed thread, or null when no title came in time or `isOpen()` went false.
export async function generatedTitle(threadId, isOpen, { tries = 30, every = 500 } = {}) {
  for (let i = 0; i < tries; i++) {
    await sleep(every);
    if (!isOpen()) return null;
    try {
      const thread = await api.get(`/api/threads/${encodeURIComponent(threadId)}`);
      if (thread.title !== DEFAULT_TITLE) return thread;
    } catch { return null; } // gone or signed out: nothing to follow
  }
  return null;
}
