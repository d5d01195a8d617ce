"""A runnable demo site for django-kyc. Not part of the distributed package (the wheel ships ``django_kyc``)."""
