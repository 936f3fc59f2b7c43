"""Sphinx configuration: pydata-sphinx-theme, numpydoc docstrings, autodoc/autosummary API pages.

Built against the installed package (CI: `sphinx-build -W -b html docs docs/_build/html`), so the API
reference documents exactly what `pip install` gives.
"""

import deepcheap_native

project = "deepcheap-native"
author = "deepcheap-native contributors"
copyright = "2026, deepcheap-native contributors"
release = version = deepcheap_native.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",  # docs/guide/*.md: the manual pages moved out of the README (Markdown)
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc renders the types from the docstrings
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False
exclude_patterns = ["_build", "generated/*.md"]
templates_path: list[str] = []

html_theme = "pydata_sphinx_theme"
html_title = "deepcheap-native"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path: list[str] = []
