"""The default model card of a saved model (its ``README.md``)."""

from __future__ import annotations


def model_card(manifest):
    """The default model card: what the model is, what it was trained on,
    how it scored, how to use it."""
    t = manifest.get("training") or {}
    est = manifest["estimator"]
    lines = [f"# {t.get('method') or est['class']}", ""]
    if t.get("description"):
        lines += [t["description"], ""]
    lines += [
        "## Intended use",
        "",
        "Predicting the distribution of emotion ratings a crowd of raters would "
        "give a recording of speech, for research on speech emotion recognition. "
        "Trained on one corpus: expect lower scores on recordings unlike it "
        "(another language, microphone, speaking style or rater population). Not "
        "for decisions about individuals.",
        "",
        "## Classes",
        "",
        ", ".join(map(str, manifest.get("classes") or [])) or "-",
        "",
        "## Training data",
        "",
    ]
    for key, label in (("corpus", "corpus"), ("n_utterances", "utterances"),
                       ("n_speakers", "speakers"), ("n_raters", "raters"),
                       ("class_counts", "majority class counts"),
                       ("ratings_sha256", "ratings (SHA-256)"),
                       ("disagreement", "rater disagreement"),
                       ("normalisation", "normalisation"),
                       ("decisions", "decisions taken on the training data")):
        if key in t:
            lines.append(f"- {label}: {_card_value(t[key])}")
    if "cv" in t:
        lines += ["", "## Leave-one-group-out scores", "", _card_value(t["cv"])]
    lines += [
        "",
        "## Use",
        "",
        "```",
        "sklearn-ser predict THIS_FOLDER recording.wav --out predictions.csv",
        "```",
        "",
        "or in Python: `sklearn_ser.load_model(folder).predict_proba(utterances)`. "
        "`manifest.json` holds every parameter, the versions it was trained with "
        "and the SHA-256 of each file.",
        "",
    ]
    return "\n".join(lines)


def _card_value(value):
    if isinstance(value, dict):
        return "; ".join(f"{k} {_card_value(v)}" for k, v in value.items()
                         if v not in ({}, None)) or "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return "[" + ", ".join(_card_value(v) for v in value) + "]"
    return str(value)
