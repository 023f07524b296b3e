"""ERASE (or a GCN baseline) on a graph with noisy labels; the same as ``noisygraph erase``
(same flags, checked before any data is loaded; Ctrl-C keeps the finished runs in --json).

    python examples/run_erase.py --dataset Cora --noise uniform --rate 0.4 --runs 10 --json out.json
"""
import sys

from noisygraph_cli import main

if __name__ == "__main__":
    sys.exit(main(["erase", *sys.argv[1:]]))
