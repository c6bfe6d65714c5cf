from django.urls import path

from costs import api

urlpatterns = [
    path("estimates", api.EstimateApi.as_view(), name="api-estimates"),
]
