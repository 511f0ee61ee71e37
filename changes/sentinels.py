"""The tokens that stand for what a normalisation masked (a URL, the document's own release date or name,
a placeholder, a relative date, a copyright holder) and the normalised date tokens. Pure: no I/O."""
from __future__ import annotations

URL, DATE, RELEASE, PLACEHOLDER = "\ue000url\ue001", "\ue000date\ue001", "\ue000release\ue001", "\ue000placeholder\ue001"
RELDATE, HOLDER = "\ue000reldate\ue001", "\ue000holder\ue001"
SENTINELS = {URL, DATE, RELEASE, PLACEHOLDER, RELDATE, HOLDER}
# a written date, normalised: "\ue000=2025-08-28\ue001"; a numeric date with two readings (08/09/2025) keeps
# both: "\ue000=2025-08-09|2025-09-08\ue001"
DATE_TOKEN = "\ue000="


def is_date_token(token: str) -> bool:
    return token.startswith(DATE_TOKEN)


def date_readings(token: str) -> set[str]:
    return set(token[len(DATE_TOKEN):-1].split("|")) if is_date_token(token) else set()
# an amount or number, normalised (changes.amounts): "\ue000amt=usd1000000\ue001", "\ue000num=700000000\ue001"
AMOUNT_TOKEN = "\ue000amt="
NUMBER_TOKEN = "\ue000num="
