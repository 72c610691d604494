# Herald: one image for the web server (gunicorn), the workers (qcluster) and the
# migration job; the command picks the role. Build: docker build -t herald .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# `pip install --group` (dependency groups in pyproject.toml) needs pip 25.1 or later.
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir "pip==26.3"

WORKDIR /app
COPY pyproject.toml ./
# Every package of the group is pinned with == in pyproject.toml; hadolint cannot see that.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --group app

COPY . .
# Static files are collected into the image; WhiteNoise serves them. The settings
# want a secret and a database to import, neither of which is used here.
RUN SECRET_KEY=collectstatic-only SQLITE_PATH=/tmp/build.sqlite3 \
        python manage.py collectstatic --no-input -v 0 \
    && rm -f /tmp/build.sqlite3 \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin herald \
    && mkdir -p /app/db /var/lib/herald/metrics \
    && chown herald:herald /app/db /var/lib/herald/metrics

# Writable by the app user, everything else read-only at run time:
#   /app/db                   the SQLite file when DATABASE_URL is not set
#   /var/lib/herald/metrics   prometheus-client's multiprocess files, shared by the
#                             worker and serve_metrics through a volume (compose). A new
#                             named volume takes this directory's owner, so uid 10001 can
#                             write it.
USER 10001
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py"]
