"""The names the library and the command line share, defined once.

They live here, in the torch-free ``noisygraph_cli`` package, because ``noisygraph --help`` must
answer without importing torch, and importing anything under ``noisygraph/`` runs
``noisygraph/__init__.py`` (torch, the compiled library, every op). The library imports them
from this module and re-exports them where users look (``noisygraph.noise.NOISE_KINDS``,
``noisygraph.erase.PROTOCOLS``, ...). This module imports nothing.
"""

#: Label-noise kinds (:mod:`noisygraph.noise`).
NOISE_KINDS = ("uniform", "pair", "pair_cyclic", "random", "instance", "instance_noisygl",
               "annotator")
#: The kinds with one flip distribution per node (no ``"paper"`` sampler): the feature-
#: dependent ones and ``"annotator"`` (wrong labels from the offline annotator, text graphs).
PER_NODE_NOISE_KINDS = ("instance", "instance_noisygl", "annotator")
#: How flips are drawn (:mod:`noisygraph.noise`): one coin per node, an exact count, or the
#: ERASE release's seeded draw.
NOISE_SAMPLERS = ("independent", "exact", "paper")
#: How many noise draws a benchmark grid makes: one per run (seeded ``seed + 100 run``), or
#: one shared by every run (seeded ``seed``: the ERASE release's protocol).
NOISE_DRAWS = ("per-run", "once")
#: Model-selection protocols: clean validation labels (the papers) or noisy ones.
PROTOCOLS = ("paper", "noisy-val")
#: ERASE's pre-correction of the training labels.
PRECORRECTIONS = ("train-subgraph", "label-propagation")
#: Methods of ``noisygraph erase``.
ERASE_METHODS = ("erase", "gcn")
#: Local clustering diffusions (:func:`noisygraph.cluster.local_cluster`).
CLUSTER_METHODS = ("flow", "ppr")
#: Diffusions of the network community profile (:func:`noisygraph.cluster.ncp.ncp`).
NCP_METHODS = ("acl", "flow")
#: Methods of ``noisygraph locle``: Locle, or a baseline.
LOCLE_METHODS = ("locle", "annotator", "random", "llm-gnn")
#: Annotators of ``noisygraph locle``.
LOCLE_ANNOTATORS = ("embedding", "openai", "recorded", "simulated")
