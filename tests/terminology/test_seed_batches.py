"""The batches of the shipped content (fhir_server/storage/conformance_seed.py): one type
each, bounded in number and in size, every resource in exactly one."""

from __future__ import annotations

from collections import Counter

from fhir_server.storage.conformance_seed import BATCH_BYTES, BATCH_SIZE, ShippedContent
from fhir_server.validation import shipped_content


def test_batches_are_bounded_and_cover_the_content_once():
    content = ShippedContent(shipped_content())
    seen: Counter[tuple[str, str]] = Counter()
    for batch in content.batches:
        assert len({m.kind for m in batch.members}) == 1, batch.key
        assert len(batch.members) <= BATCH_SIZE, batch.key
        size = sum(m.size for m in batch.members)
        assert size <= BATCH_BYTES or len(batch.members) == 1, batch.key
        seen.update((m.kind, m.id) for m in batch.members)
    assert len({b.key for b in content.batches}) == len(content.batches)
    assert seen == Counter((r.kind, r.id) for r in content.resources)
    assert max(seen.values()) == 1
    # a size bound that splits: more batches than the count bound alone gives
    assert len(content.batches) > len({r.kind for r in content.resources})
