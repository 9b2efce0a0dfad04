"""RQ queues of the web side (django-rq, same Redis). Names match settings.RQ_QUEUES."""

NOTIFICATIONS = "notifications"
METRICS = "metrics"
QUEUES = (NOTIFICATIONS, METRICS)
