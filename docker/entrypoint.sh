#!/bin/sh
# Start a Herald process. With PROMETHEUS_MULTIPROC_DIR set, empty it first: the
# metric files of processes from a previous run would otherwise be added in again.
# A process that only reads the files (serve_metrics) sets CLEAR_METRICS_DIR=0.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    if [ "${CLEAR_METRICS_DIR:-1}" = "1" ]; then
        find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete
    fi
fi
exec "$@"
