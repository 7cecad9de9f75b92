"""Learn anchorages from recordings: where many distinct vessels rested, as a zone file to review."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry import shape

from maritime.config import Settings
from maritime.detectors.anchorages import zone_features
from maritime.detectors.rendezvous import RendezvousDetector
from maritime.ingest.sources import SourceSpec
from maritime.runtime.assembly import Assembly
from maritime.runtime.pipeline import Pipeline
from maritime.zones.index import HARBOUR_KINDS, ZoneIndex

logger = logging.getLogger(__name__)


def learn_anchorages(settings: Settings, specs: Sequence[SourceSpec], known: ZoneIndex | None = None
                     ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Replay ``specs`` and return the learned anchorages as zone features, and the run summary.

    Learned places already inside a port or anchorage zone of ``known`` are left out (they are drawn).
    """
    s = settings.model_copy(update={"anchorages": settings.anchorages.model_copy(update={"learn": True})})
    pipe = Pipeline(s, assembly=Assembly(s))
    summary = pipe.replay(specs)
    rdv = next((d for d in pipe.detectors if isinstance(d, RendezvousDetector)), None)
    if rdv is None or rdv.learned is None:
        return [], summary
    feats = zone_features(rdv.learned.learned(), s.anchorages)
    if known is not None:
        drawn = [z.geometry for z in known.zones if z.kind in HARBOUR_KINDS]
        if drawn:
            covered = shapely.union_all(drawn)
            feats = [f for f in feats if shape(f["geometry"]).difference(covered).area > 0.5 *
                     shape(f["geometry"]).area]
    logger.info("%d learned anchorages", len(feats))
    return feats, summary
