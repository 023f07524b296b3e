"""Locle: label-free node classification with an LLM (or offline) annotator.

Annotators share one interface (:class:`Annotator`); :class:`Locle` runs the pipeline;
:mod:`noisygraph.locle.baselines` holds the methods it is compared with.
"""
from noisygraph.locle.annotation import NO_LABEL, Annotation, Annotator, ClassInfo, Usage
from noisygraph.locle.baselines import BaselineResult, annotate_all, llm_gnn, random_gcn
from noisygraph.locle.cache import AnswerCache
from noisygraph.locle.offline_annotators import (EmbeddingAnnotator, RecordedAnnotator,
                                                 SimulatedAnnotator, fit_temperature,
                                                 save_annotations)
from noisygraph.locle.openai_annotator import AnnotatorError, OpenAIAnnotator
from noisygraph.locle.pipeline import Locle, LocleResult
from noisygraph.locle.text import embed_texts

__all__ = [
    "NO_LABEL", "Annotation", "Annotator", "ClassInfo", "Usage", "AnswerCache",
    "OpenAIAnnotator", "AnnotatorError", "EmbeddingAnnotator", "RecordedAnnotator",
    "SimulatedAnnotator", "fit_temperature", "save_annotations", "embed_texts",
    "Locle", "LocleResult", "BaselineResult", "annotate_all", "random_gcn", "llm_gnn",
]
