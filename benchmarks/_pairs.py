"""Pairs of models for the diff benchmark, cached under .bench-cache/ like _models.py."""

from __future__ import annotations

from pathlib import Path

from _models import CACHE, WIDE_LAYERS, save_square_layers, square_width, wide_model


def wide_pair(megabytes: int, seed: int = 1, scale: float = 1e-3) -> tuple[Path, Path]:
    """``wide_model(megabytes)`` and a copy with the same graph whose every value is nudged
    by ``scale`` times noise from ``seed``, as a short fine-tuning run would."""
    return wide_model(megabytes), _wide_perturbed(megabytes, seed, scale)


def _wide_perturbed(megabytes: int, seed: int, scale: float) -> Path:
    dest = CACHE / f"wide_{megabytes}mb_seed{seed}"
    if (dest / ".done").exists():
        return dest
    import numpy as np

    width = square_width(megabytes, WIDE_LAYERS)
    base = np.random.default_rng(0)  # wide_model's values...
    noise = np.random.default_rng(seed)  # ...nudged by this

    def kernels():
        for _ in range(WIDE_LAYERS):
            value = base.standard_normal((width, width), dtype=np.float32)
            value += scale * noise.standard_normal((width, width), dtype=np.float32)
            yield value

    save_square_layers(dest, width, kernels())
    (dest / ".done").touch()
    return dest


def keras_pair(megabytes: int, blocks: int = 12, scale: float = 1e-3) -> tuple[Path, Path]:
    """Two exports of one functional Keras architecture (``blocks`` Dense + LayerNormalization
    blocks, about ``megabytes`` MB of distinct float32 weights): A as initialised, B with every
    weight nudged by ``scale`` times noise, as a short fine-tuning run would. Both models are
    built in one process, one after the other, so B's traced scopes gain Keras's ``_1``
    suffix and its saver lists variables in its own order: everything a re-export changes
    besides the values. Keras stores each variable twice (``variables/N`` and
    ``_all_variables/N``), so each export is about twice ``megabytes`` on disk."""
    dest = CACHE / f"keras_{megabytes}mb_{blocks}blocks"
    if (dest / ".done").exists():
        return dest / "a", dest / "b"
    import keras
    import numpy as np

    width = int((megabytes * 2**20 / 4 / blocks) ** 0.5)
    noise = np.random.default_rng(1)
    for side in ("a", "b"):
        keras.utils.set_random_seed(0)
        x = inputs = keras.Input((width,), name="features")
        for i in range(blocks):
            h = keras.layers.Dense(width, activation="gelu", name=f"block_{i}_dense")(x)
            x = keras.layers.LayerNormalization(name=f"block_{i}_norm")(h + x)
        model = keras.Model(inputs, keras.layers.Dense(2, name="logits")(x))
        if side == "b":
            model.set_weights(
                [
                    w + scale * noise.standard_normal(w.shape, np.float32)
                    for w in model.get_weights()
                ]
            )
        model.export(str(dest / side), verbose=False)
    (dest / ".done").touch()
    return dest / "a", dest / "b"


BERT_VOCAB = 30522
BERT_SEQ = 128


def bert_pair(layers: int = 12, hidden: int = 768, heads: int = 12, scale: float = 1e-3):
    """Two exports of a Keras encoder sized like BERT-base (``layers`` transformer blocks,
    ``hidden`` wide, ``heads`` heads, a 30,522-token vocabulary, sequences of 128): A as
    initialised, B with every weight nudged by ``scale`` times noise. The signature takes
    ``input_ids`` and ``input_mask`` (int32, [batch, 128]) and returns the sequence output
    and the pooled output, as TF Hub's BERT encoders do."""
    dest = CACHE / f"bert_{layers}l_{hidden}h_{heads}heads"
    if (dest / ".done").exists():
        return dest / "a", dest / "b"
    import keras
    import numpy as np

    noise = np.random.default_rng(1)
    for side in ("a", "b"):
        keras.utils.set_random_seed(0)
        ids = keras.Input((BERT_SEQ,), dtype="int32", name="input_ids")
        mask = keras.Input((BERT_SEQ,), dtype="int32", name="input_mask")
        tokens = keras.layers.Embedding(BERT_VOCAB, hidden, name="word_embeddings")(ids)
        positions = keras.layers.Embedding(BERT_SEQ, hidden, name="position_embeddings")(
            keras.ops.arange(BERT_SEQ)[None, :]
        )
        x = keras.layers.LayerNormalization(name="embeddings_norm")(tokens + positions)
        attention_mask = keras.ops.cast(mask[:, None, :], "bool")
        for i in range(layers):
            attended = keras.layers.MultiHeadAttention(
                heads, hidden // heads, name=f"layer_{i}_attention"
            )(x, x, attention_mask=attention_mask)
            x = keras.layers.LayerNormalization(name=f"layer_{i}_attention_norm")(x + attended)
            h = keras.layers.Dense(4 * hidden, activation="gelu", name=f"layer_{i}_intermediate")(x)
            h = keras.layers.Dense(hidden, name=f"layer_{i}_output")(h)
            x = keras.layers.LayerNormalization(name=f"layer_{i}_output_norm")(x + h)
        pooled = keras.layers.Dense(hidden, activation="tanh", name="pooler")(x[:, 0])
        model = keras.Model(
            {"input_ids": ids, "input_mask": mask},
            {"sequence_output": x, "pooled_output": pooled},
        )
        if side == "b":
            model.set_weights(
                [
                    w + scale * noise.standard_normal(w.shape, np.float32)
                    for w in model.get_weights()
                ]
            )
        model.export(str(dest / side), verbose=False)
        del model
        keras.backend.clear_session()
    (dest / ".done").touch()
    return dest / "a", dest / "b"
