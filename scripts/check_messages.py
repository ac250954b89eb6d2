"""Fail when the zh-Hans catalogue is not complete or not compiled.

1. Extracts every translatable string of the source into a scratch copy of the catalogue
   (Django's makemessages, never touching the committed files).
2. Fails if any string lacks a translation or is fuzzy there.
3. Fails if the committed .mo does not hold exactly the committed .po's translations.
Needs GNU gettext (xgettext, msgmerge, msgattrib).
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "src" / "autocrm"
PO = PKG / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def parse_po(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po (simple entries and plural forms[0]); enough for comparison."""
    out: dict[str, str] = {}
    current: dict[str, str] = {}
    key = None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line or line.startswith("#"):
            if current.get("msgid"):
                ctx = current.get("msgctxt")
                mid = f"{ctx}\x04{current['msgid']}" if ctx else current["msgid"]
                out[mid] = current.get("msgstr", current.get("msgstr[0]", ""))
            current, key = {}, None
            continue
        if line.startswith('"'):
            if key:
                current[key] += _unquote(line)
            continue
        name, _, rest = line.partition(" ")
        key = name
        current[key] = _unquote(rest)
    return out


def _unquote(s: str) -> str:
    return bytes(s[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def main() -> int:
    for tool in ("xgettext", "msgmerge", "msgattrib"):
        if shutil.which(tool) is None:
            print(f"check_messages: {tool} (GNU gettext) is missing", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        locale = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
        locale.mkdir(parents=True)
        shutil.copy(PO, locale / "django.po")
        (tmp_path / "check_settings.py").write_text(
            f"from autocrm.config.settings import *  # noqa\nLOCALE_PATHS = [{str(tmp_path / 'locale')!r}]\n"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "check_settings",
            "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
            "AUTOCRM_DATA_DIR": str(tmp_path / "var"),
        }
        cmd = [sys.executable, "-m", "autocrm", "makemessages", "-l", "zh_Hans", "--no-location",
               "-i", "static/*", "-i", "*/tests/*", "-i", "demo/data/*", "-i", "locale/*"]  # fmt: skip
        subprocess.run(cmd, cwd=PKG, env=env, check=True, capture_output=True)
        extracted = locale / "django.po"
        untranslated = subprocess.run(
            ["msgattrib", "--untranslated", "--no-obsolete", str(extracted)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        fuzzy = subprocess.run(
            ["msgattrib", "--only-fuzzy", "--no-obsolete", str(extracted)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        missing = [k for k in parse_po_text(untranslated) if k]
        fuzzies = [k for k in parse_po_text(fuzzy) if k]
    problems = 0
    if missing:
        problems += 1
        print(f"{len(missing)} strings have no zh-Hans translation (run `make messages` and translate):")
        for m in missing[:50]:
            print("  -", m)
    if fuzzies:
        problems += 1
        print(f"{len(fuzzies)} fuzzy translations need review:")
        for m in fuzzies[:50]:
            print("  -", m)
    committed = {k: v for k, v in parse_po(PO).items() if v}
    with MO.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    compiled = {k if isinstance(k, str) else k[0]: v for k, v in catalog.items() if k}
    stale = [k for k, v in committed.items() if compiled.get(k) != v]
    if stale:
        problems += 1
        print(f"{len(stale)} translations are not compiled into django.mo (run `make messages`):")
        for m in stale[:20]:
            print("  -", m)
    if not problems:
        print(f"zh-Hans catalogue complete: {len(committed)} strings")
    return 1 if problems else 0


def parse_po_text(text: str) -> list[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".po", delete=False, encoding="utf-8") as fh:
        fh.write(text)
    try:
        return list(parse_po(Path(fh.name)))
    finally:
        os.unlink(fh.name)


if __name__ == "__main__":
    raise SystemExit(main())
