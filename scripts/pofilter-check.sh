#!/usr/bin/env bash
# translate-toolkit's pofilter over every catalog, with the checks that find real mistakes
# in our catalogs and nothing false (docs/translating.md says why the others are left
# out). Prints each failing entry and exits 1 when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
POFILTER="${POFILTER:-.venv/bin/pofilter}"

# Whitespace, line breaks, tabs and escapes as in the English; the same numbers, links,
# e-mail addresses, markup, printf and command-line options; no blank or all-punctuation
# change; the right number of plural forms; not far longer or shorter than the English.
CHECKS=(blank doublespacing emails endwhitespace escapes long newlines nplurals numbers
        options printf purepunc short startwhitespace tabs urls variables xmltags)

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
args=()
for check in "${CHECKS[@]}"; do args+=(--test="$check"); done
status=0
locales="${1:-locales}"
for po in "$locales"/*/LC_MESSAGES/buurtbot.po; do
    language="$(basename "$(dirname "$(dirname "$po")")")"
    "$POFILTER" --progress=none --nofuzzy --language="$language" "${args[@]}" "$po" "$out/$language.po"
    if [ -f "$out/$language.po" ] && grep -q "(pofilter)" "$out/$language.po"; then
        echo "pofilter: $po"
        grep -A8 "(pofilter)" "$out/$language.po" | grep -v "^#[:.]"
        status=1
    fi
done
if [ "$status" = 0 ]; then echo "pofilter: ${#CHECKS[@]} checks, no problems in $(ls "$locales"/*/LC_MESSAGES/buurtbot.po | wc -l) catalogs"; fi
exit "$status"
