"""The results pages, included at the site's root: a simulation's under simulations/<id>/results/,
the comparison of two under results/compare/."""

from django.urls import path

from results import views

app_name = "results"

urlpatterns = [
    path("simulations/<uuid:pk>/results/", views.results_index, name="index"),
    path("simulations/<uuid:pk>/results/map/", views.map_page, name="map"),
    path("simulations/<uuid:pk>/results/zonal/", views.zonal_page, name="zonal"),
    path("simulations/<uuid:pk>/results/profile/", views.profile_page, name="profile"),
    path("simulations/<uuid:pk>/results/timeseries/", views.series_page, name="timeseries"),
    path("simulations/<uuid:pk>/results/export.csv", views.export_csv, name="export_csv"),
    path("simulations/<uuid:pk>/results/export.nc", views.export_nc, name="export_nc"),
    path("results/compare/", views.compare_page, name="compare"),
]
