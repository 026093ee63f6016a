"""Prometheus metrics at GET /metrics, for a scraper that sends METRICS_TOKEN as
its bearer token (unset: 404).

- HTTP requests by endpoint (the URL pattern, not the path), method and status,
  and their duration: recorded by `MetricsMiddleware`.
- Orders recorded and points written (`campaigns.metrics`, `points.metrics`):
  counters that the scraper turns into rates (`rate(loyalty_orders_total[1m])`).
- The nightly jobs: read from their run rows at each scrape (`JobsCollector`),
  so they are right whichever worker ran the chunks.

Counters live in the memory of the process that counts. Under gunicorn several
processes serve the site: `gunicorn.conf.py` points PROMETHEUS_MULTIPROC_DIR at
a directory where each process keeps its values, and this view adds them up.
"""

import os
import secrets
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from batch.selectors import job_health_list

HTTP_REQUESTS = Counter(
    "loyalty_http_requests",
    "HTTP requests answered, by URL pattern, method and status.",
    ["endpoint", "method", "status"],
)
HTTP_DURATION = Histogram(
    "loyalty_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL pattern.",
    ["endpoint"],
)
UNMATCHED = "unmatched"


class JobsCollector:
    """The nightly jobs' latest runs, from the database at each scrape."""

    def describe(self) -> list[Metric]:
        return []  # nothing to check at registration: no database query then

    def collect(self) -> Iterator[Metric]:
        duration = GaugeMetricFamily(
            "loyalty_job_last_run_duration_seconds",
            "Wall time of the job's latest finished run.",
            labels=["job", "status"],
        )
        finished = GaugeMetricFamily(
            "loyalty_job_last_run_finished_timestamp_seconds",
            "When the job's latest finished run ended (Unix time).",
            labels=["job", "status"],
        )
        succeeded = GaugeMetricFamily(
            "loyalty_job_last_success_timestamp_seconds",
            "When the job's latest successful run ended (Unix time).",
            labels=["job"],
        )
        counts = GaugeMetricFamily(
            "loyalty_job_last_run_count",
            "The counts of the job's latest finished run (members released, expired, ...).",
            labels=["job", "count"],
        )
        running = GaugeMetricFamily(
            "loyalty_job_runs_running", "Runs of the job under way.", labels=["job"]
        )
        for health in job_health_list():
            running.add_metric([health.job], health.running)
            if (run := health.last_finished) is not None and run.finished_at is not None:
                seconds = (run.finished_at - run.started_at).total_seconds()
                duration.add_metric([health.job, run.status], seconds)
                finished.add_metric([health.job, run.status], run.finished_at.timestamp())
                for name, value in sorted(run.counts.items()):
                    counts.add_metric([health.job, name], value)
            if (ok := health.last_succeeded) is not None and ok.finished_at is not None:
                succeeded.add_metric([health.job], ok.finished_at.timestamp())
        yield from (duration, finished, succeeded, counts, running)


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)  # type: ignore[arg-type]
    registry.register(JobsCollector())  # type: ignore[arg-type]
    return registry


def _authorised(request: HttpRequest) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(
        token.encode(), settings.METRICS_TOKEN.encode()
    )


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    if not _authorised(request):
        response = HttpResponse("Send the metrics token.", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts and times every request by the URL pattern it matched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        endpoint = f"/{match.route}" if match is not None and match.route else UNMATCHED
        HTTP_REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        HTTP_DURATION.labels(endpoint).observe(time.perf_counter() - start)
        return response
