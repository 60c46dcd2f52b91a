"""Prometheus metrics for one bot process.

Why a registry per instance instead of the global default: tests and `songbot demo` start several
bots in one process, and each must count only its own jobs.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0)
_GENERATION_BUCKETS = (5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900)
_LAG_BUCKETS = (0.1, 0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs_by_state = Gauge(
            "songbot_jobs", "Jobs in the database by state", ["state"], registry=r
        )
        self.submissions = Counter(
            "songbot_submissions_total", "Paid submissions by model", ["model"], registry=r
        )
        self.deliveries = Counter(
            "songbot_deliveries_total", "Songs delivered by model", ["model"], registry=r
        )
        self.failures = Counter(
            "songbot_failures_total",
            "Jobs that ended without a song",
            ["model", "reason"],
            registry=r,
        )
        self.generation_seconds = Histogram(
            "songbot_generation_seconds",
            "Submit to provider-completed time",
            ["model"],
            buckets=_GENERATION_BUCKETS,
            registry=r,
        )
        self.delivery_lag_seconds = Histogram(
            "songbot_delivery_lag_seconds",
            "Provider-completed to audio-fetched time",
            ["model"],
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        self.provider_latency = Histogram(
            "songbot_provider_request_seconds",
            "AI/ML API call latency",
            ["call"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.provider_errors = Counter(
            "songbot_provider_errors_total", "AI/ML API call errors", ["call", "kind"], registry=r
        )
        self.telegram_latency = Histogram(
            "songbot_telegram_request_seconds",
            "Bot API call latency",
            ["method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.telegram_errors = Counter(
            "songbot_telegram_errors_total",
            "Bot API call errors",
            ["method", "kind"],
            registry=r,
        )
        self.polls_per_job = Histogram(
            "songbot_polls_per_job",
            "Status requests per generation",
            ["model"],
            buckets=(1, 2, 3, 4, 6, 8, 10, 12, 16, 24, 40),
            registry=r,
        )
        self.updates = Counter("songbot_updates_total", "Updates received", registry=r)
        self.runner_tick = Gauge(
            "songbot_runner_last_tick_timestamp",
            "Unix time of the runner's last loop pass",
            registry=r,
        )
        self.last_update = Gauge(
            "songbot_last_update_timestamp", "Unix time of the last update or poll", registry=r
        )
        self.role = Gauge(
            "songbot_replica_role",
            "1 for the role this replica holds now (poller: the one calling getUpdates)",
            ["instance", "role"],
            registry=r,
        )
        self.started = time.time()

    def set_role(self, instance: str, role: str) -> None:
        for name in ("poller", "worker"):
            self.role.labels(instance=instance, role=name).set(1 if name == role else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
