"""Official sanctions lists on the site's own database: importers for each authority's file format
(:mod:`~django_kyc.sanctions.importers`), the records they produce (:mod:`~django_kyc.sanctions.records`), the
name normalisation every side agrees on (:mod:`~django_kyc.sanctions.names`) and the atomic loader
(:mod:`~django_kyc.sanctions.store`). The ``lists`` AML backend screens against what is loaded here."""
