"""Bulk commands at scale: ``kyc_rotate_keys``, ``kyc_reconcile``, ``kyc_purge`` and ``kyc_review`` over N
applicants.

    .venv/bin/python -m bench.bulk [--sizes 10000,50000,100000] [--commands rotate,reconcile,purge,review]

Targets: the command's peak RSS at most 150 MB, and time linear in rows (seconds per 10,000 applicants at the
largest size within 1.5× of the smallest). These commands run from cron over the whole book, so a list of
every id, a query per page that rescans a table, or a provider listing held in memory shows up here long
before it shows up in tests.

Sizes. Without ``--sizes``, key rotation runs at 10,000, 50,000 and 100,000 applicants, but reconciliation
and the purge run at 1,000 and 5,000 only: both change each applicant through the transition service (a
locked transaction, audit rows, ~15–25 queries each), about 12–17 ms per applicant on the two-core machine
this was written on, so 100,000 takes 20–30 minutes *each*. The report says so and extrapolates; pass
``--sizes 10000,50000,100000`` to run every command on the full book.

Method. A throwaway PostgreSQL database (``kyc_bench_bulk``, or ``KYC_BENCH_BULK_DATABASE_NAME``) is dropped,
created and migrated, configured by :mod:`bench.bulk_settings` (the test suite's settings plus the rotation
key and the fake ARGOS backend). For each command and size the django_kyc tables are emptied and re-seeded with ``COPY``
(:mod:`bench.bulk_seed`; not timed). The command then runs as its own process, ``python -m django
<command>``, started through :mod:`bench.bulk_launch`, which reports its wall time, CPU time and peak RSS
from ``os.wait4`` (a small launcher, because a child started from this large process would inherit this
process's RSS as its own peak). Afterwards the database is checked independently of the command's own
summary — every encrypted value decrypts under the new key alone, every verification is approved, every
applicant is redacted and every document file is gone — and anything short of all N is a breakage
(exit 1). A missed target is not: the verdict line says so and the exit status stays 0.

* rotation: keys ``[new, seed key]``; every applicant's row, passport, verification, webhook event and AML
  check is under the old key, so 5 rows per applicant are rewritten;
* reconciliation: backend ``argos`` against :class:`bench.bulk_argos.IndexedFakeArgos` on loopback (the only
  backend that can list its submissions); every verification waits in ``review`` while ARGOS says approved,
  so each one is approved, gets the passport ARGOS read, and refreshes its applicant;
* purge: every applicant's relationship ended seven years ago (retention is five); each has a passport with
  a small image on disk, an approved sandbox verification (the sandbox's erasure is in-process), a webhook
  event and an AML check, and one in ten a scheduled erasure request;
* review (the daily review run, ``kyc_review``): every applicant is verified with an approved verification
  and a periodic review that fell due yesterday, never noticed, so each one is noticed and then lapses to
  ``reverification_required`` (the worst day the run can have). Runs on the full book by default.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from bench.bulk_argos import IndexedFakeArgos
    from bench.bulk_seed import Book

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
FULL_SIZES = (10_000, 50_000, 100_000)
#: Without ``--sizes``: the full book where it fits in a few minutes, a smaller one where it cannot (see above).
DEFAULT_SIZES = {
    "rotate": FULL_SIZES,
    "reconcile": (1_000, 5_000),
    "purge": (1_000, 5_000),
    "review": FULL_SIZES,
}
#: ``KYC_BENCH_BULK_DATABASE_NAME`` overrides it, so two checkouts benchmarking on one server do not drop each other's.
DATABASE_NAME = os.environ.get("KYC_BENCH_BULK_DATABASE_NAME", "kyc_bench_bulk")
SETTINGS_MODULE = "bench.bulk_settings"
RSS_TARGET_MB = 150.0
#: s per 10,000 rows at the largest size may be at most this multiple of the smallest size's.
LINEAR_TOLERANCE = 1.5
PER_ROWS = 10_000


class BenchError(RuntimeError):
    """The benchmark could not measure: a command failed or did not do its work."""


@dataclass(frozen=True)
class Measurement:
    """One command at one size: a row of the table."""

    command: str
    rows: int
    wall: float
    cpu: float
    rss_mb: float
    note: str

    @property
    def per_10k(self) -> float:
        return self.wall * PER_ROWS / self.rows

    @property
    def cpu_per_10k(self) -> float:
        return self.cpu * PER_ROWS / self.rows


@dataclass(frozen=True)
class ChildRun:
    """What :mod:`bench.bulk_launch` measured, and what the command printed."""

    wall: float
    cpu: float
    rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_child(args: Sequence[str], env: Mapping[str, str]) -> ChildRun:
    """Run ``python -m django *args`` and measure that one process: wall time, CPU time, its own peak RSS.

    The command is started by :mod:`bench.bulk_launch`, not from here: a child started from this (large)
    process would have this process's RSS folded into its ``ru_maxrss`` (see that module). Output goes to
    files, not pipes, so a chatty command cannot block on a full pipe while it is measured.
    """
    with tempfile.TemporaryDirectory(prefix="kyc-bench-run-") as scratch:
        folder = Path(scratch)
        result = folder / "result.json"
        with open(folder / "out", "w+b") as out, open(folder / "err", "w+b") as err:
            launcher = subprocess.run(
                [sys.executable, "-m", "bench.bulk_launch", str(result), "--", sys.executable, "-m", "django", *args],
                cwd=ROOT,
                env=dict(env),
                stdout=out,
                stderr=err,
                check=False,
            )
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        if launcher.returncode != 0 or not result.exists():
            raise BenchError(f"bench.bulk_launch failed ({launcher.returncode}):\n{stderr[-3000:]}")
        measured = json.loads(result.read_text(encoding="utf-8"))
    return ChildRun(
        wall=float(measured["wall"]),
        cpu=float(measured["cpu"]),
        rss_mb=int(measured["maxrss_kb"]) / 1024,
        returncode=int(measured["returncode"]),
        stdout=stdout,
        stderr=stderr,
    )


def run_checked(args: Sequence[str], env: Mapping[str, str]) -> ChildRun:
    run = run_child(args, env)
    if run.returncode != 0:
        raise BenchError(
            f"`python -m django {' '.join(args)}` exited {run.returncode}:\n{run.stderr[-3000:] or run.stdout[-3000:]}"
        )
    return run


def log(message: str) -> None:
    """Progress goes to stderr, so stdout is only the table."""
    print(message, file=sys.stderr, flush=True)


# --- the database ------------------------------------------------------------------------------------------


def server_url(database_url: str, name: str) -> str:
    """``database_url`` with its database name replaced by ``name`` (query parameters kept)."""
    parts = urlsplit(database_url)
    if not parts.scheme.startswith("postgres"):
        raise BenchError(f"--database-url must be a postgres:// URL, not {database_url!r}")
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate_database(database_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(database_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- the commands ------------------------------------------------------------------------------------------


@dataclass
class Context:
    """What every seed, run and check needs: the children's environment, the document directory, the fake
    ARGOS, and the two encryption keys (the one rows are seeded under, the one rotation moves them to)."""

    env: dict[str, str]
    storage: Path
    argos: IndexedFakeArgos
    seed_key: str
    new_key: str


@dataclass(frozen=True)
class Bench:
    """One command: how to seed for it, how to run it, and how to prove it did all its work."""

    name: str
    command: tuple[str, ...]
    seed: Callable[[Context, int], Book]
    env: Callable[[Context], dict[str, str]]
    verify: Callable[[Context, Book, ChildRun], str]


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise BenchError(what)


def _summary_count(pattern: str, text: str, what: str) -> re.Match[str]:
    match = re.search(pattern, text)
    if match is None:
        raise BenchError(f"{what}: the command's summary line is missing; output ended:\n{text[-1500:]}")
    return match


# rotation


def seed_rotation(context: Context, rows: int) -> Book:
    from bench.bulk_seed import seed_decided

    return seed_decided(rows, storage=None)


def env_rotation(context: Context) -> dict[str, str]:
    return {**context.env, "KYC_BENCH_ENCRYPTION_KEYS": f"{context.new_key},{context.seed_key}"}


def verify_rotation(context: Context, book: Book, run: ChildRun) -> str:
    """The command's count must be every encrypted row, and every stored token must decrypt under the new
    key *alone* (read straight from the tables, not through the fields, which would accept the old key)."""
    from cryptography.fernet import Fernet, InvalidToken
    from django.apps import apps
    from django.db import connection

    from django_kyc.crypto import encrypted_fields

    reported = int(_summary_count(r"Done: (\d+) row\(s\) re-encrypted", run.stdout, "kyc_rotate_keys").group(1))
    _expect(reported == book.encrypted_rows, f"kyc_rotate_keys re-encrypted {reported} of {book.encrypted_rows}")
    new_only = Fernet(context.new_key.encode())
    checked = 0
    for model in apps.get_app_config("django_kyc").get_models():
        if model._meta.proxy:
            continue
        for field in encrypted_fields(model):
            table, column = model._meta.db_table, field.column
            with connection.chunked_cursor() as cursor:
                cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')  # noqa: S608
                while batch := cursor.fetchmany(5000):
                    for (token,) in batch:
                        try:
                            new_only.decrypt(token.encode("ascii"))
                        except InvalidToken:
                            raise BenchError(f"{table}.{column} still holds a value not under the new key") from None
                        checked += 1
    _expect(checked == book.encrypted_rows, f"found {checked} encrypted values, expected {book.encrypted_rows}")
    return f"{checked} values under the new key"


# reconciliation


def seed_reconcile(context: Context, rows: int) -> Book:
    from bench.bulk_argos import ARGOS_ALIAS
    from bench.bulk_seed import seed_reconcile as seed

    with context.argos.lock:
        context.argos.submissions.clear()
    return seed(rows, context.argos.add_approved, ARGOS_ALIAS)


def env_plain(context: Context) -> dict[str, str]:
    return dict(context.env)


def verify_reconcile(context: Context, book: Book, run: ChildRun) -> str:
    from django_kyc.models import Document, Verification

    match = _summary_count(r"Reconciled (\d+) submission\(s\): (.*)\.", run.stdout, "kyc_reconcile")
    _expect(
        int(match.group(1)) == book.applicants and match.group(2) == f"applied {book.applicants}",
        f"kyc_reconcile: expected {book.applicants} applied, got: {match.group(0)}",
    )
    approved = Verification.objects.filter(status="approved").count()
    documents = Document.objects.filter(status="accepted").count()
    _expect(approved == book.applicants, f"{approved} of {book.applicants} verifications approved")
    _expect(documents == book.applicants, f"{documents} of {book.applicants} passports recorded")
    calls = len(context.argos.calls)
    context.argos.calls.clear()
    return f"{approved} approved, {calls} ARGOS pages"


# purge


def seed_purge(context: Context, rows: int) -> Book:
    from bench.bulk_seed import seed_decided

    shutil.rmtree(context.storage / "documents", ignore_errors=True)
    return seed_decided(rows, storage=context.storage)


def verify_purge(context: Context, book: Book, run: ChildRun) -> str:
    from django_kyc.models import Applicant, Document, DocumentFile, ErasureRequest, Verification, WebhookEvent

    match = _summary_count(r"(\d+) applicant\(s\) due: (.*); under legal hold=\d+", run.stdout, "kyc_purge")
    _expect(
        int(match.group(1)) == book.applicants and match.group(2) == f"purged={book.applicants}",
        f"kyc_purge: expected {book.applicants} purged, got: {match.group(0)}",
    )
    redacted = Applicant.objects.filter(pii_redacted_at__isnull=False, last_name="", user__isnull=True).count()
    purged = Document.objects.filter(status="purged").count()
    emptied = DocumentFile.objects.filter(file="").count()
    still_open = ErasureRequest.objects.exclude(status="done").count()
    left_on_disk = sum(1 for path in (context.storage / "documents").rglob("*") if path.is_file())
    _expect(redacted == book.applicants, f"{redacted} of {book.applicants} applicants redacted")
    _expect(purged == book.rows["Document"], f"{purged} of {book.rows['Document']} documents purged")
    _expect(emptied == book.rows["DocumentFile"], f"{emptied} of {book.rows['DocumentFile']} file rows emptied")
    _expect(left_on_disk == 0, f"{left_on_disk} document files left on disk")
    _expect(still_open == 0, f"{still_open} erasure requests left open")
    # encrypted columns cannot be filtered on: read them back through the fields
    bodies = sum(1 for body in WebhookEvent.objects.values_list("body", flat=True).iterator(5000) if body)
    payloads = sum(1 for data in Verification.objects.values_list("provider_data", flat=True).iterator(5000) if data)
    _expect(bodies == 0, f"{bodies} webhook bodies left")
    _expect(payloads == 0, f"{payloads} provider payloads left")
    return f"{redacted} redacted, {book.rows['DocumentFile']} files deleted"


# the daily review run


def seed_review(context: Context, rows: int) -> Book:
    from bench.bulk_seed import seed_due_reviews

    return seed_due_reviews(rows)


def verify_review(context: Context, book: Book, run: ChildRun) -> str:
    """Every applicant was told (one ``review_due`` audit row each) and left ``verified`` (one status change
    each), and the command's own counts agree."""
    from django_kyc.models import Applicant, AuditEvent

    match = _summary_count(r"Done: review notices=(\d+) lapsed=(\d+)", run.stdout, "kyc_review")
    _expect(
        (int(match.group(1)), int(match.group(2))) == (book.applicants, book.applicants),
        f"kyc_review: expected {book.applicants} noticed and lapsed, got: {match.group(0)}",
    )
    lapsed = Applicant.objects.filter(status="reverification_required", review_notified_at__isnull=False).count()
    notices = AuditEvent.objects.filter(action="review_due").count()
    moves = AuditEvent.objects.filter(action="status_change", to_status="reverification_required").count()
    _expect(lapsed == book.applicants, f"{lapsed} of {book.applicants} applicants in reverification_required")
    _expect(notices == moves == book.applicants, f"{notices} notice and {moves} status audit rows")
    return f"{lapsed} noticed and lapsed"


BENCHES: dict[str, Bench] = {
    "rotate": Bench("kyc_rotate_keys", ("kyc_rotate_keys",), seed_rotation, env_rotation, verify_rotation),
    "reconcile": Bench("kyc_reconcile", ("kyc_reconcile", "argos"), seed_reconcile, env_plain, verify_reconcile),
    "purge": Bench("kyc_purge", ("kyc_purge",), seed_purge, env_plain, verify_purge),
    "review": Bench("kyc_review", ("kyc_review",), seed_review, env_plain, verify_review),
}


def measure(bench: Bench, context: Context, rows: int) -> Measurement:
    from bench.bulk_seed import truncate_kyc

    started = time.perf_counter()
    truncate_kyc()
    book = bench.seed(context, rows)
    seeded = time.perf_counter() - started
    log(f"{bench.name} × {rows:,}: seeded in {seeded:.1f} s ({dict(book.rows)}); running…")
    run = run_checked(bench.command, bench.env(context))
    note = bench.verify(context, book, run)
    log(f"  {run.wall:.1f} s ({run.cpu:.1f} s CPU), peak RSS {run.rss_mb:.0f} MB, {note}")
    return Measurement(bench.name, rows, run.wall, run.cpu, run.rss_mb, note)


# --- the report --------------------------------------------------------------------------------------------


def table(measurements: Sequence[Measurement]) -> str:
    lines = [
        "| command | rows | wall s | s per 10,000 rows | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for m in measurements:
        lines.append(f"| {m.command} | {m.rows:,} | {m.wall:.1f} | {m.per_10k:.2f} | {m.rss_mb:.0f} |")
    return "\n".join(lines)


def verdicts(measurements: Sequence[Measurement]) -> list[str]:
    """Per command: linear (largest size's s/10k within :data:`LINEAR_TOLERANCE` of the smallest's) and RSS."""
    lines = []
    for name in dict.fromkeys(m.command for m in measurements):
        runs = sorted((m for m in measurements if m.command == name), key=lambda m: m.rows)
        smallest, largest = runs[0], runs[-1]
        ratio = largest.per_10k / smallest.per_10k
        peak = max(m.rss_mb for m in runs)
        if len(runs) == 1:
            linear = f"linear: not judged (one size, {smallest.per_10k:.2f} s per 10k)"
        else:
            ok = "yes" if ratio <= LINEAR_TOLERANCE else "NO"
            linear = (
                f"linear: {ok} ({largest.per_10k:.2f} s per 10k at {largest.rows:,} vs {smallest.per_10k:.2f} at "
                f"{smallest.rows:,}: {ratio:.2f}×, target ≤ {LINEAR_TOLERANCE}×)"
            )
        rss = "yes" if peak <= RSS_TARGET_MB else "NO"
        lines.append(f"- {name}: {linear}; RSS ≤ {RSS_TARGET_MB:.0f} MB: {rss} (peak {peak:.0f} MB)")
    return lines


def notes(measurements: Sequence[Measurement], explicit_sizes: bool, load: tuple[float, float]) -> list[str]:
    """What the table cannot say: CPU per 10k (steadier than wall time on a shared machine), the machine's
    load, and, for a command not run on the full book, how long the full book would take at its rate."""
    lines = [
        "Rows are applicants. Rotation rewrites 5 encrypted rows for each (applicant, passport, verification, "
        "webhook event, AML check); reconciliation applies 1 verification each; the purge redacts 1 applicant "
        "with its passport, image file, verification, webhook event, AML check (and 1 in 10 an erasure request); "
        "the review run notices and lapses 1 applicant each (2 audit rows, 2 signals).",
        "Child CPU s per 10,000 rows: "
        + "; ".join(f"{m.command} {m.rows:,}: {m.cpu_per_10k:.2f}" for m in measurements)
        + ".",
        f"Load average (1 min) before / after: {load[0]:.1f} / {load[1]:.1f} on {os.cpu_count()} CPUs.",
    ]
    largest = FULL_SIZES[-1]
    for name in dict.fromkeys(m.command for m in measurements):
        top = max((m for m in measurements if m.command == name), key=lambda m: m.rows)
        if top.rows < largest and not explicit_sizes:
            minutes = top.per_10k * largest / PER_ROWS / 60
            lines.append(
                f"{name} ran up to {top.rows:,} rows by default: at {top.per_10k:.1f} s per 10,000, {largest:,} "
                f"would take about {minutes:.0f} min. For the full book: --commands "
                f"{_key_of(name)} --sizes {','.join(str(size) for size in FULL_SIZES)}."
            )
    return lines


def _key_of(command: str) -> str:
    return next(key for key, bench in BENCHES.items() if bench.name == command)


# --- main --------------------------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--sizes must be comma-separated integers: {exc}") from exc
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("--sizes must be positive")
    return sizes


def parse_commands(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in BENCHES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"--commands takes {', '.join(BENCHES)}; not {', '.join(unknown)}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help="applicant counts, comma-separated, for every command (default: 10000,50000,100000 for rotation, "
        "1000,5000 for reconciliation and the purge; see the module docstring)",
    )
    parser.add_argument(
        "--commands",
        type=parse_commands,
        default=list(BENCHES),
        help="which of rotate,reconcile,purge,review (default all)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("KYC_BENCH_BULK_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="a PostgreSQL server URL with a database to connect to for creating and dropping the "
        f"throwaway {DATABASE_NAME!r} (default {DEFAULT_DATABASE_URL})",
    )
    args = parser.parse_args(argv)

    from cryptography.fernet import Fernet

    from bench.bulk_argos import ARGOS_API_KEY, ARGOS_PROJECT_ID, IndexedFakeArgos

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    storage = Path(tempfile.mkdtemp(prefix="kyc-bench-bulk-"))
    argos = IndexedFakeArgos(api_key=ARGOS_API_KEY, project_id=ARGOS_PROJECT_ID)
    argos.start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DATABASE_URL": server_url(args.database_url, DATABASE_NAME),
        "KYC_TEST_DB_NAME": DATABASE_NAME,
        "KYC_TEST_STORAGE": str(storage),
        "KYC_BENCH_ARGOS_URL": argos.base_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    }
    env.pop("KYC_BENCH_ENCRYPTION_KEYS", None)
    measurements: list[Measurement] = []
    created = False
    try:
        log(f"creating {DATABASE_NAME} next to {urlsplit(args.database_url).path.lstrip('/')!r} and migrating…")
        recreate_database(args.database_url, DATABASE_NAME)
        created = True
        run_checked(["migrate", "--noinput", "--verbosity", "0"], env)
        os.environ.update(env)  # this process seeds and verifies through the same settings
        import django

        django.setup()
        from django_kyc.crypto import configured_encryption_keys

        seed_key = configured_encryption_keys()[0].decode()
        context = Context(env, storage, argos, seed_key, Fernet.generate_key().decode())
        for name in args.commands:
            for rows in args.sizes or DEFAULT_SIZES[name]:
                measurements.append(measure(BENCHES[name], context, rows))
    except BenchError as exc:
        log(f"bench.bulk: BROKEN: {exc}")
        if measurements:
            print(table(measurements))
        return 1
    finally:
        argos.stop()
        if created:
            _close_django_connections()
            drop_database(args.database_url, DATABASE_NAME)
        shutil.rmtree(storage, ignore_errors=True)

    print(table(measurements))
    print()
    for line in verdicts(measurements):
        print(line)
    print()
    for line in notes(measurements, args.sizes is not None, (load_before, os.getloadavg()[0])):
        print(line)
    log(f"bench.bulk: done in {time.perf_counter() - started:.0f} s")
    return 0


def _close_django_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    sys.exit(main())
