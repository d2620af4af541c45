"""`--shard i/n`: every source is polled by exactly one shard, stably across runs."""

from __future__ import annotations

import pytest

from newswatch.pass_.poll import shard_sources
from newswatch.schema import SourceConfig

SOURCES = [SourceConfig(name=f"Source {i}", url=f"https://example{i}.org/feed") for i in range(40)]


def test_shards_partition_the_sources():
    shards = [shard_sources(SOURCES, f"{i}/3") for i in range(3)]
    names = [s.name for shard in shards for s in shard]
    assert sorted(names) == sorted(s.name for s in SOURCES)
    assert all(shards)  # 40 sources over 3 shards: none empty
    assert shard_sources(SOURCES, "1/3") == shards[1]  # stable
    assert shard_sources(SOURCES, None) == SOURCES


@pytest.mark.parametrize("bad", ["3/3", "-1/2", "1/0", "x/2"])
def test_bad_shard_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="shard"):
        shard_sources(SOURCES, bad)
