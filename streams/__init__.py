"""The distributed runtime: the ``maritime`` detectors as Faust agents on Kafka.

``create_app`` (``streams.app``) builds a Faust app from injected settings;
``maritime ingest`` feeds it and ``maritime worker`` runs it. The agents are
thin: what each stage does with a batch is :mod:`maritime.runtime.partitioned`.
"""
