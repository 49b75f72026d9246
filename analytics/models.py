"""Daily snapshots of profile and video metrics (models are built by the analytics issue)."""
