"""Shipped configuration of places, loaded by a data migration and editable in the admin."""

from __future__ import annotations

# 网格事项准入清单: the eight standard duties of a grid (STANDARDS.md), in their customary order.
# The codes are ours.
STANDARD_DUTIES: tuple[tuple[str, str], ...] = (
    ("D01", "政策宣传"),
    ("D02", "人口、家庭、单位基础信息采集"),
    ("D03", "信访与矛盾纠纷排查"),
    ("D04", "安全隐患排查"),
    ("D05", "志愿服务与特殊人群关爱"),
    ("D06", "代办帮办"),
    ("D07", "突发事件报告"),
    ("D08", "其他法定事项"),
)
