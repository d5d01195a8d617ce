"""Onfido (Entrust Identity Verification), API v3.6: https://documentation.identity.entrust.com/.

``docs/providers/onfido.md`` describes the integration, with Onfido's references and the defaults chosen where
Onfido leaves something open.
"""
