"""The answering path: one AssistantMessageRequested delivery to a recorded, streamed answer.

Its steps, one module each: `consumer` (fetch while a slot is free) → `request` (the relayed
event) → `context` (pushed or asked) → `attempts` (retry and restart) with `coalescing` (the
deltas on `token_stream`) → `outcome` (record, then end the stream) → `titles`. Beside them:
`cancels` (a cancel reaching the answer it stops) and `exhausted` (requests out of deliveries).
"""
