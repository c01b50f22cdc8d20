"""shopkit.gunicorn_conf: what a worker does once its application is loaded."""

import gc
import weakref

from shopkit.gunicorn_conf import freeze_what_was_loaded


class Node:
    pass


def test_a_worker_hides_its_loaded_application_but_not_garbage_from_the_collector():
    cycle = Node()
    cycle.itself = cycle  # garbage only the collector can free
    gone = weakref.ref(cycle)
    del cycle
    gc.unfreeze()
    try:
        freeze_what_was_loaded()

        assert gc.get_freeze_count() > 10_000  # Django, DRF, the apps
        assert gone() is None  # collected, not frozen
    finally:
        gc.unfreeze()


def test_no_control_socket_is_opened():
    # Every service's master would bind the same ~/.gunicorn/gunicorn.ctl.
    from gunicorn.config import Config

    from shopkit import gunicorn_conf

    config = Config()
    config.set("control_socket_disable", gunicorn_conf.control_socket_disable)
    assert config.control_socket_disable is True
