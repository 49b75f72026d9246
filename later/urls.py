from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import home
from later import views, webapp

urlpatterns = [
    path("", home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("manifest.webmanifest", webapp.manifest, name="webmanifest"),
    path("sw.js", webapp.service_worker, name="service_worker"),
    path("offline/", webapp.offline, name="offline"),
    path("favicon.ico", webapp.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves its setup script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("", include("accounts.urls")),
    path("", include("calendar_app.urls")),
    path("", include("calendar_app.publishing.urls")),
    path("", include("calendar_app.approvals.urls")),
    path("", include("calendar_app.approvals.public_urls")),
    path("", include("conversations.urls")),
    path("", include("analytics.urls")),
]
