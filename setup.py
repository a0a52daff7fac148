"""For Dataflow's `--setup_file ./setup.py`: workers install codepref from the project's pyproject.toml."""

from setuptools import setup


setup()
