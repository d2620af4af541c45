"""Thin Prefect entry points: wiring only, every task body lives in `newswatch`."""
