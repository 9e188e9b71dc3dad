"""pytest collects the package's docstring examples too; ``__main__`` runs the
main job when imported, so it is not collected."""

collect_ignore = ["snntorch_bayes/__main__.py"]
