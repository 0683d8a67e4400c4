#!/usr/bin/env python3
"""Labels as users store them (Fixtures/labels/), for the string-label and one-hot tests.

- iris_species.csv: Fisher's iris as scikit-learn ships it (sklearn/datasets/data/iris.csv inside the
  scikit-learn wheel, BSD-3-Clause with scikit-learn; the data are Fisher 1936 / UCI, public), written by
  pandas in seaborn's layout: four measurement columns and a `species` column of class names
  (setosa, versicolor, virginica). 150 rows.
- digits_onehot.h5: the first 300 of scikit-learn's 8x8 digits (sklearn/datasets/data/digits.csv.gz,
  BSD-3-Clause with scikit-learn; UCI optdigits), written by h5py as a Keras user saves them:
  `x_train` float32 (300, 8, 8) in [0, 16], `y_train` float32 (300, 10) one-hot (keras.utils.to_categorical).
"""
import os

import h5py
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits, load_iris

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "labels")


def iris():
    data = load_iris()
    frame = pd.DataFrame(data.data, columns=["sepal_length", "sepal_width", "petal_length", "petal_width"])
    frame["species"] = [str(data.target_names[t]) for t in data.target]
    frame.to_csv(os.path.join(OUT, "iris_species.csv"), index=False)


def digits_onehot():
    digits = load_digits()
    n = 300
    x = digits.images[:n].astype(np.float32)
    y = np.eye(10, dtype=np.float32)[digits.target[:n]]  # what keras.utils.to_categorical returns
    with h5py.File(os.path.join(OUT, "digits_onehot.h5"), "w") as f:
        f.create_dataset("x_train", data=x)
        f.create_dataset("y_train", data=y)


def main():
    os.makedirs(OUT, exist_ok=True)
    iris()
    digits_onehot()


if __name__ == "__main__":
    main()
