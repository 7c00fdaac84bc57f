"""Build step: the bundled oracle specs and suites go into the wheel under hdbench/bundled/, so
that an installed hdbench finds them as a checkout does (hdbench/bundled.py)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: Folders of the checkout copied into the wheel, and the files of each.
BUNDLED = {"oracles": "*.toml", "benchmarks": "*.toml"}


class BuildWithBundled(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's folders
            return
        for folder, pattern in BUNDLED.items():
            target = Path(self.build_lib) / "hdbench" / "bundled" / folder
            target.mkdir(parents=True, exist_ok=True)
            for path in sorted(Path(folder).glob(pattern)):
                shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": BuildWithBundled})
