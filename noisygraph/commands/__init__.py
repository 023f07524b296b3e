"""Subcommands of the ``noisygraph`` command line (see :mod:`noisygraph.cli`)."""
