FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 loyalty
WORKDIR /app

COPY requirements.lock .
RUN pip install -r requirements.lock

COPY --chown=loyalty:loyalty . .
RUN DEBUG=false SECRET_KEY=collectstatic-only-build-time-key-not-used-at-run-time-000 \
    python manage.py collectstatic --noinput

USER loyalty
EXPOSE 8000
# gunicorn.conf.py: gthread workers, one per core, keep-alive; the access log on stdout.
CMD ["gunicorn", "--access-logfile", "-"]
