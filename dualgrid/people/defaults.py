"""Shipped configuration of the people app, loaded by migration 0002 and editable in the admin.

Codes marked (ours) in STANDARDS.md are this project's assignments where no official value was found.
"""

# (code, name, grants access to the grid's cases)
STAFF_ROLES: list[tuple[str, str, bool]] = [
    ("grid_leader", "网格长", True),
    ("full_time", "专职网格员", True),
    ("part_time", "兼职网格员", True),
    ("instructor", "网格指导员", False),
    ("micro", "微网格员", True),
    ("party_household", "党员联户", False),
    ("forest_ranger", "护林员", False),
    ("geohazard", "地灾员", False),
    ("info_reporter", "三情信息员", False),
]

POST_NAMES: list[str] = ["村（社区）网格长", "专职网格员", "兼职网格员", "微网格长", "网格指导员"]

WEEKLY = 7
MONTHLY = 30

# (group, code, name, visit every N days; 0 = no rule)
TAGS: list[tuple[str, str, str, int]] = [
    # Care groups of the seeds, visited every week; codes are ours.
    ("care", "01", "空巢(独居)老人", WEEKLY),
    ("care", "02", "留守儿童", WEEKLY),
    ("care", "03", "困境儿童", WEEKLY),
    ("care", "04", "行动不便人员", WEEKLY),
    ("care", "05", "孕产妇", WEEKLY),
    ("care", "06", "慢性病基础病患者", WEEKLY),
    ("care", "07", "残疾人", WEEKLY),
    ("care", "08", "低保对象", WEEKLY),
    ("care", "09", "特困人员", WEEKLY),
    # GB/T 31000 特殊人群 (ours).
    ("special", "01", "刑满释放人员", MONTHLY),
    ("special", "02", "社区矫正人员", MONTHLY),
    ("special", "03", "吸毒人员", MONTHLY),
    ("special", "04", "肇事肇祸等严重精神障碍患者", MONTHLY),
    ("special", "05", "艾滋病危险人员", MONTHLY),
    ("special", "06", "重点上访人员", MONTHLY),
    # GB/T 31000 重点青少年 (ours).
    ("youth", "01", "闲散青少年", MONTHLY),
    ("youth", "02", "不良行为青少年", MONTHLY),
    ("youth", "03", "流浪乞讨青少年", MONTHLY),
    ("youth", "04", "服刑在教人员未成年子女", MONTHLY),
    ("youth", "05", "农村留守儿童", MONTHLY),
    ("youth", "99", "其他", 0),
]
