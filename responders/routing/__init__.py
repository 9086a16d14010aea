"""Routing: rules decide a team, priority and SLA; assignment picks the person."""
