"""The installable app: web app manifest, service worker and the page shown offline.

The service worker is served from the site root (not /static/) so that its scope covers every
page; it caches only the offline page and static assets, never a signed-in page.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# Bumped whenever the list of pre-cached files changes, so that old caches are dropped.
CACHE_VERSION = "later-v1"


def precache_urls() -> list[str]:
    return [
        reverse("offline"),
        static("css/app.css"),
        static("js/app.js"),
        static("img/logo.svg"),
        static("img/icon-192.png"),
    ]


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": "Later for TikTok",
        "short_name": "Later",
        "description": "Plan, publish and answer comments on TikTok.",
        "id": "/",
        # The home page sends a signed-in member to their workspace's calendar.
        "start_url": "/?source=app",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f6f7fb",
        "theme_color": "#111827",
        "icons": [
            {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("img/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("img/logo.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "webapp/sw.js",
        {
            "config": json.dumps(
                {
                    "cache": CACHE_VERSION,
                    "offline": reverse("offline"),
                    "precache": precache_urls(),
                    "static": static(""),
                }
            ),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    # Browsers re-check the worker at most daily anyway; never let a proxy pin an old one.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
@cache_control(max_age=3600)
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "webapp/offline.html")


@require_GET
@cache_control(max_age=86400)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Pages without a <link rel="icon"> (Django admin, API docs) make browsers ask for
    /favicon.ico; the logo answers instead of a 404 in the console and the logs."""
    return HttpResponseRedirect(static("img/logo.svg"))
