"""Logging and error reporting, set up from settings: structured logs (structlog,
one JSON object a line, or readable lines in development) and Sentry when a DSN
is configured. Imported by settings, so it imports nothing of Django's models."""

from typing import Any

import sentry_sdk
import structlog

LOG_FORMATS = ("json", "console")


def _shared_processors() -> list[Any]:
    """What every line carries, from structlog's loggers and the standard library's
    alike: bound context, level, logger name, an ISO timestamp in UTC."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """Configure structlog to hand its events to the standard library's logging,
    and return the LOGGING dict whose one handler renders every record, structlog's
    or not, as `fmt` ("json" or "console")."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    if fmt == "json":
        render = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        render = [structlog.dev.ConsoleRenderer()]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
                "foreign_pre_chain": _shared_processors(),
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
    }


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float, **options: Any) -> None:
    """Report unhandled errors (Django views, Celery tasks, logged errors) to
    Sentry. Personal data (users, IPs, bodies) is not sent: the SDK's default."""
    sentry_sdk.init(
        dsn=dsn, environment=environment, traces_sample_rate=traces_sample_rate, **options
    )
