"""Instruments the benchmark site: points django-onfido at its loopback fake, and records when a status
change has committed, for the webhook-to-decision latency benchmark.

django_kyc sends ``verification_status_changed`` after the transaction commits, so the receiver's clock
reading is the moment the decision became visible to the site. It writes to Redis (not the database being
measured) and only when ``KYC_BENCH_PROBE`` is set, so it costs nothing in the other benchmarks.
"""
