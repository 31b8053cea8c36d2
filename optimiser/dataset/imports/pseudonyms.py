"""Pseudonymous child ids: a keyed HMAC-SHA256 of the pupil id (UPN), and the LA's key.

The key is the LA's secret (a file or an environment variable, at least
:data:`MIN_KEY_BYTES` bytes). It is never written with the data and never appears in a
message. The same key gives the same id for a pupil in every import; without the key an id
can neither be turned back into a UPN nor recomputed from one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from optimiser._errors import OptimiserError

#: Shortest key accepted [bytes]: HMAC-SHA256 wants a key with at least 128 bits.
MIN_KEY_BYTES = 16
#: Hex digits of the HMAC kept in a child id (64 bits: no collision in any LA's caseload).
ID_HEX = 16


def read_key(key_file: str | Path | None = None, key_env: str | None = None) -> bytes:
    """The LA's pseudonymisation key, from a file or an environment variable.

    Parameters
    ----------
    key_file : file holding the key (its bytes; a trailing newline is dropped).
    key_env : name of an environment variable holding the key (UTF-8).

    Raises
    ------
    OptimiserError
        when neither or both are given, the file or variable is missing, or the key is
        shorter than :data:`MIN_KEY_BYTES` bytes. The key itself is never in a message.
    """
    if (key_file is None) == (key_env is None):
        msg = (
            "give the pseudonymisation key with exactly one of --key-file FILE or "
            "--key-env VARIABLE (keep it away from the dataset folder)"
        )
        raise OptimiserError(msg)
    if key_file is not None:
        try:
            key = Path(key_file).expanduser().read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            msg = f"cannot read the key file {key_file}: {exc.strerror}; check the path"
            raise OptimiserError(msg) from None
        where = f"the key file {key_file}"
    else:
        assert key_env is not None
        value = os.environ.get(key_env)
        if value is None:
            msg = f"the environment variable {key_env} is not set; set it to the LA's key"
            raise OptimiserError(msg)
        key, where = value.encode("utf-8"), f"the environment variable {key_env}"
    if len(key) < MIN_KEY_BYTES:
        msg = (
            f"{where} holds a key of {len(key)} bytes; a key needs at least {MIN_KEY_BYTES} "
            '(make one with: python -c "import secrets; print(secrets.token_hex(32))")'
        )
        raise OptimiserError(msg)
    return key


def _normalise_id(pupil_id: str) -> str:
    """A pupil id as hashed: upper case, no spaces (UPNs are 13 characters)."""
    return "".join(str(pupil_id).split()).upper()


def _digest(pupil_id: str, key: bytes) -> str:
    return hmac.new(key, _normalise_id(pupil_id).encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonym(pupil_id: str, key: bytes) -> str:
    """The child id of a pupil id: ``P`` + the first 16 hex digits of HMAC-SHA256(key, id).

    The id is normalised first (upper case, no spaces), so ``a123 4567`` and ``A1234567``
    are one child.
    """
    return "P" + _digest(pupil_id, key)[:ID_HEX]


def keyed_fraction(pupil_id: str, key: bytes) -> float:
    """A number in [0, 1) fixed by the key and the pupil id (digits after the id's)."""
    return int(_digest(pupil_id, key)[ID_HEX : ID_HEX + 13], 16) / 16**13
