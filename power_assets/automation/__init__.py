"""Automation: real-time sensors, day-ahead schedules and the freshness checks that watch them."""
