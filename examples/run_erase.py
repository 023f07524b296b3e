"""ERASE (or a GCN baseline) on a graph with noisy labels; the same as ``noisygraph erase``.

    python examples/run_erase.py --dataset Cora --noise uniform --rate 0.4 --runs 10 --json out.json
"""
import argparse
import sys

from noisygraph.commands import erase

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=erase.__doc__.splitlines()[0])
    erase.configure(parser)
    sys.exit(erase.run(parser.parse_args()))
