from django.urls import path

from calendar_app.approvals import public

app_name = "review"

# The token is a signed value (calendar_app.approvals.links), not a UUID: it names the
# workspace itself, so these routes carry no workspace id.
_post = "review/<str:token>/posts/<uuid:post_id>/"

urlpatterns = [
    path("review/<str:token>/", public.page, name="page"),
    path(_post + "decide/", public.decide, name="decide"),
    path(_post + "media/", public.media, name="media"),
    path(_post + "thumbnail/", public.thumbnail, name="thumbnail"),
]
