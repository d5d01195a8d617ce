#!/usr/bin/env bash
# Run the example site: qcluster in the background, runserver in the foreground.
# Ctrl+C stops both; qcluster gets SIGINT because django-q2 1.11 can hang on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${DEMO_HOST:-127.0.0.1}
PORT=${DEMO_PORT:-8000}
mkdir -p .demo

$PY manage.py qcluster > .demo/qcluster.log 2>&1 &
QCLUSTER=$!
stop() {
  kill -INT "$QCLUSTER" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$QCLUSTER" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$QCLUSTER" 2>/dev/null || true
}
trap stop EXIT INT TERM

cat <<MSG

  django-kyc demo is starting (qcluster log: .demo/qcluster.log)

    Onboarding page   http://$HOST:$PORT/              log in as  demo / demo
    Admin             http://$HOST:$PORT/admin/        log in as  admin / admin
    Review queue      http://$HOST:$PORT/admin/django_kyc/reviewqueueitem/
    Webhook inbox     http://$HOST:$PORT/admin/django_kyc/webhookevent/
    API docs          http://$HOST:$PORT/kyc/api/docs/

  Press Ctrl+C to stop.

MSG
$PY manage.py runserver "$HOST:$PORT"
