"""A Celery task and an RQ job, each run by a real worker process on a real Redis."""

from __future__ import annotations

import sys

import pytest
from celery import Celery
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus

from provisioning import health
from tests.conftest import wait_for
from worker.celery import app as celery_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def start_celery_worker(processes, env):
    return processes.start(
        [sys.executable, "-m", "celery", "-A", "worker.celery", "worker",
         "--queues", "provisioning,tracking,default", "--concurrency", "1", "--loglevel", "INFO",
         "--hostname", "e2e@%h", "--without-gossip", "--without-mingle"],
        env=env,
        name="celery-worker",
    )  # fmt: skip


def test_routing_sends_provisioning_tasks_to_their_own_queue():
    route = celery_app.amqp.router.route({}, "provisioning.tasks.provisioning_ping")
    assert route["queue"].name == "provisioning"
    route = celery_app.amqp.router.route({}, "provisioning.tasks.ping")
    assert route["queue"].name == "default"
    for tracking in ("check", "sweep", "drain_notifications", "reconcile"):
        route = celery_app.amqp.router.route({}, f"provisioning.tasks.provisioning_{tracking}")
        assert route["queue"].name == "tracking"
    for starting in ("plan", "apply"):
        route = celery_app.amqp.router.route({}, f"provisioning.tasks.provisioning_{starting}")
        assert route["queue"].name == "provisioning"
    conf = celery_app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert [q.name for q in conf.task_queues] == ["provisioning", "tracking", "default"]
    assert conf.broker_transport_options["queue_order_strategy"] == "priority"


def test_a_celery_task_runs_in_a_real_worker(processes, child_env, embedded_redis, settings):
    env = {**child_env, "REDIS_URL": embedded_redis.url}
    worker = start_celery_worker(processes, env)
    client = Celery(broker=embedded_redis.url, backend=embedded_redis.url)
    try:
        on_default = client.send_task("provisioning.tasks.ping", args=["hello"], queue="default")
        on_provisioning = client.send_task(
            "provisioning.tasks.provisioning_ping", args=["climb"], queue="provisioning"
        )
        assert on_default.get(timeout=60)["answer"] == "hello", processes.log(worker)
        assert on_provisioning.get(timeout=60)["answer"] == "climb"
    finally:
        client.close()

    # The worker's heartbeat is what /healthz reads.
    settings.REDIS_URL = embedded_redis.url
    check = wait_for(lambda: health.check_worker().ok and health.check_worker(), timeout=30)
    assert "1 worker(s)" in check.detail
    assert worker.poll() is None


def test_an_rq_job_runs_in_a_real_worker(processes, child_env, embedded_redis):
    connection = Redis.from_url(embedded_redis.url)
    job = Queue("notifications", connection=connection).enqueue("provisioning.jobs.ping", "ring")
    env = {**child_env, "REDIS_URL": embedded_redis.url}
    worker = processes.start(
        [sys.executable, "manage.py", "rqworker", "notifications", "metrics", "--burst"],
        env=env,
        name="rq-worker",
    )
    assert worker.wait(timeout=90) == 0, processes.log(worker)
    job = Job.fetch(job.id, connection=connection)
    assert job.get_status() == JobStatus.FINISHED, processes.log(worker)
    assert job.return_value()["answer"] == "ring"
    assert job.return_value()["pid"] != __import__("os").getpid()
