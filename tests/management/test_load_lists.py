"""``kyc_load_lists``: the figures per list, the --file override, a clear failure with a non-zero exit."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from django_kyc.models.sanctions import SanctionsList
from tests.sanctions.conftest import SAMPLES

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("kyc_load_lists", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def sample(source: str, *names: str) -> list[str]:
    return [f"--file={source}:{name}={SAMPLES / name}" for name in names]


def test_loads_lists_from_files_and_reports_the_figures() -> None:
    files = sample("uk_sl", "UK-Sanctions-List.xml") + sample("eu_fsf", "xmlFullSanctionsList_1_1.xml")
    output = run("uk_sl", "eu_fsf", *files)
    assert "uk_sl: version" in output
    assert "3 entries, 3 added, 0 changed, 0 removed, sha256 " in output
    assert "eu_fsf: version" in output
    assert "0 applicant(s) due for re-screening." in output
    assert "uk_sl: unchanged" in run("uk_sl", *sample("uk_sl", "UK-Sanctions-List.xml"))
    assert "3 added" not in run("uk_sl", "--force", *sample("uk_sl", "UK-Sanctions-List.xml"))


def test_a_failure_exits_non_zero_and_keeps_the_version(tmp_path: object) -> None:
    run("uk_sl", *sample("uk_sl", "UK-Sanctions-List.xml"))
    current = SanctionsList.objects.get(source="uk_sl").current_version
    broken = SAMPLES / "UK-Sanctions-List.xml"
    path = f"{tmp_path}/cut.xml"
    with open(path, "wb") as handle:
        handle.write(broken.read_bytes()[:700])
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 list\\(s\\) failed: uk_sl"):
        call_command(
            "kyc_load_lists", "uk_sl", f"--file=uk_sl:UK-Sanctions-List.xml={path}", stdout=io.StringIO(), stderr=err
        )
    assert "not loaded, the version in use stays" in err.getvalue()
    assert "not well-formed XML" in err.getvalue()
    assert SanctionsList.objects.get(source="uk_sl").current_version == current


@pytest.mark.parametrize(
    ("args", "message"),
    [(["nowhere"], "unknown list\\(s\\) nowhere"), (["--file=uk_sl"], "expected SOURCE:NAME=PATH")],
)
def test_bad_arguments(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)
