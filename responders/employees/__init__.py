"""Employees and teams: who can answer, when, in which languages, how much at once."""
