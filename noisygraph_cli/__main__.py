"""``python -m noisygraph_cli``: the same as the ``noisygraph`` command."""
import sys

from noisygraph_cli import main

sys.exit(main())
