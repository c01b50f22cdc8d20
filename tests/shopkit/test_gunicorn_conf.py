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
