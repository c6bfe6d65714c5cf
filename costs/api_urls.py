from django.urls import path

from costs import api

urlpatterns = [
    path("estimates", api.EstimateApi.as_view(), name="api-estimates"),
    path("costs", api.CostsApi.as_view(), name="api-costs"),
    path("budgets", api.BudgetsApi.as_view(), name="api-budgets"),
]
