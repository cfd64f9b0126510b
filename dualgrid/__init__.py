"""dualgrid: 双网格 grassroots governance platform."""

__version__ = "0.1.0"
