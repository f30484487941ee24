"""Export the bundled sample model to resources/sample/: a small Keras 3 CNN for MNIST-sized
images, opened when ``smlens`` starts with no path.

Run by hand (needs TensorFlow): ``python resources/make_sample.py``. The weights come from a
fixed seed, so re-running gives the same variables; the fingerprint's uuid still changes.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DEST = Path(__file__).resolve().parent / "sample"


def build():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1), name="image")
    with keras.name_scope("features"):
        x = keras.layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
        x = keras.layers.MaxPooling2D(2, name="pool1")(x)
        x = keras.layers.Conv2D(16, 3, activation="relu", name="conv2")(x)
    with keras.name_scope("classifier"):
        x = keras.layers.Flatten(name="flatten")(x)
        outputs = keras.layers.Dense(10, activation="softmax", name="logits")(x)
    return keras.Model(inputs, outputs, name="mnist_cnn")


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    model = build()
    if DEST.exists():
        shutil.rmtree(DEST)
    model.export(str(DEST), verbose=False)
    files = sorted(p for p in DEST.rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in files)
    for p in files:
        print(f"{p.stat().st_size:>9,}  {p.relative_to(DEST)}")
    print(f"{total:>9,}  total, {model.count_params():,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
