"""Handing work to the task queue without making anyone wait for a broker that is down.

A run or job is written first, with its state; sending it is a second step that may fail. The broker's
timeouts are short (settings: CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_TASK_PUBLISH_RETRY_POLICY), so an
unreachable broker is known within a second, the user is told the work will start when the queue is back,
and a sweep sends what is waiting.
"""

import logging

import redis
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

UNREACHABLE = (BrokerError, redis.RedisError, ConnectionError, TimeoutError)


def send(task, *args) -> bool:
    """Send `task(*args)` to the queue; False, logged, when the broker cannot be reached."""
    try:
        task.apply_async(args=args)
    except UNREACHABLE as error:
        logger.warning("The task queue is unreachable; %s%s waits to be sent: %s", task.name, args, error)
        return False
    return True
