"""The Grafana dashboard is importable as is and uses only metrics the gateway exports."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from fixgw.observability import GatewayMetrics, RejectKind

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboards" / "fixgw.json"
METRIC = re.compile(r"\b((?:fixgw|process)_[a-z0-9_]+)\b")
SELECTOR = re.compile(r"\b((?:fixgw|process)_[a-z0-9_]+)\{([^}]*)\}")
GROUPING = re.compile(r"\bby \(([^)]*)\)")
LABEL = re.compile(r"([a-z_]+)\s*(?:=~|!=|!~|=)")


def _dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return doc


def _exprs(doc: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in doc["templating"]["list"]]
    return exprs


def _populated_metrics() -> GatewayMetrics:
    """Metrics with one child of every labelled series, so samples show every label name."""
    metrics = GatewayMetrics()
    metrics.session("S").message_in("D")
    metrics.session("S").message_out("8")
    metrics.reject(RejectKind.ORDER, "r")
    metrics.observe_order_ack("D", 0.001)
    metrics.symbol("X").update_book(
        bid_levels=1, ask_levels=1, bid_quantity=1, ask_quantity=1, spread=0.01
    )
    metrics.symbol("X").trade(1)
    metrics.alpaca_request("orders", "POST", 200, 0.1)
    metrics.alpaca_error("orders", "timeout")
    return metrics


def _labels_by_sample_name(metrics: GatewayMetrics) -> dict[str, set[str]]:
    labels: dict[str, set[str]] = defaultdict(set)
    for family in metrics.registry.collect():
        for sample in family.samples:
            labels[sample.name].update(sample.labels)
    return labels


def _unknown_names(exprs: list[str], known: set[str]) -> set[str]:
    return {name for expr in exprs for name in METRIC.findall(expr)} - known


def test_dashboard_declares_the_prometheus_datasource_input() -> None:
    doc = _dashboard()
    assert [(i["name"], i["type"], i["pluginId"]) for i in doc["__inputs"]] == [
        ("DS_PROMETHEUS", "datasource", "prometheus")
    ]
    for panel in doc["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def test_dashboard_is_well_formed() -> None:
    doc = _dashboard()
    assert doc["uid"] and doc["title"] and isinstance(doc["schemaVersion"], int)
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    for panel in doc["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]


def test_every_metric_in_the_dashboard_exists_in_the_registry() -> None:
    exprs = _exprs(_dashboard())
    assert len(exprs) > 20
    assert _unknown_names(exprs, GatewayMetrics().metric_names()) == set()


def test_the_name_check_catches_a_misspelt_metric() -> None:
    known = GatewayMetrics().metric_names()
    assert _unknown_names(["rate(fixgw_messages_recieved_total[1m])"], known) == {
        "fixgw_messages_recieved_total"
    }


def test_every_label_the_dashboard_filters_or_groups_on_exists() -> None:
    labels = _labels_by_sample_name(_populated_metrics())
    for expr in _exprs(_dashboard()):
        names = METRIC.findall(expr)
        available = {"le"}.union(*(labels[name] for name in names))
        for name, selector in SELECTOR.findall(expr):
            assert set(LABEL.findall(selector)) <= labels[name], expr
        for group in GROUPING.findall(expr):
            assert {g.strip() for g in group.split(",")} <= available, expr


@pytest.mark.parametrize("variable", ["session", "symbol"])
def test_template_variables_query_existing_labels(variable: str) -> None:
    doc = _dashboard()
    (definition,) = [v["definition"] for v in doc["templating"]["list"] if v["name"] == variable]
    metric = METRIC.findall(definition)[0]
    assert variable in _labels_by_sample_name(_populated_metrics())[metric]
