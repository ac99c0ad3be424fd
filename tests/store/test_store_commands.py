"""The ``fixgw query``, ``report``, ``export`` and ``store`` commands."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from store_fixdata import GATEWAY, FixConversation, write_filelog

from fixgw.cli import main
from fixgw.store import ExecutionStore


@pytest.fixture
def data_dir(scenario_store: ExecutionStore) -> Path:
    return scenario_store.layout.root.parent


def fixgw(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_query_prints_an_aligned_table(data_dir: Path) -> None:
    code, out, _ = fixgw(
        "query",
        "SELECT session_id, count(*) AS n FROM messages GROUP BY 1 ORDER BY 1",
        "--data-dir",
        str(data_dir),
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["session_id", "n"]
    assert lines[2].split() == ["FIX.4.4:FIXGW->CLIENT1", "13"]
    assert len(lines[2]) == len(lines[0]), "numbers are right-aligned under their header"
    assert lines[-1] == "(3 rows)"


def test_query_truncates_long_cells(data_dir: Path) -> None:
    code, out, _ = fixgw(
        "query",
        "SELECT raw FROM messages LIMIT 1",
        "--data-dir",
        str(data_dir),
        "--max-width",
        "20",
    )
    assert code == 0
    cell = out.splitlines()[2]
    assert len(cell) == 20
    assert cell.endswith("…")
    assert cell.startswith("8=FIX.4.4|9=")


def test_query_csv(data_dir: Path) -> None:
    code, out, _ = fixgw(
        "query",
        "SELECT exec_id, last_px FROM fills ORDER BY exec_id LIMIT 2",
        "--data-dir",
        str(data_dir),
        "--format",
        "csv",
    )
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["exec_id", "last_px"],
        ["E2", "100.000000"],
        ["E3", "100.000000"],
    ]


def test_query_json_keeps_decimals_exact(data_dir: Path) -> None:
    code, out, _ = fixgw(
        "query",
        "SELECT exec_id, last_px, ts FROM fills WHERE exec_id = 'E4'",
        "--data-dir",
        str(data_dir),
        "--format",
        "json",
    )
    assert code == 0
    assert '"last_px": 100.010000' in out
    assert json.loads(out) == [
        {"exec_id": "E4", "last_px": 100.01, "ts": "2025-03-03T14:30:00.800000"}
    ]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM no_such_view", "SQL error: Catalog Error"),
        ("SELEC 1", "SQL error: Parser Error"),
        ("CREATE TABLE t (x INT)", "read-only"),
    ],
)
def test_sql_errors_are_clear_and_without_traceback(data_dir: Path, sql: str, message: str) -> None:
    code, _, err = fixgw("query", sql, "--data-dir", str(data_dir))
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_query_without_a_store_says_how_to_get_one(tmp_path: Path) -> None:
    code, _, err = fixgw("query", "SELECT 1", "--data-dir", str(tmp_path))
    assert code == 1
    assert "no execution store" in err
    assert "fixgw store rebuild" in err


def test_an_empty_query_is_a_usage_error(data_dir: Path) -> None:
    code, _, err = fixgw("query", "  ", "--data-dir", str(data_dir))
    assert code == 2
    assert "empty" in err


def test_report_prints_every_section(data_dir: Path) -> None:
    code, out, _ = fixgw("report", "--data-dir", str(data_dir))
    assert code == 0
    for title in (
        "Volume by symbol",
        "Orders and fill ratio by session",
        "Rejects by reason",
        "Latency (microseconds)",
        "Markouts against the mid",
        "Positions and P&L by session (FIFO)",
        "Positions and P&L by firm (FIFO)",
    ):
        assert title in out
    assert "100.2032" in out


def test_report_for_one_firm_and_as_html(data_dir: Path, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    code, out, _ = fixgw(
        "report", "--data-dir", str(data_dir), "--firm", "BETA", "--html", str(html)
    )
    assert code == 0
    assert "firm BETA" in out
    assert "CLIENT1" not in out
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") >= 5
    assert "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page


def test_report_for_an_unknown_session_lists_the_known_ones(data_dir: Path) -> None:
    code, _, err = fixgw("report", "--data-dir", str(data_dir), "--session", "NOBODY")
    assert code == 1
    assert "FIX.4.4:FIXGW->CLIENT1" in err


def test_export_writes_one_deduplicated_file_per_partition(data_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "export"
    code, out, _ = fixgw("export", "--data-dir", str(data_dir), "--out", str(out_dir))
    assert code == 0
    files = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.parquet"))
    assert files == [
        "date=2025-03-03/symbol=AAPL/data.parquet",
        "date=2025-03-03/symbol=XYZ/data.parquet",
        "date=2025-03-03/symbol=_none/data.parquet",
    ]
    exported = pl.read_parquet(out_dir / "date=2025-03-03/symbol=AAPL/data.parquet")
    assert exported.height == 13
    assert exported["exec_id"].drop_nulls().n_unique() == exported["exec_id"].drop_nulls().len() - 1
    assert "Exported 18 rows in 3 files" in out


def test_export_filters_by_time_and_symbol(data_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "export"
    code, out, _ = fixgw(
        "export",
        "--data-dir",
        str(data_dir),
        "--out",
        str(out_dir),
        "--symbol",
        "AAPL",
        "--since",
        "2025-03-03 14:30:00",
        "--until",
        "2025-03-03 14:30:01",
    )
    assert code == 0
    assert "Exported 7 rows in 1 files" in out


def test_export_refuses_a_non_empty_directory_unless_told(data_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "export"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("x")
    code, _, err = fixgw("export", "--data-dir", str(data_dir), "--out", str(out_dir))
    assert code == 1
    assert "--overwrite" in err
    code, _, _ = fixgw("export", "--data-dir", str(data_dir), "--out", str(out_dir), "--overwrite")
    assert code == 0
    assert not (out_dir / "keep.txt").exists()


def test_store_rebuild_compact_refresh_and_info(tmp_path: Path, scenario: FixConversation) -> None:
    data_dir = tmp_path / "var"
    for client in ("CLIENT1", "CLIENT2", "DROPCOPY"):
        write_filelog(data_dir / "log", scenario, client)
    code, out, _ = fixgw("store", "rebuild", "--data-dir", str(data_dir), "--comp-id", GATEWAY)
    assert code == 0
    assert f"Added {len(scenario.captures)} messages" in out
    code, out, _ = fixgw("store", "rebuild", "--data-dir", str(data_dir))
    assert code == 0
    assert "Added 0 messages" in out
    code, out, _ = fixgw("store", "compact", "--data-dir", str(data_dir))
    assert code == 0
    assert "Merged" in out
    code, out, _ = fixgw("store", "refresh", "--data-dir", str(data_dir))
    assert code == 0
    assert "messages" in out
    code, out, _ = fixgw("store", "info", "--data-dir", str(data_dir))
    assert code == 0
    assert str(len(scenario.captures)) in out.splitlines()[3]


def test_store_rebuild_without_logs_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = fixgw("store", "rebuild", "--data-dir", str(tmp_path))
    assert code == 1
    assert "does not exist" in err
