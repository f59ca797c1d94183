"""Prometheus metrics of the service: request latency, actions, timer lateness, outbox and deliveries.

The only home of ``prometheus-client``. Each service gets its own registry, so two apps in one test
process do not share counters. Figures that describe the store (deliveries by tenant, channel and status)
are read from it when ``/metrics`` is scraped, so a status no delivery holds any more is simply absent.
Delivery figures carry the tenant, so one tenant's dead letters are told apart from another's on a shared
service (docs/tenants.md).

``shared``: the service is one of the processes of ``serve --workers``. prometheus-client then keeps each
process's values in files of the folder ``PROMETHEUS_MULTIPROC_DIR`` names (set by cli.py before this module
is first imported, as the library requires), and a scrape, whichever worker answers it, sums every
worker's counters and histograms; a gauge of the service (the calendar's days left) reads as the most
recently set.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from .desk import Desk


class Metrics:
    def __init__(self, *, shared: bool = False) -> None:
        self.shared = shared
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Histogram("complaintflow_http_request_seconds", "HTTP request latency", ["method"], registry=r)
        self.actions = Counter("complaintflow_actions_total", "cases started and actions taken", ["kind"], registry=r)
        self.fired = Counter(
            "complaintflow_timer_events_total", "warnings, breaches and escalation steps fired", ["kind"], registry=r
        )
        self.lateness = Histogram(
            "complaintflow_timer_lateness_seconds",
            "fired minus due, per fired event",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400),
            registry=r,
        )
        self.delivery_attempts = Counter(
            "complaintflow_delivery_attempts_total",
            "delivery attempts by tenant, channel and outcome",
            ["tenant", "channel", "outcome"],
            registry=r,
        )
        self.leases_rescued = Counter(
            "complaintflow_delivery_leases_rescued_total",
            "deliveries given back to be sent again because their worker stopped beating mid-send",
            registry=r,
        )
        self.stale_completions = Counter(
            "complaintflow_delivery_stale_completions_total",
            "send outcomes dropped because the sender's lease had been rescued meanwhile",
            registry=r,
        )
        self.engine_seconds = Histogram(
            "complaintflow_engine_seconds", "time inside engine calls, per call", registry=r
        )
        self.calendar_days_left = Gauge(
            "complaintflow_calendar_data_days_left",
            "days until the published holiday data ends",
            registry=r,
            multiprocess_mode="mostrecent",
        )

    @contextmanager
    def request_timer(self, method: str) -> Iterator[None]:
        # perf_counter measures a duration; it is not the service's clock and decides nothing.
        started = time.perf_counter()
        try:
            yield
        finally:
            self.requests.labels(method=method).observe(time.perf_counter() - started)

    @contextmanager
    def engine_timer(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.engine_seconds.observe(time.perf_counter() - started)

    def exposition(self, desk: Desk) -> tuple[bytes, str]:
        read_now = CollectorRegistry()  # what the store holds, read for this scrape only
        read_now.register(_Deliveries(desk.run(desk.directory.delivery_counts)))
        counted = self.registry
        if self.shared:
            counted = CollectorRegistry()
            MultiProcessCollector(counted)  # type: ignore[no-untyped-call]  # every worker's files, summed
        return generate_latest(counted) + generate_latest(read_now), CONTENT_TYPE_LATEST


class _Deliveries:
    """The deliveries gauge, as the store's counts make it at a scrape."""

    def __init__(self, counts: dict[tuple[str, str, str], int]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "complaintflow_deliveries",
            "notification deliveries by tenant, channel and status",
            labels=["tenant", "channel", "status"],
        )
        for (tenant, channel, status), n in sorted(self.counts.items()):
            family.add_metric([tenant, channel, status], n)
        yield family
