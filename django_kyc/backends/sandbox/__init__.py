"""The built-in sandbox provider: no network, deterministic outcomes, real signed webhooks.

It behaves like a hosted KYC provider so the whole pipeline runs in development and tests: submissions get
provider ids, decisions arrive later as HMAC-signed webhooks that go through the same authentication,
inbox, de-duplication and processing as any real provider's, and the state can be polled.

Outcomes are chosen by the applicant's last name (case-insensitive, "contains"):

==================  =====================================================================================
last name contains  outcome
==================  =====================================================================================
``decline``         declined (documents rejected, reason ``DOCUMENT_TAMPERED``)
``review``          review: waits for a reviewer in admin
``resubmit``        resubmission requested (document reason ``DOCUMENT_UNREADABLE``)
``error``           the submission is rejected with a permanent provider error (HTTP 400)
``flaky``           the first two submission attempts fail with HTTP 503, then it is approved
``silent``          approved, but no webhook is sent: only polling finds the decision
``pep``/``sanction`` AML screening returns a potential match (verification itself is approved)
anything else       approved
==================  =====================================================================================

``CLASS`` is ``django_kyc.backends.sandbox.SandboxBackend``: the package re-exports what lived in the module.
"""

from __future__ import annotations

from django_kyc.backends.sandbox.backend import SIGNATURE_HEADER, TOKEN_SALT, SandboxBackend, load_capture_token
from django_kyc.backends.sandbox.delivery import deliver_decision

__all__ = ["SIGNATURE_HEADER", "TOKEN_SALT", "SandboxBackend", "deliver_decision", "load_capture_token"]
