"""Scheduling: Appointments booking Slots (see ``docs/scheduling.md``)."""
