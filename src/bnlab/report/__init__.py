"""The study's report: its text, its figures and the tutorial's claims.

The file names of the study's figures and summary are written here, once, in
a module light enough for the publish stage to import without matplotlib.
"""

DATASET = "dataset.png"  # the plot stage's figures, in its figures folder
OVERLAY = "test_accuracy_by_variant.png"
FIGURES_DIR = "figures"  # the ones summary.md shows (plot draws them), in this folder beside it
BOUNDARIES = "decision_boundaries.png"
EPOCHS = "epochs_to_80.png"
SUMMARY = "summary.md"  # the report stage's text and numbers
NUMBERS = "summary.json"
EXTENSIONS = "extensions"  # the compare stage's: .md, .json, and a folder of figures
NETWORKS = "networks"  # report_networks': .md, .json, and a folder of figures


def sweep(variant: str) -> str:
    """The file of a variant's momentum sweep, in the EXTENSIONS folder."""
    return f"momentum_sweep_{variant}.png"


def learning_curves(variant: str) -> str:
    """The file of a variant's train and test accuracy per epoch (the plot stage's)."""
    return f"accuracy_{variant}.png"


def network_figure(network: str) -> str:
    """The file of a digits network's test-accuracy curves, in the NETWORKS folder."""
    return f"{network}_test_accuracy.png"


def curves_file(network: str) -> str:
    """The CSV of a digits network's mean test-accuracy curves, for dvc plots."""
    return f"{network}_test_accuracy.csv"
