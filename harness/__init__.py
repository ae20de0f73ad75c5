"""xrobust: robustness of zero-shot cross-lingual transfer, measured and significance-tested."""

__version__ = "0.1.0"
