#!/usr/bin/env bash
# Validates an OCDS 1.1 release package or record package with libcoveocds against the offline
# OCDS 1.1.5 schema zip, and fails unless there are 0 schema validation errors and 0 values outside
# closed codelists. Prints a one-line summary (the full libcoveocds result with OCDS_VERBOSE=1).
#
#   tools/ocds/validate.sh FILE.json
#
# Environment:
#   OCDS_VENV        virtualenv to create/use (default: .ci/ocds-venv under the repository root)
#   OCDS_SCHEMA_ZIP  the standard's schema zip (default: ../shared/data/ocds/ocds-1.1.5-schema.zip
#                    beside the repository)
#   OCDS_OFFLINE=1   do not try to fetch the extensions the package declares (validate a copy
#                    without its `extensions`); use where outbound requests hang instead of failing
#   OCDS_VERBOSE=1   also print libcoveocds's JSON result
#   PYTHON           interpreter that creates the venv (default: python3)
#
# Network: the core schema and codelists come from the zip. libcoveocds 0.17 still resolves the
# record package schema's $ref to versioned-release-validation-schema.json by URL; this script
# serves that (and any other https://standard.open-contracting.org/schema/1__1__5/ file) from the
# zip. The only fetch left is of the extensions a package declares (the bid extension, from
# raw.githubusercontent.com). When it fails, libcoveocds reports the extension as invalid and the
# extension's fields as additional fields, not as errors; this script then checks `bids.details`
# against the bid extension's required shape and closed bidStatus codelist itself, and says so.
# Creating the venv needs PyPI (or a pip cache / index mirror configured for pip).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 FILE.json" >&2
    exit 2
fi
file=$1
if [[ ! -f $file ]]; then
    echo "ocds: no such file: $file" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${OCDS_VENV:-$root/.ci/ocds-venv}
zip=${OCDS_SCHEMA_ZIP:-$root/../shared/data/ocds/ocds-1.1.5-schema.zip}
requirements=$here/requirements.txt

if [[ ! -f $zip ]]; then
    echo "ocds: schema zip not found: $zip (set OCDS_SCHEMA_ZIP)" >&2
    exit 2
fi

# (Re)install when the pinned requirements change.
stamp=$venv/.requirements.sha256
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ ! -x $venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    echo "ocds: installing libcoveocds into $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
    echo "$want" >"$stamp"
fi

exec "$venv/bin/python" - "$file" "$zip" <<'PY'
import contextlib
import io
import json
import os
import sys
import tempfile
import zipfile
from importlib.metadata import version

import requests

path, zip_path = sys.argv[1], sys.argv[2]
offline = os.environ.get("OCDS_OFFLINE") == "1"

# Serve the standard's schema files from the zip: jsonref (used by libcoveocds to dereference the
# record package schema) fetches $refs with requests.get.
with zipfile.ZipFile(zip_path) as z:
    schema_files = {
        name.rsplit("/", 1)[-1]: z.read(name)
        for name in z.namelist()
        if "/schema/" in name and name.endswith(".json") and "/codelists/" not in name
    }
standard_bases = [
    f"{scheme}://standard.open-contracting.org/schema/1__1__5/" for scheme in ("https", "http")
]
_get = requests.get


class _ZipResponse:
    status_code = 200

    def __init__(self, body):
        self._body = body

    def raise_for_status(self):
        pass

    def json(self, **kwargs):
        return json.loads(self._body, **kwargs)


def _get_from_zip(url, *args, **kwargs):
    for base in standard_bases:
        if isinstance(url, str) and url.startswith(base) and url[len(base):] in schema_files:
            return _ZipResponse(schema_files[url[len(base):]])
    return _get(url, *args, **kwargs)


requests.get = _get_from_zip

with open(path, encoding="utf-8") as f:
    data = json.load(f)
if not isinstance(data, dict):
    sys.exit("ocds: not a JSON object: " + path)
kind = "record package" if "records" in data else "release package" if "releases" in data else None
if kind is None:
    sys.exit("ocds: neither a release package (releases) nor a record package (records): " + path)
declared = data.get("extensions") or []

target = path
tmp = None
if offline and declared:
    stripped = dict(data)
    stripped.pop("extensions", None)
    tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8")
    json.dump(stripped, tmp)
    tmp.close()
    target = tmp.name

from libcoveocds.__main__ import main  # noqa: E402  (after patching requests.get)

out = io.StringIO()
try:
    with contextlib.redirect_stdout(out):
        main(
            args=["--standard-zip", zip_path, "--skip-aggregates", target],
            standalone_mode=False,
        )
finally:
    if tmp is not None:
        os.unlink(tmp.name)
result = json.loads(out.getvalue())
if os.environ.get("OCDS_VERBOSE") == "1":
    print(out.getvalue())

errors = result.get("validation_errors") or []
closed = result.get("additional_closed_codelist_values") or {}
failed_ext = sorted((result.get("extensions") or {}).get("invalid_extension", {}).keys())
if offline:
    failed_ext = sorted(declared)
bid_ext_failed = any("ocds_bid_extension" in u for u in failed_ext)

# The bid extension's rules, checked here when its schema could not be loaded.
local_problems = []
local_closed = []
bids_checked = 0
if bid_ext_failed:
    if kind == "release package":
        releases = data.get("releases") or []
    else:
        releases = []
        for rec in data.get("records") or []:
            releases += [r for r in rec.get("releases") or [] if isinstance(r, dict)]
            if isinstance(rec.get("compiledRelease"), dict):
                releases.append(rec["compiledRelease"])
    bid_status = {"invited", "pending", "valid", "disqualified", "withdrawn"}
    for r in releases:
        details = ((r.get("bids") or {}).get("details")) or []
        for i, b in enumerate(details):
            where = f"{r.get('id', '?')}: bids.details[{i}]"
            bids_checked += 1
            if not isinstance(b, dict):
                local_problems.append(f"{where} is not an object")
                continue
            if not isinstance(b.get("id"), (str, int)) or b.get("id") in ("", None):
                local_problems.append(f"{where}.id is required")
            status = b.get("status")
            if status is not None and status not in bid_status:
                local_closed.append(f"{where}.status {status!r} is not in the closed bidStatus codelist")
            for t in b.get("tenderers") or []:
                if not isinstance(t, dict) or not (t.get("id") or t.get("name")):
                    local_problems.append(f"{where}.tenderers: an organization reference needs id or name")
            value = b.get("value")
            if value is not None:
                if not isinstance(value, dict) or not isinstance(value.get("amount"), (int, float)):
                    local_problems.append(f"{where}.value.amount must be a number")
                elif not isinstance(value.get("currency"), str):
                    local_problems.append(f"{where}.value.currency is required with an amount")

# Fields outside the schema other than the bid extension's (which libcoveocds cannot know offline).
extra = []
for f in result.get("all_additional_fields") or []:
    p = f"{f.get('path', '')}/{f.get('field_name', '')}"
    if not (bid_ext_failed and "/bids" in p):
        extra.append(p)

for e in errors:
    print(f"ocds: validation error at {e.get('path') or e.get('field')}: {(e.get('description') or e.get('message') or e.get('type') or '').strip()}", file=sys.stderr)
for field, info in closed.items():
    print(f"ocds: closed codelist {info.get('codelist')}: {field} = {info.get('values')}", file=sys.stderr)
for m in local_problems + local_closed:
    print(f"ocds: bid extension: {m}", file=sys.stderr)
for p in extra:
    print(f"ocds: note: additional field {p}", file=sys.stderr)

n_errors = len(errors) + len(local_problems)
n_closed = len(closed) + len(local_closed)
if not declared:
    ext_note = "no extensions declared"
elif bid_ext_failed:
    how = "not fetched (OCDS_OFFLINE=1)" if offline else "unreachable"
    ext_note = f"bid extension {how}, bids.details checked locally ({bids_checked} bids)"
elif failed_ext:
    ext_note = f"{len(failed_ext)} extension(s) could not be loaded: {', '.join(failed_ext)}"
else:
    ext_note = f"{len(declared)} extension(s) loaded"
ok = n_errors == 0 and n_closed == 0
print(
    f"ocds: {'OK' if ok else 'FAIL'} {os.path.basename(path)} ({kind}, OCDS {result.get('version_used')}, "
    f"libcoveocds {version('libcoveocds')}, schema {os.path.basename(zip_path)}): "
    f"{n_errors} validation errors, {n_closed} closed-codelist violations, "
    f"{len(extra)} additional fields; {ext_note}"
)
sys.exit(0 if ok else 1)
PY
