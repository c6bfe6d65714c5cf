from django.urls import path

from results import api

urlpatterns = [
    path("simulations/<uuid:pk>/results/files", api.ResultFilesApi.as_view(), name="api-results-files"),
    path("simulations/<uuid:pk>/results/map", api.MapApi.as_view(), name="api-results-map"),
    path("simulations/<uuid:pk>/results/zonal", api.ZonalApi.as_view(), name="api-results-zonal"),
    path("simulations/<uuid:pk>/results/profile", api.ProfileApi.as_view(), name="api-results-profile"),
    path("simulations/<uuid:pk>/results/timeseries", api.TimeSeriesApi.as_view(), name="api-results-timeseries"),
    path("simulations/<uuid:pk>/results/export.csv", api.ExportCsvApi.as_view(), name="api-results-export-csv"),
    path("simulations/<uuid:pk>/results/export.nc", api.ExportNetcdfApi.as_view(), name="api-results-export-nc"),
    path("results/compare", api.CompareApi.as_view(), name="api-results-compare"),
]
