"""schemathesis hooks for scripts/api-conformance.sh.

paynode refuses (422 invalid_field) any text that holds what looks like a card number:
13 to 19 digits, with separators between them allowed, that start with a card network's
issuer prefix and pass the Luhn check. A JSON schema cannot say that, so a fuzzer that
only follows the schema now and then draws such a value (it once drew "55318505097402")
and reads the 422 as a valid request refused. Generated bodies with a long run of digits
are left out here, so a 422 for anything else still fails the run.
"""
import re

import schemathesis

# Digits of any script, with paynode's separators (whitespace, dashes, dots, underscores,
# slashes) between them: 13 or more is enough to be left out, whatever the prefix or Luhn.
_LONG_DIGIT_RUN = re.compile(r"(?:\d[\s\-._/\\\u2010-\u2015\u2212\uff0d\uff0e\uff0f\u3002]*){13,}")


def _holds_long_digit_run(value) -> bool:
    if isinstance(value, str):
        return _LONG_DIGIT_RUN.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_long_digit_run(k) or _holds_long_digit_run(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_long_digit_run(v) for v in value)
    return False


@schemathesis.hook
def filter_body(ctx, body):
    return not _holds_long_digit_run(body)
