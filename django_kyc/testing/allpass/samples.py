"""The canned records the fake Allpass answers with: a flow, a questionnaire, a document-capture service result
and crypto-AML details, shaped like the examples in Allpass's API reference (``docs/providers/allpass.md``)."""

from __future__ import annotations

from typing import Any

from django_kyc.testing.allpass.vendor import iso, now

#: a tiny JPEG header: what a document picture in ``servicesData`` looks like
IMAGE = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDA"
#: statuses after which the flow's services have run (and ``servicesData`` is filled)
SERVICES_RUN = ("COMPLETED", "IN_REVIEW", "ON_HOLD", "APPROVED", "REJECTED")

QUESTIONNAIRES = {
    "q-onboarding": {
        "id": "q-onboarding",
        "name": "Onboarding questionnaire",
        "description": "Source of funds and occupation",
        "clientKey": "client-demo",
        "content": {
            "questions": [
                {"key": "occupation", "type": "text", "required": True},
                {"key": "sourceOfFunds", "type": "select", "options": ["salary", "savings", "business"]},
            ]
        },
        "version": {"number": 1},
        "createdAt": "2025-07-04T12:01:17.228Z",
    }
}


def flow(name: str, flow_id: int) -> dict[str, Any]:
    """The ``flow`` object of an applicant."""
    return {
        "name": name,
        "id": flow_id,
        "type": "ON_DEMAND",
        "autoApprove": False,
        "uniqueFaceMatch": True,
        "services": ["DOCUMENT_CAPTURE", "LIVENESS"],
    }


def services_data(outcome: str) -> list[dict[str, Any]]:
    """``servicesData`` once the services ran: a document capture, rejected (expired) for ``REJECTED``."""
    rejected = outcome == "REJECTED"
    return [
        {
            "service": "DOCUMENT_CAPTURE",
            "status": "REJECTED" if rejected else "APPROVED",
            "type": "ON_DEMAND",
            "errorMessage": "Document expired" if rejected else None,
            "reason": "EXPIRED_DOCUMENT" if rejected else None,
            "data": {
                "stepType": "DOCUMENT_CAPTURE",
                "graphics": [{"fieldType": 1, "data": [{"fieldType": 201, "image": IMAGE}]}],
            },
        }
    ]


def aml_details(record: dict[str, Any]) -> dict[str, Any]:
    """The details of a crypto-AML search: an address or hash containing ``bad`` is high risk, and a search
    not ``ready`` yet has no score."""
    risky = "bad" in record["subject"].lower()
    exchange = {"id": "ent-exchange", "score": 4, "scoreType": "exchange", "name": "Licensed exchange"}
    darknet = {"id": "ent-darknet", "score": 92, "scoreType": "dark_market", "name": "Darknet marketplace"}
    mixer = {"id": "ent-mixer", "score": 71, "scoreType": "mixer", "name": "Coin mixer"}
    entities = [darknet, mixer, exchange] if risky else [exchange]
    funds = {
        "hash": "f" * 64,
        "forward": False,
        "owner": entities[0]["name"],
        "score": entities[0]["score"],
        "type": entities[0]["scoreType"],
        "depth": 1,
        "amount": 1.5,
        "share": 0.8 if risky else 1.0,
        "transactionCount": 3,
        "listType": "black" if risky else "white",
    }
    ready = bool(record["ready"])
    return {
        "type": record["type"],
        "id": record["id"],
        "clientKey": "client-demo",
        "applicantId": None,
        "blockchain": record["blockchain"],
        "reviewStatus": "UNKNOWN",
        "address": record["subject"] if record["type"] == "WALLET" else None,
        "score": (87 if risky else 3) if ready else None,
        "amount": "1.5",
        "uof": [dict(funds, forward=True)] if ready else [],
        "sof": [funds] if ready else [],
        "addressInfo": {"address": record["subject"], "owner": entities[0]["name"] if risky else "", "txCount": 3},
        "entities": entities if ready else [],
        "isMonitoring": ready,
        "lastUpdateDate": iso(now()),
        "outdated": False,
        "createdAt": iso(now()),
        "timelines": [{"id": "tl-1", "eventName": "CRYPTO_AML_STATUS_UPDATED", "amlId": record["id"]}],
        "comments": [],
    }
