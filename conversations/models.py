"""Synced TikTok comments (models are built by the conversations issue)."""
