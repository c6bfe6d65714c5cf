from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.generic import RedirectView

from simulations import wizard as simulations_wizard


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="simulations:list", permanent=False), name="home"),
    path("healthz", healthz, name="healthz"),
    path("help/", simulations_wizard.help_page, name="help"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("simulations/", include("simulations.urls")),
    path("profile/", include("accounts.urls")),
    path("costs/", include("costs.urls")),
    path("", include("results.urls")),  # simulations/<id>/results/... and results/compare/
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("costs.api_urls")),
    path("api/v1/", include("results.api_urls")),
]
