#!/usr/bin/env bash
# django_kyc's translation catalogs (django_kyc/locale/<lang>/LC_MESSAGES/django.po and .mo).
#
#   scripts/messages.sh make      extract the marked strings into the .po of every shipped language
#   scripts/messages.sh compile   compile each .po into the .mo that the wheel ships
#
# Both need GNU gettext (Debian: apt-get install gettext). The .mo files are committed, so installing,
# building the wheel and running the tests need no gettext; tests/test_i18n.py fails when a .mo no longer
# matches its .po, or when a .po has an empty or fuzzy entry. See CONTRIBUTING.md, "Translations".
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DJANGO_ADMIN="${DJANGO_ADMIN:-$ROOT/.venv/bin/django-admin}"
LANGUAGES=(de es)

command -v msgfmt >/dev/null || { echo "GNU gettext is needed: apt-get install gettext" >&2; exit 1; }
# KYC_MESSAGES_PACKAGE: another copy of the package to work on (tests/test_i18n.py extracts into one)
cd "${KYC_MESSAGES_PACKAGE:-$ROOT/django_kyc}"
# django-admin, not python -m django: that would put django_kyc/ first on sys.path, where queue.py shadows the
# standard library's queue
django() { DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH="$ROOT" "$DJANGO_ADMIN" "$@"; }

case "${1:-}" in
  make)
    # file names without line numbers, so a catalog changes only when its strings do; the fake provider
    # servers (testing/) speak the providers' English and are never shown to a site's users
    args=()
    for lang in "${LANGUAGES[@]}"; do args+=(--locale "$lang"); done
    django makemessages "${args[@]}" --add-location file --no-obsolete \
      --ignore 'testing/*' --ignore 'migrations/*'
    ;;
  compile)
    django compilemessages --ignore 'testing/*'
    ;;
  *)
    echo "usage: $0 make|compile" >&2
    exit 2
    ;;
esac
