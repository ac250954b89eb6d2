"""gunicorn settings for autocrm (``gunicorn -c scripts/gunicorn.conf.py autocrm.config.wsgi``).

Measured in docs/benchmarks.md ("Worker memory"): with ``preload_app`` the master imports
Django, the apps and their libraries once and the workers share those pages copy-on-write;
``gc.freeze()`` before each fork moves everything loaded so far out of the collector's reach, so
a collection in a worker does not write to (and so copy) every shared object's header. A
worker's own memory (USS) is then what its requests allocate. RSS counts the shared pages in
every worker: compare PSS (``/proc/<pid>/smaps_rollup``) across settings, not RSS.

Command-line options override these (the HTTP benchmark passes ``--workers`` and ``--bind``).
"""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
preload_app = True
timeout = 60


def pre_fork(server, worker):  # gunicorn calls it in the master before each fork
    gc.freeze()
