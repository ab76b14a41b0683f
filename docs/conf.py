"""Sphinx configuration of the sklearn-ser documentation.

Build: pip install -e ".[docs]" && sphinx-build -b html docs docs/_build/html
"""

project = "sklearn-ser"
author = "sklearn-ser developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
# the user guide's chapters are Markdown (MyST); the rest reStructuredText
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath", "amsmath"]
autosummary_generate = True
numpydoc_show_class_members = False
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    # "your own ratings CSV" first, then the quick start (by file name)
    "within_subsection_order": "FileNameSortKey",
    "subsection_order": ["../examples/start", "../examples/annotations",
                         "../examples/papers", "../examples/howto"],
}
html_theme = "pydata_sphinx_theme"
# docs/benchmarks/ is the Markdown archive BENCHMARKS.md links to (read on GitHub)
exclude_patterns = ["_build", "benchmarks"]

# Warnings in the rendered gallery: the category and the message, without the
# absolute path and source line of the build machine.
import warnings  # noqa: E402


def _short_warning(message, category, filename, lineno, line=None):
    return f"{category.__name__}: {message}\n"


warnings.formatwarning = _short_warning
