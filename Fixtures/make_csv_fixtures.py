#!/usr/bin/env python3
"""Writes the CSV fixtures of datasan into Fixtures/csv/.

Run from anywhere: `python3 Fixtures/make_csv_fixtures.py`. Needs numpy and pandas. The output is
deterministic (seeded); the committed files are exactly what this script makes.

Well-formed files come from pandas' `to_csv` (the writer most CSV training data comes from); the odd
dialects (NA and Inf tokens, ragged rows, preambles, unterminated quotes, invalid UTF-8) are written as
text by hand. Each file is read back with pandas as a sanity check where pandas can read it.
"""

import os

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "csv")


def path(name):
    return os.path.join(OUT, name)


def write_bytes(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def write_text(name, text):
    write_bytes(name, text.encode("utf-8"))


def dirty(rng):
    """dirty.csv: header f0..f3,label and 30 data rows (lines 2..31) with one problem each on some rows.

    line  4: f1 empty (NaN)          line  7: f0 NA (NaN)        line 10: f2 nan (NaN)
    line 13: f3 inf (Inf)            line 16: f0 -inf (Inf)      line 19: f1 1e400 (Inf)
    line 22: 4 fields (ragged)       line 25: label abc (unreadable) line 28: label -1
    (a text value in a feature column would make the column text, as pandas reads it: mixed_column)
    """
    values = np.round(rng.normal(0.0, 1.0, size=(30, 4)), 4)
    labels = rng.integers(0, 3, size=30)
    inject = {2: (1, ""), 5: (0, "NA"), 8: (2, "nan"), 11: (3, "inf"), 14: (0, "-inf"), 17: (1, "1e400"),
              }
    lines = ["f0,f1,f2,f3,label"]
    for r in range(30):
        fields = [f"{v:.4f}" for v in values[r]]
        label = str(labels[r])
        if r in inject:
            col, token = inject[r]
            fields[col] = token
        if r == 26:
            label = "-1"
        if r == 23:
            label = "abc"
        row = fields + [label]
        if r == 20:
            row = row[:4]
        lines.append(",".join(row))
    write_text("dirty.csv", "\n".join(lines) + "\n")


def text_columns(rng):
    """text_columns.csv: an id text column, a quoted comment column (commas, a newline, doubled quotes),
    two numeric columns and a label, written by pandas (minimal quoting)."""
    comments = ["ok", "needs review, maybe", "two\nlines", 'said "hello"', "plain", "a, b, and c",
                "", "last one"]
    df = pd.DataFrame({
        "id": [f"s{i:03d}" for i in range(len(comments))],
        "comment": comments,
        "x1": np.round(rng.uniform(0, 1, len(comments)), 3),
        "x2": np.round(rng.uniform(-5, 5, len(comments)), 3),
        "label": rng.integers(0, 2, len(comments)),
    })
    df.to_csv(path("text_columns.csv"), index=False)
    back = pd.read_csv(path("text_columns.csv"), keep_default_na=False)
    assert list(back["comment"]) == comments


def simple_frame(rng, n=10):
    return pd.DataFrame({
        "a": np.round(rng.normal(0, 1, n), 4),
        "b": np.round(rng.uniform(0, 10, n), 3),
        "c": rng.integers(-50, 50, n),
        "label": rng.integers(0, 3, n),
    })


def dialects(rng):
    """semicolon.csv, tab.tsv, crlf_bom.csv (UTF-8 BOM + CRLF), noheader.csv, cr.csv (old Mac CR endings)."""
    simple_frame(rng).to_csv(path("semicolon.csv"), sep=";", index=False)
    simple_frame(rng).to_csv(path("tab.tsv"), sep="\t", index=False)
    simple_frame(rng).to_csv(path("crlf_bom.csv"), index=False, encoding="utf-8-sig", lineterminator="\r\n")
    df = simple_frame(rng)
    df["d"] = np.round(rng.normal(5, 2, len(df)), 2)
    df = df[["a", "b", "c", "d", "label"]]
    df.to_csv(path("noheader.csv"), index=False, header=False)
    simple_frame(rng, 4).to_csv(path("cr.csv"), index=False, lineterminator="\r")
    assert pd.read_csv(path("semicolon.csv"), sep=";").shape == (10, 4)
    assert pd.read_csv(path("tab.tsv"), sep="\t").shape == (10, 4)
    assert list(pd.read_csv(path("crlf_bom.csv"), encoding="utf-8-sig").columns) == ["a", "b", "c", "label"]


def scale(rng):
    """scale.csv: feature columns whose scales differ by orders of magnitude (1e-3 .. 1e6), and a label."""
    n = 50
    df = pd.DataFrame({
        "tiny": np.round(rng.normal(0, 1e-3, n), 7),
        "unit": np.round(rng.normal(0, 1, n), 4),
        "kilo": np.round(rng.normal(500, 1e3, n), 1),
        "mega": np.round(rng.uniform(0, 1e6, n), 0),
        "label": rng.integers(0, 4, n),
    })
    df.to_csv(path("scale.csv"), index=False)


def quoted():
    """quoted.csv: quoting, multi-line records, a blank line and no final newline; records start on lines
    2, 3, 4, 6, 8 and 11."""
    text = (
        "id,note,x,label\n"            # 1
        '1,"plain",1.5,0\n'              # 2
        '2,"with, comma",2.5,1\n'        # 3
        '3,"two\nlines",3.5,0\n'         # 4-5
        '4,"say ""hi""","4.5",1\n'       # 6
        "\n"                             # 7 (blank)
        '5,"three\nline\nrecord",5.5,1\n'  # 8-10
        "6,plain,6.5,0"                  # 11, no line ending
    )
    write_text("quoted.csv", text)
    back = pd.read_csv(path("quoted.csv"))
    assert list(back["x"]) == [1.5, 2.5, 3.5, 4.5, 5.5, 6.5]


NA_TOKENS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
             "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


def na_tokens():
    """na_tokens.csv: column x holds every NA token pandas reads as NaN (one per row, in NA_TOKENS order),
    y holds the row number, label 0."""
    lines = ["x,y,label"] + [f"{t},{i},0" for i, t in enumerate(NA_TOKENS)]
    write_text("na_tokens.csv", "\n".join(lines) + "\n")
    back = pd.read_csv(path("na_tokens.csv"))
    assert back["x"].isna().all()


INF_TOKENS = ["inf", "-inf", "+inf", "Infinity", "-Infinity", "+Infinity", "INF", "iNf", "1e400", "-1e400"]


def inf_tokens():
    """inf_tokens.csv: column x holds infinities and overflowing values (signs alternate as written)."""
    lines = ["x,label"] + [f"{t},1" for t in INF_TOKENS]
    write_text("inf_tokens.csv", "\n".join(lines) + "\n")
    back = pd.read_csv(path("inf_tokens.csv"))
    assert np.isinf(back["x"]).all()


def odd():
    """skiprows.csv (2 preamble lines), header_mismatch.csv (a title line above the header),
    unterminated.csv (a quote never closed), invalid_utf8.csv (bytes that are not UTF-8 in a text column)."""
    write_text("skiprows.csv",
               "# exported by sensor-tool 2.1\n# units: cm\na,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,10,0\n")
    write_text("header_mismatch.csv", "Sensor export\na,b,label\n1,2,0\n3,4,1\n")
    write_text("unterminated.csv", 'a,b,label\n1,2,0\n3,4,1\n5,"6,1\n7,8,0\n')
    write_bytes("invalid_utf8.csv", b"name,x,label\nok,1.5,0\n\xff\xfe\xc3,2.5,1\nfine,\xff,0\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240611)
    dirty(rng)
    text_columns(rng)
    dialects(rng)
    scale(rng)
    quoted()
    na_tokens()
    inf_tokens()
    odd()


if __name__ == "__main__":
    main()
