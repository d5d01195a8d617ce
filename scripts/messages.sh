#!/usr/bin/env bash
# The translation catalogs: django_kyc's (django_kyc/locale/) and the demo onboarding page's
# (example_project/onboarding/locale/), each with the "django" domain (Python and templates) and, where the
# app's JavaScript has strings, the "djangojs" domain (served by Django's JavaScriptCatalog).
#
#   scripts/messages.sh make      extract the marked strings into the .po files of every shipped language
#   scripts/messages.sh compile   compile each .po into the .mo that Django reads (and the wheel ships)
#
# Both need GNU gettext (Debian: apt-get install gettext). The .mo files are committed, so installing,
# building the wheel and running the tests need no gettext; tests/test_i18n.py fails when a .mo no longer
# matches its .po, or when a .po has an empty or fuzzy entry. See CONTRIBUTING.md, "Translations".
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DJANGO_ADMIN="${DJANGO_ADMIN:-$ROOT/.venv/bin/django-admin}"
# absolute, as each app is worked on from its own directory
DJANGO_ADMIN="$(cd "$(dirname "$DJANGO_ADMIN")" && pwd)/$(basename "$DJANGO_ADMIN")"
LANGUAGES=(de es)
# KYC_MESSAGES_APPS: other copies of the apps to work on, space-separated (tests/test_i18n.py extracts into
# copies); each app directory holds its own locale/
read -r -a APPS <<< "${KYC_MESSAGES_APPS:-$ROOT/django_kyc $ROOT/example_project/onboarding}"

command -v msgfmt >/dev/null || { echo "GNU gettext is needed: apt-get install gettext" >&2; exit 1; }
# django-admin, not python -m django: that would put django_kyc/ first on sys.path, where queue.py shadows the
# standard library's queue
django() { DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH="$ROOT" "$DJANGO_ADMIN" "$@"; }

case "${1:-}" in
  make)
    # file names without line numbers, so a catalog changes only when its strings do; the fake provider
    # servers (testing/) speak the providers' English and are never shown to a site's users. makemessages
    # writes no djangojs catalog for an app whose scripts mark nothing (django_kyc's case.js has no text:
    # its labels are in the template).
    args=()
    for lang in "${LANGUAGES[@]}"; do args+=(--locale "$lang"); done
    for app in "${APPS[@]}"; do
      for domain in django djangojs; do
        (cd "$app" && django makemessages "${args[@]}" --domain "$domain" --add-location file --no-obsolete \
          --ignore 'testing/*' --ignore 'migrations/*')
      done
    done
    ;;
  compile)
    for app in "${APPS[@]}"; do
      (cd "$app" && django compilemessages --ignore 'testing/*')
    done
    ;;
  *)
    echo "usage: $0 make|compile" >&2
    exit 2
    ;;
esac
