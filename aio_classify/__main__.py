"""``python -m aio_classify``: the same as the ``aio-classify`` command."""

import sys

from .cli import main

sys.exit(main())
