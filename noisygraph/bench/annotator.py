r"""The annotator behind the ``"annotator"`` label noise: class probabilities of the offline
embedding annotator (:class:`~noisygraph.locle.EmbeddingAnnotator`) on a text graph.

.. math::
    p_{ic} = \mathrm{softmax}_c\big(s_{ic} / T\big), \qquad
    s_{ic} = \cos\big(e(\text{text}_i),\, e(\text{name}_c\text{: description}_c)\big),

with :math:`T` fitted on the similarities alone (:func:`~noisygraph.locle.fit_temperature`, no
labels read). :class:`~noisygraph.noise.LabelNoiseModel` then flips the labels the annotator
is most likely to get wrong, to the classes it would answer instead.
"""
from __future__ import annotations

from torch import Tensor

from noisygraph.locle.annotation import text_inputs
from noisygraph.locle.offline_annotators import EmbeddingAnnotator, fit_temperature
from noisygraph.locle.text import DEFAULT_MODEL


def is_text_graph(data) -> bool:
    """Whether ``data`` carries node texts and class names (``data.text``,
    ``data.class_names``), as the text-graph loader sets them."""
    return getattr(data, "text", None) is not None and getattr(data, "class_names", None) is not None


def annotator_probabilities(data, *, model_name: str = DEFAULT_MODEL,
                            verbose: bool = False) -> Tensor:
    """The ``[N, K]`` class probabilities the offline embedding annotator gives every node of
    the text graph ``data`` (node embeddings cached on disk by
    :func:`~noisygraph.locle.embed_texts`).

    Args:
        data (Data): a text graph (``data.text``, ``data.class_names``, optionally
            ``data.class_descriptions``), e.g. ``load_dataset("dblp")``.
        model_name (str, optional): sentence model. (default: ``"all-MiniLM-L6-v2"``)
        verbose (bool, optional): progress bar while embedding. (default: :obj:`False`)

    Raises:
        ValueError: ``data`` is not a text graph.
    """
    if not is_text_graph(data):
        raise ValueError("data: annotator noise needs a text graph (data.text and "
                         "data.class_names, e.g. load_dataset('dblp'))")
    texts, classes = text_inputs(data, None, None)
    annotator = EmbeddingAnnotator(corpus=texts, model_name=model_name, verbose=verbose)
    similarities = annotator.similarities(texts, classes)
    return (similarities / fit_temperature(similarities)).softmax(dim=1).double()
