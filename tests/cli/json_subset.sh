#!/usr/bin/env bash
# `emoncrypt vectors --format json` writes a vector file: the subset it
# writes loads again, selects the same vectors, and passes the schema.
# usage: json_subset.sh EMONCRYPT SCHEMA WORKDIR
set -eu
ec=$1 schema=$2 work=$3
mkdir -p "$work"
"$ec" vectors --format json --result valid --profile aes128cbc >"$work/subset.json"

want=$("$ec" vectors --result valid --profile aes128cbc | sed -n '1s/.*, \([0-9]*\) selected$/\1/p')
got=$("$ec" vectors --file "$work/subset.json" | sed -n '1s/: \([0-9]*\) vectors,.*/ \1/p' | awk '{print $2}')
again=$("$ec" vectors --file "$work/subset.json" --format json --result valid --profile aes128cbc)
[[ -n "$want" && "$want" -gt 0 ]] || { echo "FAIL: the filter selected nothing"; exit 1; }
[[ "$got" == "$want" ]] || { echo "FAIL: subset holds $got vectors, expected $want"; exit 1; }
[[ "$again" == "$(cat "$work/subset.json")" ]] || { echo "FAIL: re-exporting the subset changed it"; exit 1; }
echo "ok: $got vectors written, reloaded, re-exported unchanged"

if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
    /usr/bin/python3 - "$schema" "$work/subset.json" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema)
print("ok: the subset passes", sys.argv[1].rsplit("/", 1)[-1])
PY
else
    echo "note: python3-jsonschema missing; schema check skipped"
fi
