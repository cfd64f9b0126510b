"""Migrations 0003–0005: new shipped rules reach an existing database; an administrator's edits are kept."""

import importlib
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dualgrid.triage.rules import DEFAULT_RULES

pytestmark = pytest.mark.django_db(transaction=True)


def _rules_as_left_by(migration: str) -> Any:
    """Migrate the triage app back to ``migration`` and return its TriageRule model, seeded as 0002 did
    (an earlier transactional test may have flushed the seeded rules)."""
    executor = MigrationExecutor(connection)
    executor.migrate([("triage", migration)])
    executor.loader.build_graph()
    old = executor.loader.project_state([("triage", migration)]).apps
    importlib.import_module("dualgrid.triage.migrations.0002_default_rules").load(old, None)
    return old.get_model("triage", "TriageRule")


def _migrate(target: str | None = None) -> None:
    """Migrate the triage app to ``target``, or everything to the latest migrations."""
    executor = MigrationExecutor(connection)
    executor.migrate([("triage", target)] if target else executor.loader.graph.leaf_nodes())


def test_0003_adds_new_rules_and_extends_only_unedited_ones() -> None:
    Rule = _rules_as_left_by("0002_default_rules")
    mig = __import__("dualgrid.triage.migrations.0003_rule_kind_news", fromlist=["SEEDED_BEFORE"])
    # A database seeded before this change: no new rules, the old keywords, and one admin edit.
    Rule.objects.filter(name__in=mig.ADDED).delete()
    Rule.objects.filter(name="诈骗").update(keywords=mig.SEEDED_BEFORE["诈骗"])
    Rule.objects.filter(name="广告推销").update(keywords="贷款、本地管理员改过")
    _migrate("0003_rule_kind_news")
    from dualgrid.triage.models import TriageRule

    specs = {s.name: s for s in DEFAULT_RULES}
    assert set(TriageRule.objects.filter(name__in=mig.ADDED).values_list("name", flat=True)) == set(mig.ADDED)
    assert TriageRule.objects.get(name="时事评论").kind == "news"
    assert TriageRule.objects.get(name="诈骗").keywords == "、".join(specs["诈骗"].keywords)
    assert TriageRule.objects.get(name="广告推销").keywords == "贷款、本地管理员改过"


def test_0004_brings_the_cries_for_help_rules_and_keeps_admin_edits() -> None:
    Rule = _rules_as_left_by("0003_rule_kind_news")
    mig = importlib.import_module("dualgrid.triage.migrations.0004_cries_for_help")
    # As 0003 left a database: none of the new rules, the old keywords, and one admin edit.
    Rule.objects.filter(name__in=mig.ADDED).delete()
    Rule.objects.filter(name="急病伤亡").update(keywords=mig.SEEDED_BEFORE["急病伤亡"])
    Rule.objects.filter(name="就医求助").update(keywords="断粮、本地管理员改过")
    anchor = Rule.objects.get(name="急病伤亡").sort
    _migrate("0004_cries_for_help")
    from dualgrid.triage.models import TriageRule

    specs = {s.name: s for s in DEFAULT_RULES}
    added = {r.name: r for r in TriageRule.objects.filter(name__in=mig.ADDED)}
    assert set(added) == set(mig.ADDED)
    assert added["呼救"].urgency == "urgent" and added["呼救（弱）"].weight == 0.4
    assert added["呼救"].sort == anchor + 1  # listed beside the rule it was split from
    assert "救命" not in TriageRule.objects.get(name="急病伤亡").keywords.split("、")
    assert TriageRule.objects.get(name="急病伤亡").keywords == "、".join(specs["急病伤亡"].keywords)
    assert TriageRule.objects.get(name="就医求助").keywords == "断粮、本地管理员改过"

    # Back to 0003: the unedited rule gets its old keywords, the added ones go.
    _migrate("0003_rule_kind_news")
    assert Rule.objects.filter(name__in=mig.ADDED).count() == 0
    assert Rule.objects.get(name="急病伤亡").keywords == mig.SEEDED_BEFORE["急病伤亡"]
    _migrate()


def test_0005_brings_the_critical_pleas_to_unedited_rules_only() -> None:
    Rule = _rules_as_left_by("0004_cries_for_help")
    mig = importlib.import_module("dualgrid.triage.migrations.0005_critical_pleas")
    # As 0004 left a database: 呼救 with its old keywords, 轻生 edited by an administrator.
    Rule.objects.filter(name="呼救").update(keywords=mig.SEEDED_BEFORE["呼救"])
    Rule.objects.filter(name="急病伤亡").update(keywords=mig.SEEDED_BEFORE["急病伤亡"])
    Rule.objects.filter(name="轻生").update(keywords="跳楼、本地管理员改过")
    _migrate("0005_critical_pleas")
    from dualgrid.triage.models import TriageRule

    specs = {s.name: s for s in DEFAULT_RULES}
    cry = TriageRule.objects.get(name="呼救").keywords
    assert cry == "、".join(specs["呼救"].keywords) and "病情危急" in cry.split("、")
    assert "意识不清" in TriageRule.objects.get(name="急病伤亡").keywords.split("、")
    assert TriageRule.objects.get(name="轻生").keywords == "跳楼、本地管理员改过"

    # Back to 0004: the unedited rule gets its old keywords again.
    _migrate("0004_cries_for_help")
    assert Rule.objects.get(name="呼救").keywords == mig.SEEDED_BEFORE["呼救"]
    _migrate()
