"""hdbench: benchmark of human-in-the-loop generative models against simulated listening panels."""

from hdbench.oracles import load_oracle

__version__ = "0.1.0"
__all__ = ["__version__", "load_oracle"]
