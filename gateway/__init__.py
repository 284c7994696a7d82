"""hisgw: the one-stop settlement gateway (一站式结算网关)."""

__version__ = "0.1.0"
