"""Hostile values shared by tests/test_hostile_*.py."""

from typing import Any

# The values every field is given (each alone, every field at once, then field by field).
HOSTILE: dict[str, Any] = {
    "nul": "a\x00b",
    "long": "长" * 10_000,
    "huge": "9" * 40,
    "inf": "1e309",
    "minus": "-1",
    "nan": "NaN",
    "infinity": "-Infinity",
    "feb30": "2026-02-30",
    "zero_date": "0000-00-00",
    "bad_time": "2026-13-01T25:61",
    "rtl": "\u202e\u200fمرحبا\u200b",
    "emoji": "🚗💥👨‍👩‍👧",
    "fullwidth": "１２３４",
    "sql": "' OR 1=1 --",
    "offsite": "https://evil.example/x",
    "array": ["1", "2"],
}
