"""later/cache.py: Django's Redis cache with one Redis client per connection pool."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def test_the_cache_reuses_its_redis_client() -> None:
    cache = caches[settings.FRAGMENT_CACHE_ALIAS]
    if not isinstance(cache, RedisCache):
        pytest.skip("the cache is not Redis")
    client = cache._cache.get_client(write=True)
    # Django's own client builds a new redis.Redis (and its callback table) per operation.
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client() is client  # one server: reads use the same pool
    cache.set("reuse-probe", "x", 5)
    assert cache.get("reuse-probe") == "x"
    cache.delete("reuse-probe")
