"""FlyO's version, reported by /healthz and the `flyo_build_info` metric."""

__version__ = "0.1.0"
