"""Sphinx configuration for songbot's documentation (Markdown pages through MyST).

Why Sphinx: it is maintained, and in strict mode (`-W --keep-going -n`, as CI runs it) a broken
link between pages, a missing page or a page left out of the table of contents fails the build.
"""

project = "songbot"
author = "songbot maintainers"
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
# GitHub-style anchors (`#groups-and-privacy-mode`) for headings down to ###, so links between
# pages can name a section and a missing one fails the strict build.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []
suppress_warnings: list[str] = []
