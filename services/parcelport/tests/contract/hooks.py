"""Schemathesis hooks of the contract test (`main.rs`): what a real client does, and one check
stricter than schemathesis' own.

- A client sends a new `Idempotency-Key` per command (the README and the document say so); a
  generated key is drawn from a small alphabet and repeats, which would answer most commands
  with the first answer of another body (422 `idempotency.key_reused`) and test nothing
  behind it. A valid generated key is replaced by a UUID; an invalid one is left to be refused.
- Bodies name ids where schemathesis' path parameters do not reach: a generated `claim_id`,
  `suite_code` or `parcel_ids` entry of the right shape is replaced by the demo's claim, the
  member's suite code and their stored parcels (`PP_CLAIM`, `PP_SUITE_CODE`, `PP_STORED`).
- `documented_problem_code`: every problem the server answers carries a `code` the operation
  lists for that status (`x-error-codes`), and a request the schema allows is never refused
  as malformed: a business refusal of a valid request (422 with the rule it enforces, a 409
  conflict, a cursor the list did not issue) is fine, a `request.invalid*`,
  `request.malformed*` or `query.invalid_parameter` code means the schema misses a constraint
  the server enforces.
"""

import os
import re
import uuid

import schemathesis

KEY = re.compile(r"^[!-~]{1,128}$")
ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SUITE_CODE = re.compile(r"^[A-Z]{2,4}-[0-9]{4,8}$")
MALFORMED = ("request.invalid", "request.malformed", "query.invalid_parameter")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str) and KEY.match(headers[name]):
            headers[name] = str(uuid.uuid4())
    body = case.body if isinstance(case.body, dict) else {}
    for field, value, shape in (
        ("claim_id", os.environ.get("PP_CLAIM"), ID),
        ("suite_code", os.environ.get("PP_SUITE_CODE"), SUITE_CODE),
    ):
        if value and isinstance(body.get(field), str) and shape.match(body[field]):
            body[field] = value
    stored = [parcel for parcel in os.environ.get("PP_STORED", "").split(",") if parcel]
    parcels = body.get("parcel_ids")
    if stored and isinstance(parcels, list) and all(isinstance(p, str) and ID.match(p) for p in parcels):
        body["parcel_ids"] = [stored[i % len(stored)] for i in range(len(parcels))]


@schemathesis.check
def documented_problem_code(ctx, response, case):
    if not response.headers.get("content-type", [""])[0].startswith("application/problem+json"):
        return None
    code = response.json().get("code")
    status = str(response.status_code)
    documented = case.operation.definition.raw.get("responses", {}).get(status, {}).get("x-error-codes")
    if documented is not None and code not in documented:
        raise AssertionError(f"{status} {code!r} is not among the codes documented for {status}: {documented}")
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and code and code.startswith(MALFORMED):
        raise AssertionError(f"a request the schema allows was refused as malformed: {status} {code}")
    return None
