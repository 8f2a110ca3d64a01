"""Notifications: the Prefect automations in automations/, the block they send to, and the event
a quality gate emits when it fails. Applied by `python -m sparkify.notify` (make notify-setup)."""
