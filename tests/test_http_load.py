"""The helpers of benchmarks/http_load.py (wrk output, /proc parsing, the ratio table) without a
server: the benchmark itself runs in `make bench` (`--quick` in CI)."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "http_load.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("http_load", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["http_load"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("http_load", None)


WRK_OUTPUT = """Running 15s test @ http://127.0.0.1:8401/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.10ms    8.01ms 145.70ms   90.12%
  11790 requests in 15.02s, 4.01MB read
Requests/sec:    784.95
Transfer/sec:    273.44KB
HTTPBENCH {"requests": 11790, "duration_us": 15020000, "bytes": 4200000, "non2xx": 3, "last_bad_status": 429, \
"errors": {"connect": 0, "read": 1, "write": 0, "timeout": 0}, "mean_us": 12100.5, "p50_us": 7900, \
"p95_us": 26000, "p99_us": 67800, "max_us": 145700}
"""


def test_parse_wrk(bench):
    figures = bench.parse_wrk(WRK_OUTPUT)
    assert figures["requests"] == 11790
    assert figures["rps"] == pytest.approx(784.95, abs=0.01)
    assert (figures["p50"], figures["p95"], figures["p99"]) == (7.9, 26.0, 67.8)
    assert figures["non2xx"] == 3 and figures["last_bad_status"] == 429 and figures["socket_errors"] == 1


def test_parse_wrk_without_the_line(bench):
    with pytest.raises(ValueError, match="HTTPBENCH"):
        bench.parse_wrk("Running 1s test\n  0 requests in 1.00s\n")


def test_proc_parsing(bench):
    assert bench.cpu_busy_ticks("cpu  100 5 50 1000 7 3 2 1 0 0\ncpu0 1 2 3 4\n") == 100 + 5 + 50 + 3 + 2 + 1
    stat = "4242 (gunicorn: worker [a b]) S 4200 4242 4242 0 -1 4194560 1 0 0 0 310 42 0 0 20 0 1 0 9 0 0"
    assert bench.process_ticks(stat) == 352
    assert bench.rss_mb("Name:\tgunicorn\nVmRSS:\t  161792 kB\nVmSwap:\t0 kB\n") == 158.0
    assert bench.rss_mb("Name:\tzombie\n") == 0.0
    rollup = (
        "00400000-7ffd [rollup]\nRss:  98304 kB\nPss:  51200 kB\nPrivate_Clean:  1024 kB\nPrivate_Dirty:  39936 kB\n"
    )
    assert bench.pss_uss_mb(rollup) == (50.0, 40.0)


def test_memory_of_the_largest_worker_and_of_one_gone_meanwhile(bench):
    import os

    figures = bench.memory_figures([os.getpid(), 2**22 + 1])  # this process, and no such process
    assert figures["rss_mb"] >= figures["pss_mb"] >= figures["uss_mb"] > 0


def test_ratios_and_medians(bench):
    run = {
        "floor": {"rps": 800.0, "p95": 20.0, "p99": 40.0},
        "detail": {"rps": 120.0, "p95": 150.0, "p99": 200.0},
        "floor2": {"rps": 400.0, "p95": 30.0, "p99": 60.0},
    }
    rows = bench.with_ratios(run)
    assert rows["detail"]["ratio"] == pytest.approx(0.2)  # 120 over the mean of the two floors (600)
    assert rows["floor"]["ratio"] == pytest.approx(800 / 600)
    other = bench.with_ratios({**run, "detail": {"rps": 60.0, "p95": 300.0, "p99": 500.0}})
    third = bench.with_ratios({**run, "detail": {"rps": 300.0, "p95": 100.0, "p99": 150.0}})
    summary = bench.median_over_runs([rows, other, third])
    assert summary["detail"]["rps"] == 120.0 and summary["detail"]["rps_range"] == (60.0, 300.0)
    assert summary["detail"]["ratio_range"] == pytest.approx((0.1, 0.5))


def test_tables(bench):
    rows = bench.with_ratios(
        {
            "floor": {"rps": 800.0, "p50": 8, "p95": 20.0, "p99": 40.0, "non2xx": 0, "queries": 1, "rss_mb": 150,
                      "cpu_ms": 1.5, "other_cores": 0.5, "load": 3.2},
            "detail": {"rps": 100.0, "p50": 80, "p95": 150.0, "p99": 200.0, "non2xx": 2, "queries": 14},
        }
    )  # fmt: skip
    table = bench.format_table(rows).splitlines()
    assert table[0].split()[:2] == ["endpoint", "req/s"]
    assert table[1].startswith("floor (bare view, 1 row)") and table[1].split()[-1] == "1.00"
    assert table[2].split()[-1] == "0.12" and " - " in table[2]  # figures not measured show "-"
    summary = bench.median_over_runs([rows])
    markdown = bench.format_ranges(summary)
    assert "| API customer detail | 100 (100–100) | 150.0 (150.0–150.0)" in markdown


def test_request_lines_rotate_over_credentials(bench):
    lines = bench.request_lines("token", ["/a", "/b", "/c"], ["t1", "t2"], [], 6)
    assert lines[0] == "/a\tX-Forwarded-Proto: https\tAuthorization: Bearer t1"
    assert [line.split("\t")[0] for line in lines] == ["/a", "/b", "/c", "/a", "/b", "/c"]
    assert lines[3].endswith("Bearer t2")
    assert bench.request_lines("session", ["/p"], [], ["sessionid=s"], 1) == [
        "/p\tX-Forwarded-Proto: https\tCookie: sessionid=s"
    ]
    mixed = bench.blend({"x": ["x1", "x2"], "y": ["y1"]}, {"x": 3, "y": 1}, 400, random.Random(1))
    assert len(mixed) == 400 and 250 < sum(line.startswith("x") for line in mixed) < 350


def test_cpu_tracker_follows_processes_that_come_and_go(bench):
    tracker = bench.CpuTracker({1: 100, 2: 50})
    tracker.sample({1: 150, 2: 70})
    tracker.sample({1: 180, 3: 5})  # 2 exited (counts to its last sample), 3 started meanwhile
    tracker.sample({1: 200, 3: 25})
    assert tracker.total() == (200 - 100) + (70 - 50) + 25
    tracker.sample({1: 10})  # pid 1 reused by a new process
    assert tracker.total() == 100 + 20 + 25 + 10
