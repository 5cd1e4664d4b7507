"""Read model `provider_settings`: one row per configured (user, provider), without the key."""

from __future__ import annotations

from threads.projections.changes import Changes, Definition, Event, fields
from threads.store.tables import provider_settings


def provider_configured(out: Changes, event: Event) -> None:
    """The row is the event's config, whatever was there."""
    d = event.data
    values = fields(d, "enabled", "key_set", maybe=("base_url", "key_hint"))
    values["updated_at"] = event.recorded_at
    row = {**fields(d, "user_id", "provider"), **values}
    out.upsert(provider_settings, row, set=values)


def provider_removed(out: Changes, event: Event) -> None:
    d = event.data
    out.delete(provider_settings, (d["user_id"], d["provider"]))


CHANGES: Definition = {
    "ProviderConfigured": provider_configured,
    "ProviderRemoved": provider_removed,
}
