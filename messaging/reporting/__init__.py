"""Reporting: figures, explanations and screen text, read from the domain's tables
(stats, diagnosis, wording, provider state, reports, metrics, readiness)."""
