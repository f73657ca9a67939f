"""The package layout, which pyproject.toml cannot express: every package under minnet/
found as it is, plus two top-level folders of a checkout installed inside the package
(pyproject's [tool.setuptools] takes a search for packages or a fixed list, not both).
Everything else (name, version, dependencies, extras, the `minnet` command) is in
pyproject.toml."""
from setuptools import find_packages, setup

setup(
    # datasets/ is installed as minnet/data/, and tutorials/ (with its assignments/) as
    # minnet/tutorials/, never as top-level "datasets" or "tutorials" packages:
    # minnet.datasets finds the data, and `minnet tutorials` copies the lessons out.
    packages=find_packages(include=["minnet", "minnet.*"])
    + ["minnet.data", "minnet.tutorials", "minnet.tutorials.assignments"],
    package_dir={"minnet.data": "datasets", "minnet.tutorials": "tutorials",
                 "minnet.tutorials.assignments": "tutorials/assignments"},
    # py.typed: minnet's type hints are meant for type checkers (PEP 561).
    package_data={"minnet": ["py.typed"],
                  "minnet.data": ["*.csv", "*.csv.gz", "*.txt", "README.md"],
                  "minnet.tutorials": ["*.md"],
                  "minnet.tutorials.assignments": ["README.md"]},
)
