"""One-off imports of another KYC app's rows into django-kyc, one module per app (``manage.py kyc_import_*``)."""
