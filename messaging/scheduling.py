"""Glue between campaign changes and the sending engine (filled in by the engine)."""

from __future__ import annotations


def campaign_saved(campaign, changed: set[str] | None = None) -> None:
    """Called inside the transaction that created or changed a campaign."""


def campaign_deleted(campaign_id: int) -> None:
    """Called inside the transaction that deleted a campaign."""
