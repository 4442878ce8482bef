#!/usr/bin/env bash
# check-module-conf.sh CONF DIRECTIVES_MD: the module configuration the
# Debian package ships (build/apache2/mocaverse.conf) names exactly the
# directives the module is made from (MV_DIRECTIVES, as listed by
# build/tools/directives-md): each one at least once, and no other.
set -euo pipefail
conf=$1 tool=$2
code=$("$tool" | sed -n 's/^| `\(Mocaverse[A-Za-z0-9]*\).*/\1/p' | sort -u)
shipped=$(grep -oE '^#?[[:space:]]*Mocaverse[A-Za-z0-9]+' "$conf" |
    sed -E 's/^#?[[:space:]]*//' | sort -u)
[ -n "$code" ] || { echo "conf-check: $tool listed no directive" >&2; exit 1; }
missing=$(comm -23 <(echo "$code") <(echo "$shipped"))
unknown=$(comm -13 <(echo "$code") <(echo "$shipped"))
[ -z "$missing" ] || echo "conf-check: $conf lacks: $missing" >&2
[ -z "$unknown" ] || echo "conf-check: $conf names unknown directives: $unknown" >&2
[ -z "$missing$unknown" ] || exit 1
echo "conf-check: $conf names all $(echo "$code" | wc -l) directives"
