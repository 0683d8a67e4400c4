#!/usr/bin/env python3
"""Real third-party tables for the column-typing and decimal-comma tests (Fixtures/tables/).

Made from the copies that ship inside PyPI wheels (pip install scikit-learn statsmodels pandas):

- titanic_openml.csv: OpenML data set 40945 (Titanic, the titanic3 table of Vanderbilt Biostatistics),
  from the ARFF file scikit-learn ships for its fetch_openml tests
  (sklearn/datasets/tests/data/openml/id_40945/data-v1-dl-16826755.arff.gz, BSD-3-Clause with
  scikit-learn), written as OpenML's CSV download is: the attribute names as header, the @data rows
  as they are ('?' for a missing value, text quoted). 1,309 rows.
- longley_decimal_comma.csv: statsmodels' Longley data ("This is public domain"), written by pandas
  with sep=';', decimal=',' as a European spreadsheet exports it.
- macrodata_decimal_comma.tsv: statsmodels' US macro data ("This is public domain"), written by pandas
  with sep='\\t', decimal=','.
"""
import gzip
import os

import sklearn
import statsmodels.api as sm

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tables")


def titanic():
    src = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "tests", "data", "openml", "id_40945",
                       "data-v1-dl-16826755.arff.gz")
    lines = gzip.open(src, "rt", encoding="utf-8").read().splitlines()
    names = [line.split()[1].strip("'") for line in lines if line.lower().startswith("@attribute")]
    start = next(k for k, line in enumerate(lines) if line.lower().startswith("@data")) + 1
    with open(os.path.join(OUT, "titanic_openml.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(",".join(names) + "\n")
        for line in lines[start:]:
            if line.strip():
                f.write(line + "\n")


def decimal_comma():
    sm.datasets.longley.load_pandas().data.to_csv(
        os.path.join(OUT, "longley_decimal_comma.csv"), sep=";", decimal=",", index=False)
    sm.datasets.macrodata.load_pandas().data.to_csv(
        os.path.join(OUT, "macrodata_decimal_comma.tsv"), sep="\t", decimal=",", index=False)


def main():
    os.makedirs(OUT, exist_ok=True)
    titanic()
    decimal_comma()


if __name__ == "__main__":
    main()
