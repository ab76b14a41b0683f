import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sklearn_ser import plotting  # noqa: E402
from sklearn_ser.features import frame_hop  # noqa: E402
from sklearn_ser.metrics import agreement_levels  # noqa: E402

CLASSES = ["anger", "happiness", "neutral"]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_confusion_matrices_leave_out_no_consensus_rows():
    truth = np.array(["anger", "anger", "neutral", None, "happiness"], dtype=object)
    pred = {"a": ["anger", "neutral", "neutral", "anger", "happiness"],
            "b": ["anger"] * 5}
    fig = plotting.plot_confusion_matrices(pred, truth, CLASSES)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["a", "b"]
    # row-normalised, the None row left out: anger row of "a" = [0.5, 0, 0.5]
    np.testing.assert_allclose(panels[0].images[0].get_array()[0], [0.5, 0, 0.5])
    np.testing.assert_allclose(panels[1].images[0].get_array()[:, 0], [1, 1, 1])


def test_predictions_must_match_the_truth():
    with pytest.raises(ValueError, match=r"predictions\['a'\] has 2 labels for 3"):
        plotting.plot_confusion_matrices({"a": ["x", "y"]}, ["x", "y", "z"], ["x"])
    with pytest.raises(ValueError, match="non-empty dict"):
        plotting.plot_agreement_accuracy({}, [], [])


def test_agreement_levels_and_accuracy_by_level():
    table = pd.DataFrame({"A": [("anger",), ("anger",), ("neutral",)],
                          "B": [("anger",), ("neutral",), ("anger",)],
                          "C": [("anger",), ("neutral",), None]},
                         index=["u1", "u2", "u3"])
    agree = agreement_levels(table, CLASSES)
    np.testing.assert_allclose(agree.to_numpy(), [1.0, 2 / 3, np.nan])
    truth = np.array(["anger", "neutral", None], dtype=object)
    fig = plotting.plot_agreement_accuracy({"m": ["anger", "anger", "x"]}, truth,
                                           agree)
    y = fig.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(y, [np.nan, 0.0, 1.0])  # (0,.5], (.5,.75], (.75,1]


def test_weights_transitions_recall_and_attention_plots():
    # as NoisyLabelMetaClassifier.weights_by_class_ gives it
    w = pd.DataFrame({"anger": [1.2, 1.1], "neutral": [0.8, 0.9]},
                     index=["initial", "learned"])
    ax = plotting.plot_sample_weights(w).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["anger", "neutral"]
    assert [p.get_height() for p in ax.patches] == [1.2, 0.8, 1.1, 0.9]
    tm = pd.DataFrame([[0.9, 0.1], [0.2, 0.8]], index=["anger", "neutral"],
                      columns=["anger", "neutral"])
    assert plotting.plot_transition_matrix(tm).axes[0].images
    fig = plotting.plot_per_class_recall({"a": {"anger": 0.5, "neutral": 1.0}},
                                         ["anger", "neutral"])
    assert [p.get_height() for p in fig.axes[0].patches] == [0.5, 1.0]
    fig = plotting.plot_attention(np.full(20, 0.05), frames=np.random.rand(20, 3),
                                  hop_seconds=0.1)
    assert fig.axes[0].get_xlabel() == "time (s)"
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_attention([])
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_sample_weights(pd.DataFrame())


def test_plots_say_what_they_show():
    truth = np.array(["anger", "neutral", "happiness"], dtype=object)
    fig = plotting.plot_confusion_matrices({"a": truth}, truth, CLASSES)
    assert "rows" in fig._suptitle.get_text()
    assert fig.axes[-1].get_ylabel() == "share of the row"  # the colour bar
    # the noisy-label plots say when nothing was learned / corrected
    same = pd.DataFrame({"anger": [1.0, 1.0], "neutral": [1.0, 1.0]},
                        index=["initial", "learned"])
    ax = plotting.plot_sample_weights(same).axes[0]
    assert "nothing learned" in ax.get_title()
    moved = same.copy()
    moved.loc["learned", "anger"] = 0.7
    assert "nothing learned" not in plotting.plot_sample_weights(
        moved).axes[0].get_title()
    ident = pd.DataFrame(np.eye(2), index=["anger", "neutral"],
                         columns=["anger", "neutral"])
    fig = plotting.plot_transition_matrix(ident)
    assert "no label was corrected" in fig.axes[0].get_title()
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)


def test_attention_axis_from_zero_and_hop_from_the_pipeline():
    from sklearn.pipeline import make_pipeline

    from sklearn_ser.features import FrameAverager, LogSpectrogram, OpenSmileFrames

    assert frame_hop(make_pipeline(OpenSmileFrames(),
                                            FrameAverager(10))) == 0.1
    assert frame_hop([LogSpectrogram(frame_shift=0.02),
                               FrameAverager(5)]) == 0.1
    assert frame_hop([FrameAverager(5)]) is None
    w = np.array([0.30, 0.32, 0.38])
    fig = plotting.plot_attention(w, pipeline=make_pipeline(OpenSmileFrames(),
                                                            FrameAverager(10)))
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0
    assert ax.get_xlabel() == "time (s)"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0, 0.1, 0.2])


def test_moved_computations_stay_importable_from_plotting():
    # frame_hop and agreement_levels moved to features and metrics (issue 25);
    # the old import path gives the same functions
    assert plotting.frame_hop is frame_hop
    assert plotting.agreement_levels is agreement_levels


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_all_nan_inputs_plot_without_numpy_warnings():
    # no finite value at all: numpy's nanmax would warn "All-NaN slice"
    plotting.plot_attention(np.full(5, np.nan))
    nan = pd.DataFrame({"a": [np.nan, np.nan], "b": [np.nan, np.nan]},
                       index=["initial", "learned"])
    plotting.plot_sample_weights(nan)
    plt.close("all")


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_search_scores_of_a_candidate_that_never_scored():
    # a grid candidate with no finite inner score (every fold failed) next to
    # ones that scored: its mean and sd are NaN, without numpy's warnings
    from sklearn_ser.models._penalty_search import _finite_mean_std

    scores = np.array([[0.5, 0.7, np.nan], [np.nan, np.nan, np.nan], [1.0, 1.0, 1.0]])
    mean, std = _finite_mean_std(scores)
    np.testing.assert_allclose(mean, [0.6, np.nan, 1.0])
    np.testing.assert_allclose(std, [0.1, np.nan, 0.0])
