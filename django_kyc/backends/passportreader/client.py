"""PassportReader's transport: one ``POST <BASE_URL>/<class>.<method>`` per call, under HTTP Basic auth.

The API reference fixes the shape of every call: a JSON object in, a flat JSON object out, errors as
``{"error_name", "error_message"}`` with the message optional. Anything but an object in a 2xx answer is
taken for a proxy's doing and retried (``wrong_type`` is transient here), since each call below is safe to
repeat except ``session.create``, whose retry the checkpoint in the backend accounts for.
"""

from __future__ import annotations

from typing import Any

from django_kyc.backends.http import ProviderHttpClient, error_message_from
from django_kyc.exceptions import PermanentProviderError, TransientProviderError

DEFAULT_BASE_URL = "https://passportreader.app/api/v1/"

#: ``{"error_message": "...", "error_name": "SessionNotFound"}`` → ``"SessionNotFound: ..."``. The message is
#: optional in the provider's format, so the name alone (or the HTTP reason) must do.
passportreader_error_message = error_message_from("{error_name}: {error_message}", "error_name", "error_message")


class PassportReaderClient(ProviderHttpClient):
    """The three calls of the Session API the backend uses (the API documents no list or search)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("wrong_type", TransientProviderError)
        super().__init__(**kwargs)

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST <base>/<method>`` (``session.get``) with a JSON body; the answer is a flat JSON object."""
        answer: dict[str, Any] = self.json("POST", method, json=payload)
        return answer

    def create_session(self, payload: dict[str, Any]) -> tuple[int, str]:
        """``session.create``: the new session's (id, hand-off token)."""
        created = self.call("session.create", payload)
        session_id, token = created.get("id"), created.get("token")
        if not isinstance(session_id, int) or isinstance(session_id, bool) or not isinstance(token, str) or not token:
            # permanent: retrying would create a second session we could not track either
            raise PermanentProviderError("session.create answered without an id and token", provider=self.provider)
        return session_id, token

    def get_session(self, session_id: str) -> dict[str, Any]:
        """``session.get``: the whole session, chip data included once the chip has been read."""
        session = self.call("session.get", {"id": int(session_id)})
        if str(session.get("id")) != str(session_id):
            raise PermanentProviderError("session.get answered for another session", provider=self.provider)
        return session

    def session_state(self, session_id: str) -> str:
        """``session.state``: the state alone, so no personal data travels."""
        return str(self.call("session.state", {"id": int(session_id)}).get("state") or "")
