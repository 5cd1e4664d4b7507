"""Fold of `threads.projections.provider_settings`: one row per configured (user, provider)."""

from __future__ import annotations

from threads.replay.fold import FoldFn
from threads.replay.fold.rows import ProviderSettingRow
from threads.replay.fold.state import Event, ReadModels


def provider_configured(m: ReadModels, event: Event) -> None:
    """An upsert: the row is the event's config, whatever was there."""
    d = event.data
    m.provider_settings[(d["user_id"], d["provider"])] = ProviderSettingRow(
        d["user_id"],
        d["provider"],
        d.get("base_url"),
        d["enabled"],
        d["key_set"],
        d.get("key_hint"),
        event.recorded_at,
    )


def provider_removed(m: ReadModels, event: Event) -> None:
    m.provider_settings.pop((event.data["user_id"], event.data["provider"]), None)


HANDLERS: dict[str, FoldFn] = {
    "ProviderConfigured": provider_configured,
    "ProviderRemoved": provider_removed,
}
